"""Redaction round trips on pydicom's sample files: multi-frame, colour, compressed.

Each case blanks a box reported by a detector, writes the object, reads it back and checks
that it decodes, that its transfer syntax / photometric interpretation / pixel module agree,
that the box is blank in every frame and that every pixel outside it is exactly as decoded
from the original.
"""

from __future__ import annotations

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from deidentify.pixels.cleaner import BOX_MARGIN, DetectingCleaner
from deidentify.pixels.detection import TextBox
from deidentify.pixels.signatures import load_signatures
from tests.deidentify.pixel_fixtures import (
    FixedDetector,
    context_of,
    decoded,
    read,
    round_trip,
)

CASES = [
    # name, photometric written, lossy source
    ("SC_rgb_rle_2frame.dcm", "RGB", False),  # RLE, multi-frame colour
    ("SC_rgb_rle_16bit_2frame.dcm", "RGB", False),
    ("SC_rgb_rle_32bit_2frame.dcm", "RGB", False),
    ("SC_rgb_jpeg_dcmtk.dcm", "RGB", True),  # JPEG baseline, YBR_FULL
    ("SC_rgb_dcmtk_+eb+cy+np.dcm", "RGB", True),  # JPEG baseline, YBR_FULL_422
    ("SC_ybr_full_422_uncompressed.dcm", "RGB", False),  # native YBR_FULL_422
    ("SC_rgb_jpeg_gdcm.dcm", "RGB", False),  # JPEG lossless
    ("SC_rgb_jls_lossy_line.dcm", "RGB", True),  # JPEG-LS near-lossless
    ("examples_ybr_color.dcm", "RGB", True),  # 30-frame ultrasound, JPEG YBR_FULL_422
    ("GDCMJ2K_TextGBR.dcm", "RGB", False),  # JPEG 2000 lossless, YBR_RCT
    ("examples_palette.dcm", "PALETTE COLOR", False),
    ("ExplVR_BigEnd.dcm", "RGB", False),  # big endian, planar configuration 1
    ("JPGExtended.dcm", "MONOCHROME2", True),  # 12-bit JPEG extended
    ("MR_small_RLE.dcm", "MONOCHROME2", False),  # signed 16-bit
    ("MR_small_jp2klossless.dcm", "MONOCHROME2", False),
    ("JPEG2000.dcm", "MONOCHROME2", True),  # JPEG 2000 (lossless or lossy) syntax
    ("rtdose_expb.dcm", "MONOCHROME2", False),  # big endian, 32-bit, 15 frames
    ("MR_small_jpeg_ls_lossless.dcm", "MONOCHROME2", False),
    ("MR_small_bigendian.dcm", "MONOCHROME2", False),
    ("rtdose_rle.dcm", "MONOCHROME2", False),  # 15 frames, 32-bit
]


def _box_for(rows: int, columns: int) -> TextBox:
    return TextBox(left=columns // 4, top=rows // 5, right=columns // 2, bottom=rows // 3,
                   text="DOE^JANE 12345678", confidence=99.0)


@pytest.mark.parametrize(("name", "photometric", "lossy"), CASES)
def test_redaction_round_trip(name: str, photometric: str, lossy: bool) -> None:
    dataset = read(name)
    original = decoded(dataset)
    frames, rows, columns = original.shape[0], original.shape[1], original.shape[2]
    line = _box_for(rows, columns)
    detector = FixedDetector(line)
    cleaner = DetectingCleaner(detector, load_signatures())
    # No Modality/manufacturer: only the detected box is blanked, no device signature.
    outcome = cleaner.clean(dataset, context_of(dataset, modality=None, manufacturer=None, model=None))

    assert outcome.cleaned and outcome.redacted_regions == 1
    # One detector call per distinct frame (identical frames are read once).
    assert detector.calls == len({frame.tobytes() for frame in original})
    written = round_trip(dataset)
    big_endian = not read(name).file_meta.TransferSyntaxUID.is_little_endian
    assert written.file_meta.TransferSyntaxUID == (ExplicitVRBigEndian if big_endian else ExplicitVRLittleEndian)
    assert written.PhotometricInterpretation == photometric
    assert written.get("NumberOfFrames", 1) == dataset.get("NumberOfFrames", 1)
    if original.ndim == 4:
        assert written.SamplesPerPixel == 3 and written.PlanarConfiguration == 0
    assert (written.get("LossyImageCompression") == "01") is (lossy or _was_lossy(read(name)))
    expected_bytes = frames * rows * columns * written.SamplesPerPixel * written.BitsAllocated // 8
    assert len(written.PixelData) in (expected_bytes, expected_bytes + 1)

    after = decoded(written)
    assert after.shape == original.shape and after.dtype == original.dtype
    top, bottom = max(0, line.top - BOX_MARGIN), min(rows, line.bottom + BOX_MARGIN)
    left, right = max(0, line.left - BOX_MARGIN), min(columns, line.right + BOX_MARGIN)
    inside = np.zeros((rows, columns), dtype=bool)
    inside[top:bottom, left:right] = True
    assert np.array_equal(after[:, ~inside], original[:, ~inside])
    for index in range(frames):
        region = after[index, top:bottom, left:right]
        assert np.all(region == region.flat[0]), "the box is one uniform fill in every frame"
    assert not np.array_equal(after[:, inside], original[:, inside])


