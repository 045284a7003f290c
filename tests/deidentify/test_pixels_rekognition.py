"""Rekognition DetectText through botocore's Stubber: limits, throttling, tiling, coordinates."""

from __future__ import annotations

import io

import boto3
import numpy as np
import pytest
from botocore.config import Config
from botocore.stub import ANY, Stubber
from PIL import Image

from deidentify.errors import BurnedInTextError
from deidentify.pixels import build_cleaner
from deidentify.pixels.detection import DetectorUnavailableError
from deidentify.pixels.rekognition import (
    MAX_IMAGE_BYTES,
    MIN_IMAGE_SIDE,
    RekognitionDetector,
)
from tests.deidentify.pixel_fixtures import context_of, decoded, read


@pytest.fixture
def client():
    return boto3.client("rekognition", region_name="eu-west-1", config=Config(retries={"total_max_attempts": 1}))


def _sent_images(client) -> list[bytes]:
    """Records the image bytes of every DetectText request, as the service would receive them."""
    sent: list[bytes] = []
    client.meta.events.register(
        "before-parameter-build.rekognition.DetectText",
        lambda params, **_: sent.append(params["Image"]["Bytes"]),
    )
    return sent


def _line(text: str, left: float, top: float, width: float, height: float, ident: int = 0) -> dict:
    geometry = {"BoundingBox": {"Left": left, "Top": top, "Width": width, "Height": height},
                "Polygon": [{"X": left, "Y": top}]}
    return {"DetectedText": text, "Type": "LINE", "Id": ident, "Confidence": 99.0, "Geometry": geometry}


def _words(count: int) -> list[dict]:
    geometry = {"BoundingBox": {"Left": 0.1, "Top": 0.1, "Width": 0.01, "Height": 0.01}, "Polygon": []}
    return [{"DetectedText": "w", "Type": "WORD", "Id": 1000 + n, "ParentId": 0, "Confidence": 90.0,
             "Geometry": geometry} for n in range(count)]


def _png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    return Image.open(io.BytesIO(data)).size


EXPECTED = {"Image": {"Bytes": ANY}, "Filters": {"WordFilter": {"MinConfidence": 50.0}}}


def test_boxes_are_mapped_back_to_pixels(client) -> None:
    sent = _sent_images(client)
    image = np.zeros((200, 400, 3), dtype=np.uint8)
    with Stubber(client) as stub:
        stub.add_response("detect_text", {"TextDetections": [_line("DOE JANE", 0.25, 0.5, 0.5, 0.1)]}, EXPECTED)
        lines = RekognitionDetector(client).detect(image)
        stub.assert_no_pending_responses()
    assert [(line.left, line.top, line.right, line.bottom, line.text) for line in lines] == [
        (100, 100, 300, 120, "DOE JANE")]
    assert _png_size(sent[0]) == (400, 200)


def test_small_frames_are_upscaled_to_the_minimum_side(client) -> None:
    sent = _sent_images(client)
    image = np.full((10, 40, 3), 200, dtype=np.uint8)  # rtdose-sized frames are 10 x 10
    with Stubber(client) as stub:
        stub.add_response("detect_text", {"TextDetections": [_line("ID 42", 0.5, 0.0, 0.5, 1.0)]}, EXPECTED)
        lines = RekognitionDetector(client).detect(image)
    width, height = _png_size(sent[0])
    assert min(width, height) >= MIN_IMAGE_SIDE and width / height == pytest.approx(4, rel=0.05)
    # Ratios of the upscaled image map back to the original 10 x 40 frame.
    assert (lines[0].left, lines[0].top, lines[0].right, lines[0].bottom) == (20, 0, 40, 10)


def test_images_over_5_mb_are_downscaled(client) -> None:
    sent = _sent_images(client)
    noise = np.random.default_rng(7).integers(0, 256, size=(1400, 1400, 3), dtype=np.uint8)
    with Stubber(client) as stub:
        stub.add_response("detect_text", {"TextDetections": [_line("X", 0.5, 0.5, 0.25, 0.25)]}, EXPECTED)
        lines = RekognitionDetector(client, tile_size=2000).detect(noise)
    assert noise.nbytes > MAX_IMAGE_BYTES
    assert len(sent[0]) <= MAX_IMAGE_BYTES
    assert _png_size(sent[0])[0] < 1400
    assert (lines[0].left, lines[0].top, lines[0].right, lines[0].bottom) == (700, 700, 1050, 1050)


