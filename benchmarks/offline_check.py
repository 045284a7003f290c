"""Wall time of the offline checker: `python -m compliance check` on the test fixture project and
on the shipped stacks, each run in a fresh interpreter as CI runs it.

    .venv/bin/python benchmarks/offline_check.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "fixture project (3 stacks)": ["--project", str(REPO_ROOT / "tests" / "compliance" / "fixtures" / "mini_imaging")],
    "shipped stacks": [],
}


def _time_check(extra: list[str], out_dir: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION") and not k.startswith("PULUMI_")}
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "compliance", "check", *extra, "--out", str(out_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        check=False,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        for label, extra in CASES.items():
            times = [_time_check(extra, Path(scratch) / "out") for _ in range(args.runs)]
            print(f"{label}: median {statistics.median(times):.2f} s, min {min(times):.2f} s, max {max(times):.2f} s")


if __name__ == "__main__":
    main()
