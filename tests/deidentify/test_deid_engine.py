"""The engine on pydicom's sample files and on synthetic objects."""

from __future__ import annotations

import os
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import UID_dictionary

from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY, sample_files
from tests.deidentify.deid_leak_scan import identifying_values, surviving_values, values_in_bytes, walk_elements
from deidentify.dicom_io import quiet_pydicom
from deidentify.engine import Deidentifier
from deidentify.errors import (
    DeidentificationError,
    MissingIdentifierError,
    NotDicomError,
    UnreadableDicomError,
    UnsupportedObjectError,
)
from deidentify.keyed import KeyedMapper
from tests.deidentify.synthetic import SYNTHETIC_PHI, build_image, build_segmentation_referencing

SAMPLES = sample_files()
QUARANTINE_REASONS = {"not-dicom", "unreadable-dicom", "unsupported-object", "missing-instance-uid"}


def _sample_id(path: Path) -> str:
    return os.path.relpath(path, Path(pydicom.__file__).parent / "data")


def _read(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(BytesIO(data))


@pytest.mark.parametrize("path", SAMPLES, ids=_sample_id)
def test_sample_file_is_deidentified_without_surviving_identifiers_or_quarantined(
    path: Path, deidentifier: Deidentifier
) -> None:
    data = path.read_bytes()
    try:
        result = deidentifier.deidentify_bytes(data)
    except DeidentificationError as error:
        assert error.reason in QUARANTINE_REASONS
        return
    with quiet_pydicom():
        original = pydicom.dcmread(BytesIO(data))
    originals = identifying_values(original, deidentifier.profile)
    output = _read(result.data)
    assert surviving_values(output, originals) == set()
    assert values_in_bytes(result.data, originals, output) == set()
    assert output.file_meta.MediaStorageSOPInstanceUID == output.SOPInstanceUID
    assert output.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
    assert output.LongitudinalTemporalInformationModified == "REMOVED"
    assert output.DeidentificationMethodCodeSequence[-1].CodeValue == "113100"
    for element in walk_elements(output):
        assert not element.tag.is_private
        assert element.tag.group >> 8 not in (0x50, 0x60)


def test_most_sample_files_are_deidentified(deidentifier: Deidentifier) -> None:
    outcomes = {"ok": 0, "quarantined": 0}
    for path in SAMPLES:
        try:
            deidentifier.deidentify_bytes(path.read_bytes())
            outcomes["ok"] += 1
        except DeidentificationError:
            outcomes["quarantined"] += 1
    # The wheel holds some deliberately broken and non-image files; most are valid images.
    assert outcomes["ok"] > 3 * outcomes["quarantined"]


def test_output_is_valid_dicom_with_attestation(deidentifier: Deidentifier) -> None:
    data = build_image()
    result = deidentifier.deidentify_bytes(data)
    output = pydicom.dcmread(BytesIO(result.data), force=False)
    assert output.preamble == b"\x00" * 128
    assert output.file_meta.MediaStorageSOPInstanceUID == output.SOPInstanceUID == result.sop_instance_uid
    assert output.file_meta.TransferSyntaxUID == _read(data).file_meta.TransferSyntaxUID
    assert "SourceApplicationEntityTitle" not in output.file_meta
    assert output.SOPClassUID == "1.2.840.10008.5.1.4.1.1.2"
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID"):
        value = str(output[keyword].value)
        assert value.startswith("2.25.") and len(value) <= 64
    assert output.DeidentificationMethod[0] == "DICOM PS3.15 2024b Annex E Basic Profile"
    code = output.DeidentificationMethodCodeSequence[0]
    assert (code.CodeValue, code.CodingSchemeDesignator) == ("113100", "DCM")
    assert output.LongitudinalTemporalInformationModified == "REMOVED"
    assert output.PixelData == _read(data).PixelData
    assert 0x00080000 not in output


def test_synthetic_identifiers_are_gone_from_every_level_and_the_bytes(deidentifier: Deidentifier) -> None:
    data = build_image(preamble=b"SYNPREAMBLESECRET".ljust(128, b"\x00"))
    result = deidentifier.deidentify_bytes(data)
    for value in [*SYNTHETIC_PHI.values(), "PrivateSynSecret", "Privatenested", "Deepnested", "SYNOVERLAY",
                  "SYNPACS_AE", "SYNPREAMBLESECRET", "PPSSYN12", "1.2.826.0.1.3680043.99"]:
        assert value.encode() not in result.data, value
    output = _read(result.data)
    assert not any(element.tag.is_private for element in walk_elements(output))
    assert not any(element.tag.group in (0x5000, 0x6002) for element in walk_elements(output))


def test_nested_reference_uid_maps_like_the_top_level_uid(deidentifier: Deidentifier) -> None:
    output = _read(deidentifier.deidentify_bytes(build_image()).data)
    mapper = deidentifier.mapper
    nested = output.ReferencedImageSequence[0].ReferencedSOPInstanceUID
    assert nested == mapper.uid("1.2.826.0.1.3680043.99.556")
    assert output.ReferencedImageSequence[0].ReferencedSOPClassUID == "1.2.840.10008.5.1.4.1.1.2"


def test_references_between_objects_of_a_study_stay_consistent(deidentifier: Deidentifier) -> None:
    image = deidentifier.deidentify_bytes(build_image())
    segmentation = deidentifier.deidentify_bytes(
        build_segmentation_referencing(
            image_sop_uid="1.2.826.0.1.3680043.99.1.1.1",
            study_uid="1.2.826.0.1.3680043.99.1",
            frame_of_reference_uid="1.2.826.0.1.3680043.99.7",
        )
    )
    image_ds, seg_ds = _read(image.data), _read(segmentation.data)
    assert seg_ds.StudyInstanceUID == image_ds.StudyInstanceUID
    assert seg_ds.FrameOfReferenceUID == image_ds.FrameOfReferenceUID
    referenced_series = seg_ds.ReferencedSeriesSequence[0]
    assert referenced_series.SeriesInstanceUID == image_ds.SeriesInstanceUID
    assert referenced_series.ReferencedInstanceSequence[0].ReferencedSOPInstanceUID == image_ds.SOPInstanceUID
    assert seg_ds.PatientID == image_ds.PatientID == seg_ds.PatientName


def test_study_and_series_uids_group_the_same_way_after_deidentification(deidentifier: Deidentifier) -> None:
    directory = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests"
    images = [path for path in directory.rglob("*") if path.is_file() and not path.name.startswith(("DICOMDIR", "README"))]
    assert len(images) > 10
    before: dict[tuple[str, str], set[str]] = {}
    after: dict[tuple[str, str], set[str]] = {}
    for path in images:
        original = pydicom.dcmread(path)
        result = deidentifier.deidentify_bytes(path.read_bytes())
        new = _read(result.data)
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID", "PatientID"):
            if keyword in original:
                before.setdefault((keyword, str(original[keyword].value)), set()).add(path.name + str(path.parent))
                after.setdefault((keyword, str(new[keyword].value)), set()).add(path.name + str(path.parent))
    # The same partition of files by each identifier, with every value replaced.
    assert sorted(map(sorted, before.values())) == sorted(map(sorted, after.values()))
    assert not set(value for _, value in before) & set(value for _, value in after)


def test_same_key_gives_identical_output_across_engines() -> None:
    data = build_image()
    first = Deidentifier(KeyedMapper(TEST_KEY)).deidentify_bytes(data)
    second = Deidentifier(KeyedMapper(TEST_KEY)).deidentify_bytes(data)
    other = Deidentifier(KeyedMapper(OTHER_KEY)).deidentify_bytes(data)
    assert first.data == second.data
    assert first.sop_instance_uid == second.sop_instance_uid
    assert other.data != first.data
    assert other.sop_instance_uid != first.sop_instance_uid
    assert _read(other.data).PatientID != _read(first.data).PatientID


def test_patient_identity_removed_follows_the_burned_in_rule(deidentifier: Deidentifier) -> None:
    declared_clean = _read(deidentifier.deidentify_bytes(build_image(burned_in_annotation="NO")).data)
    undeclared = _read(deidentifier.deidentify_bytes(build_image()).data)
    declared_yes = _read(deidentifier.deidentify_bytes(build_image(burned_in_annotation="YES")).data)
    no_pixels = _read(
        deidentifier.deidentify_bytes(
            build_segmentation_referencing("1.2.3.4", "1.2.3", "1.2.3.5")
        ).data
    )
    assert declared_clean.PatientIdentityRemoved == "YES"
    assert undeclared.PatientIdentityRemoved == "NO"
    assert "BurnedInAnnotation" not in undeclared
    assert declared_yes.PatientIdentityRemoved == "NO"
    assert no_pixels.PatientIdentityRemoved == "YES"


def test_pseudonym_is_keyed_on_patient_id(deidentifier: Deidentifier) -> None:
    first = _read(deidentifier.deidentify_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.9.1")).data)
    second = _read(deidentifier.deidentify_bytes(build_image(sop_uid="1.2.826.0.1.3680043.99.9.2")).data)
    other = _read(deidentifier.deidentify_bytes(build_image(patient_id="SYN-PAT-000999")).data)
    assert first.PatientID == second.PatientID
    assert first.PatientID.startswith("SUBJ-")
    assert other.PatientID != first.PatientID


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.7 synthetic report for Synthetic^Alice", NotDicomError),
        (b"", NotDicomError),
        (b"\x00" * 128 + b"DICM" + b"\x02\x00\x10\x00UI\xff\x7f", UnreadableDicomError),
    ],
    ids=["pdf", "empty", "damaged-meta"],
)
def test_non_dicom_and_damaged_input_fail_closed(
    data: bytes, expected: type[DeidentificationError], deidentifier: Deidentifier
) -> None:
    with pytest.raises(expected) as caught:
        deidentifier.deidentify_bytes(data)
    assert "Synthetic" not in str(caught.value)


