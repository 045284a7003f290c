"""Deciding whether burned-in text is suspected, finding it, and blanking it.

Suspected (any of): Burned In Annotation YES; modality US, SC, XC, ES or OT; a secondary
capture SOP class; Image Type containing SECONDARY, or a value with SCREEN or SAVE (screen
captures); or a detector finding text. The sender's Burned In Annotation NO is not trusted.

Outcomes:
- no Pixel Data: cleaned (nothing to inspect);
- a detector ran on every frame: identifying lines (see identifying.py) and matching device
  signature regions are blanked, cleaned; except that an object the sender flagged Burned In
  Annotation YES in which neither the detector nor a device signature found identifying text
  raises BurnedInTextError (the flag says it is there, so the detector missed it);
- the detector could not run, the pixels cannot be decoded, or a redaction could not be
  written: BurnedInTextError when text is suspected, else not cleaned (header-only);
- "signatures" backend: a matching device signature is blanked and cleaned; a suspected
  object without one raises BurnedInTextError; others are not cleaned (no detector ran);
- "none" backend: suspected objects raise BurnedInTextError, others are not cleaned.
Boxes found in any frame are blanked in every frame: on-screen text of a cine is usually
static, and a detector missing a word in one frame must not leave it there.
"""

from __future__ import annotations

import hashlib

import numpy as np
from pydicom.dataset import Dataset

from deidentify.errors import BurnedInTextError
from deidentify.pixels import HeaderContext, PixelOutcome
from deidentify.pixels.detection import DetectorUnavailableError, TextBox, TextDetector
from deidentify.pixels.frames import (
    Frames,
    PixelDecodeError,
    decode_frames,
    write_frames,
)
from deidentify.pixels.identifying import header_tokens, line_is_identifying
from deidentify.pixels.render import to_rgb8
from deidentify.pixels.signatures import Box, Signatures

SUSPECT_MODALITIES = frozenset({"US", "SC", "XC", "ES", "OT"})
SECONDARY_CAPTURE_SOP_CLASSES = frozenset({
    "1.2.840.10008.5.1.4.1.1.7",  # Secondary Capture Image Storage
    "1.2.840.10008.5.1.4.1.1.7.1",  # Multi-frame Single Bit SC
    "1.2.840.10008.5.1.4.1.1.7.2",  # Multi-frame Grayscale Byte SC
    "1.2.840.10008.5.1.4.1.1.7.3",  # Multi-frame Grayscale Word SC
    "1.2.840.10008.5.1.4.1.1.7.4",  # Multi-frame True Color SC
})
_OTHER_PIXEL_DATA = ("FloatPixelData", "DoubleFloatPixelData")
# Detected boxes are grown by this many pixels: glyph edges and anti-aliasing reach past
# the tight boxes detectors report.
BOX_MARGIN = 3


def suspicion(context: HeaderContext) -> str | None:
    """Why burned-in text is suspected from the header alone (a PHI-free code), or None."""
    if (context.burned_in_annotation or "").strip().upper() == "YES":
        return "flagged-yes"
    if (context.modality or "").strip().upper() in SUSPECT_MODALITIES:
        return "modality"
    if (context.sop_class_uid or "").strip() in SECONDARY_CAPTURE_SOP_CLASSES:
        return "secondary-capture"
    image_type = [value.strip().upper() for value in context.image_type]
    if "SECONDARY" in image_type or any("SCREEN" in value or "SAVE" in value for value in image_type):
        return "image-type"
    return None


class HeaderOnlyCleaner:
    """Backend "none": no pixel inspection; refuses objects with suspected burned-in text."""

    needs_identifying_text = False  # never reads context.identifying_text: the engine need not collect it

    def clean(self, dataset: Dataset, context: HeaderContext) -> PixelOutcome:
        if not _has_pixels(dataset):
            return PixelOutcome(True, 0, "no pixel data")
        reason = suspicion(context)
        if reason:
            raise BurnedInTextError(f"suspected ({reason}) and no pixel backend")
        return PixelOutcome(False, 0, "header-only: no pixel backend")


