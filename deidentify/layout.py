"""Where results go: the de-identified object's name and the quarantine layout.

Shared by the Lambda (S3 keys) and the CLI (paths relative to OUT / the quarantine folder),
so both produce the same names. Output names come only from keyed UIDs, never from patient
identifiers or the source name. Quarantine stays on the raw side, so it may mirror the
source name (which can itself hold identifiers).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from deidentify import ENGINE_NAME, ENGINE_VERSION
from deidentify.engine import DeidentifiedObject
from deidentify.errors import DeidentificationError

DEIDENTIFIED = "de-identified"
QUARANTINED = "quarantined"
FAILED = "failed"

QUARANTINE_OBJECTS_PREFIX = "objects/"
QUARANTINE_REASONS_PREFIX = "reasons/"


def output_name(result: DeidentifiedObject) -> str:
    """'<StudyInstanceUID>/<SeriesInstanceUID>/<SOPInstanceUID>.dcm', all keyed UIDs."""
    return f"{result.study_instance_uid}/{result.series_instance_uid}/{result.sop_instance_uid}.dcm"


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
    def from_error(cls, source: dict[str, str], error: DeidentificationError, profile_edition: str) -> "QuarantineRecord":
        return cls(source=source, reason=error.reason, detail=error.detail, profile_edition=profile_edition)

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
