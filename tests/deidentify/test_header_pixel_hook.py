"""The pixel pass hook: context captured before cleaning, flags and code only after a clean pass.

The cleaner here is a test double implementing the PixelCleaner protocol of deidentify.pixels.
"""

from __future__ import annotations

from io import BytesIO

import pydicom
import pytest
from pydicom.dataset import Dataset

from deidentify.engine import Deidentifier
from deidentify.errors import BurnedInTextError
from deidentify.keyed import KeyedMapper
from deidentify.pixels import HeaderContext, PixelOutcome
from tests.deidentify.deid_samples import TEST_KEY
from tests.deidentify.synthetic import (
    SYNTHETIC_PHI,
    build_image,
    build_segmentation_referencing,
)


class RecordingCleaner:
    """Blanks the pixels and reports a fixed outcome (or raises), remembering what it saw."""

    def __init__(self, outcome: PixelOutcome | None = None, error: Exception | None = None) -> None:
        self.outcome = outcome or PixelOutcome(cleaned=True, redacted_regions=1, detail="test double")
        self.error = error
        self.contexts: list[HeaderContext] = []
        self.names_at_call: list[str] = []

    def clean(self, dataset: Dataset, context: HeaderContext) -> PixelOutcome:
        self.contexts.append(context)
        self.names_at_call.append(str(dataset.PatientName))
        if self.error is not None:
            raise self.error
        dataset.PixelData = b"\x00" * len(dataset.PixelData)
        return self.outcome


def _run(cleaner: RecordingCleaner, data: bytes, options: frozenset[str] = frozenset()) -> pydicom.Dataset:
    engine = Deidentifier(KeyedMapper(TEST_KEY), options=options, pixel_cleaner=cleaner)
    return pydicom.dcmread(BytesIO(engine.deidentify_bytes(data).data), force=False)


def _codes(output: pydicom.Dataset) -> list[str]:
    return [item.CodeValue for item in output.DeidentificationMethodCodeSequence]


@pytest.mark.parametrize("options", [frozenset(), frozenset({"retain-longitudinal-modified-dates"})])
def test_context_holds_original_values_and_cleaner_sees_a_cleaned_header(options: frozenset[str]) -> None:
    cleaner = RecordingCleaner()
    _run(cleaner, build_image(burned_in_annotation="YES"), options)
    (context,) = cleaner.contexts
    for value in (SYNTHETIC_PHI["PatientName"], SYNTHETIC_PHI["PatientID"], SYNTHETIC_PHI["InstitutionName"],
                  SYNTHETIC_PHI["PatientBirthDate"], SYNTHETIC_PHI["StudyDate"], SYNTHETIC_PHI["AccessionNumber"],
                  SYNTHETIC_PHI["ReferringPhysicianName"], "Deepnested^Synthetic"):
        assert value in context.identifying_text, value
    assert (context.modality, context.burned_in_annotation) == ("CT", "YES")
    assert context.sop_class_uid == "1.2.840.10008.5.1.4.1.1.2"
    assert isinstance(context.image_type, tuple)
    assert cleaner.names_at_call[0].startswith("SUBJ-")  # the header was cleaned before the pixels


def test_clean_outcome_writes_burned_in_no_identity_removed_and_code_113101() -> None:
    output = _run(RecordingCleaner(), build_image(burned_in_annotation="YES"))
    assert output.BurnedInAnnotation == "NO"
    assert output.PatientIdentityRemoved == "YES"
    assert _codes(output) == ["113100", "113101"]
    assert any("Clean Pixel Data" in value for value in output.DeidentificationMethod)
    assert set(output.PixelData) == {0}


def test_unclean_outcome_writes_none_of_them() -> None:
    cleaner = RecordingCleaner(PixelOutcome(cleaned=False, redacted_regions=0, detail="not checked"))
    undeclared = _run(cleaner, build_image())
    declared_no = _run(cleaner, build_image(burned_in_annotation="NO"))
    for output in (undeclared, declared_no):
        assert output.PatientIdentityRemoved == "NO"
        assert "113101" not in _codes(output)
        assert not any("Clean Pixel Data" in value for value in output.DeidentificationMethod)
    assert "BurnedInAnnotation" not in undeclared


def test_burned_in_text_error_quarantines_the_object() -> None:
    cleaner = RecordingCleaner(error=BurnedInTextError("text suspected, no detector"))
    with pytest.raises(BurnedInTextError) as caught:
        _run(cleaner, build_image())
    assert caught.value.reason == "burned-in-text"


def test_objects_without_pixels_skip_the_pass() -> None:
    cleaner = RecordingCleaner()
    output = _run(cleaner, build_segmentation_referencing("1.2.3.4", "1.2.3", "1.2.3.5"))
    assert cleaner.contexts == []
    assert output.PatientIdentityRemoved == "YES"
    assert "113101" not in _codes(output)
