"""Writes what was done into the object: PS3.15 E.1.1 de-identification attributes.

Patient Identity Removed = YES asserts identity is gone from attributes AND pixels. This
version cleans headers only, so YES is written only when the object has no pixel data, or
when the sender itself declared Burned In Annotation = NO (the rule of deid-notes 1.4).
An absent Burned In Annotation is never trusted. Burned In Annotation is never set here.
"""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes

from deidentify import ENGINE_NAME, ENGINE_VERSION
from deidentify.profile import Profile

PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")


def identity_removal_asserted(dataset: Dataset, declared_burned_in_annotation: str | None) -> bool:
    """True when Patient Identity Removed may be YES after a header-only pass."""
    has_pixels = any(keyword in dataset for keyword in PIXEL_DATA_KEYWORDS)
    if not has_pixels:
        return True
    return (declared_burned_in_annotation or "").strip().upper() == "NO"


def method_description(profile: Profile) -> list[str]:
    """De-identification Method values (LO: at most 64 characters each)."""
    return [
        f"{profile.edition} Basic Profile"[:64],
        f"{ENGINE_NAME} {ENGINE_VERSION}; keyed UIDs and pseudonyms"[:64],
    ]


def attest(dataset: Dataset, profile: Profile, identity_removed: bool) -> None:
    """Add or extend the de-identification attributes of the top-level dataset."""
    dataset.PatientIdentityRemoved = "YES" if identity_removed else "NO"

    previous_methods = [str(value) for value in dataset.get("DeidentificationMethod", []) or []]
    if isinstance(dataset.get("DeidentificationMethod"), str):
        previous_methods = [dataset.DeidentificationMethod]
    dataset.DeidentificationMethod = previous_methods + method_description(profile)

    code = getattr(codes.DCM, profile.method_code)
    item = Dataset()
    item.CodeValue = code.value
    item.CodingSchemeDesignator = code.scheme_designator
    item.CodeMeaning = code.meaning
    existing = list(dataset.get("DeidentificationMethodCodeSequence", []) or [])
    dataset.DeidentificationMethodCodeSequence = Sequence(existing + [item])

    dataset.LongitudinalTemporalInformationModified = "REMOVED"
