"""Local offline OCR as a text detector: RapidOCR (PP-OCR models as ONNX, shipped inside the
rapidocr-onnxruntime wheel; nothing is downloaded at run time).

Frames larger than ``tile_size`` are read in overlapping tiles: the OCR's detector resizes
its input to a bounded side, and small burned-in text on a large radiograph would otherwise
shrink below what it can see.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from deidentify.pixels.detection import DetectorUnavailableError, TextBox, tile_grid

_ENGINE_LOCK = threading.Lock()
_SHARED_ENGINE: Any = None


def shared_rapidocr_engine() -> Any:
    """One RapidOCR engine per process (loading the models takes a noticeable fraction of a second)."""
    global _SHARED_ENGINE
    with _ENGINE_LOCK:
        if _SHARED_ENGINE is None:
            try:
                from rapidocr_onnxruntime import RapidOCR
            except ImportError:
                raise DetectorUnavailableError("local OCR package rapidocr-onnxruntime is not installed") from None
            _SHARED_ENGINE = RapidOCR()
        return _SHARED_ENGINE


class LocalOcrDetector:
    name = "ocr"

    def __init__(self, engine: Any = None, *, tile_size: int = 1024, tile_overlap: int = 64) -> None:
        self.engine = engine if engine is not None else shared_rapidocr_engine()
        self.tile_size = tile_size
        self.tile_overlap = tile_overlap

    def detect(self, image: np.ndarray) -> list[TextBox]:
        rows, columns = image.shape[:2]
        lines: list[TextBox] = []
        for tile in tile_grid(rows, columns, self.tile_size, self.tile_overlap):
            crop = image[tile.top:tile.top + tile.height, tile.left:tile.left + tile.width]
            # The engine follows OpenCV's channel order (BGR).
            try:
                result, _ = self.engine(np.ascontiguousarray(crop[:, :, ::-1]))
            except Exception as error:  # the OCR runtime raises assorted types
                raise DetectorUnavailableError(f"local OCR failed ({type(error).__name__})") from None
            for points, text, score in result or []:
                xs = [float(point[0]) for point in points]
                ys = [float(point[1]) for point in points]
                lines.append(TextBox(
                    left=tile.left + max(0, math.floor(min(xs))),
                    top=tile.top + max(0, math.floor(min(ys))),
                    right=tile.left + min(tile.width, math.ceil(max(xs)) + 1),
                    bottom=tile.top + min(tile.height, math.ceil(max(ys)) + 1),
                    text=str(text),
                    confidence=float(score),
                ))
        return lines
