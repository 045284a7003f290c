"""Profile options: data files, selection, dates shifted per patient, retained and cleaned values."""

from __future__ import annotations

from datetime import date, timedelta
from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from deidentify.dicom_io import quiet_pydicom
from deidentify.engine import Deidentifier
from deidentify.errors import DeidentificationError, ProfileError
from deidentify.keyed import KeyedMapper
from deidentify.profile import (
    OPTION_NAMES,
    Action,
    load_basic_profile,
    load_option,
    parse_option,
)
from deidentify.temporal import normalise_time, shift_date, shift_datetime
from tests.deidentify.deid_leak_scan import (
    identifying_values,
    surviving_values,
    text_values,
    values_in_bytes,
    walk_elements,
)
from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY, sample_files
from tests.deidentify.synthetic import (
    SYNTHETIC_PHI,
    build_image,
    ct_dataset,
)

PLAN_OPTION_NAMES = {
    "retain-longitudinal-modified-dates",
    "retain-patient-characteristics",
    "retain-device-identity",
    "retain-safe-private",
    "retain-uids",
    "clean-descriptors",
    "clean-structured-content",
    "clean-graphics",
}
CODES = {
    "retain-longitudinal-modified-dates": "113107",
    "retain-longitudinal-full-dates": "113106",
    "retain-patient-characteristics": "113108",
    "retain-device-identity": "113109",
    "retain-safe-private": "113111",
    "retain-uids": "113110",
    "clean-descriptors": "113105",
    "clean-structured-content": "113104",
    "clean-graphics": "113103",
}


def _read(data: bytes) -> pydicom.Dataset:
    return pydicom.dcmread(BytesIO(data), force=False)


def _run(options: set[str], data: bytes, key: bytes = TEST_KEY) -> pydicom.Dataset:
    return _read(Deidentifier(KeyedMapper(key), options=frozenset(options)).deidentify_bytes(data).data)


def _dated_image(patient_id: str = "SYN-PAT-DATES", sop_uid: str = "1.2.826.0.1.3680043.99.31.1") -> bytes:
    dataset = ct_dataset("1.2.826.0.1.3680043.99.31", "1.2.826.0.1.3680043.99.31.2", sop_uid,
                         patient_id=patient_id, patient_name="Synthetic^Dora")
    dataset.StudyDate = "20240229"
    dataset.SeriesDate = "20240301"
    dataset.ContentDate = "2024.03.05"  # ACR-NEMA spelling
    dataset.AcquisitionDate = "202403"  # partial: not a valid DA
    dataset.PatientBirthDate = "19510923"
    dataset.StudyTime = "142501.123456"
    dataset.SeriesTime = "14:30:00"
    dataset.AcquisitionTime = "25xx"
    dataset.AcquisitionDateTime = "20240301143000.5+0100"
    dataset.add_new(0x00181202, "DT", "2023")  # DateTimeOfLastCalibration, year only
    dataset.add_new(0x00181200, "DA", ["20240101", "20240110"])  # DateOfLastCalibration (VM 1-n)
    dataset.add_new(0x0018700C, "DA", "20240115")  # DateOfLastDetectorCalibration
    dataset.InstanceCreationDate = "20241399"  # invalid month
    dataset.StudyDescription = "Follow-up of Synthetic Dora 2024-02-29 MRN 7734512 chest"
    buffer = BytesIO()
    dataset.save_as(buffer, enforce_file_format=True)
    return buffer.getvalue()


def test_option_names_are_the_plan_names_and_each_has_a_valid_data_file() -> None:
    assert PLAN_OPTION_NAMES <= set(OPTION_NAMES)
    for name in OPTION_NAMES:
        option = load_option(name)
        assert option.name == name
        assert option.edition.startswith("DICOM PS3.15 ")
        assert option.rules or option.safe_private


def test_unknown_and_contradictory_options_are_refused_by_name() -> None:
    with pytest.raises(ProfileError, match="retain-everything"):
        Deidentifier(KeyedMapper(TEST_KEY), options=frozenset({"retain-uids", "retain-everything"}))
    with pytest.raises(ProfileError, match="exclude each other"):
        load_basic_profile().with_options({"retain-longitudinal-modified-dates", "retain-longitudinal-full-dates"})


