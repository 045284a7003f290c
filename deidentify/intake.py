"""One raw S3 object -> one outcome: de-identified copy, or quarantine with a reason.

Idempotent under at-least-once, unordered delivery: each source object has one outcome
record (quarantine bucket, ``outcomes/<keyed reference>.json``), written last, after the
output. An event whose S3 ``sequencer`` is not newer than the recorded outcome's (a
duplicate, or an older version arriving late) is skipped; without a sequencer the object
version decides, and processing is a pure function of the version's bytes anyway, so a
repeat rewrites identical objects under identical names. An output name is claimed by the
first source object that produces it (``claims/``, conditional write); another source
producing different bytes under that name is quarantined ('conflicting-instance').

AWS errors and unexpected errors are not swallowed: a 'failed' outcome record is written
(best effort) and the error propagates, so the SQS message is retried and, after
maxReceiveCount, lands in the dead-letter queue.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from botocore.exceptions import ClientError

from deidentify import ENGINE_NAME, ENGINE_VERSION
from deidentify.layout import (
    DEIDENTIFIED,
    FAILED,
    QUARANTINED,
    OutcomeRecord,
    OutputClaim,
    QuarantineRecord,
    claim_record_name,
    linkage_document,
    linkage_record_name,
    outcome_record_name,
    quarantine_object_name,
    quarantine_reason_name,
    utc_timestamp,
)
from deidentify.processing import (
    ConflictingInstanceError,
    Deidentified,
    Quarantined,
    RawObject,
    process,
)
from deidentify.runtime import Toolkit

S3_TEST_EVENT = "s3:TestEvent"
PATIENT_ID_METADATA = "patient-id"  # x-amz-meta-patient-id on text records
PATIENT_NAME_METADATA = "patient-name"  # x-amz-meta-patient-name on text records (optional)
SKIPPED = "skipped"


class MalformedEventError(ValueError):
    """An SQS body that is neither an S3 event notification nor an S3 test event."""


@dataclass(frozen=True)
class S3ObjectRef:
    bucket: str
    key: str
    version_id: str | None = None
    sequencer: str | None = None


@dataclass(frozen=True)
class ObjectOutcome:
    outcome: str  # de-identified | quarantined | skipped
    reason: str
    destination_bucket: str
    destination_key: str
    object_ref: str = ""


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
            s3_object = record["s3"]["object"]
            key = unquote_plus(s3_object["key"])  # S3 URL-encodes keys in events
        except (KeyError, TypeError):
            raise MalformedEventError("S3 event record lacks bucket or object key") from None
        if key.endswith("/"):
            continue  # a console "folder" marker, not a file
        sequencer = s3_object.get("sequencer") or None
        if sequencer is not None and not _is_hex(sequencer):
            raise MalformedEventError("S3 event record has a sequencer that is not hexadecimal")
        refs.append(S3ObjectRef(bucket=bucket, key=key, version_id=s3_object.get("versionId") or None,
                                sequencer=sequencer))
    return refs


def _is_hex(text: str) -> bool:
    return isinstance(text, str) and bool(text) and all(ch in "0123456789abcdefABCDEF" for ch in text)


def sequencer_order(sequencer: str) -> int:
    """S3 sequencers of one key compare as hexadecimal numbers (the shorter left-padded)."""
    return int(sequencer, 16)


def supersedes(recorded: OutcomeRecord, ref: S3ObjectRef) -> bool:
    """Whether a final recorded outcome already covers (or is newer than) this event."""
    if not recorded.final:
        return False
    if recorded.sequencer and ref.sequencer:
        return sequencer_order(recorded.sequencer) >= sequencer_order(ref.sequencer)
    return bool(ref.version_id) and recorded.version_id == ref.version_id


class ObjectProcessor:
    """Reads a raw object, writes its de-identified copy or quarantines it, records the outcome."""

    def __init__(
        self,
        s3: Any,
        toolkit: Toolkit,
        output_bucket: str,
        quarantine_bucket: str,
        linkage_prefix: str = "linkage/",
        clock: Callable[[], str] = utc_timestamp,
    ) -> None:
        self.s3 = s3
        self.toolkit = toolkit
        self.output_bucket = output_bucket
        self.quarantine_bucket = quarantine_bucket
        self.linkage_prefix = linkage_prefix
        self.clock = clock

    def reference(self, ref: S3ObjectRef) -> str:
        return self.toolkit.mapper.reference(f"{ref.bucket}/{ref.key}")

    def process(self, ref: S3ObjectRef) -> ObjectOutcome:
        object_ref = self.reference(ref)
        recorded = self.recorded_outcome(object_ref)
        if recorded is not None and supersedes(recorded, ref):
            return ObjectOutcome(SKIPPED, "already-recorded", self.output_bucket, recorded.output_key, object_ref)
        try:
            return self._process(ref, object_ref, recorded)
        except Exception as error:
            self._record_failure(ref, object_ref, error)
            raise

    def recorded_outcome(self, object_ref: str) -> OutcomeRecord | None:
        try:
            body = self.s3.get_object(Bucket=self.quarantine_bucket, Key=outcome_record_name(object_ref))["Body"].read()
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise
        try:
            return OutcomeRecord.from_json(body)
        except (ValueError, TypeError):
            return None  # unreadable record: process again and overwrite it

    def _process(self, ref: S3ObjectRef, object_ref: str, recorded: OutcomeRecord | None) -> ObjectOutcome:
        request = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            request["VersionId"] = ref.version_id  # the announced version, even if overwritten since
        response = self.s3.get_object(**request)
        metadata = {name.lower(): value for name, value in (response.get("Metadata") or {}).items()}
        raw = RawObject(
            name=ref.key, data=response["Body"].read(), content_type=response.get("ContentType"),
            patient_id=metadata.get(PATIENT_ID_METADATA),
            patient_name=metadata.get(PATIENT_NAME_METADATA),
        )
        version_id = ref.version_id or response.get("VersionId") or ""
        if not ref.sequencer and recorded is not None and recorded.version_id == version_id and recorded.sequencer:
            # An event without a sequencer for a version already recorded with one: keep it,
            # so a later, older event is still recognised as older.
            ref = S3ObjectRef(ref.bucket, ref.key, ref.version_id, recorded.sequencer)
        result = process(raw, self.toolkit)
        source = {"bucket": ref.bucket, "key": ref.key, "version_id": version_id}
        if isinstance(result, Deidentified) and not self._claim(result, object_ref):
            result = Quarantined.from_error(ConflictingInstanceError("another source object holds this instance"))
        if isinstance(result, Deidentified):
            # Same input + same key => same name and bytes: a repeat rewrites the identical object.
            self.s3.put_object(Bucket=self.output_bucket, Key=result.output_name, Body=result.data,
                               ContentType=result.content_type)
            self.s3.put_object(
                Bucket=self.quarantine_bucket, Key=linkage_record_name(self.linkage_prefix, object_ref),
                Body=linkage_document(object_ref, source, result.linkage), ContentType="application/json",
            )
            self._record(ref, object_ref, version_id, DEIDENTIFIED, result.note, result.output_name)
            return ObjectOutcome(DEIDENTIFIED, result.note, self.output_bucket, result.output_name, object_ref)

        record = QuarantineRecord.from_reason(source, result.reason, result.detail, self.toolkit.profile_edition)
        object_key = quarantine_object_name(ref.key)
        # The object first: a reason record always has its object beside it.
        self.s3.put_object(Bucket=self.quarantine_bucket, Key=object_key, Body=raw.data)
        self.s3.put_object(Bucket=self.quarantine_bucket, Key=quarantine_reason_name(ref.key), Body=record.to_json(),
                           ContentType="application/json")
        self._record(ref, object_ref, version_id, QUARANTINED, result.reason, "")
        return ObjectOutcome(QUARANTINED, result.reason, self.quarantine_bucket, object_key, object_ref)

    def _claim(self, result: Deidentified, object_ref: str) -> bool:
        """Take the output name for this source, first come first served (S3 conditional
        write). False when another source already wrote different bytes under it."""
        claim = result.claim(object_ref)
        key = claim_record_name(result.output_name)
        try:
            self.s3.put_object(Bucket=self.quarantine_bucket, Key=key, Body=claim.to_json(), IfNoneMatch="*",
                               ContentType="application/json")
            return True
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") != "PreconditionFailed":
                raise  # including a concurrent conditional write (409): the message is retried
        existing = OutputClaim.from_json(
            self.s3.get_object(Bucket=self.quarantine_bucket, Key=key)["Body"].read()
        )
        if not existing.admits(claim):
            return False
        if existing != claim and existing.object_ref == claim.object_ref:
            # A newer version of the same source object: it now owns the name with its bytes.
            self.s3.put_object(Bucket=self.quarantine_bucket, Key=key, Body=claim.to_json(),
                               ContentType="application/json")
        return True

    def _record(self, ref: S3ObjectRef, object_ref: str, version_id: str, outcome: str, reason: str,
                output_key: str) -> None:
        record = OutcomeRecord(
            object_ref=object_ref, outcome=outcome, reason=reason, output_key=output_key,
            version_id=version_id, sequencer=ref.sequencer or "", engine=self.engine_description(),
            recorded_at=self.clock(),
        )
        self.s3.put_object(Bucket=self.quarantine_bucket, Key=outcome_record_name(object_ref), Body=record.to_json(),
                           ContentType="application/json")

    def _record_failure(self, ref: S3ObjectRef, object_ref: str, error: Exception) -> None:
        try:
            self._record(ref, object_ref, ref.version_id or "", FAILED, failure_reason(error), "")
        except Exception:  # noqa: BLE001, S110 - the original error is what the caller must see and retry
            pass

    def engine_description(self) -> dict[str, Any]:
        return {
            "engine": f"{ENGINE_NAME} {ENGINE_VERSION}",
            "profile": self.toolkit.profile_edition,
            **self.toolkit.settings.describe(),
        }


def failure_reason(error: BaseException) -> str:
    """A PHI-free reason code: the AWS error code, or the exception type."""
    if isinstance(error, ClientError):
        return "aws-error:" + str(error.response.get("Error", {}).get("Code", "unknown"))
    return "internal-error:" + type(error).__name__
