"""De-identifying one plain-text record: every PHI entity replaced, consistently with the images.

The record's patient (named by the caller, e.g. from the object's `patient-id` metadata) gets
the pseudonym the DICOM engine gives that patient; other people and other identifiers get
keyed placeholders; dates move by the patient's keyed offset in their own format; the other
PHI types become typed placeholders such as [ADDRESS]. A value found once is replaced
everywhere it occurs, and so is the patient's own ID or name even where the detector missed it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from deidentify.errors import DeidentificationError
from deidentify.keyed import KeyedMapper
from deidentify.text.dates import shift_date_text
from deidentify.text.detector import DATE, ID, NAME, PhiDetector, PhiEntity, TextDetectorUnavailableError

_ID_PREFIX, _NAME_PREFIX = "id:", "name:"
# Found once, replaced everywhere: values whose repetition elsewhere in the record is the same PHI.
_PROPAGATED_TYPES = frozenset({NAME, ID, "EMAIL", "URL", "PHONE_OR_FAX", "ADDRESS"})
_MIN_PROPAGATED_LENGTH = 3
# Text before a name that says the name is the record's patient's.
_PATIENT_LABEL = re.compile(
    r"(?:\bpatient(?:'s)?(?:\s+(?:full\s+)?name)?|\bpt\.?|(?:^|[\n;|])[ \t]*(?:full\s+)?name)[ \t]*[:\-][ \t]*$",
    re.IGNORECASE,
)
_NAME_JOINER = re.compile(r"[ \t,^.]{1,3}")


@dataclass(frozen=True)
class RecordOutcome:
    text: str
    replaced: int  # PHI spans replaced (after merging overlaps)
    patient_pseudonym: str | None  # the record's patient's pseudonym, None when no patient was named


DATES_SHIFTED, DATES_KEPT, DATES_REMOVED = "shifted", "kept", "removed"
DATE_POLICIES = (DATES_SHIFTED, DATES_KEPT, DATES_REMOVED)


def record_patient_identity(patient_id: str | None = None, patient_name: str | None = None) -> str | None:
    """The normalised identity the engine keys a patient's pseudonym and date offset on
    (as deidentify.engine.patient_identity does for a header): 'id:<Patient ID>' when there
    is an ID, else 'name:<FAMILY^GIVEN>' (first component group, upper case), else None."""
    identifier = (patient_id or "").strip(" \x00")
    if identifier:
        return _ID_PREFIX + identifier
    name = (patient_name or "").strip(" \x00").split("=")[0].strip().rstrip("^ ").upper()
    if name:
        return _NAME_PREFIX + name
    return None


def deidentify_record(
    text: str,
    *,
    mapper: KeyedMapper,
    detector: PhiDetector,
    patient_identity: str | None,
    patient_name: str | None = None,
    dates: str = DATES_SHIFTED,
    day_first: bool = False,
) -> RecordOutcome:
    """Replace every PHI entity of `text`.

    `patient_identity` is the engine's normalised identity ('id:...' or 'name:...', see
    `record_patient_identity`); a bare value is taken as a Patient ID. None means the record
    names no patient: all names and IDs get placeholders and dates the offset of identity "".
    `patient_name` (DICOM PN or free form), when known, is replaced wherever its words occur,
    even where the detector missed it.
    `dates` follows the trial's temporal option, as the images do: shifted by the patient's
    keyed offset (modified dates), kept (full dates) or removed (neither option).
    `day_first` settles numeric dates such as 03/04/2024 that read both ways.
    Raises TextDetectorUnavailableError (a quarantine reason) when the detector fails.
    """
    if dates not in DATE_POLICIES:
        raise ValueError(f"dates must be one of {', '.join(DATE_POLICIES)}, not {dates!r}")
    identity = _normalised_identity(patient_identity)
    try:
        detected = detector.detect(text)
    except DeidentificationError:
        raise
    except Exception as error:  # noqa: BLE001 - a detector bug must quarantine the record, not pass it
        raise TextDetectorUnavailableError(f"detector failed ({type(error).__name__})") from None
    spans = [entity for entity in (_clipped(entity, len(text)) for entity in detected) if entity is not None]
    spans += _identity_occurrences(text, identity)
    known_name_parts = _name_parts(patient_name)
    for part in known_name_parts:
        spans += [PhiEntity(b, e, NAME, 1.0) for b, e in _occurrences(text, part, ignore_case=True)]
    spans += _repeated_occurrences(text, spans)
    merged = _joined_names(text, _merged(spans))

    pseudonym = mapper.patient_pseudonym(identity) if identity is not None else None
    offset_days = mapper.date_offset_days(identity if identity is not None else "")
    patient_tokens = _patient_name_tokens(text, merged, identity) | {p.casefold() for p in known_name_parts}
    patient_id, _ = _identity_values(identity)
    pieces: list[str] = []
    position = 0
    for entity in merged:
        original = text[entity.begin:entity.end]
        pieces.append(text[position:entity.begin])
        if entity.type == DATE and dates != DATES_SHIFTED:
            pieces.append(original if dates == DATES_KEPT else "[DATE]")
        else:
            pieces.append(_replacement(original, entity.type, mapper, patient_id, pseudonym, patient_tokens,
                                       offset_days, day_first))
        position = entity.end
    pieces.append(text[position:])
    return RecordOutcome("".join(pieces), len(merged), pseudonym)


def _normalised_identity(patient_identity: str | None) -> str | None:
    if patient_identity is None or not patient_identity.strip():
        return None
    if patient_identity.startswith((_ID_PREFIX, _NAME_PREFIX)):
        return patient_identity
    return record_patient_identity(patient_id=patient_identity)


def _clipped(entity: PhiEntity, length: int) -> PhiEntity | None:
    begin, end = max(0, entity.begin), min(length, entity.end)
    return PhiEntity(begin, end, entity.type, entity.score) if begin < end else None


def _words(value: str) -> list[str]:
    return [word for word in re.split(r"[\s,^.]+", value.casefold()) if word]


def _identity_values(identity: str | None) -> tuple[str | None, list[str]]:
    """The patient's ID, and the components of the patient's name, from the identity."""
    if identity is None:
        return None, []
    if identity.startswith(_ID_PREFIX):
        return identity[len(_ID_PREFIX):], []
    return None, [part for part in re.split(r"[\^\s]+", identity[len(_NAME_PREFIX):]) if len(part) >= 2]


def _name_parts(name: str | None) -> list[str]:
    """Words of a person name given as DICOM PN ('FAMILY^GIVEN') or free form ('Given Family')."""
    return [part for part in re.split(r"[\^\s,=]+", name or "") if len(part) >= 2]


def _occurrences(text: str, value: str, *, ignore_case: bool) -> Iterator[tuple[int, int]]:
    pattern = re.compile(rf"(?<![^\W_]){re.escape(value)}(?![^\W_])", re.IGNORECASE if ignore_case else 0)
    for match in pattern.finditer(text):
        yield match.start(), match.end()


def _identity_occurrences(text: str, identity: str | None) -> list[PhiEntity]:
    patient_id, name_parts = _identity_values(identity)
    found = []
    if patient_id:
        found += [PhiEntity(b, e, ID, 1.0) for b, e in _occurrences(text, patient_id, ignore_case=True)]
    for part in name_parts:
        found += [PhiEntity(b, e, NAME, 1.0) for b, e in _occurrences(text, part, ignore_case=True)]
    return found


def _repeated_occurrences(text: str, spans: Iterable[PhiEntity]) -> list[PhiEntity]:
    seen: set[tuple[str, str]] = set()
    found: list[PhiEntity] = []
    for entity in spans:
        if entity.type not in _PROPAGATED_TYPES:
            continue
        value = text[entity.begin:entity.end].strip()
        # A name's words are looked for one by one ('Jane Doe' ... 'Doe'), as written (capitalised).
        values = [(value, True)]
        if entity.type == NAME:
            values += [(word, False) for word in re.split(r"[\s,^]+", value)]
        for candidate, ignore_case in values:
            candidate = candidate.strip(".")
            if len(candidate) < _MIN_PROPAGATED_LENGTH or (entity.type, candidate) in seen:
                continue
            seen.add((entity.type, candidate))
            found += [PhiEntity(b, e, entity.type, entity.score)
                      for b, e in _occurrences(text, candidate, ignore_case=ignore_case)]
    return found


def _merged(spans: Iterable[PhiEntity]) -> list[PhiEntity]:
    """Overlapping spans become one, typed after its longest (then most confident) member."""
    merged: list[PhiEntity] = []
    leader: PhiEntity | None = None
    for entity in sorted(spans, key=lambda e: (e.begin, -e.end)):
        if merged and entity.begin < merged[-1].end:
            current = merged[-1]
            leader = max(leader or current, entity, key=lambda e: (e.end - e.begin, e.score))
            end, score = max(current.end, entity.end), max(current.score, entity.score)
            merged[-1] = PhiEntity(current.begin, end, leader.type, score)
        else:
            leader = entity
            merged.append(entity)
    return merged


def _joined_names(text: str, spans: list[PhiEntity]) -> list[PhiEntity]:
    """'Jane' and 'Doe' found separately are one name: one replacement, not two."""
    joined: list[PhiEntity] = []
    for entity in spans:
        previous = joined[-1] if joined else None
        if (previous is not None and previous.type == NAME and entity.type == NAME
                and _NAME_JOINER.fullmatch(text[previous.end:entity.begin])):
            joined[-1] = PhiEntity(previous.begin, entity.end, NAME, max(previous.score, entity.score))
        else:
            joined.append(entity)
    return joined


def _patient_name_tokens(text: str, spans: list[PhiEntity], identity: str | None) -> frozenset[str]:
    """Words of the record's patient's name: from the identity, and from names the record
    labels as the patient's ('Patient: ...', 'Name: ...')."""
    if identity is None:
        return frozenset()
    _, name_parts = _identity_values(identity)
    tokens = {part.casefold() for part in name_parts}
    for entity in spans:
        if entity.type == NAME and _PATIENT_LABEL.search(_line_before(text, entity.begin)):
            tokens.update(_words(text[entity.begin:entity.end]))
    return frozenset(tokens)


