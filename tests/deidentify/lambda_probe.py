"""Runs code in a fresh interpreter that can import only what the Lambda's deployment package
holds: the standard library, the python3.12 runtime's modules and the pinned requirements."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Provided by the python3.12 Lambda runtime, or pinned in deidentify/requirements-lambda.txt.
LAMBDA_RUNTIME_MODULES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi"}

# Prepended to every probe: refuses any import the deployment package would not have.
_PACKAGE_ONLY = """
import importlib, importlib.abc, json, sys
allowed = set(json.loads(sys.argv[1]))

class LambdaPackageOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"not in the Lambda package: {top}", name=name)

sys.meta_path.insert(0, LambdaPackageOnly())
"""


def pinned_distributions() -> set[str]:
    lines = (REPO / "deidentify" / "requirements-lambda.txt").read_text().splitlines()
    return {line.split("==")[0].strip().lower() for line in lines if "==" in line and not line.startswith("#")}


def import_names(distributions: set[str]) -> set[str]:
    """Top-level import names of the pinned distributions (pillow -> PIL, pylibjpeg-libjpeg ->
    libjpeg...), read from the installed distributions' metadata."""
    wanted = {re.sub(r"[-_.]+", "-", name) for name in distributions}
    return {
        module for module, owners in packages_distributions().items()
        if any(re.sub(r"[-_.]+", "-", owner.lower()) in wanted for owner in owners)
    }


def run_in_lambda_package(probe: str, *arguments: str, allowed: set[str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run `probe` (its own arguments start at sys.argv[2]) with only the package importable."""
    if allowed is None:
        allowed = {"deidentify"} | LAMBDA_RUNTIME_MODULES | import_names(pinned_distributions())
    return subprocess.run(
        [sys.executable, "-c", _PACKAGE_ONLY + probe, json.dumps(sorted(allowed)), *arguments],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
