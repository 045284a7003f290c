"""What a text detector returns, and the interface every detector backend implements."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np


@dataclass(frozen=True)
class TextBox:
    """A line of detected text in one frame, in pixel coordinates (right/bottom exclusive)."""

    left: int
    top: int
    right: int
    bottom: int
    text: str
    confidence: float

    def padded(self, margin: int, rows: int, columns: int) -> TextBox:
        """The box grown by ``margin`` pixels on each side, clipped to the frame."""
        return TextBox(
            max(0, self.left - margin), max(0, self.top - margin),
            min(columns, self.right + margin), min(rows, self.bottom + margin),
            self.text, self.confidence,
        )


class DetectorUnavailableError(Exception):
    """The detector could not run (service errors after retries, missing model): PHI-free text."""


class TextDetector(Protocol):
    name: str

    def detect(self, image: np.ndarray) -> list[TextBox]:
        """Text lines in an 8-bit RGB image of shape (rows, columns, 3)."""
        ...


@dataclass(frozen=True)
class Tile:
    top: int
    left: int
    height: int
    width: int


def tile_grid(rows: int, columns: int, size: int, overlap: int) -> list[Tile]:
    """Tiles of at most ``size`` pixels a side covering the image, neighbours overlapping by
    ``overlap`` pixels so a word cut by one tile's edge is whole in the next."""
    return [Tile(top, left, min(size, rows - top), min(size, columns - left))
            for top in _starts(rows, size, overlap) for left in _starts(columns, size, overlap)]


def _starts(length: int, size: int, overlap: int) -> list[int]:
    if length <= size:
        return [0]
    step = size - overlap
    starts = list(range(0, length - size, step))
    starts.append(length - size)
    return starts
