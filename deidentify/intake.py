"""One raw S3 object -> one outcome: de-identified copy, or quarantine with a reason.

AWS errors are not caught here: they propagate so the SQS message is retried and, after
maxReceiveCount, lands in the dead-letter queue.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from deidentify.engine import Deidentifier
from deidentify.errors import DeidentificationError
from deidentify.layout import (
    DEIDENTIFIED,
    QUARANTINED,
    QuarantineRecord,
    output_name,
    quarantine_object_name,
    quarantine_reason_name,
)

S3_TEST_EVENT = "s3:TestEvent"


class MalformedEventError(ValueError):
    """An SQS body that is neither an S3 event notification nor an S3 test event."""


@dataclass(frozen=True)
class S3ObjectRef:
    bucket: str
    key: str


@dataclass(frozen=True)
class ObjectOutcome:
    outcome: str
    reason: str
    destination_bucket: str
    destination_key: str


def object_refs_from_sqs_body(body: str) -> list[S3ObjectRef]:
    """The created objects an SQS message announces; [] for the s3:TestEvent message."""
    try:
        document = json.loads(body)
    except json.JSONDecodeError:
        raise MalformedEventError("message body is not JSON") from None
    if not isinstance(document, dict):
        raise MalformedEventError("message body is not a JSON object")
    if document.get("Event") == S3_TEST_EVENT:
        return []
    records = document.get("Records")
    if not isinstance(records, list):
        raise MalformedEventError("message body has no S3 'Records' list")
    refs = []
    for record in records:
        if not isinstance(record, dict) or record.get("eventSource") != "aws:s3":
            raise MalformedEventError("record is not an S3 event")
        if not str(record.get("eventName", "")).startswith("ObjectCreated:"):
            continue
        try:
            bucket = record["s3"]["bucket"]["name"]
            key = unquote_plus(record["s3"]["object"]["key"])  # S3 URL-encodes keys in events
        except (KeyError, TypeError):
            raise MalformedEventError("S3 event record lacks bucket or object key") from None
        if key.endswith("/"):
            continue  # a console "folder" marker, not a file
        refs.append(S3ObjectRef(bucket=bucket, key=key))
    return refs


class ObjectProcessor:
    """Reads a raw object, writes its de-identified copy or quarantines it."""

    def __init__(self, s3: Any, deidentifier: Deidentifier, output_bucket: str, quarantine_bucket: str) -> None:
        self.s3 = s3
        self.deidentifier = deidentifier
        self.output_bucket = output_bucket
        self.quarantine_bucket = quarantine_bucket

    def process(self, ref: S3ObjectRef) -> ObjectOutcome:
        data = self.s3.get_object(Bucket=ref.bucket, Key=ref.key)["Body"].read()
        try:
            result = self.deidentifier.deidentify_bytes(data)
        except DeidentificationError as error:
            return self._quarantine(ref, data, error)
        key = output_name(result)
        # Same input + same key => same name and bytes, so a repeated delivery rewrites
        # the identical object instead of adding a second one.
        self.s3.put_object(Bucket=self.output_bucket, Key=key, Body=result.data, ContentType="application/dicom")
        return ObjectOutcome(DEIDENTIFIED, "", self.output_bucket, key)

    def _quarantine(self, ref: S3ObjectRef, data: bytes, error: DeidentificationError) -> ObjectOutcome:
        record = QuarantineRecord.from_error(
            source={"bucket": ref.bucket, "key": ref.key}, error=error,
            profile_edition=self.deidentifier.profile.edition,
        )
        object_key = quarantine_object_name(ref.key)
        # The object first: a reason record always has its object beside it.
        self.s3.put_object(Bucket=self.quarantine_bucket, Key=object_key, Body=data)
        self.s3.put_object(
            Bucket=self.quarantine_bucket, Key=quarantine_reason_name(ref.key), Body=record.to_json(),
            ContentType="application/json",
        )
        return ObjectOutcome(QUARANTINED, error.reason, self.quarantine_bucket, object_key)
