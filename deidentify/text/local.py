"""An offline rule-based PHI detector for the command line: a safety net, not a model.

Regular expressions and small word lists find the PHI that has a recognisable shape or a
label in front of it. They do not understand language: a name mentioned without a title or
a label ("seen with her husband John"), a town without a postcode, a profession or a
free-text date ("last Easter") are missed. Use Comprehend Medical where PHI must be found
in unstructured prose; see the coverage table in the README.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from deidentify.text.detector import (
    ADDRESS,
    AGE,
    DATE,
    EMAIL,
    ID,
    NAME,
    PHONE_OR_FAX,
    URL,
    PhiEntity,
    without_contained_duplicates,
)

_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?)(?![A-Za-z])"
)
_DAY = r"(?:[0-3]?\d)(?:st|nd|rd|th)?"
_YEAR = r"(?:1[89]\d\d|20\d\d)"
_TIME = r"(?:[T ]?[0-2]?\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?)?"

_DATE_PATTERNS = [
    # 2024-03-12, 2024/3/12, 2024.03.12, with an optional time
    rf"\b{_YEAR}[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])(?!\d){_TIME}",
    # 12/03/2024, 3-12-24, 12.03.2024 (day/month order settled when the date is shifted)
    r"\b(?:[0-3]?\d)[-/.](?:[0-3]?\d)[-/.](?:\d{4}|\d{2})\b" + _TIME,
    # 20240312 (DICOM DA style); month and day checked so plain numbers are left to the ID rule
    rf"\b{_YEAR}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\b",
    # 12 March 2024, 12th of Mar. 2024, 12-Mar-2024
    rf"\b{_DAY}(?:\s+of)?[\s-]+{_MONTHS}[\s,-]+{_YEAR}\b",
    # March 12, 2024 / Mar 12th 2024
    rf"\b{_MONTHS}\s+{_DAY},?\s+{_YEAR}\b",
    # March 2024
    rf"\b{_MONTHS}\s+{_YEAR}\b",
    # 12 March / March 12th (no year)
    rf"\b{_DAY}(?:\s+of)?\s+{_MONTHS}(?![A-Za-z])",
    rf"\b{_MONTHS}\s+{_DAY}\b",
]
# A weekday next to a date is part of it (it narrows the date down).
_WEEKDAY = r"(?:(?:Mon|Tues?|Wed(?:nes)?|Thu(?:rs?)?|Fri|Sat(?:ur)?|Sun)(?:day)?\.?,?\s+)?"
_DATE = re.compile(_WEEKDAY + "(?:" + "|".join(f"(?:{pattern})" for pattern in _DATE_PATTERNS) + ")", re.IGNORECASE)
# "may" and "march" are also ordinary words: written in lower case they are not taken as months.
_MONTH_LOOKALIKES = frozenset({"may", "march", "mar"})

_EMAIL = re.compile(r"\b[\w.%+-]+@[\w-]+(?:\.[\w-]+)+\b")
_URL = re.compile(r"\b(?:https?://|ftp://|www\.)[^\s<>\"']+", re.IGNORECASE)
_PHONE = re.compile(
    r"(?:(?<![\w+])\+\d{1,3}[ .-]?(?:\(0\) ?)?(?:\(?\d{1,5}\)?[ .-]?){2,5}\d{2,4}\b)"   # +44 20 7946 0000
    r"|(?:(?<!\w)\(\d{3}\) ?\d{3}[ .-]\d{4}\b)"                                     # (555) 010-0000
    r"|(?:\b\d{3}[.-]\d{3}[.-]\d{4}\b)"                                            # 555-010-0000
    r"|(?:\b0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}\b)"                                     # 020 7946 0000
)
_PHONE_LABELLED = re.compile(
    r"\b(?:tel(?:ephone)?|phone|ph|fax|mobile|mob|cell|pager|bleep)\b\.?\s*(?:no\.?|number|#)?\s*[:#]?\s*"
    r"(?P<value>\+?\(?\d[\d \t().-]{4,}\d)",
    re.IGNORECASE,
)
_ID_LABELS = (
    r"MRN|M\.R\.N\.|medical\s+record(?:\s+(?:number|no\.?))?|patient\s+(?:id|identifier|number|no\.?)|"
    r"hospital\s+(?:number|no\.?|id)|NHS\s+(?:number|no\.?)|CHI(?:\s+number)?|accession(?:\s+(?:number|no\.?))?|"
    r"SSN|social\s+security(?:\s+number)?|insurance\s+(?:number|no\.?|id)|member\s+id|account\s+(?:number|no\.?)|"
    r"subject\s+id|record\s+(?:number|no\.?)|case\s+(?:number|no\.?)|ID|identifier"
)
_ID_LABELLED = re.compile(
    rf"\b(?:{_ID_LABELS})\s*(?:#|no\.?|number)?\s*[:#=]?\s*"
    r"(?P<value>[A-Za-z0-9][A-Za-z0-9/._-]*\d[A-Za-z0-9/._-]*|\d+)",
    re.IGNORECASE,
)
_ID_SHAPES = re.compile(
    r"\b\d{3}-\d{2}-\d{4}\b"               # SSN-shaped
    r"|\b\d{3}\s\d{3}\s\d{4}\b"             # NHS-number-shaped
    r"|\b\d{6,}\b"                          # long digit runs (MRNs, accession numbers)
    r"|\b[A-Za-z]{1,4}-?\d{5,}[A-Za-z]?\b"  # letter prefix + digits (AB1234567)
)
_AGE_OVER_89 = re.compile(
    r"\b(?:age[ds]?\s*[:=]?\s*|aged\s+)(?P<a>9\d|1[0-4]\d)\b"
    r"|\b(?P<b>9\d|1[0-4]\d)\s*(?:-|\s)?(?:years?|yrs?|y/?o|yo)\b(?:[\s-]*old)?",
    re.IGNORECASE,
)
_STREET_TYPES = (
    r"Street|St\.?|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.?|Boulevard|Blvd\.?|Way|Court|Ct\.?|Place|Pl\.?|"
    r"Terrace|Close|Crescent|Square|Sq\.?|Gardens|Parkway|Highway|Hwy\.?|Strasse|Straße|Weg|Allee|Platz|Gasse"
)
_UK_POSTCODE = r"[A-Z]{1,2}\d[A-Z\d]?\s*\d[A-Z]{2}"
_US_ZIP_WITH_STATE = r"[A-Z]{2}\s+\d{5}(?:-\d{4})?"
_ADDRESS = re.compile(
    # 12 Example Street[, Town][, POSTCODE]: the rest of the line up to a postcode is taken
    rf"\b\d{{1,5}}[A-Za-z]?\s+(?:[A-Z][\w'’-]*\s+){{0,4}}(?:{_STREET_TYPES})\b"
    rf"(?:[ \t]*,?[ \t]*(?:[A-Z][\w'’-]*[ \t]*){{0,4}},?[ \t]*(?:{_UK_POSTCODE}|{_US_ZIP_WITH_STATE})\b)?"
    rf"|\b{_UK_POSTCODE}\b"
    rf"|(?<=[A-Za-z],\s){_US_ZIP_WITH_STATE}\b"
    rf"|(?<=[A-Za-z]\s){_US_ZIP_WITH_STATE}\b"
)
# A care site names a place: "Imaginary General Hospital", "St. Example's Clinic".
_FACILITY = re.compile(
    r"\b(?:(?:St\.?|Saint)\s+)?(?:[A-Z][\w'’-]*\s+){1,4}(?:Hospital|Clinic|Infirmary|Hospice|Medical\s+Cent(?:er|re)|"
    r"Health\s+Cent(?:er|re)|Imaging\s+Cent(?:er|re)|Cancer\s+Cent(?:er|re)|Surgery|Practice|Klinikum|Krankenhaus)\b"
)
_ADDRESS_LABELLED = re.compile(
    r"\b(?:address|addr\.?|residence|lives\s+at|resides\s+at|home\s+address)\s*[:\-]\s*(?P<value>[^\n]+)", re.IGNORECASE
)

# Words after which the next capitalised words are a person's name.
_NAME_LABELS = re.compile(
    r"\b(?:patient(?:'s)?(?:\s+name)?|pt|name|surname|forename|first\s+name|last\s+name|given\s+name|"
    r"family\s+name|next\s+of\s+kin|nok|contact|referr(?:ing|ed)\s+(?:physician|doctor|by)|physician|doctor|"
    r"consultant|attending|surgeon|radiologist|nurse|gp|signed(?:\s+by)?|dictated\s+by|reported\s+by|"
    r"seen\s+by|authori[sz]ed\s+by|verified\s+by|cc|mother|father|wife|husband|son|daughter|spouse|guardian)"
    r"\s*[:\-]\s*",
    re.IGNORECASE,
)
_TITLES = re.compile(
    r"\b(?:Dr|Drs|Mr|Mrs|Ms|Mx|Miss|Prof|Professor|Sr|Sister|Nurse|Rev|Dame|Sir|Lady|Lord)\b\.?\s+"
)
# Capitalised words that follow a label or title but are not names.
_NOT_NAMES = frozenset(
    word.casefold() for word in (
        "The", "A", "An", "And", "Or", "Of", "In", "On", "At", "To", "For", "With", "Unknown", "None", "Not", "No",
        "N/A", "NA", "Patient", "Name", "Date", "ID", "MRN", "DOB", "Age", "Sex", "Male", "Female", "Ward", "Unit",
        "Department", "Hospital", "Clinic", "Report", "Findings", "Impression", "History", "Mr", "Mrs", "Ms",
    )
)
# An initial with its dot ('J.'), or a word with inner apostrophes, hyphens or dots.
_NAME_WORD = re.compile(r"[^\W\d_]\.(?![^\W\d_])|[^\W\d_](?:[^\W\d_]|['’\-.](?=[^\W\d_]))*")


class LocalPhiDetector:
    """Rule-based detection of dates, phone/fax, e-mail, URLs, IDs, labelled/titled names,
    ages over 89, addresses with street types or postcodes, and named care sites (as ADDRESS).
    Offline, no model files."""

    def __init__(self, *, extra_names: Sequence[str] = ()) -> None:
        # Names known in advance (e.g. staff lists of a site) are always found. Compiled once
        # here: a staff list can outgrow the re module's pattern cache and recompile per text.
        self._extra_name_patterns = [re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
                                    for name in (n.strip() for n in extra_names) if len(name) >= 2]

    def detect(self, text: str) -> list[PhiEntity]:
        entities = [*self._dates(text), *self._contacts(text), *self._ids(text), *self._names(text),
                    *self._ages(text), *self._addresses(text)]
        return without_contained_duplicates(entities)

    def detect_many(self, texts: Sequence[str]) -> list[list[PhiEntity]]:
        return [self.detect(text) for text in texts]

    @staticmethod
    def _dates(text: str) -> Iterator[PhiEntity]:
        for match in _DATE.finditer(text):
            month_word = re.search(r"[A-Za-z]{3,}", match.group())
            if month_word and month_word.group() in _MONTH_LOOKALIKES:
                continue  # "may" or "march" as ordinary words, not a month
            yield PhiEntity(match.start(), match.end(), DATE, 0.9)

    @staticmethod
    def _contacts(text: str) -> Iterator[PhiEntity]:
        for match in _EMAIL.finditer(text):
            yield PhiEntity(match.start(), match.end(), EMAIL, 1.0)
        for match in _URL.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1] in ".,;:)]}!?":
                end -= 1
            yield PhiEntity(match.start(), end, URL, 1.0)
        for match in _PHONE.finditer(text):
            yield PhiEntity(match.start(), match.end(), PHONE_OR_FAX, 0.8)
        for match in _PHONE_LABELLED.finditer(text):
            yield PhiEntity(match.start("value"), match.end("value"), PHONE_OR_FAX, 1.0)

    @staticmethod
    def _ids(text: str) -> Iterator[PhiEntity]:
        for match in _ID_LABELLED.finditer(text):
            value = match.group("value").rstrip("./_-")
            yield PhiEntity(match.start("value"), match.start("value") + len(value), ID, 1.0)
        for match in _ID_SHAPES.finditer(text):
            yield PhiEntity(match.start(), match.end(), ID, 0.6)

    def _names(self, text: str) -> Iterator[PhiEntity]:
        for pattern, reach in ((_NAME_LABELS, 4), (_TITLES, 3)):
            for match in pattern.finditer(text):
                span = _name_after(text, match.end(), reach)
                if span is not None:
                    yield PhiEntity(span[0], span[1], NAME, 0.9)
        for pattern in self._extra_name_patterns:
            for match in pattern.finditer(text):
                yield PhiEntity(match.start(), match.end(), NAME, 1.0)

    @staticmethod
    def _ages(text: str) -> Iterator[PhiEntity]:
        for match in _AGE_OVER_89.finditer(text):
            group = "a" if match.group("a") else "b"
            yield PhiEntity(match.start(group), match.end(group), AGE, 0.9)

    @staticmethod
    def _addresses(text: str) -> Iterator[PhiEntity]:
        for match in _ADDRESS.finditer(text):
            yield PhiEntity(match.start(), match.end(), ADDRESS, 0.8)
        for match in _FACILITY.finditer(text):
            yield PhiEntity(match.start(), match.end(), ADDRESS, 0.7)
        for match in _ADDRESS_LABELLED.finditer(text):
            value = match.group("value").rstrip()
            if value:
                yield PhiEntity(match.start("value"), match.start("value") + len(value), ADDRESS, 1.0)


def _name_after(text: str, position: int, reach: int) -> tuple[int, int] | None:
    """Up to `reach` capitalised words (initials, hyphens, 'Surname, Given' and DICOM
    'FAMILY^GIVEN' forms) starting at `position` on the same line."""
    begin = end = None
    cursor = position
    words = 0
    while words < reach:
        gap = re.match(r"[ \t]*(?:[,^][ \t]*)?" if words else r"[ \t]*", text[cursor:])
        start = cursor + gap.end()
        word = _NAME_WORD.match(text, start)
        if word is None:
            break
        value = word.group()
        # Capitalised, or from a script without case (東京, ...).
        if value[0].islower() or value.rstrip(".").casefold() in _NOT_NAMES:
            break
        if begin is None:
            begin = start
        end = word.end()
        cursor = end
        words += 1
    if begin is None or end is None:
        return None
    return begin, end
