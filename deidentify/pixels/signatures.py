"""Device signatures: known regions of burned-in text by manufacturer, model and image size.

The data file (signatures.json beside this module) is validated when it loads; a malformed
file raises SignatureDataError naming the entry and the field. Regions are either boxes
[left, top, width, height] or the generic rule "above-ultrasound-regions": everything above
the topmost region of the Sequence of Ultrasound Regions, which is where ultrasound devices
print the patient's name, ID, date and institution (the regions mark where image data is, so
the band holds no image data).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydicom.dataset import Dataset

from deidentify.pixels import HeaderContext

DEFAULT_SIGNATURES = Path(__file__).with_name("signatures.json")
ABOVE_ULTRASOUND_REGIONS = "above-ultrasound-regions"
_MATCH_TEXT_KEYS = ("modality", "manufacturer", "model")
_MATCH_SIZE_KEYS = ("rows", "columns")
_ENTRY_KEYS = {"name", "source", "match", "regions", "sufficient_alone"}


class SignatureDataError(ValueError):
    """The signature data file is malformed."""


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    width: int
    height: int


@dataclass(frozen=True)
class DeviceSignature:
    name: str
    modality: str | None
    manufacturer: str | None
    model: str | None
    rows: int | None
    columns: int | None
    boxes: tuple[Box, ...]
    above_ultrasound_regions: bool
    sufficient_alone: bool

    def matches(self, context: HeaderContext, rows: int, columns: int) -> bool:
        return (
            _equal(self.modality, context.modality)
            and _contains(self.manufacturer, context.manufacturer)
            and _contains(self.model, context.model)
            and (self.rows is None or self.rows == rows)
            and (self.columns is None or self.columns == columns)
        )

    def boxes_for(self, dataset: Dataset, rows: int, columns: int) -> list[Box]:
        """The regions to blank in an image of this size, clipped to it (empty ones dropped)."""
        boxes = list(self.boxes)
        if self.above_ultrasound_regions:
            top_of_data = _top_of_ultrasound_data(dataset)
            if top_of_data:
                boxes.append(Box(0, 0, columns, top_of_data))
        clipped = []
        for box in boxes:
            right, bottom = min(columns, box.left + box.width), min(rows, box.top + box.height)
            if right > box.left and bottom > box.top:
                clipped.append(Box(box.left, box.top, right - box.left, bottom - box.top))
        return clipped


@dataclass(frozen=True)
class SignatureMatch:
    boxes: list[Box]
    sufficient_alone: bool


class Signatures:
    def __init__(self, signatures: list[DeviceSignature]) -> None:
        self.signatures = signatures

    def match(self, dataset: Dataset, context: HeaderContext, rows: int, columns: int) -> SignatureMatch:
        """All regions of every matching signature; sufficient when a device entry matched."""
        boxes: list[Box] = []
        sufficient = False
        for signature in self.signatures:
            if signature.matches(context, rows, columns):
                regions = signature.boxes_for(dataset, rows, columns)
                boxes.extend(regions)
                sufficient = sufficient or (signature.sufficient_alone and bool(regions))
        return SignatureMatch(boxes, sufficient)


def load_signatures(path: str | Path | None = None) -> Signatures:
    """Load and validate a signature file (default: the shipped one)."""
    source = Path(path) if path is not None else DEFAULT_SIGNATURES
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except OSError as error:
        raise SignatureDataError(f"{source}: cannot be read ({error.strerror})") from None
    except json.JSONDecodeError as error:
        raise SignatureDataError(f"{source}: not JSON (line {error.lineno}: {error.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("signatures"), list):
        raise SignatureDataError(f"{source}: expected an object with a 'signatures' list")
    return Signatures([_parse(entry, f"{source}: signatures[{index}]")
                       for index, entry in enumerate(document["signatures"])])


def _parse(entry: Any, where: str) -> DeviceSignature:
    if not isinstance(entry, dict):
        raise SignatureDataError(f"{where}: expected an object")
    unknown = set(entry) - _ENTRY_KEYS
    if unknown:
        raise SignatureDataError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = entry.get("name")
    if not isinstance(name, str) or not name.strip():
        raise SignatureDataError(f"{where}: 'name' must be a non-empty string")
    where = f"{where} ({name})"
    match = entry.get("match")
    if not isinstance(match, dict) or not match:
        raise SignatureDataError(f"{where}: 'match' must be a non-empty object")
    unknown = set(match) - set(_MATCH_TEXT_KEYS) - set(_MATCH_SIZE_KEYS)
    if unknown:
        raise SignatureDataError(f"{where}: unknown match field(s) {', '.join(sorted(unknown))}")
    for key in _MATCH_TEXT_KEYS:
        if key in match and (not isinstance(match[key], str) or not match[key].strip()):
            raise SignatureDataError(f"{where}: match.{key} must be a non-empty string")
    for key in _MATCH_SIZE_KEYS:
        if key in match and not _positive_int(match[key]):
            raise SignatureDataError(f"{where}: match.{key} must be a positive integer")
    sufficient = entry.get("sufficient_alone")
    if not isinstance(sufficient, bool):
        raise SignatureDataError(f"{where}: 'sufficient_alone' must be true or false")
    regions = entry.get("regions")
    boxes: list[Box] = []
    above = regions == ABOVE_ULTRASOUND_REGIONS
    if above:
        if match.get("modality") != "US":
            raise SignatureDataError(f"{where}: '{ABOVE_ULTRASOUND_REGIONS}' needs match.modality 'US'")
    elif isinstance(regions, list) and regions:
        for number, region in enumerate(regions):
            if not (isinstance(region, list) and len(region) == 4 and all(_whole(v) for v in region)
                    and region[0] >= 0 and region[1] >= 0 and region[2] > 0 and region[3] > 0):
                raise SignatureDataError(
                    f"{where}: regions[{number}] must be [left, top, width, height] with "
                    "left, top >= 0 and width, height > 0")
            boxes.append(Box(*region))
    else:
        raise SignatureDataError(
            f"{where}: 'regions' must be a non-empty list of boxes or '{ABOVE_ULTRASOUND_REGIONS}'")
    return DeviceSignature(
        name=name, modality=match.get("modality"), manufacturer=match.get("manufacturer"),
        model=match.get("model"), rows=match.get("rows"), columns=match.get("columns"),
        boxes=tuple(boxes), above_ultrasound_regions=above, sufficient_alone=sufficient,
    )


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(value: Any) -> bool:
    return _whole(value) and value > 0


def _equal(expected: str | None, actual: str | None) -> bool:
    return expected is None or (actual or "").strip().upper() == expected.upper()


def _contains(expected: str | None, actual: str | None) -> bool:
    return expected is None or expected.upper() in (actual or "").upper()


def _top_of_ultrasound_data(dataset: Dataset) -> int:
    """Smallest RegionLocationMinY0 of the ultrasound regions, 0 when there are none."""
    tops = []
    for region in dataset.get("SequenceOfUltrasoundRegions", []) or []:
        value = region.get("RegionLocationMinY0")
        if isinstance(value, int) and value >= 0:
            tops.append(value)
    return min(tops) if tops else 0
