"""Writes what was done into the object: PS3.15 E.1.1 de-identification attributes.

Patient Identity Removed = YES asserts identity is gone from attributes AND pixels. Without
a pixel pass YES is written only when the object has no pixel data, or when the sender
itself declared Burned In Annotation = NO (the rule of deid-notes 1.4); an absent Burned
In Annotation is never trusted. With a pixel pass, YES, Burned In Annotation = NO and the
Clean Pixel Data code (113101) are written only when the pass reports the pixels clean.

De-identification Method lists the Basic profile's edition, then each option applied with
the edition its rows come from; the method code sequence has one CID 7050 code per
profile/option applied; Longitudinal Temporal Information Modified follows the options.
"""

from __future__ import annotations

from functools import cache

from pydicom.charset import default_encoding
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_sequence_item
from pydicom.sequence import Sequence
from pydicom.sr.codedict import codes
from pydicom.tag import BaseTag

from deidentify import ENGINE_NAME, ENGINE_VERSION
from deidentify.dicom_io import peek, set_text
from deidentify.profile import Profile

PIXEL_DATA_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
CLEAN_PIXEL_DATA_CODE = "CleanPixelDataOption"
LO_MAX = 64
_CODE_SEQUENCE_TAG = BaseTag(0x00120064)


def identity_removal_asserted(dataset: Dataset, declared_burned_in_annotation: str | None) -> bool:
    """True when Patient Identity Removed may be YES after a header-only pass."""
    has_pixels = any(keyword in dataset for keyword in PIXEL_DATA_KEYWORDS)
    if not has_pixels:
        return True
    return (declared_burned_in_annotation or "").strip().upper() == "NO"


def method_description(profile: Profile, pixels_cleaned: bool = False) -> list[str]:
    """De-identification Method values (LO: at most 64 characters each)."""
    values = [f"{profile.edition} Basic Profile"]
    values.extend(_code(option.method_code)[2].removesuffix(" Option") for option in profile.options)
    editions = sorted({option.edition for option in profile.options})
    if editions:
        values.append("Option rows: " + "; ".join(editions))
    if pixels_cleaned:
        values.append("Clean Pixel Data (burned-in text pass)")
    values.append(f"{ENGINE_NAME} {ENGINE_VERSION}; keyed UIDs and pseudonyms")
    return [_fit(value) for value in values]


def method_codes(profile: Profile, pixels_cleaned: bool = False) -> list[str]:
    """CID 7050 code names, one per profile/option applied, in application order."""
    names = [profile.method_code, *(option.method_code for option in profile.options)]
    if pixels_cleaned:
        names.append(CLEAN_PIXEL_DATA_CODE)
    return names


def attest(dataset: Dataset, profile: Profile, identity_removed: bool, pixels_cleaned: bool = False) -> None:
    """Add or extend the de-identification attributes of the top-level dataset."""
    set_text(dataset, "PatientIdentityRemoved", "CS", ["YES" if identity_removed else "NO"])
    if pixels_cleaned:
        set_text(dataset, "BurnedInAnnotation", "CS", ["NO"])

    previous = peek(dataset, "DeidentificationMethod")
    previous_methods = [str(previous)] if isinstance(previous, str) else [str(value) for value in previous or []]
    set_text(dataset, "DeidentificationMethod", "LO", previous_methods + method_description(profile, pixels_cleaned))

    names = tuple(method_codes(profile, pixels_cleaned))
    encoding = dataset.original_encoding
    if _CODE_SEQUENCE_TAG in dataset or None in encoding:
        existing = list(dataset.get("DeidentificationMethodCodeSequence", []) or [])
        dataset.DeidentificationMethodCodeSequence = Sequence(existing + [_code_item(name) for name in names])
    else:  # encoded once per profile and transfer syntax; pydicom decodes it on access
        items = _encoded_code_items(names, *encoding)
        dataset._dict[_CODE_SEQUENCE_TAG] = RawDataElement(
            _CODE_SEQUENCE_TAG, "SQ", len(items), items, 0, encoding[0], encoding[1]
        )

    set_text(dataset, "LongitudinalTemporalInformationModified", "CS", [profile.longitudinal_temporal_information])


def _code_item(name: str) -> Dataset:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator, item.CodeMeaning = _code(name)
    return item


@cache
def _encoded_code_items(names: tuple[str, ...], implicit_vr: bool, little_endian: bool) -> bytes:
    buffer = DicomBytesIO()
    buffer.is_implicit_VR, buffer.is_little_endian = implicit_vr, little_endian
    for name in names:
        write_sequence_item(buffer, _code_item(name), [default_encoding])
    return buffer.getvalue()


@cache
def _code(name: str) -> tuple[str, str, str]:
    """(value, scheme, meaning) of a CID 7050 concept from pydicom's codes."""
    code = getattr(codes.DCM, name)
    return code.value, code.scheme_designator, code.meaning


def _fit(value: str) -> str:
    return value if len(value) <= LO_MAX else value[: LO_MAX - 1] + "."
