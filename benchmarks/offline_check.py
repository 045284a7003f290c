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

from rich.console import Console
from rich.table import Table

REPO_ROOT = Path(__file__).resolve().parent.parent
# label -> (arguments, expected exit status: the fixture project carries a planted violation)
CASES = {
    "fixture project (3 stacks)": (
        ["--project", str(REPO_ROOT / "tests" / "compliance" / "fixtures" / "mini_imaging")], 1
    ),
    "shipped stacks (5)": ([], 0),
}


def _time_check(extra: list[str], expected: int, out_dir: Path) -> float:
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_REGION", "AWS_DEFAULT_REGION") and not k.startswith("PULUMI_")}
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "compliance", "check", *extra, "--out", str(out_dir)],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != expected:
        raise SystemExit(f"check {' '.join(extra)} exited {result.returncode}, expected {expected}:\n{result.stderr}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    table = Table(title=f"python -m compliance check, wall time over {args.runs} runs (fresh interpreter each)")
    for column in ("case", "median s", "min s", "max s"):
        table.add_column(column, justify="left" if column == "case" else "right")
    with tempfile.TemporaryDirectory() as scratch:
        for label, (extra, expected) in CASES.items():
            times = [_time_check(extra, expected, Path(scratch) / "out") for _ in range(args.runs)]
            table.add_row(label, f"{statistics.median(times):.2f}", f"{min(times):.2f}", f"{max(times):.2f}")
    Console().print(table)


if __name__ == "__main__":
    main()
