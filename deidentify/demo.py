"""``python -m deidentify demo``: the Lambda handler end to end inside moto, no network.

Creates the raw, de-identified and quarantine buckets, the intake queue and the key
secret in an emulated account; wires the raw bucket's ObjectCreated notifications to the
queue; uploads the DICOM files shipped inside the pydicom wheel plus one non-DICOM object;
delivers the queue to the handler in batches of 10 as Lambda's SQS trigger would; replays
one notification to show idempotency; prints what happened, from the outcome records.

The emulated Lambda runs the device-signature pixel backend and the local text detector
(moto has no Comprehend Medical, and its Rekognition answers canned text).
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections import Counter
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

DEMO_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "demo",
    "AWS_SECRET_ACCESS_KEY": "demo",
    "AWS_SESSION_TOKEN": "demo",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_REGION": "eu-west-1",
    "POWERTOOLS_SERVICE_NAME": "deidentify-demo",
}
NON_DICOM_KEY = "incoming/site-01/scan-request.pdf"
NON_DICOM_BODY = b"%PDF-1.7 synthetic scan request\n"
TEXT_RECORD_KEY = "incoming/site-01/referral-letter.txt"
TEXT_RECORD_BODY = (
    b"Referral letter (synthetic).\nPatient: Alice Synthetic, MRN SYN-PAT-000417, DOB 1951-09-23.\n"
    b"Seen on 2024-02-29; please review the attached series.\n"
)
TEXT_RECORD_PATIENT_ID = "SYN-PAT-000417"


def demo_files() -> list[tuple[str, Path]]:
    """(object key, local path) for every file the pydicom wheel ships in its test data."""
    from pydicom.data import get_testdata_files

    paths = sorted(Path(name) for name in get_testdata_files() if Path(name).is_file())
    root = Path(os.path.commonpath([str(path) for path in paths]))
    return [("incoming/pydicom/" + path.relative_to(root).as_posix(), path) for path in paths]


def run_demo(console: Console) -> int:
    saved_environment = dict(os.environ)
    os.environ.update(DEMO_ENVIRONMENT)  # before boto3 looks for credentials: never real ones
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_ENDPOINT_URL"):
        os.environ.pop(name, None)
    try:
        from moto import mock_aws

        started = time.perf_counter()
        with mock_aws():
            report = _run_pipeline(console)
        report["seconds"] = time.perf_counter() - started
    finally:
        os.environ.clear()
        os.environ.update(saved_environment)
    _print_report(console, report)
    return 0 if report["failed_messages"] == 0 and report["unaccounted"] == 0 else 1


def _run_pipeline(console: Console) -> dict[str, Any]:
    from deidentify import handler
    from deidentify.emulated_aws import EmulatedPipeline, FakeLambdaContext
    from deidentify.intake import PATIENT_ID_METADATA
    from deidentify.layout import (
        OUTCOMES_PREFIX,
        QUARANTINE_REASONS_PREFIX,
        TEXT_RECORDS_PREFIX,
    )
    from deidentify.runtime import DEFAULT_LINKAGE_PREFIX

    key = secrets.token_bytes(32)
    console.print(
        "[bold]Throwaway key:[/] a random 32-byte key was generated for this run and stored only in the "
        "emulated Secrets Manager; it is discarded at exit, so these pseudonyms and UIDs match no other run.",
        highlight=False,
    )
    pipeline = EmulatedPipeline()
    pipeline.create(key)
    os.environ.update(pipeline.handler_environment())
    handler._runtimes.clear()
    log_stream = StringIO()
    previous_stream = handler.logger.registered_handler.setStream(log_stream)

    uploads = demo_files()
    s3 = pipeline.client("s3")
    for object_key, path in uploads:
        s3.put_object(Bucket=pipeline.raw_bucket, Key=object_key, Body=path.read_bytes())
    s3.put_object(Bucket=pipeline.raw_bucket, Key=NON_DICOM_KEY, Body=NON_DICOM_BODY)
    s3.put_object(Bucket=pipeline.raw_bucket, Key=TEXT_RECORD_KEY, Body=TEXT_RECORD_BODY, ContentType="text/plain",
                  Metadata={PATIENT_ID_METADATA: TEXT_RECORD_PATIENT_ID})
    uploaded = len(uploads) + 2
    console.print(
        f"Uploaded {uploaded} objects to s3://{pipeline.raw_bucket} ({len(uploads)} files from the pydicom wheel, "
        f"1 text record with x-amz-meta-patient-id, 1 PDF); S3 notified {pipeline.queue_name} "
        f"(moto delivers S3 -> SQS notifications itself). Engine: pixel backend {pipeline.pixel_backend}, "
        f"text backend {pipeline.text_backend}.",
        highlight=False,
    )

    batches = messages_total = failed_messages = 0
    first_message: dict[str, Any] | None = None
    try:
        while messages := pipeline.receive_batch(10):
            response = handler.lambda_handler(pipeline.lambda_event(messages), FakeLambdaContext())
            pipeline.delete_succeeded(messages, response)
            batches += 1
            messages_total += len(messages)
            failed_messages += len(response["batchItemFailures"])
            first_message = first_message or next((m for m in messages if '"Records"' in m["Body"]), None)
        outputs_before_replay = pipeline.keys(pipeline.deidentified_bucket)
        log_before_replay = log_stream.getvalue()
        replay = None
        if first_message is not None:  # at-least-once delivery: the same notification again
            replay = handler.lambda_handler(pipeline.lambda_event([first_message]), FakeLambdaContext())
        outputs = pipeline.keys(pipeline.deidentified_bucket)
    finally:
        handler.logger.registered_handler.setStream(previous_stream)

    log_lines = [json.loads(line) for line in log_before_replay.splitlines() if line.startswith("{")]
    processed = [line for line in log_lines if line.get("message") == "object processed"]
    quarantine_keys = pipeline.keys(pipeline.quarantine_bucket)
    records = [pipeline.read_json(pipeline.quarantine_bucket, key) for key in quarantine_keys if key.startswith(OUTCOMES_PREFIX)]
    outcome_counts = Counter(record["outcome"] for record in records)
    return {
        "uploaded": uploaded,
        "batches": batches,
        "messages": messages_total,
        "failed_messages": failed_messages,
        "outcomes": outcome_counts,
        "unaccounted": uploaded - len(records),
        "linkage_records": sum(1 for key in quarantine_keys if key.startswith(DEFAULT_LINKAGE_PREFIX)),
        "text_records": [key for key in outputs if key.startswith(TEXT_RECORDS_PREFIX)],
        "deidentified_objects": _describe_outputs(s3, pipeline.deidentified_bucket, outputs),
        "quarantined": [
            pipeline.read_json(pipeline.quarantine_bucket, key)
            for key in quarantine_keys if key.startswith(QUARANTINE_REASONS_PREFIX)
        ],
        "replay_unchanged": replay == {"batchItemFailures": []} and outputs == outputs_before_replay,
        "log_sample": next((line for line in processed if line["outcome"] == "quarantined"), None),
        "log_lines": len(log_lines),
    }


def _describe_outputs(s3: Any, bucket: str, keys: list[str]) -> Counter:
    import pydicom
    from pydicom.uid import UID

    described: Counter = Counter()
    for key in keys:
        if not key.endswith(".dcm"):
            continue
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        dataset = pydicom.dcmread(BytesIO(body), stop_before_pixels=True)
        sop_class = UID(str(dataset.get("SOPClassUID", ""))).name or "unknown"
        described[(sop_class, str(dataset.get("PatientIdentityRemoved", "")))] += 1
    return described


def _print_report(console: Console, report: dict[str, Any]) -> None:
    done = Table(
        title="De-identified objects in the de-identified bucket",
        caption=(
            "PatientIdentityRemoved NO: header de-identified, pixels not inspected (reason pixels-not-inspected): "
            "no burned-in text was suspected and the demo's signatures backend ran no detector. In AWS the "
            "default backend, Rekognition, inspects every image."
        ),
    )
    done.add_column("SOP class")
    done.add_column("PatientIdentityRemoved")
    done.add_column("objects", justify="right")
    for (sop_class, removed), count in sorted(report["deidentified_objects"].items()):
        done.add_row(sop_class, removed, str(count))
    console.print(done)

    quarantined = Table(title="Quarantined (raw side: original bytes + reason record)")
    quarantined.add_column("source object (raw bucket)", overflow="fold")
    quarantined.add_column("reason", overflow="fold")
    for record in sorted(report["quarantined"], key=lambda record: record["source"]["key"]):
        reason = f"{record['reason']}: {record['detail']}" if record["detail"] else record["reason"]
        quarantined.add_row(record["source"]["key"], reason)
    console.print(quarantined)

    outcomes = report["outcomes"]
    distinct = sum(report["deidentified_objects"].values())
    summary = Table(title="Summary", show_header=False)
    summary.add_column()
    summary.add_column(justify="right")
    summary.add_row("raw objects uploaded", str(report["uploaded"]))
    summary.add_row("SQS messages (incl. the s3:TestEvent) / Lambda batches", f"{report['messages']} / {report['batches']}")
    summary.add_row("inputs de-identified", str(outcomes["de-identified"]))
    summary.add_row("distinct de-identified objects (inputs sharing a SOP Instance UID map to one)", str(distinct))
    summary.add_row("text records de-identified (records/...; the demo's note and pydicom's *.txt files)", str(len(report["text_records"])))
    summary.add_row("inputs quarantined", str(outcomes["quarantined"]))
    summary.add_row("inputs failed (outcome record 'failed')", str(outcomes["failed"]))
    summary.add_row("messages failed (would be retried, then dead-lettered)", str(report["failed_messages"]))
    summary.add_row("raw objects without an outcome record (quarantine bucket, outcomes/)", str(report["unaccounted"]))
    summary.add_row("linkage records (quarantine bucket, linkage/; raw side only)", str(report["linkage_records"]))
    summary.add_row("replayed notification left the output unchanged", "yes" if report["replay_unchanged"] else "NO")
    summary.add_row("run time", f"{report['seconds']:.1f} s")
    console.print(summary)
    if report["log_sample"]:
        console.print("Sample Lambda log line (structured, no PHI; object keys appear only as keyed references):")
        console.print_json(json.dumps(report["log_sample"]))
