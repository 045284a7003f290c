"""The engine's direct writer produces exactly the bytes pydicom's own writer would."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

from deidentify.dicom_io import IMPLEMENTATION_VERSION_NAME, quiet_pydicom, write_dicom
from deidentify.engine import Deidentifier
from deidentify.errors import DeidentificationError, UnreadableDicomError
from deidentify.keyed import KeyedMapper
from deidentify.profile import OPTION_NAMES
from tests.deidentify.deid_samples import TEST_KEY, sample_files

TRIAL_OPTIONS = frozenset(OPTION_NAMES) - {"retain-longitudinal-full-dates", "retain-safe-private", "retain-uids"}


def _pydicom_bytes(dataset: pydicom.FileDataset) -> bytes:
    dataset.preamble = b"\x00" * 128
    dataset.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    dataset.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def _readable(path: Path) -> bool:
    with quiet_pydicom():
        try:
            return "TransferSyntaxUID" in pydicom.dcmread(path).file_meta
        except Exception:  # noqa: BLE001 - unreadable samples are covered by the quarantine tests
            return False


@pytest.mark.parametrize("path", [path for path in sample_files() if _readable(path)], ids=lambda path: path.name)
@pytest.mark.parametrize("options", [frozenset(), TRIAL_OPTIONS], ids=["basic", "trial-options"])
def test_written_bytes_equal_pydicom_writer(path: Path, options: frozenset[str]) -> None:
    deidentifier = Deidentifier(KeyedMapper(TEST_KEY), options=options)
    with quiet_pydicom():
        ours, reference = pydicom.dcmread(path), pydicom.dcmread(path)
        try:
            deidentifier.deidentify_dataset(reference)
        except DeidentificationError:  # quarantined: never written; the engine must agree
            with pytest.raises(DeidentificationError):
                deidentifier.deidentify_dataset(ours)
            return
        deidentifier.deidentify_dataset(ours)
        try:
            expected = _pydicom_bytes(reference)
        except Exception:  # noqa: BLE001 - what pydicom cannot encode is quarantined, not written
            with pytest.raises(UnreadableDicomError):
                write_dicom(ours)
            return
        assert write_dicom(ours) == expected


def _all_datasets(dataset: pydicom.Dataset):
    yield dataset
    for tag in list(dataset.keys()):
        raw = dataset.get_item(tag)
        if raw is not None and raw.VR == "SQ":
            for item in dataset[tag].value:
                yield from _all_datasets(item)


@pytest.mark.parametrize("path", [path for path in sample_files() if _readable(path)], ids=lambda path: path.name)
def test_values_read_from_undecoded_bytes_equal_pydicoms_decoding(path: Path) -> None:
    """The engine reads UIDs, dates and ASCII text without decoding; it must read what pydicom reads."""
    from deidentify.engine import _raw_values, _values, _vr

    with quiet_pydicom():
        for dataset in _all_datasets(pydicom.dcmread(path)):
            for tag in list(dataset.keys()):
                if tag.is_private:
                    continue
                vr = _vr(dataset, tag, resolve=False)
                fast = _raw_values(dataset, tag, vr)
                if fast is None:
                    continue
                assert fast == _values(dataset[tag]), (tag, vr)


@pytest.mark.parametrize("implicit_vr", [False, True], ids=["explicit", "implicit"])
def test_items_whose_only_change_is_cleaned_text_are_written_cleaned(implicit_vr: bool) -> None:
    """Items are written back from their original bytes only when nothing in them changes;
    text is cleaned after the walk, so an item with text to clean must still be re-encoded."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence
    from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

    from tests.deidentify.synthetic import build_image

    source = pydicom.dcmread(BytesIO(build_image()))
    text_item = Dataset()
    text_item.RelationshipType = "CONTAINS"
    text_item.ValueType = "TEXT"
    text_item.TextValue = "Seen with Synthetic Alice"
    container = Dataset()
    container.ValueType = "CONTAINER"
    container.ContentSequence = Sequence([text_item])
    source.ContentSequence = Sequence([container])
    source.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit_vr else ExplicitVRLittleEndian
    buffer = BytesIO()
    source.save_as(buffer, implicit_vr=implicit_vr, little_endian=True)
    deidentifier = Deidentifier(KeyedMapper(TEST_KEY), options=TRIAL_OPTIONS)

    output = deidentifier.deidentify_bytes(buffer.getvalue()).data

    assert b"Alice" not in output and b"Synthetic" not in output
    text = pydicom.dcmread(BytesIO(output)).ContentSequence[0].ContentSequence[0].TextValue
    assert text.startswith("Seen with ***")
