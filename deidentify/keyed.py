"""Keyed, deterministic replacements: UIDs, patient pseudonyms and log references.

Everything is HMAC-SHA256 under the trial's secret key with a distinct label per use, so
the same original maps to the same replacement in every file, batch, Lambda and run, and
nobody without the key can recompute (or dictionary-attack) the mapping.
"""

from __future__ import annotations

import hashlib
import hmac

MINIMUM_KEY_BYTES = 32
UID_ROOT = "2.25."
PSEUDONYM_PREFIX = "SUBJ-"
# Date offsets: always into the past (never a future date), at least a year (so a shifted
# date is not the original give or take a few days) and at most ten years.
DATE_OFFSET_MIN_DAYS = -3650
DATE_OFFSET_MAX_DAYS = -365


class KeyedMapper:
    """Maps originals to replacements under one secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < MINIMUM_KEY_BYTES:
            raise ValueError(f"the de-identification key must be at least {MINIMUM_KEY_BYTES} bytes")
        self._key = key
        self._uid_cache: dict[str, str] = {}

    def _digest(self, label: str, value: str) -> bytes:
        message = label.encode("ascii") + b"\x00" + value.encode("utf-8")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def uid(self, original: str) -> str:
        """A '2.25.<128-bit integer>' UID (at most 44 characters) for an original UID."""
        original = original.strip().rstrip("\x00")
        cached = self._uid_cache.get(original)
        if cached is None:
            cached = UID_ROOT + str(int.from_bytes(self._digest("uid", original)[:16], "big"))
            self._uid_cache[original] = cached
        return cached

    def patient_pseudonym(self, patient_identity: str) -> str:
        """A pseudonym such as 'SUBJ-3F9A0C1D2E4B5A69' for a normalised patient identity."""
        return PSEUDONYM_PREFIX + self._digest("patient", patient_identity).hex()[:16].upper()

    def date_offset_days(self, patient_identity: str) -> int:
        """The patient's keyed date shift: a whole number of days in [-3650, -365].

        One offset per patient keeps every interval between that patient's dates; another
        patient (or another key) gets an unrelated offset.
        """
        span = DATE_OFFSET_MAX_DAYS - DATE_OFFSET_MIN_DAYS + 1
        draw = int.from_bytes(self._digest("date-offset", patient_identity)[:8], "big")
        return DATE_OFFSET_MIN_DAYS + draw % span

    def reference(self, text: str) -> str:
        """A short opaque reference to a name (e.g. an object key) for logs."""
        return self._digest("log-reference", text).hex()[:16]
