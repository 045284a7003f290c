"""The Lambda handler against moto: S3 -> SQS -> handler -> de-identified / quarantine buckets."""

from __future__ import annotations

import json
from collections.abc import Iterator
from io import BytesIO, StringIO

import pydicom
import pytest
from moto import mock_aws

from deidentify import handler
from deidentify.emulated_aws import EmulatedPipeline, FakeLambdaContext, s3_event_body
from deidentify.engine import Deidentifier
from deidentify.keyed import KeyedMapper
from tests.deidentify.deid_samples import TEST_KEY
from tests.deidentify.synthetic import SYNTHETIC_PHI, build_image

# The raw side's object names may carry identifiers; they must never reach the logs.
DICOM_KEY = "incoming/Synthetic^Alice/scan 001.dcm"
REPORT_KEY = "incoming/Synthetic^Alice/report.pdf"


@pytest.fixture
def pipeline(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatedPipeline]:
    with mock_aws():
        emulated = EmulatedPipeline()
        emulated.create(TEST_KEY)
        for name, value in emulated.handler_environment().items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("POWERTOOLS_SERVICE_NAME", "deidentify-test")
        handler._runtimes.clear()
        yield emulated
        handler._runtimes.clear()


@pytest.fixture
def log_stream() -> Iterator[StringIO]:
    """The handler's structured log lines (powertools' handler writes to its own stream)."""
    stream = StringIO()
    previous = handler.logger.registered_handler.setStream(stream)
    yield stream
    handler.logger.registered_handler.setStream(previous)


def _deliver_all(pipeline: EmulatedPipeline) -> list[dict]:
    responses = []
    while messages := pipeline.receive_batch():
        response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
        pipeline.delete_succeeded(messages, response)
        responses.append(response)
    return responses


def _message(pipeline: EmulatedPipeline, message_id: str, body: str) -> dict:
    return {"MessageId": message_id, "ReceiptHandle": message_id, "Body": body}


def test_dicom_is_deidentified_and_non_dicom_quarantined_with_reason(
    pipeline: EmulatedPipeline, log_stream: StringIO
) -> None:
    s3 = pipeline.client("s3")
    image = build_image()
    s3.put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=image)
    s3.put_object(Bucket=pipeline.raw_bucket, Key=REPORT_KEY, Body=b"%PDF-1.7 synthetic")

    responses = _deliver_all(pipeline)

    assert all(response == {"batchItemFailures": []} for response in responses)
    expected = Deidentifier(KeyedMapper(TEST_KEY)).deidentify_bytes(image)
    expected_key = f"{expected.study_instance_uid}/{expected.series_instance_uid}/{expected.sop_instance_uid}.dcm"
    assert pipeline.keys(pipeline.deidentified_bucket) == [expected_key]
    body = s3.get_object(Bucket=pipeline.deidentified_bucket, Key=expected_key)["Body"].read()
    assert body == expected.data
    assert pydicom.dcmread(BytesIO(body)).PatientID.startswith("SUBJ-")

    assert pipeline.keys(pipeline.quarantine_bucket) == [
        "objects/" + REPORT_KEY, "reasons/" + REPORT_KEY + ".json"
    ]
    kept = s3.get_object(Bucket=pipeline.quarantine_bucket, Key="objects/" + REPORT_KEY)["Body"].read()
    assert kept == b"%PDF-1.7 synthetic"
    reason = json.loads(s3.get_object(Bucket=pipeline.quarantine_bucket, Key="reasons/" + REPORT_KEY + ".json")[
        "Body"].read())
    assert reason["reason"] == "not-dicom"
    assert reason["source"] == {"bucket": pipeline.raw_bucket, "key": REPORT_KEY}
    assert reason["profile"] == "DICOM PS3.15 2024b Annex E"

    logs = log_stream.getvalue()
    log_lines = [json.loads(line) for line in logs.splitlines() if line.startswith("{")]
    outcomes = sorted(line["outcome"] for line in log_lines if line.get("message") == "object processed")
    assert outcomes == ["de-identified", "quarantined"]
    for secret in ["Synthetic", "scan 001", "report.pdf", *SYNTHETIC_PHI.values()]:
        assert secret not in logs


def test_duplicate_delivery_yields_one_output(pipeline: EmulatedPipeline) -> None:
    s3 = pipeline.client("s3")
    s3.put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=build_image())
    _deliver_all(pipeline)
    first = pipeline.keys(pipeline.deidentified_bucket)
    first_body = s3.get_object(Bucket=pipeline.deidentified_bucket, Key=first[0])["Body"].read()

    # At-least-once delivery: the same notification again, and the object uploaded again.
    body = s3_event_body(pipeline.raw_bucket, DICOM_KEY, pipeline.region)
    event = pipeline.lambda_event([_message(pipeline, "dup-1", body), _message(pipeline, "dup-2", body)])
    assert handler.lambda_handler(event, FakeLambdaContext()) == {"batchItemFailures": []}
    s3.put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=build_image())
    _deliver_all(pipeline)

    assert pipeline.keys(pipeline.deidentified_bucket) == first
    assert s3.get_object(Bucket=pipeline.deidentified_bucket, Key=first[0])["Body"].read() == first_body


def test_partial_batch_failure_reports_only_the_failed_messages(pipeline: EmulatedPipeline) -> None:
    s3 = pipeline.client("s3")
    s3.put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=build_image())
    while pipeline.receive_batch():  # drop the notifications; this test builds its own batch
        pass
    event = pipeline.lambda_event([
        _message(pipeline, "good", s3_event_body(pipeline.raw_bucket, DICOM_KEY, pipeline.region)),
        _message(pipeline, "vanished", s3_event_body(pipeline.raw_bucket, "incoming/gone.dcm", pipeline.region)),
        _message(pipeline, "garbled", "this is not an S3 event"),
        _message(pipeline, "test-event", json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})),
    ])

    response = handler.lambda_handler(event, FakeLambdaContext())

    failed = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failed == ["garbled", "vanished"]
    assert len(pipeline.keys(pipeline.deidentified_bucket)) == 1


def test_aws_error_on_write_fails_the_message_for_retry(pipeline: EmulatedPipeline) -> None:
    s3 = pipeline.client("s3")
    s3.put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=build_image())
    s3.delete_bucket(Bucket=pipeline.deidentified_bucket)
    responses = _deliver_all(pipeline)
    failures = [item for response in responses for item in response["batchItemFailures"]]
    assert len(failures) == 1
    assert pipeline.keys(pipeline.quarantine_bucket) == []


def test_without_key_secret_every_message_fails(pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEID_KEY_SECRET_ARN")
    pipeline.client("s3").put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=build_image())
    messages = pipeline.receive_batch()
    response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
    assert len(response["batchItemFailures"]) == len(messages) == 2
    assert pipeline.keys(pipeline.deidentified_bucket) == []


def test_short_key_secret_is_refused(pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    short = pipeline.client("secretsmanager").create_secret(Name="short", SecretString="too-short")
    monkeypatch.setenv("DEID_KEY_SECRET_ARN", short["ARN"])
    pipeline.client("s3").put_object(Bucket=pipeline.raw_bucket, Key=DICOM_KEY, Body=build_image())
    messages = pipeline.receive_batch()
    response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
    # Failed, so left on the queue for retry and, after maxReceiveCount, the dead-letter queue.
    assert len(response["batchItemFailures"]) == len(messages)
    assert pipeline.keys(pipeline.deidentified_bucket) == []
