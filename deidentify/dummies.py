"""Non-empty replacement values that are valid for each DICOM Value Representation.

Used for the D action and the compound actions resolved to D. UIDs are not here: a UID
that must be replaced gets a keyed UID so references stay consistent.
"""

from __future__ import annotations

from typing import Any

DUMMY_TEXT = "DEIDENTIFIED"

_TEXT_VRS = {"AE", "CS", "LO", "LT", "PN", "SH", "ST", "UC", "UT"}
_BINARY_VRS = {"OB", "OD", "OF", "OL", "OV", "OW", "UN"}
_NUMBER_VRS = {"FL", "FD", "SL", "SS", "SV", "UL", "US", "UV"}

_SPECIFIC: dict[str, Any] = {
    "AS": "000D",
    "AT": 0,
    "DA": "19000101",
    "DS": "0",
    "DT": "19000101000000.000000",
    "IS": "0",
    "TM": "000000.00",
    "UR": "urn:deidentified",
}


def dummy_value(vr: str) -> Any:
    """A VR-valid, non-identifying value; raises KeyError for VRs it does not cover (SQ, UI)."""
    if vr in _TEXT_VRS:
        return DUMMY_TEXT
    if vr in _BINARY_VRS:
        return b"\x00" * 8  # even, and a whole number of 2-, 4- and 8-byte words
    if vr in _NUMBER_VRS:
        return 0
    return _SPECIFIC[vr]
