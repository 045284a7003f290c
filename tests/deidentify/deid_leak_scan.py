"""Collects the identifying values of an original object and finds them in an output.

"Identifying" means every value the profile tells the engine to change: listed elements
(except K), private elements and non-class instance UIDs, at any depth and in file meta.
"""

from __future__ import annotations

from collections.abc import Iterator

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.uid import UID_dictionary

from deidentify.profile import Action, Profile

MINIMUM_SEARCHABLE_LENGTH = 6  # shorter strings ("M", "0", "CT") occur by chance


def walk_elements(dataset: Dataset) -> Iterator[DataElement]:
    """Every element of a file, file meta included, at every sequence depth."""
    file_meta = getattr(dataset, "file_meta", None)
    if file_meta is not None:
        yield from _walk(file_meta)
    yield from _walk(dataset)


def _walk(dataset: Dataset) -> Iterator[DataElement]:
    for element in dataset.iterall():
        yield element


def text_values(element: DataElement) -> list[str]:
    if element.VR == "SQ" or isinstance(element.value, (bytes, bytearray)) or element.value is None:
        return []
    values = element.value if isinstance(element.value, (list, MultiValue)) else [element.value]
    return [str(value).strip() for value in values if str(value).strip()]


def identifying_values(dataset: Dataset, profile: Profile) -> set[str]:
    """Values the profile changes, less those that also sit in an attribute it keeps
    (e.g. a private copy of Manufacturer): finding those in the output is no leak."""
    changed: set[str] = set()
    kept: set[str] = set()
    for element in walk_elements(dataset):
        tag = element.tag
        rule = None if tag.is_private else profile.rule_for(tag)
        if tag.is_private or (rule is not None and rule.action is not Action.KEEP):
            changed.update(text_values(element))
        elif element.VR == "UI" and not _is_class_uid(element):
            changed.update(text_values(element))
        elif element.VR != "SQ" and _is_enclosing_kept(element, rule):
            kept.update(text_values(element))
    return {value for value in changed - kept if value not in UID_dictionary}


def _is_class_uid(element: DataElement) -> bool:
    keyword = element.keyword or ""
    # Coding scheme and mapping resource UIDs name a vocabulary, never an instance.
    return keyword.endswith("ClassUID") or keyword in (
        "TransferSyntaxUID", "ImplementationClassUID", "CodingSchemeUID", "MappingResourceUID",
        "ContextGroupExtensionCreatorUID",
    )


def _is_enclosing_kept(element: DataElement, rule: object) -> bool:
    return bool(element.keyword) and element.tag.element != 0 and element.tag.group >> 8 not in (0x50, 0x60)


def surviving_values(output: Dataset, originals: set[str]) -> set[str]:
    """Original identifying values still present as an element value anywhere in the output."""
    present: set[str] = set()
    for element in walk_elements(output):
        present.update(text_values(element))
    return {value for value in originals if value in present and len(value) > 1}


def values_in_bytes(data: bytes, originals: set[str], output: Dataset) -> set[str]:
    """Original values in the raw bytes (preamble, undecoded blobs...) other than inside a
    kept output value that happens to contain them (e.g. 'TOSHIBA' in 'TOSHIBA_MEC')."""
    output_texts = [text for element in walk_elements(output) for text in text_values(element)]
    hits = set()
    for value in originals:
        if len(value) < MINIMUM_SEARCHABLE_LENGTH or any(value in text for text in output_texts):
            continue
        for encoding in ("utf-8", "latin-1"):
            try:
                encoded = value.encode(encoding)
            except UnicodeEncodeError:
                continue
            if encoded in data:
                hits.add(value)
    return hits
