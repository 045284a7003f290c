"""Builds the de-identification Lambda's deployment package: the `deidentify` package plus its
pinned runtime dependencies, installed for the Lambda platform rather than for this machine.

Builds are cached under build/lambda/ by a fingerprint of the requirements and the source, so
`pulumi preview`, the offline checker and the tests pay for pip only once per change.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "deidentify"
REQUIREMENTS = SOURCE / "requirements-lambda.txt"
BUILD_ROOT = REPO / "build" / "lambda"

# Must match the function's runtime and architecture in components/deid_function.py.
PLATFORM = "manylinux2014_x86_64"
PYTHON_VERSION = "3.12"
_COMPLETE = ".complete"


class LambdaPackageError(RuntimeError):
    """The deployment package could not be built."""


def _source_files(source: Path) -> list[Path]:
    return sorted(
        path for path in source.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    )


def fingerprint(source: Path = SOURCE, requirements: Path = REQUIREMENTS) -> str:
    digest = hashlib.sha256()
    digest.update(f"{PLATFORM} {PYTHON_VERSION}\n".encode())
    for path in [requirements, *_source_files(source)]:
        digest.update(str(path.relative_to(source.parent)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def build(
    source: Path = SOURCE, requirements: Path = REQUIREMENTS, build_root: Path = BUILD_ROOT
) -> Path:
    """Return a directory ready to zip as the Lambda's code, building it if needed."""
    if not requirements.is_file():
        raise LambdaPackageError(f"{requirements}: the Lambda's pinned requirements file is missing")
    target = build_root / f"{source.name}-{fingerprint(source, requirements)}"
    # The marker sits beside the directory so it does not end up inside the Lambda's code.
    marker = build_root / f"{target.name}{_COMPLETE}"
    if marker.exists() and target.is_dir():
        return target

    staging = build_root / f".staging-{target.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
        "--no-compile", "--target", str(staging), "--platform", PLATFORM,
        "--implementation", "cp", "--python-version", PYTHON_VERSION,
        "--only-binary=:all:", "--requirement", str(requirements),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        detail = (result.stderr or result.stdout).strip().splitlines()[-5:]
        raise LambdaPackageError(
            f"pip could not install {requirements.name} for {PLATFORM} / Python {PYTHON_VERSION}: "
            + " | ".join(detail)
        )
    shutil.copytree(source, staging / source.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))

    shutil.rmtree(target, ignore_errors=True)
    os.replace(staging, target)
    marker.touch()
    for stale in build_root.glob(f"{source.name}-*"):
        if stale not in (target, marker):
            if stale.is_dir():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
    return target


if __name__ == "__main__":
    try:
        print(build())
    except LambdaPackageError as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(2)
