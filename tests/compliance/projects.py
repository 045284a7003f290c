"""Test helpers: the fixture project, throw-away projects, and running the CLI as a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_PROJECT = Path(__file__).resolve().parent / "fixtures" / "mini_imaging"


def write_project(directory: Path, name: str, program: str, stacks: dict[str, dict[str, Any]]) -> Path:
    """A Pulumi Python project: `program` as `__main__.py`, one `Pulumi.<stack>.yaml` per entry."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(f"name: {name}\nruntime: python\n", encoding="utf-8")
    (directory / "__main__.py").write_text(textwrap.dedent(program), encoding="utf-8")
    for stack, config in stacks.items():
        (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": config}), encoding="utf-8")
    return directory


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """`python -m compliance ...` with the venv's python, the repo importable, a clean environment."""
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("AWS_REGION", "AWS_DEFAULT_REGION") and not key.startswith("PULUMI_")
    }
    env["PYTHONPATH"] = str(REPO_ROOT)
    env["PYTHONWARNINGS"] = "ignore::DeprecationWarning"
    return subprocess.run(
        [sys.executable, "-m", "compliance", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
