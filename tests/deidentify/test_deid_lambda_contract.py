"""What the deployment relies on: the handler's import path, its dependencies, S3 event parsing."""

from __future__ import annotations

import json

import pytest

from deidentify.intake import MalformedEventError, S3ObjectRef, object_refs_from_sqs_body
from tests.deidentify.deid_samples import sample_files
from tests.deidentify.lambda_probe import REPO, pinned_distributions, run_in_lambda_package


# Runs where only the deployment package's modules can be imported (tests/deidentify/lambda_probe.py).
_PROBE = """
import importlib
import sys
module, _, attribute = sys.argv[2].rpartition(".")
assert callable(getattr(importlib.import_module(module), attribute))
from deidentify.engine import Deidentifier
from deidentify.keyed import KeyedMapper
result = Deidentifier(KeyedMapper(b"k" * 32)).deidentify_bytes(open(sys.argv[3], "rb").read())
print(result.sop_instance_uid)
"""


def test_requirements_are_pinned_exactly() -> None:
    pinned = pinned_distributions()
    assert {"pydicom", "aws-lambda-powertools"} <= pinned
    text = (REPO / "deidentify" / "requirements-lambda.txt").read_text()
    assert "pydicom==3.0.2" in text and "aws-lambda-powertools==3.37.0" in text


def test_handler_works_with_only_runtime_and_pinned_packages() -> None:
    ct_small = next(path for path in sample_files() if path.name == "CT_small.dcm")
    result = run_in_lambda_package(_PROBE, "deidentify.handler.lambda_handler", str(ct_small))
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
