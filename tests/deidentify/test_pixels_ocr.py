"""The local offline OCR backend on pydicom's sample files (models ship in the wheel)."""

from __future__ import annotations

import numpy as np
import pytest

from deidentify.pixels import build_cleaner
from deidentify.pixels.ocr import LocalOcrDetector
from deidentify.pixels.render import to_rgb8
from tests.deidentify.pixel_fixtures import context_of, decoded, read


@pytest.fixture(scope="module")
def ocr() -> LocalOcrDetector:
    return LocalOcrDetector()


def test_ocr_reads_the_big_coloured_words(ocr: LocalOcrDetector) -> None:
    dataset = read("GDCMJ2K_TextGBR.dcm")  # JPEG 2000, YBR_RCT: "red", "green", "blue"
    image = to_rgb8(decoded(dataset)[0], "RGB", dataset)
    lines = {line.text.lower(): line for line in ocr.detect(image)}
    assert {"red", "green", "blue"} <= set(lines)
    assert lines["red"].bottom <= lines["green"].top <= lines["blue"].top
    assert all(line.right - line.left > 100 for line in lines.values())


def test_ocr_cleaner_blanks_the_ultrasound_header_text() -> None:
    dataset = read("examples_rgb_color.dcm")  # NEMA ultrasound, institution and IDs burned in
    original = decoded(dataset)[0]
    outcome = build_cleaner("ocr").clean(dataset, context_of(dataset, identifying_text=("BAPTIST MED CTR",)))
    assert outcome.cleaned and outcome.redacted_regions >= 5
    after = decoded(dataset)[0]
    assert not after[12:21, 9:86].any(), "the institution line is blank"
    # The scan itself (rows 60-170, away from the side labels) is untouched.
    assert np.array_equal(after[60:170, 30:290], original[60:170, 30:290])
