"""Where results go: the de-identified object's name and the quarantine layout.

Shared by the Lambda (S3 keys) and the CLI (paths relative to OUT / the quarantine folder),
so both produce the same names. Output names come only from keyed UIDs, never from patient
identifiers or the source name. Quarantine stays on the raw side, so it may mirror the
source name (which can itself hold identifiers).

The quarantine bucket (raw side) also holds, per source object, one outcome record under
``outcomes/`` (PHI-free, named by the object's keyed reference) and, for de-identified
objects, a linkage record (originals -> keyed values) under the linkage prefix; and per
output name a claim under ``claims/``, so that two different source objects claiming one
instance (same SOP Instance UID, different content) never silently overwrite each other.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from deidentify import ENGINE_NAME, ENGINE_VERSION
from deidentify.engine import DeidentifiedObject

DEIDENTIFIED = "de-identified"
QUARANTINED = "quarantined"
FAILED = "failed"

QUARANTINE_OBJECTS_PREFIX = "objects/"
QUARANTINE_REASONS_PREFIX = "reasons/"
OUTCOMES_PREFIX = "outcomes/"
CLAIMS_PREFIX = "claims/"
RESERVED_QUARANTINE_PREFIXES = (QUARANTINE_OBJECTS_PREFIX, QUARANTINE_REASONS_PREFIX, OUTCOMES_PREFIX, CLAIMS_PREFIX)
TEXT_RECORDS_PREFIX = "records/"
UNLINKED_RECORDS = "unlinked"


def output_name(result: DeidentifiedObject) -> str:
    """'<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm', all keyed UIDs."""
    return f"{result.study_instance_uid}/{result.series_instance_uid}/{result.sop_instance_uid}.dcm"


def text_output_name(patient_pseudonym: str | None, record_reference: str) -> str:
    """'records/<patient pseudonym or unlinked>/<keyed record reference>.txt'."""
    return f"{TEXT_RECORDS_PREFIX}{patient_pseudonym or UNLINKED_RECORDS}/{record_reference}.txt"


def outcome_record_name(object_reference: str) -> str:
    """Raw side: one outcome record per source object, named by its keyed reference."""
    return f"{OUTCOMES_PREFIX}{object_reference}.json"


def claim_record_name(output_name: str) -> str:
    """Raw side: which source object an output name belongs to (first come, first served)."""
    return f"{CLAIMS_PREFIX}{output_name}.json"


@dataclass(frozen=True)
class OutputClaim:
    """An output name taken by one source object, with the digest of the bytes it wrote.
    PHI-free: a keyed reference and a digest of de-identified bytes."""

    object_ref: str
    sha256: str

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> OutputClaim:
        document = json.loads(data)
        return cls(object_ref=str(document["object_ref"]), sha256=str(document["sha256"]))

    def admits(self, other: OutputClaim) -> bool:
        """Same source (a redelivery or a newer version of it) or byte-identical output."""
        return self.object_ref == other.object_ref or self.sha256 == other.sha256


def linkage_record_name(prefix: str, object_reference: str) -> str:
    """Raw side: the originals -> keyed values of one source object."""
    return f"{prefix}{object_reference}.json"


def quarantine_object_name(source_name: str) -> str:
    return QUARANTINE_OBJECTS_PREFIX + source_name.lstrip("/")


def quarantine_reason_name(source_name: str) -> str:
    return QUARANTINE_REASONS_PREFIX + source_name.lstrip("/") + ".json"


@dataclass(frozen=True)
class QuarantineRecord:
    """Why an object was quarantined. Holds only reason codes, never header values."""

    source: dict[str, str]
    reason: str
    detail: str
    profile_edition: str

    @classmethod
    def from_reason(cls, source: dict[str, str], reason: str, detail: str, profile_edition: str) -> QuarantineRecord:
        return cls(source=source, reason=reason, detail=detail, profile_edition=profile_edition)

    def to_json(self) -> bytes:
        document = {
            "outcome": QUARANTINED,
            "reason": self.reason,
            "detail": self.detail,
            "source": self.source,
            "engine": f"{ENGINE_NAME} {ENGINE_VERSION}",
            "profile": self.profile_edition,
        }
        return (json.dumps(document, indent=2, sort_keys=True) + "\n").encode("utf-8")


def utc_timestamp() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class OutcomeRecord:
    """What happened to one source object. PHI-free: the object appears only as a keyed
    reference and the output name is built from keyed values."""

    object_ref: str
    outcome: str  # de-identified | quarantined | failed
    reason: str
    output_key: str
    version_id: str
    sequencer: str
    engine: dict[str, Any]
    recorded_at: str

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), indent=2, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_json(cls, data: bytes) -> OutcomeRecord:
        document = json.loads(data)
        return cls(**{name: document.get(name, "") for name in cls.__dataclass_fields__})

    @property
    def final(self) -> bool:
        """De-identified or quarantined; a failure is retried and then overwritten."""
        return self.outcome in (DEIDENTIFIED, QUARANTINED)


def linkage_document(object_ref: str, source: dict[str, str], linkage: dict[str, Any]) -> bytes:
    """A linkage record: original identifiers -> keyed values. Raw side only."""
    # No time stamp: a repeated delivery rewrites the identical record.
    document = {"object_ref": object_ref, "source": source, **linkage}
    return (json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")