def _was_lossy(dataset: Dataset) -> bool:
    return str(dataset.get("LossyImageCompression", "")) == "01"


def test_planar_configuration_1_little_endian_is_read_as_planes() -> None:
    dataset = read("examples_rgb_color.dcm")
    original = decoded(dataset)[0]
    dataset.PixelData = np.ascontiguousarray(original.transpose(2, 0, 1)).tobytes()
    dataset.PlanarConfiguration = 1
    assert np.array_equal(decoded(dataset)[0], original)
    line = TextBox(10, 10, 90, 30, "BAPTIST", 99.0)
    DetectingCleaner(FixedDetector(line), load_signatures()).clean(
        dataset, context_of(dataset, modality=None, manufacturer=None, model=None))
    written = round_trip(dataset)
    assert written.PlanarConfiguration == 0
    after = decoded(written)[0]
    outside = np.ones(original.shape[:2], dtype=bool)
    outside[10 - BOX_MARGIN:30 + BOX_MARGIN, 10 - BOX_MARGIN:90 + BOX_MARGIN] = False
    assert np.array_equal(after[outside], original[outside])
    assert not after[10:30, 10:90].any()


def test_nothing_identifying_leaves_pixel_data_untouched() -> None:
    dataset = read("SC_rgb_jpeg_dcmtk.dcm")
    before = dataset.PixelData
    syntax = dataset.file_meta.TransferSyntaxUID
    harmless = TextBox(5, 5, 20, 12, "L", 99.0)
    outcome = DetectingCleaner(FixedDetector(harmless), load_signatures()).clean(
        dataset, context_of(dataset, modality="CT", manufacturer=None, model=None))
    assert outcome.cleaned and outcome.redacted_regions == 0
    assert dataset.PixelData == before and dataset.file_meta.TransferSyntaxUID == syntax


def test_monochrome1_is_blanked_to_its_darkest_value() -> None:
    dataset = read("MR_small.dcm")
    dataset.PhotometricInterpretation = "MONOCHROME1"
    original = decoded(dataset)[0]
    DetectingCleaner(FixedDetector(TextBox(8, 8, 30, 20, "SMITH", 90.0)), load_signatures()).clean(
        dataset, context_of(dataset, modality="MR", manufacturer=None, model=None))
    after = decoded(round_trip(dataset))[0]
    assert np.all(after[8:20, 8:30] == original.max())


def test_identical_frames_are_detected_once_and_all_blanked() -> None:
    dataset = read("SC_rgb_rle_2frame.dcm")
    first = decoded(dataset)[0]
    frames = np.stack([first, first, first[::-1]])
    dataset.NumberOfFrames = 3
    dataset.PixelData = frames.tobytes()
    dataset.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    detector = FixedDetector(TextBox(10, 10, 40, 20, "DOE", 90.0))
    DetectingCleaner(detector, load_signatures()).clean(dataset, context_of(dataset, modality="OT"))
    assert detector.calls == 2
    after = decoded(round_trip(dataset))
    assert after.shape[0] == 3 and not after[:, 10:20, 10:40].any()


def test_ybr_left_by_a_decoder_is_converted_before_writing(monkeypatch: pytest.MonkeyPatch) -> None:
    from deidentify.pixels import frames as frames_module

    real_get_decoder = frames_module.get_decoder

    class YbrKeepingDecoder:
        def __init__(self, syntax):
            self.decoder = real_get_decoder(syntax)

        def as_array(self, dataset, as_rgb=True):
            return self.decoder.as_array(dataset, as_rgb=False)

    dataset = read("SC_ybr_full_422_uncompressed.dcm")
    expected = decoded(dataset)
    monkeypatch.setattr(frames_module, "get_decoder", YbrKeepingDecoder)
    result = frames_module.decode_frames(dataset)
    assert result.photometric == "RGB"
    assert np.abs(result.array.astype(int) - expected.astype(int)).max() <= 1
