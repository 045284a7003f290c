"""What every PHI detector returns, and the error that quarantines a record it could not read."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from deidentify.errors import DeidentificationError

# Comprehend Medical's DetectPHI types; the local detector uses the same names.
NAME = "NAME"
AGE = "AGE"
DATE = "DATE"
ID = "ID"
ADDRESS = "ADDRESS"
PROFESSION = "PROFESSION"
PHONE_OR_FAX = "PHONE_OR_FAX"
EMAIL = "EMAIL"
URL = "URL"
PHI_TYPES = frozenset({NAME, AGE, DATE, ID, ADDRESS, PROFESSION, PHONE_OR_FAX, EMAIL, URL})


@dataclass(frozen=True, order=True)
class PhiEntity:
    """A span [begin, end) of character (code point) offsets in the text given to `detect`."""

    begin: int
    end: int
    type: str
    score: float


@runtime_checkable
class PhiDetector(Protocol):
    def detect(self, text: str) -> list[PhiEntity]: ...


class TextDetectorUnavailableError(DeidentificationError):
    """The PHI detector failed (throttled past its retries, refused, unreachable): quarantine."""

    reason = "text-phi-detector-unavailable"


def detect_many(detector: PhiDetector, texts: Sequence[str]) -> list[list[PhiEntity]]:
    """Entities for each of many (typically short) texts, batched when the detector can."""
    batched = getattr(detector, "detect_many", None)
    if callable(batched):
        return batched(texts)
    return [detector.detect(text) if text else [] for text in texts]


def without_contained_duplicates(entities: Sequence[PhiEntity]) -> list[PhiEntity]:
    """Drops entities found twice: identical spans keep the best score, and a span lying inside
    another span of the same type (a name cut short at a chunk edge) goes."""
    best: dict[tuple[int, int, str], PhiEntity] = {}
    for entity in entities:
        key = (entity.begin, entity.end, entity.type)
        if key not in best or entity.score > best[key].score:
            best[key] = entity
    kept: list[PhiEntity] = []
    furthest_end: dict[str, int] = {}
    # Sorted by begin, longest first: a span is contained in an earlier one of its type
    # exactly when it ends no later than the furthest end seen for that type.
    for entity in sorted(best.values(), key=lambda e: (e.begin, -e.end)):
        if entity.end <= furthest_end.get(entity.type, -1):
            continue
        furthest_end[entity.type] = entity.end
        kept.append(entity)
    return kept
