"""The pixel pass through the engine (the interface H-header calls): attestation follows it."""

from __future__ import annotations

from io import BytesIO

import numpy as np
import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian

from deidentify.engine import Deidentifier
from deidentify.errors import BurnedInTextError
from deidentify.keyed import KeyedMapper
from deidentify.pixels import build_cleaner
from tests.deidentify.deid_samples import TEST_KEY
from tests.deidentify.pixel_fixtures import decoded, sample


def test_ocr_pass_blanks_text_and_lets_the_engine_attest() -> None:
    engine = Deidentifier(KeyedMapper(TEST_KEY), pixel_cleaner=build_cleaner("ocr"))
    result = engine.deidentify_bytes(sample("examples_rgb_color.dcm").read_bytes())
    written = pydicom.dcmread(BytesIO(result.data))
    assert written.file_meta.TransferSyntaxUID == ExplicitVRLittleEndian
    assert written.PhotometricInterpretation == "RGB"
    assert written.BurnedInAnnotation == "NO" and written.PatientIdentityRemoved == "YES"
    assert "113101" in {item.CodeValue for item in written.DeidentificationMethodCodeSequence}
    pixels = decoded(written)[0]
    assert not pixels[12:21, 9:86].any(), "the institution line is blank"
    assert np.array_equal(pixels[60:170, 30:290], decoded(pydicom.dcmread(sample("examples_rgb_color.dcm")))[0][60:170, 30:290])


def test_backend_none_quarantines_an_ultrasound() -> None:
    engine = Deidentifier(KeyedMapper(TEST_KEY), pixel_cleaner=build_cleaner("none"))
    with pytest.raises(BurnedInTextError):
        engine.deidentify_bytes(sample("examples_rgb_color.dcm").read_bytes())
