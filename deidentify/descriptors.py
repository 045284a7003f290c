"""Cleaning (action C) of free text: descriptors, structured-content text, graphic text.

"Clean" keeps the text's meaning while removing what identifies. Without a language model
the engine removes what it can know: every identifying value of the object's own original
header (names and their components, IDs, institution, addresses, dates...) plus anything
shaped like a date, a time stamp or a long number (IDs, phone numbers). What is left is
kept. Names of people not in the header cannot be recognised here; a trial that needs
that chooses the Basic behaviour (remove) instead of Clean Descriptors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

REDACTED = "***"
MINIMUM_TERM_LENGTH = 2

# Dates in the usual spellings, times with seconds, and runs of 5+ digits (IDs, phones).
_SHAPES = re.compile(
    r"\d{1,4}[-/.]\d{1,2}[-/.]\d{1,4}"
    r"|\d{1,2}:\d{2}(?::\d{2})?"
    r"|\d(?:[\d -]{3,}\d)"
    r"|\b[A-Z]{0,4}\d{5,}\b",
    re.IGNORECASE,
)

MAX_LENGTH = {"SH": 16, "LO": 64, "ST": 1024, "LT": 10240}


def identifying_terms(values: Iterable[str]) -> list[str]:
    """Search terms for one object's identifying values: each value and its name parts."""
    terms: set[str] = set()
    for value in values:
        value = value.strip(" \x00")
        if not value:
            continue
        terms.add(value)
        for part in re.split(r"[\^=\\,]+|\s+", value):
            if len(part) >= MINIMUM_TERM_LENGTH:
                terms.add(part)
    return sorted((term for term in terms if len(term) >= MINIMUM_TERM_LENGTH), key=len, reverse=True)


class TextCleaner:
    """Removes one object's identifying values, and identifier-shaped text, from free text."""

    def __init__(self, identifying_values: Iterable[str]) -> None:
        terms = identifying_terms(identifying_values)
        self._terms = (
            re.compile(r"(?<!\w)(?:" + "|".join(map(re.escape, terms)) + r")(?!\w)", re.IGNORECASE)
            if terms
            else None
        )

    def clean(self, text: str, vr: str) -> str:
        cleaned = _SHAPES.sub(REDACTED, text)
        if self._terms is not None:
            cleaned = self._terms.sub(REDACTED, cleaned)
        limit = MAX_LENGTH.get(vr)
        return cleaned[:limit] if limit else cleaned