def test_truncated_file_fails_closed_with_phi_free_reason(deidentifier: Deidentifier) -> None:
    data = build_image()
    with pytest.raises(DeidentificationError) as caught:
        deidentifier.deidentify_bytes(data[: len(data) // 2])
    for value in SYNTHETIC_PHI.values():
        assert value not in str(caught.value)


def test_dicomdir_is_unsupported(deidentifier: Deidentifier) -> None:
    path = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests" / "DICOMDIR"
    with pytest.raises(UnsupportedObjectError):
        deidentifier.deidentify_bytes(path.read_bytes())


def test_missing_study_uid_is_quarantined(deidentifier: Deidentifier) -> None:
    dataset = _read(build_image())
    del dataset.StudyInstanceUID
    buffer = BytesIO()
    dataset.save_as(buffer)
    with pytest.raises(MissingIdentifierError, match="StudyInstanceUID"):
        deidentifier.deidentify_bytes(buffer.getvalue())


def test_registered_uids_are_kept_and_instance_uids_replaced(deidentifier: Deidentifier) -> None:
    for path in SAMPLES:
        if path.name != "rtplan.dcm":
            continue
        output = _read(deidentifier.deidentify_bytes(path.read_bytes()).data)
        for element in walk_elements(output):
            if element.VR != "UI" or not element.value:
                continue
            values = element.value if isinstance(element.value, list) else [element.value]
            for value in values:
                assert str(value).startswith("2.25.") or str(value) in UID_dictionary or element.keyword.endswith(
                    "ClassUID"
                ) or element.keyword == "ImplementationClassUID"
        break
    else:
        pytest.fail("rtplan.dcm is not in the pydicom wheel")
