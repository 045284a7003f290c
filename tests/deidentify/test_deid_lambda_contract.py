"""What the deployment relies on: the handler's import path, its dependencies, S3 event parsing."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from deidentify.intake import MalformedEventError, S3ObjectRef, object_refs_from_sqs_body
from tests.deidentify.deid_samples import sample_files

REPO = Path(__file__).resolve().parents[2]
# Provided by the python3.12 Lambda runtime, or pinned in deidentify/requirements-lambda.txt.
LAMBDA_RUNTIME_MODULES = {"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six", "certifi"}

# Runs in a fresh interpreter where only the standard library, the Lambda runtime's modules
# and the pinned requirements can be imported, as in the deployment package.
_PROBE = """
import importlib, importlib.abc, json, sys
allowed = set(json.loads(sys.argv[1]))

class LambdaPackageOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        if top in sys.stdlib_module_names or top in allowed or top.startswith("_"):
            return None
        raise ModuleNotFoundError(f"not in the Lambda package: {top}", name=name)

sys.meta_path.insert(0, LambdaPackageOnly())
module, _, attribute = sys.argv[2].rpartition(".")
assert callable(getattr(importlib.import_module(module), attribute))
from deidentify.engine import Deidentifier
from deidentify.keyed import KeyedMapper
result = Deidentifier(KeyedMapper(b"k" * 32)).deidentify_bytes(open(sys.argv[3], "rb").read())
print(result.sop_instance_uid)
"""


def _pinned_distributions() -> set[str]:
    lines = (REPO / "deidentify" / "requirements-lambda.txt").read_text().splitlines()
    return {line.split("==")[0].strip().lower() for line in lines if "==" in line and not line.startswith("#")}


def test_requirements_are_pinned_exactly() -> None:
    pinned = _pinned_distributions()
    assert {"pydicom", "aws-lambda-powertools"} <= pinned
    text = (REPO / "deidentify" / "requirements-lambda.txt").read_text()
    assert "pydicom==3.0.2" in text and "aws-lambda-powertools==3.37.0" in text


def _import_names(distributions: set[str]) -> set[str]:
    """Top-level import names of the pinned distributions (pillow -> PIL, pylibjpeg-libjpeg ->
    libjpeg...), read from the installed distributions' metadata."""
    wanted = {re.sub(r"[-_.]+", "-", name) for name in distributions}
    return {
        module for module, owners in packages_distributions().items()
        if any(re.sub(r"[-_.]+", "-", owner.lower()) in wanted for owner in owners)
    }


def test_handler_works_with_only_runtime_and_pinned_packages() -> None:
    module_names = _import_names(_pinned_distributions())
    allowed = sorted({"deidentify"} | LAMBDA_RUNTIME_MODULES | module_names)
    ct_small = next(path for path in sample_files() if path.name == "CT_small.dcm")
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(allowed), "deidentify.handler.lambda_handler", str(ct_small)],
        capture_output=True, text=True, cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("2.25.")


def _body(*records: dict) -> str:
    return json.dumps({"Records": list(records)})


def _record(key: str, event: str = "ObjectCreated:Put") -> dict:
    return {"eventSource": "aws:s3", "eventName": event, "s3": {"bucket": {"name": "raw"}, "object": {"key": key}}}


def test_s3_event_keys_are_url_decoded_and_non_objects_skipped() -> None:
    body = _body(
        _record("incoming/Synthetic+Patient/scan%201.dcm"),
        _record("incoming/folder/"),
        _record("incoming/old.dcm", event="ObjectRemoved:Delete"),
    )
    assert object_refs_from_sqs_body(body) == [S3ObjectRef("raw", "incoming/Synthetic Patient/scan 1.dcm")]


def test_s3_test_event_is_ignored() -> None:
    assert object_refs_from_sqs_body(json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})) == []


@pytest.mark.parametrize("body", ["not json", "[]", json.dumps({"Records": "x"}), _body({"eventSource": "aws:sns"})])
def test_malformed_messages_are_rejected(body: str) -> None:
    with pytest.raises(MalformedEventError):
        object_refs_from_sqs_body(body)
