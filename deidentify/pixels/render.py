"""Rendering decoded frames to 8-bit RGB images for text detectors.

Monochrome frames are windowed over the frame's own full range rather than the header's
window: burned-in text is drawn at the extremes of the stored range and a clinical window
(e.g. a CT soft-tissue window) can make it vanish into saturated tissue. MONOCHROME1 is
inverted so text looks as it does on a viewer. Palette colour goes through its lookup table.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels.processing import apply_color_lut


def to_rgb8(frame: np.ndarray, photometric: str, dataset: Dataset) -> np.ndarray:
    """An (rows, columns, 3) uint8 image of one decoded frame."""
    if photometric == "PALETTE COLOR":
        frame = apply_color_lut(frame, dataset)
    if frame.ndim == 2:
        gray = _full_range_window(frame)
        if photometric == "MONOCHROME1":
            gray = 255 - gray
        return np.repeat(gray[:, :, np.newaxis], 3, axis=2)
    if frame.dtype == np.uint8:
        return np.ascontiguousarray(frame)
    return _full_range_window(frame)


def _full_range_window(values: np.ndarray) -> np.ndarray:
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(values.shape, dtype=np.uint8)
    scaled = (values.astype(np.float64) - low) * (255.0 / (high - low))
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)