def test_large_frames_are_tiled_with_overlap_and_boxes_offset(client) -> None:
    sent = _sent_images(client)
    image = np.zeros((300, 500, 3), dtype=np.uint8)
    with Stubber(client) as stub:
        for _ in range(2):
            stub.add_response("detect_text", {"TextDetections": [_line("SMITH", 0.0, 0.0, 0.5, 0.1)]}, EXPECTED)
        lines = RekognitionDetector(client, tile_size=300, tile_overlap=100).detect(image)
        stub.assert_no_pending_responses()
    assert [_png_size(data) for data in sent] == [(300, 300), (300, 300)]
    assert [(line.left, line.top, line.right) for line in lines] == [(0, 0, 150), (200, 0, 350)]


def test_the_word_cap_splits_the_tile_until_under_100_words(client) -> None:
    sent = _sent_images(client)
    image = np.zeros((400, 400, 3), dtype=np.uint8)
    with Stubber(client) as stub:
        stub.add_response("detect_text", {"TextDetections": _words(100)}, EXPECTED)
        for quarter in range(4):
            stub.add_response("detect_text", {"TextDetections": [_line(f"Q{quarter}", 0.0, 0.0, 1.0, 1.0)]
                                              + _words(60)}, EXPECTED)
        lines = RekognitionDetector(client, tile_overlap=40).detect(image)
        stub.assert_no_pending_responses()
    assert [_png_size(data) for data in sent] == [(400, 400)] + [(220, 220)] * 4
    assert sorted((line.left, line.top, line.right, line.bottom) for line in lines) == [
        (0, 0, 220, 220), (0, 180, 220, 400), (180, 0, 400, 220), (180, 180, 400, 400)]


def test_the_word_cap_on_the_smallest_tile_makes_the_detector_unavailable(client) -> None:
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    with Stubber(client) as stub:
        stub.add_response("detect_text", {"TextDetections": _words(100)}, EXPECTED)
        with pytest.raises(DetectorUnavailableError, match="word cap"):
            RekognitionDetector(client).detect(image)


def test_throttling_is_retried_with_growing_backoff(client) -> None:
    delays: list[float] = []
    image = np.zeros((100, 100, 3), dtype=np.uint8)
    with Stubber(client) as stub:
        stub.add_client_error("detect_text", "ThrottlingException", http_status_code=400)
        stub.add_client_error("detect_text", "ProvisionedThroughputExceededException", http_status_code=400)
        stub.add_client_error("detect_text", "ThrottlingException", http_status_code=400)
        stub.add_response("detect_text", {"TextDetections": []}, EXPECTED)
        assert RekognitionDetector(client, base_delay=1.0, sleep=delays.append).detect(image) == []
        stub.assert_no_pending_responses()
    assert len(delays) == 3
    assert 0.5 <= delays[0] <= 1.0 and 1.0 <= delays[1] <= 2.0 and 2.0 <= delays[2] <= 4.0


def test_persistent_throttling_quarantines_a_suspected_object(client) -> None:
    dataset = read("examples_rgb_color.dcm")  # ultrasound: text suspected
    with Stubber(client) as stub:
        for _ in range(3):
            stub.add_client_error("detect_text", "ThrottlingException", http_status_code=400)
        cleaner = build_cleaner("rekognition", client=client, max_attempts=3, sleep=lambda _: None)
        with pytest.raises(BurnedInTextError, match="ThrottlingException after 3"):
            cleaner.clean(dataset, context_of(dataset))


def test_other_service_errors_are_not_retried(client) -> None:
    with Stubber(client) as stub:
        stub.add_client_error("detect_text", "InvalidImageFormatException", http_status_code=400)
        with pytest.raises(DetectorUnavailableError, match="InvalidImageFormatException after 1"):
            RekognitionDetector(client, sleep=lambda _: pytest.fail("no retry")).detect(
                np.zeros((90, 90, 3), dtype=np.uint8))


def test_cleaner_blanks_identifying_lines_and_keeps_annotations(client) -> None:
    dataset = read("examples_rgb_color.dcm")
    original = decoded(dataset)[0]
    rows, columns = original.shape[:2]
    context = context_of(dataset, identifying_text=("BAPTIST MED CTR",))
    with Stubber(client) as stub:
        stub.add_response("detect_text", {"TextDetections": [
            _line("BAPTIST MED CTR", 9 / columns, 12 / rows, 77 / columns, 9 / rows, 0),
            _line("L", 0.5, 0.5, 0.02, 0.04, 1),
        ]}, EXPECTED)
        outcome = build_cleaner("rekognition", client=client).clean(dataset, context)
    assert outcome.cleaned and outcome.redacted_regions == 1
    after = decoded(dataset)[0]
    assert not after[12:21, 9:86].any()
    changed = np.argwhere(np.any(after != original, axis=-1))
    (first_row, first_column), (last_row, last_column) = changed.min(axis=0), changed.max(axis=0)
    assert first_row >= 12 - 3 and first_column >= 9 - 3 and last_row < 21 + 3 and last_column < 86 + 3