def test_option_rows_are_checked_against_the_dictionary() -> None:
    with pytest.raises(ProfileError, match=r"keyword 'StudyDate' does not match tag \(0008,0021\)"):
        parse_option(
            '{"option": "x", "code": "RetainUidsOption", "edition": "e",'
            ' "rules": [{"tag": "(0008,0021)", "keyword": "StudyDate", "action": "K"}]}',
            source="bad.json",
        )
    with pytest.raises(ProfileError, match="not in pydicom's private dictionary"):
        parse_option(
            '{"option": "x", "code": "RetainSafePrivateOption", "edition": "e", "rules": [],'
            ' "safe_private": [{"creator": "NOBODY", "group": "0019", "element": "10", "vr": "LO"}]}',
            source="bad.json",
        )
    with pytest.raises(ProfileError, match="not a DCM code"):
        parse_option('{"option": "x", "code": "NoSuchOption", "edition": "e", "rules": []}', source="bad.json")


def test_options_override_basic_rows_with_retain_winning_over_clean() -> None:
    profile = load_basic_profile().with_options({"retain-device-identity", "clean-descriptors"})
    assert profile.rule_for(0x00081010).action is Action.KEEP  # StationName
    assert profile.rule_for(0x00081030).action is Action.CLEAN  # StudyDescription
    assert load_basic_profile().rule_for(0x00081030).action is Action.REMOVE
    device_rows = load_option("retain-device-identity").rules
    for rule in device_rows:
        assert profile.rule_for(rule.value).action is Action.KEEP, rule.tag_text


def test_shifters_keep_precision_and_never_pass_odd_values() -> None:
    offset = -400
    assert shift_date("20240229", offset) == (date(2024, 2, 29).toordinal() + offset and "20230125")
    assert shift_date("2024.02.29", offset) == "20230125"
    for odd in ("202402", "2024", "20241301", "20240230", "abcdefgh", "", "00010101"):
        assert shift_date(odd, offset) == ""
    assert shift_datetime("20240229143000.123456+0100", offset) == "20230125143000.123456+0100"
    assert shift_datetime("2024", offset) == "2022"
    assert shift_datetime("202402", offset) == "202212"  # from 2024-02-01
    assert shift_datetime("2024022925", offset) == ""
    assert shift_datetime("20240229+2500", offset) == ""
    assert normalise_time("14:30:00") == "143000"
    assert normalise_time("142501.123") == "142501.123"
    for odd in ("25", "1460", "xx", "14:30:61"):
        assert normalise_time(odd) == ""


def test_modified_dates_shift_by_the_patients_keyed_offset_keeping_intervals() -> None:
    options = {"retain-longitudinal-modified-dates"}
    output = _run(options, _dated_image())
    offset = KeyedMapper(TEST_KEY).date_offset_days("id:SYN-PAT-DATES")

    def expected(text: str) -> str:
        return (date.fromisoformat(text) + timedelta(days=offset)).strftime("%Y%m%d")

    assert output.StudyDate == expected("2024-02-29")
    assert output.SeriesDate == expected("2024-03-01")
    assert output.ContentDate == expected("2024-03-05")
    assert output.PatientBirthDate == expected("1951-09-23")
    assert list(output.DateOfLastCalibration) == [expected("2024-01-01"), expected("2024-01-10")]
    assert output.DateOfLastDetectorCalibration == expected("2024-01-15")  # not a profile row: still shifted
    assert output.AcquisitionDateTime == expected("2024-03-01") + "143000.5+0100"
    assert output.StudyTime == "142501.123456" and output.SeriesTime == "143000"
    assert output.AcquisitionDate == "" and output.AcquisitionTime == "" and output.InstanceCreationDate == ""
    assert output.LongitudinalTemporalInformationModified == "MODIFIED"
    assert [item.CodeValue for item in output.DeidentificationMethodCodeSequence] == ["113100", "113107"]
    assert any("Modified Dates" in value for value in output.DeidentificationMethod)
    # Same key, separate engines: identical; another patient or key: another offset.
    assert _run(options, _dated_image()).StudyDate == output.StudyDate
    assert _run(options, _dated_image(), key=OTHER_KEY).StudyDate != output.StudyDate
    assert _run(options, _dated_image(patient_id="SYN-PAT-OTHER")).StudyDate != output.StudyDate


