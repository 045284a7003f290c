"""Device signature data: validation at load, matching, and the signatures backend."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deidentify.errors import BurnedInTextError
from deidentify.pixels import build_cleaner
from deidentify.pixels.signatures import (
    DEFAULT_SIGNATURES,
    Box,
    SignatureDataError,
    load_signatures,
)
from tests.deidentify.pixel_fixtures import context_of, decoded, read

VALID = {"name": "Vendor X", "source": "test", "match": {"modality": "US", "manufacturer": "Vendor"},
         "regions": [[0, 0, 10, 5]], "sufficient_alone": True}


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "signatures.json"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_shipped_signatures_load() -> None:
    signatures = load_signatures()
    assert len(signatures.signatures) >= 5
    assert any(not signature.sufficient_alone for signature in signatures.signatures)
    assert json.loads(DEFAULT_SIGNATURES.read_text())["format"].startswith("trial-imaging device signatures")


@pytest.mark.parametrize(("entry", "message"), [
    ({**VALID, "name": ""}, r"signatures\[0\]: 'name' must be a non-empty string"),
    ({**VALID, "colour": "red"}, r"signatures\[0\]: unknown field\(s\) colour"),
    ({**VALID, "match": {}}, r"\(Vendor X\): 'match' must be a non-empty object"),
    ({**VALID, "match": {"vendor": "X"}}, r"\(Vendor X\): unknown match field\(s\) vendor"),
    ({**VALID, "match": {"rows": "480"}}, r"\(Vendor X\): match.rows must be a positive integer"),
    ({**VALID, "match": {"model": " "}}, r"\(Vendor X\): match.model must be a non-empty string"),
    ({**VALID, "regions": [[0, 0, 0, 5]]}, r"\(Vendor X\): regions\[0\] must be \[left, top, width, height\]"),
    ({**VALID, "regions": [[0, 0, 10]]}, r"regions\[0\] must be"),
    ({**VALID, "regions": [[-1, 0, 10, 5]]}, r"regions\[0\] must be"),
    ({**VALID, "regions": []}, r"'regions' must be a non-empty list of boxes or 'above-ultrasound-regions'"),
    ({**VALID, "regions": "above-ultrasound-regions", "match": {"modality": "CT"}},
     r"'above-ultrasound-regions' needs match.modality 'US'"),
    ({**VALID, "sufficient_alone": "yes"}, r"'sufficient_alone' must be true or false"),
])
def test_malformed_entries_are_refused_with_their_place(tmp_path: Path, entry: dict, message: str) -> None:
    with pytest.raises(SignatureDataError, match=message):
        load_signatures(_write(tmp_path, {"signatures": [entry]}))


@pytest.mark.parametrize(("document", "message"), [
    ("{not json", r"not JSON \(line 1"),
    ({"entries": []}, "expected an object with a 'signatures' list"),
])
def test_malformed_files_are_refused(tmp_path: Path, document: object, message: str) -> None:
    with pytest.raises(SignatureDataError, match=message):
        load_signatures(_write(tmp_path, document))


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SignatureDataError, match="cannot be read"):
        load_signatures(tmp_path / "absent.json")


def test_matching_is_by_modality_manufacturer_model_and_size() -> None:
    dataset = read("examples_palette.dcm")  # Philips CX50, 800 x 350, ultrasound regions from row 60
    context = context_of(dataset)
    match = load_signatures().match(dataset, context, rows=350, columns=800)
    assert match.sufficient_alone
    assert set(match.boxes) == {Box(0, 0, 800, 59), Box(0, 0, 800, 60)}
    other_model = context_of(dataset, model="CX30")
    generic = load_signatures().match(dataset, other_model, rows=350, columns=800)
    assert generic.boxes == [Box(0, 0, 800, 60)] and not generic.sufficient_alone
    assert load_signatures().match(dataset, context_of(dataset, modality="CT"), 350, 800).boxes == []


def test_signatures_backend_blanks_a_matching_device() -> None:
    dataset = read("examples_palette.dcm")
    original = decoded(dataset)[0]
    outcome = build_cleaner("signatures").clean(dataset, context_of(dataset))
    assert outcome.cleaned and outcome.redacted_regions == 2
    after = decoded(dataset)[0]
    assert not after[:60].any()
    assert np.array_equal(after[60:], original[60:])


def test_signatures_backend_refuses_a_suspected_object_without_a_device_signature() -> None:
    dataset = read("examples_palette.dcm")
    before = dataset.PixelData
    with pytest.raises(BurnedInTextError, match="no device signature matches"):
        build_cleaner("signatures").clean(dataset, context_of(dataset, model="CX30"))
    assert dataset.PixelData == before


def test_signatures_backend_leaves_an_unsuspected_object_uncleaned() -> None:
    dataset = read("CT_small.dcm")
    outcome = build_cleaner("signatures").clean(dataset, context_of(dataset))
    assert (outcome.cleaned, outcome.redacted_regions) == (False, 0)


def test_a_custom_signature_file_can_be_given(tmp_path: Path) -> None:
    dataset = read("CT_small.dcm")
    entry = {**VALID, "match": {"modality": "CT", "rows": 128, "columns": 128}, "regions": [[0, 0, 128, 10]]}
    cleaner = build_cleaner("signatures", signatures_path=_write(tmp_path, {"signatures": [entry]}))
    outcome = cleaner.clean(dataset, context_of(dataset))
    assert outcome.cleaned and outcome.redacted_regions == 1
    after = decoded(dataset)[0]
    assert np.all(after[:10] == after.min())
