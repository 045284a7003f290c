"""Shared helpers for the pixel-pass tests: sample files, header contexts, a fixed detector."""

from __future__ import annotations

import warnings
from io import BytesIO
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset
from pydicom.pixels import get_decoder

from deidentify.pixels import HeaderContext
from deidentify.pixels.detection import TextBox
from tests.deidentify.deid_samples import sample_files


def sample(name: str) -> Path:
    """A file shipped in the pydicom wheel (never downloaded)."""
    return next(path for path in sample_files() if path.name == name)


def read(name: str) -> Dataset:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pydicom.dcmread(sample(name))


def context_of(dataset: Dataset, **changes: object) -> HeaderContext:
    values: dict[str, object] = {
        "identifying_text": tuple(str(dataset.get(keyword, "") or "")
                                  for keyword in ("PatientName", "PatientID", "InstitutionName")),
        "modality": dataset.get("Modality"),
        "manufacturer": dataset.get("Manufacturer"),
        "model": dataset.get("ManufacturerModelName"),
        "image_type": tuple(str(value) for value in dataset.get("ImageType", []) or []),
        "burned_in_annotation": dataset.get("BurnedInAnnotation"),
        "sop_class_uid": str(dataset.get("SOPClassUID", "")) or None,
    }
    values.update(changes)
    return HeaderContext(**values)  # type: ignore[arg-type]


def decoded(dataset: Dataset) -> np.ndarray:
    """All frames as (frames, rows, columns[, samples]), YBR converted to RGB."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        array, _ = get_decoder(dataset.file_meta.TransferSyntaxUID).as_array(dataset, as_rgb=True)
    return array if int(dataset.get("NumberOfFrames", 1) or 1) > 1 else array[np.newaxis]


def round_trip(dataset: Dataset) -> Dataset:
    """Write as a Part 10 file and read it back."""
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return pydicom.dcmread(BytesIO(buffer.getvalue()))


class FixedDetector:
    """A detector that reports the same lines for every frame and counts its calls."""

    name = "fixed"

    def __init__(self, *lines: TextBox) -> None:
        self.lines = list(lines)
        self.calls = 0
        self.shapes: list[tuple[int, ...]] = []

    def detect(self, image: np.ndarray) -> list[TextBox]:
        self.calls += 1
        self.shapes.append(image.shape)
        assert image.dtype == np.uint8 and image.ndim == 3 and image.shape[2] == 3
        return list(self.lines)