def test_without_date_options_dates_are_removed_or_replaced() -> None:
    output = _run(set(), _dated_image())
    for keyword in ("StudyDate", "SeriesDate", "ContentDate", "PatientBirthDate", "AcquisitionDateTime",
                    "DateOfLastDetectorCalibration"):
        assert str(output.get(keyword, "") or "") in ("", "19000101", "19000101000000.000000"), keyword
    assert output.LongitudinalTemporalInformationModified == "REMOVED"


def test_full_dates_option_keeps_dates_and_says_unmodified() -> None:
    output = _run({"retain-longitudinal-full-dates"}, _dated_image())
    assert output.StudyDate == "20240229"
    assert output.LongitudinalTemporalInformationModified == "UNMODIFIED"


def test_every_option_adds_its_code_and_output_stays_valid() -> None:
    output = _run(set(OPTION_NAMES) - {"retain-longitudinal-full-dates"}, build_image())
    codes = [item.CodeValue for item in output.DeidentificationMethodCodeSequence]
    assert codes[0] == "113100"
    assert sorted(codes[1:]) == sorted(CODES[name] for name in OPTION_NAMES if name != "retain-longitudinal-full-dates")
    assert all(len(value) <= 64 for value in output.DeidentificationMethod)
    assert output.DeidentificationMethod[0] == "DICOM PS3.15 2024b Annex E Basic Profile"
    assert any("2020" in value for value in output.DeidentificationMethod[1:])


def test_retain_patient_characteristics_and_device_identity_keep_their_rows() -> None:
    data = build_image()
    source = _read(data)
    source.PatientAge = "072Y"
    source.PatientWeight = "61.5"
    source.DeviceSerialNumber = "SYNSERIAL01"
    buffer = BytesIO()
    source.save_as(buffer)
    basic = _run(set(), buffer.getvalue())
    kept = _run({"retain-patient-characteristics", "retain-device-identity"}, buffer.getvalue())
    assert "PatientAge" not in basic or basic.PatientAge != "072Y"
    assert kept.PatientAge == "072Y" and kept.PatientWeight == 61.5 and kept.PatientSex == "F"
    assert kept.StationName == SYNTHETIC_PHI["StationName"] and kept.DeviceSerialNumber == "SYNSERIAL01"
    assert basic.get("StationName") != SYNTHETIC_PHI["StationName"]


def test_retain_uids_keeps_every_uid_row_so_references_stay_consistent() -> None:
    basic = load_basic_profile()
    retained = basic.with_options({"retain-uids"})
    for tag, rule in basic.exact.items():
        if rule.action is Action.REPLACE_UID and tag >> 16 > 0x0002:
            assert retained.rule_for(tag).action is Action.KEEP, rule.tag_text
    assert retained.unlisted_instance_uids is Action.KEEP


def test_retain_uids_keeps_instance_uids_and_references() -> None:
    output = _run({"retain-uids"}, build_image())
    assert output.StudyInstanceUID == "1.2.826.0.1.3680043.99.1"
    assert output.SOPInstanceUID == output.file_meta.MediaStorageSOPInstanceUID == "1.2.826.0.1.3680043.99.1.1.1"
    assert output.ReferencedImageSequence[0].ReferencedSOPInstanceUID == "1.2.826.0.1.3680043.99.556"
    assert output.PatientID != SYNTHETIC_PHI["PatientID"]


def test_clean_descriptors_keep_meaning_and_remove_identifying_text() -> None:
    output = _run({"clean-descriptors"}, _dated_image())
    description = output.StudyDescription
    assert "Follow-up" in description and "chest" in description
    for leaked in ("Synthetic", "Dora", "2024-02-29", "7734512"):
        assert leaked not in description
    assert "StudyDescription" not in _run(set(), _dated_image())