def _line_before(text: str, position: int, limit: int = 200) -> str:
    """The text from the start of the line to `position`; a NUL marks a cut so '^' in the
    label pattern only ever matches a real line start."""
    line_start = text.rfind("\n", 0, position) + 1
    if position - line_start > limit:
        return "\x00" + text[position - limit:position]
    return text[line_start:position]


def _replacement(
    original: str,
    entity_type: str,
    mapper: KeyedMapper,
    patient_id: str | None,
    pseudonym: str | None,
    patient_tokens: frozenset[str],
    offset_days: int,
    day_first: bool,
) -> str:
    if entity_type == NAME:
        words = _words(original)
        if pseudonym is not None and words and set(words) <= patient_tokens:
            return pseudonym
        return _keyed_placeholder(mapper, NAME, " ".join(words))
    if entity_type == ID:
        if pseudonym is not None and patient_id and _same_id(original, patient_id):
            return pseudonym
        return _keyed_placeholder(mapper, ID, _compact_id(original))
    if entity_type == DATE:
        return shift_date_text(original, offset_days, day_first=day_first) or "[DATE]"
    label = re.sub(r"[^A-Z_]", "", entity_type.upper()) or "PHI"
    return f"[{label}]"


def _compact_id(value: str) -> str:
    return re.sub(r"[\s-]", "", value).upper()


def _same_id(value: str, patient_id: str) -> bool:
    return _compact_id(value.strip(" .,;:")) == _compact_id(patient_id)


def _keyed_placeholder(mapper: KeyedMapper, kind: str, normalised: str) -> str:
    # Under the trial key, in a namespace of its own: the same person or identifier gets the
    # same placeholder in every record, and nobody without the key can reverse or guess it.
    token = mapper.reference(f"text-placeholder\x00{kind}\x00{normalised}")[:8].upper()
    return f"[{kind}-{token}]"
