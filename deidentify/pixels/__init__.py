"""The pixel pass: find burned-in text and blank it, or refuse the object.

The engine captures a HeaderContext from the original header, cleans the header, then calls
``PixelCleaner.clean``. The cleaner rewrites Pixel Data in place (transfer syntax, photometric
interpretation and pixel data kept consistent) and reports whether identifying text can be
ruled out; when burned-in text is suspected and cannot be cleaned with confidence it raises
``deidentify.errors.BurnedInTextError`` so the object is quarantined.

Backends (``build_cleaner``): "rekognition" (Amazon Rekognition DetectText), "ocr" (local
offline OCR, model shipped in the wheel), "signatures" (device regions from a data file only)
and "none" (header-only; refuses every object with suspected burned-in text). Heavy imports
(boto3, OCR, Pillow) happen only when a backend that needs them is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from pydicom.dataset import Dataset

BACKENDS = ("rekognition", "ocr", "signatures", "none")


@dataclass(frozen=True)
class HeaderContext:
    """Values of the original header, captured by the engine before the header is cleaned."""

    identifying_text: tuple[str, ...]
    modality: str | None
    manufacturer: str | None
    model: str | None
    image_type: tuple[str, ...]
    burned_in_annotation: str | None
    sop_class_uid: str | None


@dataclass(frozen=True)
class PixelOutcome:
    """What the pixel pass did. ``cleaned``: it ran and nothing identifying remains."""

    cleaned: bool
    redacted_regions: int
    detail: str


class PixelCleaner(Protocol):
    def clean(self, dataset: Dataset, context: HeaderContext) -> PixelOutcome: ...


def build_cleaner(backend: str, **options: Any) -> PixelCleaner:
    """A cleaner for one backend name.

    Options: "rekognition": ``client`` (a boto3 Rekognition client) or ``region``, plus
    ``min_confidence``, ``max_attempts``, ``sleep``; "ocr": ``engine`` (a RapidOCR-like callable,
    default: RapidOCR with its bundled models); every backend with a detector also applies
    device signatures; ``signatures_path`` replaces the shipped signature file.
    """
    from deidentify.pixels.cleaner import DetectingCleaner, HeaderOnlyCleaner
    from deidentify.pixels.signatures import load_signatures

    signatures = load_signatures(options.pop("signatures_path", None))
    if backend == "none":
        _no_options(backend, options)
        return HeaderOnlyCleaner()
    if backend == "signatures":
        _no_options(backend, options)
        return DetectingCleaner(detector=None, signatures=signatures)
    if backend == "rekognition":
        from deidentify.pixels.rekognition import RekognitionDetector

        return DetectingCleaner(detector=RekognitionDetector.build(**options), signatures=signatures)
    if backend == "ocr":
        from deidentify.pixels.ocr import LocalOcrDetector

        return DetectingCleaner(detector=LocalOcrDetector(**options), signatures=signatures)
    raise ValueError(f"unknown pixel backend {backend!r}; expected one of {', '.join(BACKENDS)}")


def _no_options(backend: str, options: dict[str, Any]) -> None:
    if options:
        raise ValueError(f"pixel backend {backend!r} takes no options: {', '.join(sorted(options))}")