def test_clean_structured_content_keeps_the_tree_and_cleans_its_values() -> None:
    source = _read(build_image())
    text_item = Dataset()
    text_item.ValueType = "TEXT"
    text_item.RelationshipType = "CONTAINS"
    text_item.TextValue = "Patient Synthetic Alice seen 2024-02-29"
    text_item.PersonName = "Synthetic^Alice"
    source.ContentSequence = Sequence([text_item])
    buffer = BytesIO()
    source.save_as(buffer)
    cleaned = _run({"clean-structured-content"}, buffer.getvalue())
    basic = _run(set(), buffer.getvalue())
    assert len(basic.get("ContentSequence", [])) == 0
    assert len(cleaned.ContentSequence) == 1
    item = cleaned.ContentSequence[0]
    assert item.ValueType == "TEXT"
    assert "Synthetic" not in str(item.get("TextValue", "")) and "Alice" not in str(item.get("PersonName", ""))


def test_clean_graphics_keeps_overlay_plane_and_cleans_its_comment() -> None:
    source = _read(build_image())
    source.add_new(0x60000010, "US", 2)
    source.add_new(0x60000011, "US", 2)
    source.add_new(0x60000040, "CS", "G")
    source.add_new(0x60000050, "SS", [1, 1])
    source.add_new(0x60000100, "US", 1)
    source.add_new(0x60000102, "US", 0)
    source.add_new(0x60003000, "OW", b"\x0f\x00")
    source.add_new(0x60004000, "LT", "Marked by Synthetic Alice")
    buffer = BytesIO()
    source.save_as(buffer)
    kept = _run({"clean-graphics"}, buffer.getvalue())
    assert kept[0x60003000].value == b"\x0f\x00"
    assert "Synthetic" not in kept[0x60004000].value and "Marked by" in kept[0x60004000].value
    basic = _run(set(), buffer.getvalue())
    assert not any(element.tag.group >> 8 == 0x60 for element in walk_elements(basic))


CHANGING_OPTIONS = frozenset(OPTION_NAMES) - {"retain-longitudinal-full-dates", "retain-uids"}


@pytest.fixture(scope="module")
def optioned() -> Deidentifier:
    return Deidentifier(KeyedMapper(TEST_KEY), options=CHANGING_OPTIONS)


@pytest.mark.parametrize("path", sample_files(), ids=lambda path: path.name)
def test_sample_files_with_options_are_valid_and_leak_nothing_the_options_do_not_keep(
    path: Path, optioned: Deidentifier
) -> None:
    data = path.read_bytes()
    try:
        result = optioned.deidentify_bytes(data)
    except DeidentificationError as error:
        assert error.reason in {"not-dicom", "unreadable-dicom", "unsupported-object", "missing-instance-uid"}
        return
    with quiet_pydicom():
        original = pydicom.dcmread(BytesIO(data))
    cleaned_in_place = {
        value
        for element in walk_elements(original)
        if not element.tag.is_private
        and (rule := optioned.profile.rule_for(element.tag)) is not None
        and rule.action is Action.CLEAN
        for value in text_values(element)
    }
    originals = identifying_values(original, optioned.profile) - cleaned_in_place
    output = pydicom.dcmread(BytesIO(result.data), force=False)
    assert surviving_values(output, originals) == set()
    assert values_in_bytes(result.data, originals, output) == set()
    assert output.LongitudinalTemporalInformationModified == "MODIFIED"
    assert len(output.DeidentificationMethodCodeSequence) == 1 + len(CHANGING_OPTIONS)


def test_where_two_options_list_one_tag_retain_wins_over_clean(monkeypatch: pytest.MonkeyPatch) -> None:
    import deidentify.profile as profile_module

    def option(name: str, action: str) -> object:
        return parse_option(
            f'{{"option": "{name}", "code": "CleanDescriptorsOption", "edition": "e",'
            f' "rules": [{{"tag": "(0008,1010)", "keyword": "StationName", "action": "{action}"}}]}}',
            source=name,
        )

    crafted = {
        "clean-descriptors": option("clean-descriptors", "C"),
        "retain-device-identity": option("retain-device-identity", "K"),
    }
    monkeypatch.setattr(profile_module, "load_option", lambda name: crafted[name])
    both = load_basic_profile().with_options({"clean-descriptors", "retain-device-identity"})
    assert both.rule_for(0x00081010).action is Action.KEEP
    assert load_basic_profile().with_options({"clean-descriptors"}).rule_for(0x00081010).action is Action.CLEAN