class DetectingCleaner:
    """Blanks identifying detected text and device signature regions."""

    def __init__(self, detector: TextDetector | None, signatures: Signatures) -> None:
        self.detector = detector
        self.signatures = signatures
        self.backend = detector.name if detector is not None else "signatures"

    def clean(self, dataset: Dataset, context: HeaderContext) -> PixelOutcome:
        if not _has_pixels(dataset):
            return PixelOutcome(True, 0, "no pixel data")
        reason = suspicion(context)
        if "PixelData" not in dataset:
            return self._not_inspected(reason, "float pixel data is not inspected")
        try:
            frames = decode_frames(dataset)
        except PixelDecodeError as error:
            return self._not_inspected(reason, str(error))
        rows, columns = frames.array.shape[1:3]
        signature = self.signatures.match(dataset, context, rows, columns)
        boxes = set(signature.boxes)

        if self.detector is None:
            if reason and not signature.sufficient_alone:
                raise BurnedInTextError(f"suspected ({reason}) and no device signature matches")
            cleaned = signature.sufficient_alone
            detail = "device signature" if cleaned else "header-only: no device signature"
        else:
            try:
                found, identifying = self._detect(frames, dataset, context)
            except DetectorUnavailableError as error:
                return self._not_inspected(reason, str(error))
            if reason == "flagged-yes" and not identifying and not signature.sufficient_alone:
                # The sender says identifying text is there; not finding it means missing it.
                raise BurnedInTextError("flagged YES but no identifying text was found")
            boxes.update(identifying)
            cleaned = True
            detail = f"{self.backend}: {found} text line(s), {len(identifying)} identifying"

        if boxes:
            self._redact(dataset, frames, sorted(boxes, key=lambda box: (box.top, box.left)))
        return PixelOutcome(cleaned, len(boxes), f"{detail}; {len(boxes)} region(s) blanked")

    def _detect(self, frames: Frames, dataset: Dataset, context: HeaderContext) -> tuple[int, set[Box]]:
        assert self.detector is not None
        rows, columns = frames.array.shape[1:3]
        found = 0
        identifying: set[Box] = set()
        seen: set[bytes] = set()
        tokens = header_tokens(context.identifying_text)
        for frame in frames.array:
            image = to_rgb8(frame, frames.photometric, dataset)
            # Identical frames (frozen cines, repeated screens) need one detector call.
            digest = hashlib.blake2b(image.tobytes(), digest_size=16).digest()
            if digest in seen:
                continue
            seen.add(digest)
            lines = self.detector.detect(image)
            found += len(lines)
            for line in lines:
                if line_is_identifying(line.text, tokens):
                    identifying.add(_as_box(line.padded(BOX_MARGIN, rows, columns)))
        return found, identifying

    def _redact(self, dataset: Dataset, frames: Frames, boxes: list[Box]) -> None:
        array = frames.array
        for index in range(array.shape[0]):
            fill = _blank_value(array[index], frames.photometric)
            for box in boxes:
                array[index, box.top:box.top + box.height, box.left:box.left + box.width] = fill
        try:
            write_frames(dataset, frames)
        except Exception as error:
            # The object is known to carry text to remove and may now be half-written.
            raise BurnedInTextError(f"redacted pixels cannot be written ({type(error).__name__})") from None

    def _not_inspected(self, reason: str | None, why: str) -> PixelOutcome:
        if reason:
            raise BurnedInTextError(f"suspected ({reason}) and not inspected: {why}")
        return PixelOutcome(False, 0, f"header-only: {why}")


def _has_pixels(dataset: Dataset) -> bool:
    return "PixelData" in dataset or any(keyword in dataset for keyword in _OTHER_PIXEL_DATA)


def _as_box(line: TextBox) -> Box:
    return Box(line.left, line.top, line.right - line.left, line.bottom - line.top)


def _blank_value(frame: np.ndarray, photometric: str) -> int:
    """The darkest displayed value: the frame's minimum (maximum for MONOCHROME1), 0 in colour."""
    if frame.ndim == 3 or photometric == "PALETTE COLOR":
        return 0
    return int(frame.max() if photometric == "MONOCHROME1" else frame.min())
