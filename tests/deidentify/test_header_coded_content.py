"""Coded entries and encapsulated documents: vocabulary survives cleaning, documents are refused."""

from __future__ import annotations

from io import BytesIO

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidentify.engine import Deidentifier
from deidentify.errors import UnsupportedObjectError
from deidentify.keyed import KeyedMapper
from tests.deidentify.deid_samples import TEST_KEY
from tests.deidentify.synthetic import build_image

SNOMED_UID = "2.16.840.1.113883.6.96"


def _coded_image() -> bytes:
    dataset = pydicom.dcmread(BytesIO(build_image()))
    code = Dataset()
    code.CodeValue = "121071"
    code.CodingSchemeDesignator = "DCM"
    code.CodeMeaning = "Finding"
    snomed = Dataset()
    snomed.CodeValue = "39607008"
    snomed.CodingSchemeDesignator = "SCT"
    snomed.CodeMeaning = "Lung structure"
    snomed.CodingSchemeUID = SNOMED_UID
    item = Dataset()
    item.ValueType = "CODE"
    item.ConceptNameCodeSequence = Sequence([code])
    item.ConceptCodeSequence = Sequence([snomed])
    item.TextValue = "Reviewed for Synthetic^Alice"
    dataset.ContentSequence = Sequence([item])
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_codes_and_coding_scheme_uids_survive_clean_structured_content() -> None:
    engine = Deidentifier(KeyedMapper(TEST_KEY), options=frozenset({"clean-structured-content"}))
    output = pydicom.dcmread(BytesIO(engine.deidentify_bytes(_coded_image()).data))
    [item] = output.ContentSequence
    assert item.ConceptNameCodeSequence[0].CodeValue == "121071"
    assert item.ConceptNameCodeSequence[0].CodingSchemeDesignator == "DCM"
    concept = item.ConceptCodeSequence[0]
    assert (concept.CodeValue, concept.CodingSchemeDesignator) == ("39607008", "SCT")
    assert concept.CodingSchemeUID == SNOMED_UID
    assert "Synthetic" not in str(item.get("TextValue", "")), "free text in the same item is still cleaned"


def test_an_encapsulated_document_is_quarantined_not_emptied() -> None:
    dataset = pydicom.dcmread(BytesIO(build_image()))
    del dataset.PixelData
    dataset.MIMETypeOfEncapsulatedDocument = "application/pdf"
    dataset.DocumentTitle = "Report for Synthetic Alice"
    dataset.EncapsulatedDocument = b"%PDF-1.7 synthetic report\n"
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    with pytest.raises(UnsupportedObjectError) as caught:
        Deidentifier(KeyedMapper(TEST_KEY)).deidentify_bytes(buffer.getvalue())
    assert caught.value.reason == "unsupported-object"
    assert "encapsulated document" in str(caught.value) and "Synthetic" not in str(caught.value)
