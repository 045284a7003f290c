"""Amazon Rekognition DetectText as a text detector.

Limits handled here (deid-notes 5.2): PNG bytes of at most 5 MB, at least 80 pixels a side
(small images are upscaled, large tiles downscaled until they fit), and at most 100 words per
call: a frame larger than ``tile_size`` is cut into overlapping tiles, and a tile that comes
back with 100 words is split in four overlapping quarters and asked again, so the cap never
hides words. Boxes (ratios of the image sent) are mapped back to frame pixels. Throttling is
retried with capped exponential backoff and jitter; other failures make the detector
unavailable, which the cleaner turns into a quarantine when text is suspected.
"""

from __future__ import annotations

import io
import math
import random
import time
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from deidentify.aws_retry import backoff_ceiling, client_without_retries
from deidentify.pixels.detection import (
    DetectorUnavailableError,
    TextBox,
    Tile,
    tile_grid,
)

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MIN_IMAGE_SIDE = 80
WORD_CAP = 100
RETRYABLE_ERRORS = frozenset({
    "ThrottlingException", "ProvisionedThroughputExceededException", "InternalServerError",
})


class RekognitionDetector:
    name = "rekognition"

    def __init__(
        self,
        client: Any,
        *,
        min_confidence: float = 50.0,
        max_attempts: int = 6,
        base_delay: float = 0.5,
        max_delay: float = 20.0,
        tile_size: int = 1600,
        tile_overlap: int = 64,
        max_split_depth: int = 3,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.client = client
        self.min_confidence = min_confidence
        self.max_attempts = max_attempts
        self.base_delay = base_delay
        self.max_delay = max_delay
        self.tile_size = tile_size
        self.tile_overlap = tile_overlap
        self.max_split_depth = max_split_depth
        self.sleep = sleep

    @classmethod
    def build(cls, client: Any = None, region: str | None = None, **options: Any) -> RekognitionDetector:
        """A detector on ``client``, or on a new client for ``region`` whose own retries are
        off (this class retries throttling itself, with backoff it controls)."""
        if client is None:
            client = client_without_retries("rekognition", region)
        return cls(client, **options)

    def detect(self, image: np.ndarray) -> list[TextBox]:
        rows, columns = image.shape[:2]
        lines: list[TextBox] = []
        for tile in tile_grid(rows, columns, self.tile_size, self.tile_overlap):
            lines.extend(self._detect_tile(image, tile, depth=0))
        return lines

    def _detect_tile(self, image: np.ndarray, tile: Tile, depth: int) -> list[TextBox]:
        crop = image[tile.top:tile.top + tile.height, tile.left:tile.left + tile.width]
        response = self._call(encode_png_within_limits(crop))
        detections = response.get("TextDetections", [])
        words = sum(1 for item in detections if item.get("Type") == "WORD")
        if words >= WORD_CAP:
            quarters = _quarters(tile, self.tile_overlap)
            if depth >= self.max_split_depth or len(quarters) == 1:
                raise DetectorUnavailableError("rekognition word cap reached on the smallest tile")
            lines: list[TextBox] = []
            for quarter in quarters:
                lines.extend(self._detect_tile(image, quarter, depth + 1))
            return lines
        return [_to_pixels(item, tile) for item in detections if item.get("Type") == "LINE"]

    def _call(self, png: bytes) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(1, self.max_attempts + 1):
            try:
                return self.client.detect_text(
                    Image={"Bytes": png},
                    Filters={"WordFilter": {"MinConfidence": self.min_confidence}},
                )
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "ClientError")
                if code in RETRYABLE_ERRORS and attempt < self.max_attempts:
                    delay = backoff_ceiling(attempt, self.base_delay, self.max_delay)
                    self.sleep(delay * random.uniform(0.5, 1.0))
                    continue
                raise DetectorUnavailableError(f"rekognition {code} after {attempt} attempt(s)") from None
            except BotoCoreError as error:
                raise DetectorUnavailableError(f"rekognition {type(error).__name__}") from None
        raise AssertionError("unreachable")  # pragma: no cover


def encode_png_within_limits(image: np.ndarray) -> bytes:
    """PNG bytes of ``image`` at least MIN_IMAGE_SIDE a side and at most MAX_IMAGE_BYTES."""
    picture = Image.fromarray(np.ascontiguousarray(image))
    shortest = min(picture.size)
    if shortest < MIN_IMAGE_SIDE:
        factor = MIN_IMAGE_SIDE / shortest
        picture = picture.resize(
            (max(MIN_IMAGE_SIDE, math.ceil(picture.width * factor)),
             max(MIN_IMAGE_SIDE, math.ceil(picture.height * factor))),
            Image.Resampling.BICUBIC,
        )
    data = _png(picture)
    while len(data) > MAX_IMAGE_BYTES:
        factor = max(0.5, math.sqrt(MAX_IMAGE_BYTES / len(data)) * 0.9)
        size = (max(MIN_IMAGE_SIDE, int(picture.width * factor)), max(MIN_IMAGE_SIDE, int(picture.height * factor)))
        if size == picture.size:
            raise DetectorUnavailableError("image cannot be brought under the Rekognition size limit")
        picture = picture.resize(size, Image.Resampling.LANCZOS)
        data = _png(picture)
    return data


def _png(picture: Image.Image) -> bytes:
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=False, compress_level=6)
    return buffer.getvalue()


def _quarters(tile: Tile, overlap: int) -> list[Tile]:
    """The tile cut in two along each side long enough to stay >= MIN_IMAGE_SIDE, overlapping."""

    def halves(start: int, length: int) -> list[tuple[int, int]]:
        if length < 2 * MIN_IMAGE_SIDE:
            return [(start, length)]
        half = math.ceil(length / 2)
        first_length = min(length, half + overlap // 2)
        second_offset = max(0, half - overlap // 2)
        return [(start, first_length), (start + second_offset, length - second_offset)]

    return [Tile(top, left, height, width)
            for top, height in halves(tile.top, tile.height)
            for left, width in halves(tile.left, tile.width)]


def _to_pixels(detection: dict[str, Any], tile: Tile) -> TextBox:
    box = detection.get("Geometry", {}).get("BoundingBox", {})
    left = float(box.get("Left", 0.0))
    top = float(box.get("Top", 0.0))
    right = left + float(box.get("Width", 0.0))
    bottom = top + float(box.get("Height", 0.0))

    def clamp(ratio: float) -> float:
        return min(1.0, max(0.0, ratio))

    return TextBox(
        left=tile.left + math.floor(clamp(left) * tile.width),
        top=tile.top + math.floor(clamp(top) * tile.height),
        right=tile.left + math.ceil(clamp(right) * tile.width),
        bottom=tile.top + math.ceil(clamp(bottom) * tile.height),
        text=str(detection.get("DetectedText", "")),
        confidence=float(detection.get("Confidence", 0.0)),
    )
