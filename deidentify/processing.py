"""One raw object -> one result, shared by the Lambda and the CLI.

A result is a de-identified object (output name, bytes, and the linkage record that stays
on the raw side) or a quarantine (reason code). Anything else raised here is a failure the
caller records as such. The result depends only on the object's bytes, how it names its
patient, the key and the engine settings, so a repeated delivery gives identical output.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from deidentify.errors import DeidentificationError
from deidentify.layout import OutputClaim, output_name, text_output_name
from deidentify.runtime import Toolkit

TEXT_SUFFIX = ".txt"
TEXT_CONTENT_TYPE = "text/plain"
DICOM_CONTENT_TYPE = "application/dicom"
_LINKED_UIDS = ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID")


class TextEncodingError(DeidentificationError):
    """A text record that is not UTF-8: it cannot be searched for PHI reliably."""

    reason = "text-not-utf8"


class ConflictingInstanceError(DeidentificationError):
    """Another source object already produced this output name with different bytes
    (e.g. one SOP Instance UID sent twice with different content)."""

    reason = "conflicting-instance"


class RecordMetadataError(DeidentificationError):
    """A text record's patient metadata (sidecar) is unusable."""

    reason = "record-metadata-invalid"


@dataclass(frozen=True)
class RawObject:
    name: str  # S3 key or path relative to IN: raw side, may carry identifiers
    data: bytes
    content_type: str | None = None
    patient_id: str | None = None  # S3 metadata 'patient-id' or the sidecar's, for text records
    patient_name: str | None = None  # S3 metadata 'patient-name' or the sidecar's, for text records


@dataclass(frozen=True)
class Deidentified:
    output_name: str  # keyed values only
    data: bytes
    content_type: str
    linkage: dict[str, Any]  # originals -> keyed values: raw side only, never logged
    # Why the object does not assert Patient Identity Removed YES, shown beside the outcome so a
    # de-identified image whose pixels no detector inspected is never mistaken for a cleaned one.
    note: str = ""

    def claim(self, object_ref: str) -> OutputClaim:
        return OutputClaim(object_ref=object_ref, sha256=hashlib.sha256(self.data).hexdigest())


@dataclass(frozen=True)
class Quarantined:
    """Why an object is quarantined: plain strings (they cross process boundaries), PHI-free."""

    reason: str
    detail: str = ""

    @classmethod
    def from_error(cls, error: DeidentificationError) -> Quarantined:
        return cls(error.reason, error.detail)

    @property
    def message(self) -> str:
        return f"{self.reason}: {self.detail}" if self.detail else self.reason


# Reason code of a de-identified image that asserts Patient Identity Removed NO: no burned-in text
# was suspected and no detector ran (header-only backends), so its pixels were not inspected.
PIXELS_NOT_CHECKED = "pixels-not-inspected"


def is_text_record(name: str, content_type: str | None) -> bool:
    media_type = (content_type or "").split(";")[0].strip().lower()
    return name.lower().endswith(TEXT_SUFFIX) or media_type == TEXT_CONTENT_TYPE


def process(raw: RawObject, toolkit: Toolkit) -> Deidentified | Quarantined:
    try:
        if is_text_record(raw.name, raw.content_type):
            return _text(raw, toolkit)
        return _dicom(raw, toolkit)
    except DeidentificationError as error:
        return Quarantined.from_error(error)


def _dicom(raw: RawObject, toolkit: Toolkit) -> Deidentified:
    result = toolkit.deidentifier.deidentify_bytes(raw.data)  # quarantines what it cannot read
    originals = result.originals.decoded()
    keyed = {
        "StudyInstanceUID": result.study_instance_uid,
        "SeriesInstanceUID": result.series_instance_uid,
        "SOPInstanceUID": result.sop_instance_uid,
    }
    linkage = {
        "kind": "dicom",
        "patient": {"original_id": originals.get("PatientID", ""), "pseudonym": result.written.decoded()["PatientID"]},
        "uids": {
            keyword: {"original": originals.get(keyword, ""), "keyed": keyed[keyword]} for keyword in _LINKED_UIDS
        },
    }
    note = "" if result.patient_identity_removed else PIXELS_NOT_CHECKED
    return Deidentified(output_name(result), result.data, DICOM_CONTENT_TYPE, linkage, note)


def _text(raw: RawObject, toolkit: Toolkit) -> Deidentified:
    from deidentify.text import deidentify_record, record_patient_identity

    try:
        text = raw.data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise TextEncodingError("record is not valid UTF-8") from None
    identity = record_patient_identity(raw.patient_id, raw.patient_name)
    outcome = deidentify_record(text, mapper=toolkit.mapper, detector=toolkit.text_detector,
                                patient_identity=identity, patient_name=raw.patient_name,
                                dates=_text_date_policy(toolkit.settings.options))
    # The name comes from a keyed digest of what decides the output, so a repeated delivery
    # (or the same record on the CLI) lands on the same name and nothing identifies.
    digest = hashlib.sha256(raw.data + b"\x00" + (identity or "").encode("utf-8")).hexdigest()
    name = text_output_name(outcome.patient_pseudonym, toolkit.mapper.reference("text-record:" + digest))
    linkage = {
        "kind": "text",
        "patient": {"original_id": (raw.patient_id or "").strip(), "pseudonym": outcome.patient_pseudonym or ""},
        "replaced_entities": outcome.replaced,
    }
    return Deidentified(name, outcome.text.encode("utf-8"), TEXT_CONTENT_TYPE + "; charset=utf-8", linkage)


def _text_date_policy(options: frozenset[str] | tuple[str, ...]) -> str:
    """Dates in a record follow the trial's temporal option exactly as its images' dates do."""
    from deidentify.text.record import DATES_KEPT, DATES_REMOVED, DATES_SHIFTED

    if "retain-longitudinal-modified-dates" in options:
        return DATES_SHIFTED
    if "retain-longitudinal-full-dates" in options:
        return DATES_KEPT
    return DATES_REMOVED

