"""The Lambda handler against moto: S3 -> SQS -> handler -> de-identified / quarantine buckets."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from io import BytesIO, StringIO

import pydicom
import pytest

from deidentify.processing import PIXELS_NOT_CHECKED
from moto import mock_aws

from deidentify import handler
from deidentify.emulated_aws import EmulatedPipeline, FakeLambdaContext, s3_event_body
from deidentify.engine import Deidentifier
from deidentify.keyed import KeyedMapper
from deidentify.runtime import EngineSettings, build_toolkit
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


def _log_lines(stream: StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def _engine() -> Deidentifier:
    """The engine the emulated Lambda runs (same key, same settings)."""
    settings = EngineSettings.from_environment(EmulatedPipeline().handler_environment())
    return build_toolkit(KeyedMapper(TEST_KEY), settings).deidentifier


def _deliver_all(pipeline: EmulatedPipeline, visibility_timeout: int | None = None) -> list[dict]:
    """Lambda's SQS trigger: receive, invoke, delete what succeeded, until the queue is empty."""
    responses = []
    while messages := pipeline.receive_batch(visibility_timeout=visibility_timeout):
        response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
        pipeline.delete_succeeded(messages, response)
        responses.append(response)
    return responses


def _message(message_id: str, body: str) -> dict:
    return {"MessageId": message_id, "ReceiptHandle": message_id, "Body": body}


def _outcomes(pipeline: EmulatedPipeline) -> dict[str, dict]:
    keys = [key for key in pipeline.keys(pipeline.quarantine_bucket) if key.startswith("outcomes/")]
    return {key: pipeline.read_json(pipeline.quarantine_bucket, key) for key in keys}


def _reference(pipeline: EmulatedPipeline, key: str) -> str:
    return KeyedMapper(TEST_KEY).reference(f"{pipeline.raw_bucket}/{key}")


def _outcome_of(pipeline: EmulatedPipeline, key: str) -> dict:
    return pipeline.read_json(pipeline.quarantine_bucket, f"outcomes/{_reference(pipeline, key)}.json")


def test_dicom_is_deidentified_and_non_dicom_quarantined_with_reason(
    pipeline: EmulatedPipeline, log_stream: StringIO
) -> None:
    s3 = pipeline.client("s3")
    image = build_image()
    pipeline.upload(DICOM_KEY, image)
    pipeline.upload(REPORT_KEY, b"%PDF-1.7 synthetic")

    responses = _deliver_all(pipeline)

    assert all(response == {"batchItemFailures": []} for response in responses)
    expected = _engine().deidentify_bytes(image)
    expected_key = f"{expected.study_instance_uid}/{expected.series_instance_uid}/{expected.sop_instance_uid}.dcm"
    assert pipeline.keys(pipeline.deidentified_bucket) == [expected_key]
    body = s3.get_object(Bucket=pipeline.deidentified_bucket, Key=expected_key)["Body"].read()
    assert body == expected.data
    assert pydicom.dcmread(BytesIO(body)).PatientID.startswith("SUBJ-")

    dicom_ref, report_ref = _reference(pipeline, DICOM_KEY), _reference(pipeline, REPORT_KEY)
    assert pipeline.keys(pipeline.quarantine_bucket) == sorted([
        f"claims/{expected_key}.json", f"linkage/{dicom_ref}.json", "objects/" + REPORT_KEY, f"outcomes/{dicom_ref}.json",
        f"outcomes/{report_ref}.json", "reasons/" + REPORT_KEY + ".json",
    ])
    kept = s3.get_object(Bucket=pipeline.quarantine_bucket, Key="objects/" + REPORT_KEY)["Body"].read()
    assert kept == b"%PDF-1.7 synthetic"
    reason = pipeline.read_json(pipeline.quarantine_bucket, "reasons/" + REPORT_KEY + ".json")
    assert reason["reason"] == "not-dicom"
    assert (reason["source"]["bucket"], reason["source"]["key"]) == (pipeline.raw_bucket, REPORT_KEY)
    assert reason["profile"].startswith("DICOM PS3.15")

    done = _outcome_of(pipeline, DICOM_KEY)
    header_only = "" if expected.patient_identity_removed else PIXELS_NOT_CHECKED
    assert (done["object_ref"], done["outcome"], done["reason"], done["output_key"]) == (
        dicom_ref, "de-identified", header_only, expected_key)
    assert done["engine"]["pixel_backend"] == "signatures" and done["engine"]["profile"].startswith("DICOM PS3.15")
    assert done["recorded_at"].endswith("Z") and done["version_id"]
    quarantined = _outcome_of(pipeline, REPORT_KEY)
    assert (quarantined["outcome"], quarantined["reason"], quarantined["output_key"]) == ("quarantined", "not-dicom", "")
    for record in (done, quarantined):
        text = json.dumps(record)
        assert "Synthetic" not in text and "incoming" not in text

    # Linkage: originals -> keyed values, on the raw side only.
    linkage = pipeline.read_json(pipeline.quarantine_bucket, f"linkage/{dicom_ref}.json")
    output = pydicom.dcmread(BytesIO(body))
    assert linkage["patient"] == {"original_id": SYNTHETIC_PHI["PatientID"], "pseudonym": output.PatientID}
    assert linkage["uids"]["SOPInstanceUID"] == {"original": "1.2.826.0.1.3680043.99.1.1.1",
                                                 "keyed": output.SOPInstanceUID}
    assert linkage["uids"]["StudyInstanceUID"]["keyed"] == expected.study_instance_uid
    assert linkage["source"]["key"] == DICOM_KEY

    log_lines = _log_lines(log_stream)
    processed = [line for line in log_lines if line.get("message") == "object processed"]
    assert sorted(line["outcome"] for line in processed) == ["de-identified", "quarantined"]
    assert {line["object_ref"] for line in processed} == {dicom_ref, report_ref}
    logs = log_stream.getvalue()
    for secret in ["Synthetic", "scan 001", "report.pdf", "1.2.826.0.1.3680043.99", *SYNTHETIC_PHI.values()]:
        assert secret not in logs


def test_linkage_never_reaches_the_deidentified_bucket(pipeline: EmulatedPipeline) -> None:
    pipeline.upload(DICOM_KEY, build_image())
    _deliver_all(pipeline)
    s3 = pipeline.client("s3")
    for key in pipeline.keys(pipeline.deidentified_bucket):
        body = s3.get_object(Bucket=pipeline.deidentified_bucket, Key=key)["Body"].read()
        assert SYNTHETIC_PHI["PatientID"].encode() not in body
        assert b"1.2.826.0.1.3680043.99.1.1.1" not in body
        assert not key.startswith(("linkage/", "outcomes/"))


def test_linkage_prefix_comes_from_the_environment(pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEID_LINKAGE_PREFIX", "trial-42/linkage")
    pipeline.upload(DICOM_KEY, build_image())
    _deliver_all(pipeline)
    assert f"trial-42/linkage/{_reference(pipeline, DICOM_KEY)}.json" in pipeline.keys(pipeline.quarantine_bucket)


def test_duplicate_delivery_yields_one_output_and_one_outcome(
    pipeline: EmulatedPipeline, log_stream: StringIO
) -> None:
    s3 = pipeline.client("s3")
    event = pipeline.upload(DICOM_KEY, build_image())
    _deliver_all(pipeline)  # moto's own notification (no version, no sequencer): processed
    pipeline.notify(DICOM_KEY, event)  # with version and sequencer: that version is already done
    _deliver_all(pipeline)
    first = pipeline.keys(pipeline.deidentified_bucket)
    first_body = s3.get_object(Bucket=pipeline.deidentified_bucket, Key=first[0])["Body"].read()
    recorded = _outcome_of(pipeline, DICOM_KEY)

    # At-least-once delivery: the same notification twice more in one batch, and once later.
    body = s3_event_body(pipeline.raw_bucket, DICOM_KEY, pipeline.region, event["versionId"], event["sequencer"])
    batch = pipeline.lambda_event([_message("dup-1", body), _message("dup-2", body)])
    assert handler.lambda_handler(batch, FakeLambdaContext()) == {"batchItemFailures": []}
    pipeline.notify(DICOM_KEY, event)
    _deliver_all(pipeline)

    assert pipeline.keys(pipeline.deidentified_bucket) == first
    assert s3.get_object(Bucket=pipeline.deidentified_bucket, Key=first[0])["Body"].read() == first_body
    assert len(_outcomes(pipeline)) == 1
    assert _outcome_of(pipeline, DICOM_KEY) == recorded  # duplicates did not even rewrite it
    skipped = [line for line in _log_lines(log_stream) if line.get("message") == "object skipped"]
    assert len(skipped) == 4 and all(line["reason"] == "already-recorded" for line in skipped)


def test_out_of_order_events_give_the_newest_version_only(pipeline: EmulatedPipeline) -> None:
    older = pipeline.upload(DICOM_KEY, build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.71"))
    newer = pipeline.upload(DICOM_KEY, build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.72"))
    pipeline.client("sqs").purge_queue(QueueUrl=pipeline.queue_url)  # drop moto's; S3's come late
    pipeline.notify(DICOM_KEY, newer)
    _deliver_all(pipeline)
    pipeline.notify(DICOM_KEY, older)  # the older version's notification arrives last
    _deliver_all(pipeline)

    expected = _engine().deidentify_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.72"))
    assert [key.rsplit("/", 1)[-1] for key in pipeline.keys(pipeline.deidentified_bucket)] == [
        expected.sop_instance_uid + ".dcm"]
    outcome = _outcome_of(pipeline, DICOM_KEY)
    assert (outcome["version_id"], outcome["sequencer"]) == (newer["versionId"], newer["sequencer"])
    assert len(_outcomes(pipeline)) == 1


def test_older_version_announced_first_is_processed_from_its_own_version(pipeline: EmulatedPipeline) -> None:
    """Processing reads the announced version, so a late event for an overwritten key still
    de-identifies what it announced (and a newer event supersedes it)."""
    older = pipeline.upload(DICOM_KEY, build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.81"))
    newer = pipeline.upload(DICOM_KEY, build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.82"))
    pipeline.client("sqs").purge_queue(QueueUrl=pipeline.queue_url)
    pipeline.notify(DICOM_KEY, older)
    _deliver_all(pipeline)
    older_output = _outcome_of(pipeline, DICOM_KEY)["output_key"]
    assert older_output.endswith(_engine().deidentify_bytes(
        build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.81")).sop_instance_uid + ".dcm")
    pipeline.notify(DICOM_KEY, newer)
    _deliver_all(pipeline)
    assert _outcome_of(pipeline, DICOM_KEY)["sequencer"] == newer["sequencer"]
    assert _outcome_of(pipeline, DICOM_KEY)["output_key"] != older_output


def test_two_sources_of_one_instance_with_different_content_never_overwrite(pipeline: EmulatedPipeline) -> None:
    first = build_image()
    second = build_image(patient_id="SYN-PAT-999999")  # same SOP Instance UID, other content
    pipeline.upload("incoming/site-01/a.dcm", first)
    _deliver_all(pipeline)
    pipeline.upload("incoming/site-02/b.dcm", second)
    pipeline.upload("incoming/site-03/c.dcm", first)  # an identical copy is fine
    _deliver_all(pipeline)

    expected = _engine().deidentify_bytes(first)
    (output,) = pipeline.keys(pipeline.deidentified_bucket)
    assert pipeline.client("s3").get_object(Bucket=pipeline.deidentified_bucket, Key=output)["Body"].read() == (
        expected.data)
    assert _outcome_of(pipeline, "incoming/site-01/a.dcm")["outcome"] == "de-identified"
    assert _outcome_of(pipeline, "incoming/site-03/c.dcm")["output_key"] == output
    conflicting = _outcome_of(pipeline, "incoming/site-02/b.dcm")
    assert (conflicting["outcome"], conflicting["reason"]) == ("quarantined", "conflicting-instance")
    assert "objects/incoming/site-02/b.dcm" in pipeline.keys(pipeline.quarantine_bucket)


def test_partial_batch_failure_reports_only_the_failed_messages(pipeline: EmulatedPipeline) -> None:
    pipeline.upload(DICOM_KEY, build_image())
    pipeline.client("sqs").purge_queue(QueueUrl=pipeline.queue_url)  # this test builds its own batch
    event = pipeline.lambda_event([
        _message("good", s3_event_body(pipeline.raw_bucket, DICOM_KEY, pipeline.region)),
        _message("vanished", s3_event_body(pipeline.raw_bucket, "incoming/gone.dcm", pipeline.region)),
        _message("garbled", "this is not an S3 event"),
        _message("test-event", json.dumps({"Service": "Amazon S3", "Event": "s3:TestEvent"})),
    ])

    response = handler.lambda_handler(event, FakeLambdaContext())

    failed = sorted(item["itemIdentifier"] for item in response["batchItemFailures"])
    assert failed == ["garbled", "vanished"]
    assert len(pipeline.keys(pipeline.deidentified_bucket)) == 1
    vanished = _outcome_of(pipeline, "incoming/gone.dcm")
    assert (vanished["outcome"], vanished["reason"]) == ("failed", "aws-error:NoSuchKey")


def test_poison_messages_fail_every_time_and_end_in_the_dead_letter_queue(
    pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch, log_stream: StringIO
) -> None:
    poison_key = "incoming/Synthetic^Alice/poison.dcm"
    poison_image = build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.666")
    original = Deidentifier.deidentify_bytes

    def fails_on_poison(self: Deidentifier, data: bytes):  # type: ignore[no-untyped-def]
        if b"1.2.826.0.1.3680043.99.1.1.666" in data:
            raise RuntimeError("simulated engine bug")
        return original(self, data)

    monkeypatch.setattr(Deidentifier, "deidentify_bytes", fails_on_poison)
    pipeline.upload(DICOM_KEY, build_image())
    pipeline.upload(poison_key, poison_image)
    pipeline.client("sqs").send_message(QueueUrl=pipeline.queue_url, MessageBody="garbled, not an S3 event")

    failures: Counter = Counter()
    rounds = 0
    while messages := pipeline.receive_batch(visibility_timeout=0):
        rounds += 1
        response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
        pipeline.delete_succeeded(messages, response)
        bodies = {message["MessageId"]: message["Body"] for message in messages}
        for item in response["batchItemFailures"]:
            failures[bodies[item["itemIdentifier"]]] += 1
        assert rounds < 20, "the queue never drained"

    # Each poison message was reported failed on every receive, never swallowed...
    assert sorted(failures.values()) == [pipeline.max_receive_count] * 2
    # ...and then moved to the dead-letter queue by SQS's redrive policy.
    dead = sorted(message["Body"] for message in pipeline.dead_letters())
    assert dead == sorted(failures)
    assert "garbled, not an S3 event" in dead
    # Every object is accounted for: the poison object's outcome says failed, with a PHI-free reason.
    poison = _outcome_of(pipeline, poison_key)
    assert (poison["outcome"], poison["reason"], poison["output_key"]) == ("failed", "internal-error:RuntimeError", "")
    assert _outcome_of(pipeline, DICOM_KEY)["outcome"] == "de-identified"
    assert len(pipeline.keys(pipeline.deidentified_bucket)) == 1
    assert "simulated engine bug" not in log_stream.getvalue()
    failed_lines = [line for line in _log_lines(log_stream) if line.get("message", "").startswith("message failed")]
    assert {line["reason"] for line in failed_lines} == {"internal-error:RuntimeError", "internal-error:MalformedEventError"}


def test_every_raw_object_has_exactly_one_outcome_record(pipeline: EmulatedPipeline) -> None:
    uploads = {f"incoming/site-{n:02d}/image-{n}.dcm": build_image(sop_uid=f"1.2.826.0.1.3680043.99.1.1.{100 + n}")
               for n in range(12)}
    uploads["incoming/site-01/notes.pdf"] = b"%PDF-1.7 synthetic"
    uploads["incoming/site-01/copy.dcm"] = uploads["incoming/site-00/image-0.dcm"]  # same SOP instance
    events = {key: pipeline.upload(key, body) for key, body in uploads.items()}
    for key in list(events)[::3]:  # redeliveries, some after the batch that handled the original
        pipeline.notify(key, events[key])
    _deliver_all(pipeline)
    for key in list(events)[1::4]:
        pipeline.notify(key, events[key])
    _deliver_all(pipeline)

    outcomes = _outcomes(pipeline)
    assert sorted(outcomes) == sorted(f"outcomes/{_reference(pipeline, key)}.json" for key in uploads)
    counts = Counter(record["outcome"] for record in outcomes.values())
    assert counts == {"de-identified": 13, "quarantined": 1}
    # Two raw objects with the same SOP instance share one de-identified object.
    assert len(pipeline.keys(pipeline.deidentified_bucket)) == 12
    assert {record["output_key"] for record in outcomes.values() if record["output_key"]} == set(
        pipeline.keys(pipeline.deidentified_bucket))


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: object) -> Iterator[bytes]:
        yield self.body


def _throttle(client: object, operation: str, times: int) -> list[int]:
    """Make the next ``times`` sends of ``operation`` answer 503 SlowDown, as S3 does when throttling."""
    from botocore.awsrequest import AWSResponse

    sent: list[int] = []

    def answer(request: object, **_: object) -> AWSResponse | None:
        sent.append(1)
        if len(sent) > times:
            return None
        body = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
        return AWSResponse("https://s3.example", 503, {}, _Raw(body))

    client.meta.events.register(f"before-send.s3.{operation}", answer)  # type: ignore[attr-defined]
    return sent


def _runtime() -> handler.Runtime:
    import os

    return handler.runtime_for(handler.HandlerSettings.from_environment(os.environ))


def test_s3_throttling_is_retried_by_the_client(pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)  # botocore's backoff waits
    s3 = _runtime().processor.s3
    # botocore counts retries after the first attempt: 8 retries = 9 attempts in all.
    assert s3.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 9}
    sent = _throttle(s3, "PutObject", times=1)
    pipeline.upload(DICOM_KEY, build_image())
    assert all(response == {"batchItemFailures": []} for response in _deliver_all(pipeline))
    assert len(sent) >= 2  # a throttled attempt, then the write went through
    assert _outcome_of(pipeline, DICOM_KEY)["outcome"] == "de-identified"


def test_persistent_throttling_fails_the_message_and_backs_it_off(
    pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch, log_stream: StringIO
) -> None:
    monkeypatch.setattr("time.sleep", lambda seconds: None)
    # The adaptive mode's client-side rate limiter would make the test wait (as it makes the
    # Lambda wait); what is tested here is what happens once the client gives up.
    monkeypatch.setattr("botocore.retries.adaptive.ClientRateLimiter.on_sending_request", lambda *a, **k: None)
    _throttle(_runtime().processor.s3, "PutObject", times=10_000)
    event = pipeline.upload(DICOM_KEY, build_image())
    pipeline.client("sqs").purge_queue(QueueUrl=pipeline.queue_url)  # moto's notifications
    pipeline.notify(DICOM_KEY, event)
    messages = pipeline.receive_batch(visibility_timeout=0)
    response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())

    assert len(response["batchItemFailures"]) == 1
    failed = [line for line in _log_lines(log_stream) if line.get("message", "").startswith("message failed")]
    assert failed[0]["aws_error_code"] == "SlowDown" and failed[0]["throttled"] is True
    backed_off = [line for line in _log_lines(log_stream) if line.get("message") == "throttled message backed off"]
    assert backed_off and backed_off[0]["seconds"] >= handler.BACKOFF_BASE_SECONDS
    # Hidden for the backoff period instead of coming straight back.
    assert pipeline.receive_batch() == []


def test_backoff_grows_with_each_receive_and_is_capped() -> None:
    delays = [handler.backoff_seconds(count, jitter=0.0) for count in range(1, 8)]
    assert delays == [30, 60, 120, 240, 480, 900, 900]
    assert handler.backoff_seconds(1, jitter=0.99) < 60
    assert handler.queue_url_from_arn("arn:aws:sqs:eu-west-1:123456789012:intake") == (
        "https://sqs.eu-west-1.amazonaws.com/123456789012/intake")


@pytest.mark.parametrize(
    ("name", "value", "named"),
    [
        ("DEID_PIXEL_BACKEND", "tesseract", "DEID_PIXEL_BACKEND"),
        ("DEID_TEXT_BACKEND", "presidio", "DEID_TEXT_BACKEND"),
        ("DEID_PIXEL_BACKEND", "rekognition", "DEID_REKOGNITION_REGION"),
        ("DEID_TEXT_BACKEND", "comprehendmedical", "DEID_COMPREHEND_MEDICAL_REGION"),
        ("DEID_LINKAGE_PREFIX", "outcomes/", "DEID_LINKAGE_PREFIX"),
        ("DEID_PROFILE_OPTIONS", "retain-uids,retain-everything", "retain-everything"),
    ],
)
def test_bad_configuration_fails_every_message_naming_the_variable(
    pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch, log_stream: StringIO, name: str, value: str,
    named: str,
) -> None:
    monkeypatch.setenv(name, value)
    pipeline.upload(DICOM_KEY, build_image())
    messages = pipeline.receive_batch()
    response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
    assert len(response["batchItemFailures"]) == len(messages) == 2
    details = [line["detail"] for line in _log_lines(log_stream) if line.get("message", "").startswith("message failed")]
    assert details and all(named in detail for detail in details)
    assert pipeline.keys(pipeline.deidentified_bucket) == []


def test_without_key_secret_every_message_fails(pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DEID_KEY_SECRET_ARN")
    pipeline.upload(DICOM_KEY, build_image())
    messages = pipeline.receive_batch()
    response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
    assert len(response["batchItemFailures"]) == len(messages) == 2
    assert pipeline.keys(pipeline.deidentified_bucket) == []


def test_short_key_secret_is_refused(pipeline: EmulatedPipeline, monkeypatch: pytest.MonkeyPatch) -> None:
    short = pipeline.client("secretsmanager").create_secret(Name="short", SecretString="too-short")
    monkeypatch.setenv("DEID_KEY_SECRET_ARN", short["ARN"])
    pipeline.upload(DICOM_KEY, build_image())
    messages = pipeline.receive_batch()
    response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
    # Failed, so left on the queue for retry and, after maxReceiveCount, the dead-letter queue.
    assert len(response["batchItemFailures"]) == len(messages)
    assert pipeline.keys(pipeline.deidentified_bucket) == []


def test_text_record_takes_its_patient_from_object_metadata(pipeline: EmulatedPipeline, log_stream: StringIO) -> None:
    note = (b"Clinic note (synthetic).\nPatient: Alice Synthetic, MRN SYN-PAT-000417, DOB 1951-09-23, "
            b"seen 2024-02-29.\n")
    pipeline.upload(DICOM_KEY, build_image())
    # Named by content type alone (no .txt), patient from x-amz-meta-patient-id.
    pipeline.upload("incoming/Synthetic^Alice/note-0001", note, metadata={"patient-id": SYNTHETIC_PHI["PatientID"]},
                    content_type="text/plain; charset=utf-8")
    pipeline.upload("incoming/Synthetic^Alice/note-0002.txt", note)
    assert all(response == {"batchItemFailures": []} for response in _deliver_all(pipeline))

    s3 = pipeline.client("s3")
    outputs = pipeline.keys(pipeline.deidentified_bucket)
    image_key = next(key for key in outputs if key.endswith(".dcm"))
    pseudonym = pydicom.dcmread(BytesIO(s3.get_object(Bucket=pipeline.deidentified_bucket, Key=image_key)[
        "Body"].read())).PatientID
    records = sorted(key for key in outputs if key.startswith("records/"))
    assert [key.split("/")[1] for key in records] == [pseudonym, "unlinked"]
    linked = s3.get_object(Bucket=pipeline.deidentified_bucket, Key=records[0])["Body"].read().decode()
    assert pseudonym in linked
    for value in ("Alice", "Synthetic", "SYN-PAT-000417", "1951-09-23", "2024-02-29"):
        assert value not in linked
    linkage = pipeline.read_json(pipeline.quarantine_bucket,
                                 f"linkage/{_reference(pipeline, 'incoming/Synthetic^Alice/note-0001')}.json")
    assert linkage["patient"] == {"original_id": SYNTHETIC_PHI["PatientID"], "pseudonym": pseudonym}
    assert _outcome_of(pipeline, "incoming/Synthetic^Alice/note-0001")["output_key"] == records[0]
    logs = log_stream.getvalue()
    for value in ("Alice", "SYN-PAT-000417", "note-0001"):
        assert value not in logs


def test_an_event_without_sequencer_does_not_erase_the_recorded_order(pipeline: EmulatedPipeline) -> None:
    older = pipeline.upload(DICOM_KEY, build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.91"))
    newer = pipeline.upload(DICOM_KEY, build_image(sop_uid="1.2.826.0.1.3680043.99.1.1.92"))
    pipeline.client("sqs").purge_queue(QueueUrl=pipeline.queue_url)
    pipeline.notify(DICOM_KEY, newer)
    _deliver_all(pipeline)
    # A notification without sequencer (as moto sends) for the latest version, then the old one.
    pipeline.client("sqs").send_message(
        QueueUrl=pipeline.queue_url, MessageBody=s3_event_body(pipeline.raw_bucket, DICOM_KEY, pipeline.region))
    _deliver_all(pipeline)
    pipeline.notify(DICOM_KEY, older)
    _deliver_all(pipeline)
    assert _outcome_of(pipeline, DICOM_KEY)["sequencer"] == newer["sequencer"]
    assert len(pipeline.keys(pipeline.deidentified_bucket)) == 1
