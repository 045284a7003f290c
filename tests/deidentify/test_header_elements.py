"""Every element: private blocks by creator, private sequences as UN, item character sets,
repeating groups, pixel bits, icons, DICOMDIR, and odd values (never a crash, never passed)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pydicom
import pytest
from pydicom.dataset import Dataset, FileDataset
from pydicom.sequence import Sequence
from pydicom.uid import (
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from deidentify.dicom_io import quiet_pydicom
from deidentify.engine import Deidentifier
from deidentify.errors import UnsupportedObjectError
from deidentify.keyed import KeyedMapper
from deidentify.profile import OPTION_NAMES
from tests.deidentify.deid_leak_scan import text_values, walk_elements
from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY
from tests.deidentify.synthetic import ct_dataset

ALL_OPTIONS = frozenset(OPTION_NAMES) - {"retain-longitudinal-full-dates"}
# Every option that changes values rather than keeping them (Retain UIDs keeps UIDs by design).
CHANGING_OPTIONS = ALL_OPTIONS - {"retain-uids"}
ENCODINGS = ("ascii", "latin-1", "utf-8", "iso2022_jp", "iso8859-7", "shift_jis")


def _base(transfer_syntax: str = ExplicitVRLittleEndian, sop_uid: str = "1.2.826.0.1.3680043.99.41.1") -> FileDataset:
    dataset = ct_dataset("1.2.826.0.1.3680043.99.41", "1.2.826.0.1.3680043.99.41.2", sop_uid,
                         patient_id="SYN-ELEM-0042", patient_name="Synthetic^Erin", transfer_syntax=transfer_syntax)
    dataset.Modality = "CT"
    return dataset


def _bytes(dataset: FileDataset, implicit: bool = False) -> bytes:
    buffer = BytesIO()
    big_endian = dataset.file_meta.TransferSyntaxUID == ExplicitVRBigEndian
    with quiet_pydicom():
        pydicom.dcmwrite(
            buffer, dataset, enforce_file_format=True, implicit_vr=implicit, little_endian=not big_endian
        )
    return buffer.getvalue()


def _deidentify(data: bytes, options: frozenset[str] = frozenset(), key: bytes = TEST_KEY) -> bytes:
    return Deidentifier(KeyedMapper(key), options=options).deidentify_bytes(data).data


def _assert_gone(output: bytes, secrets: list[str]) -> pydicom.Dataset:
    """No secret in any element value at any depth, nor in the bytes in any encoding; valid file."""
    dataset = pydicom.dcmread(BytesIO(output), force=False)
    values = [value for element in walk_elements(dataset) for value in text_values(element)]
    for secret in secrets:
        assert not any(secret in value for value in values), secret
        for encoding in ENCODINGS:
            try:
                encoded = secret.encode(encoding)
            except UnicodeEncodeError:
                continue
            assert encoded not in output, (secret, encoding)
    return dataset


@pytest.mark.parametrize("options", [frozenset(), ALL_OPTIONS], ids=["basic", "all-options"])
def test_private_blocks_are_found_by_creator_not_by_slot(options: frozenset[str]) -> None:
    dataset = _base()
    # The safe creator sits in an unusual slot; another creator holds the usual one.
    dataset.add_new(0x00190010, "LO", "SYNTHETIC OTHER VENDOR")
    dataset.add_new(0x0019100C, "LO", "SynPrivateSecretA")  # same element offset, unsafe creator
    dataset.add_new(0x00190041, "LO", "SIEMENS MR HEADER")
    dataset.add_new(0x0019410C, "IS", "1000")  # B_value: safe
    dataset.add_new(0x00194010, "LO", "SynPrivateSecretB")  # not on the safe list
    dataset.add_new(0x00090010, "LO", "SYNTHETIC VENDOR")
    dataset.add_new(0x00091001, "LO", "SynPrivateSecretC")
    output = _assert_gone(_deidentify(_bytes(dataset), options), ["SynPrivateSecret", "SYNTHETIC OTHER"])
    private = {element.tag: element.value for element in output.iterall() if element.tag.is_private}
    if "retain-safe-private" in options:
        assert private == {0x00190041: "SIEMENS MR HEADER", 0x0019410C: "1000"}
    else:
        assert private == {}


@pytest.mark.parametrize("implicit", [True, False], ids=["implicit-vr", "explicit-vr-un"])
def test_private_sequences_read_as_un_are_removed_with_everything_inside(implicit: bool) -> None:
    dataset = _base(ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian)
    inner = Dataset()
    inner.PatientName = "Hiddenprivate^Synthetic"
    inner.add_new(0x00291001, "LO", "SynDeepPrivate")
    dataset.add_new(0x00290010, "LO", "SYNTHETIC SEQ VENDOR")
    dataset.add_new(0x00291010, "SQ", Sequence([inner]))
    data = _bytes(dataset, implicit=implicit)
    if not implicit:  # rewrite the private SQ's VR as UN (undefined length), as a relay would
        data = data.replace(b"\x29\x00\x10\x10SQ\x00\x00", b"\x29\x00\x10\x10UN\x00\x00")
        assert pydicom.dcmread(BytesIO(data))[0x00291010].VR in ("UN", "SQ")
    for options in (frozenset(), ALL_OPTIONS):
        _assert_gone(_deidentify(data, options), ["Hiddenprivate", "SynDeepPrivate", "SYNTHETIC SEQ"])


def test_items_with_their_own_character_set_are_cleaned() -> None:
    dataset = _base()
    dataset.SpecificCharacterSet = "ISO_IR 100"
    dataset.PatientName = "Sýnthetic^Þóra"
    dataset.OperatorsName = "Ñobody^Óperator"
    japanese = Dataset()
    japanese.SpecificCharacterSet = ["", "ISO 2022 IR 87"]
    japanese.PersonName = "Yamada^Tarou=山田^太郎=やまだ^たろう"
    greek = Dataset()
    greek.SpecificCharacterSet = "ISO_IR 126"
    greek.PersonName = "Διονυσιος^Συνθετικός"
    greek.TextValue = "Σημείωση Συνθετικός 2024-02-29"
    dataset.ContentSequence = Sequence([japanese, greek])
    referenced_patient = Dataset()
    referenced_patient.SpecificCharacterSet = "ISO_IR 126"
    referenced_patient.PatientName = "Διονυσιος^Συνθετικός"
    dataset.ReferencedPatientSequence = Sequence([referenced_patient])
    for options in (frozenset(), ALL_OPTIONS):
        output = _assert_gone(
            _deidentify(_bytes(dataset), options),
            ["Sýnthetic", "Þóra", "Ñobody", "Yamada", "山田", "やまだ", "Διονυσιος", "Συνθετικός"],
        )
        assert output.SpecificCharacterSet == "ISO_IR 100"
        if "clean-structured-content" in options:  # cleaned text re-encoded in the item's own character set
            greek_out = output.ContentSequence[1]
            assert greek_out.SpecificCharacterSet == "ISO_IR 126"
            assert greek_out.TextValue.startswith("Σημείωση ***")


def test_repeating_groups_50xx_and_60xx_are_removed_in_every_group() -> None:
    dataset = _base()
    for group in (0x6000, 0x600E, 0x601E):
        dataset.add_new((group << 16) | 0x0010, "US", 1)
        dataset.add_new((group << 16) | 0x0022, "LO", "SynOverlayDescription")
        dataset.add_new((group << 16) | 0x3000, "OW", b"\x01\x00")
        dataset.add_new((group << 16) | 0x4000, "LT", "SynOverlayComment")
    for group in (0x5000, 0x501E):
        dataset.add_new((group << 16) | 0x0022, "LO", "SynCurveDescription")
        dataset.add_new((group << 16) | 0x3000, "OW", b"\x02\x00")
    output = _assert_gone(_deidentify(_bytes(dataset)), ["SynOverlay", "SynCurve"])
    assert not any(element.tag.group >> 8 in (0x50, 0x60) for element in output.iterall())


def _image_with_hidden_bits(signed: bool, transfer_syntax: str = ExplicitVRLittleEndian) -> tuple[bytes, list[int]]:
    dataset = _base(transfer_syntax)
    dataset.Rows, dataset.Columns = 2, 2
    dataset.SamplesPerPixel = 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit = 16, 12, 11
    dataset.PixelRepresentation = 1 if signed else 0
    values = [-5, 7, -2048, 2047] if signed else [5, 7, 4095, 0]
    raw = []
    for value in values:
        word = value & 0x0FFF
        if signed and value < 0:
            word |= 0xF000  # proper sign extension
        raw.append(word)
    raw[1] |= 0x2000  # embedded overlay bit 13 in a pixel whose stored value is 7
    raw[3] |= 0x1000  # bit 12 on a positive value
    dataset.add_new(0x60000010, "US", 2)
    dataset.add_new(0x60000011, "US", 2)
    dataset.add_new(0x60000100, "US", 16)  # Overlay Bits Allocated: embedded
    dataset.add_new(0x60000102, "US", 13)  # Overlay Bit Position
    order = "big" if transfer_syntax == ExplicitVRBigEndian else "little"
    dataset.PixelData = b"".join(word.to_bytes(2, order) for word in raw)
    return _bytes(dataset), values


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
@pytest.mark.parametrize("options", [frozenset(), ALL_OPTIONS], ids=["basic", "all-options"])
def test_embedded_overlay_bits_above_bits_stored_are_cleared(signed: bool, options: frozenset[str]) -> None:
    data, values = _image_with_hidden_bits(signed)
    output = pydicom.dcmread(BytesIO(_deidentify(data, options)), force=False)
    words = [int.from_bytes(output.PixelData[i : i + 2], "little") for i in range(0, 8, 2)]
    for word, value in zip(words, values):
        expected = value & 0x0FFF
        if signed and value & 0x800:
            expected |= 0xF000
        assert word == expected
    assert list(output.pixel_array.ravel()) == values
    assert not any(element.tag.group == 0x6000 for element in output.iterall())


def test_embedded_overlay_bits_are_cleared_in_big_endian_files() -> None:
    data, values = _image_with_hidden_bits(False, ExplicitVRBigEndian)
    output = pydicom.dcmread(BytesIO(_deidentify(data)), force=False)
    assert [int.from_bytes(output.PixelData[i : i + 2], "big") for i in range(0, 8, 2)] == values


def test_clean_pixel_bits_are_left_byte_identical() -> None:
    dataset = _base()
    dataset.Rows, dataset.Columns, dataset.SamplesPerPixel = 1, 2, 1
    dataset.PhotometricInterpretation = "MONOCHROME2"
    dataset.BitsAllocated, dataset.BitsStored, dataset.HighBit, dataset.PixelRepresentation = 16, 12, 11, 0
    dataset.PixelData = b"\xff\x0f\x01\x00"
    output = pydicom.dcmread(BytesIO(_deidentify(_bytes(dataset))))
    assert output.PixelData == b"\xff\x0f\x01\x00"


def test_icon_image_sequences_are_removed_at_any_depth() -> None:
    dataset = _base()
    icon = Dataset()
    icon.Rows, icon.Columns, icon.BitsAllocated = 1, 1, 8
    icon.PixelData = b"SynIconPixels\x00"[:2]
    icon.ImageComments = "SynIconComment"
    dataset.IconImageSequence = Sequence([icon])
    holder = Dataset()
    holder.IconImageSequence = Sequence([icon])
    holder.ReferencedSOPInstanceUID = "1.2.826.0.1.3680043.99.41.9"
    dataset.ReferencedImageSequence = Sequence([holder])
    for options in (frozenset(), ALL_OPTIONS):
        output = _assert_gone(_deidentify(_bytes(dataset), options), ["SynIconComment"])
        assert not any(element.keyword == "IconImageSequence" for element in output.iterall())


def test_dicomdir_is_quarantined_not_rewritten() -> None:
    path = Path(pydicom.__file__).parent / "data" / "test_files" / "dicomdirtests" / "DICOMDIR"
    with pytest.raises(UnsupportedObjectError, match="DICOMDIR"):
        _deidentify(path.read_bytes(), ALL_OPTIONS)


def test_odd_values_are_replaced_or_removed_never_passed_or_crashing() -> None:
    dataset = _base()
    dataset.PatientName = "Synthetic^Bob^^^"
    dataset.OtherPatientNames = ["Synthetic^Robert^", "Bobby^=^"]
    dataset.OperatorsName = ["Op^One^^", "Op^Two=オペ^二"]
    dataset.ReferringPhysicianName = "^^^^"
    dataset.FailedSOPInstanceUIDList = ["1.2.826.0.1.3680043.99.41.77", "", "1.2.826.0.1.3680043.99.41.78\x00"]
    dataset.add_new(0x00081155, "UI", "1.2.826.0.1.3680043.99.41.79 ")  # padded, at top level
    dataset.StudyDate = "2024"
    dataset.StudyTime = "99"
    dataset.AcquisitionDateTime = "20240229T1430"
    dataset.PatientBirthDate = "19510231"
    dataset.PatientAge = "SYNAGE"  # not a valid AS
    secrets = ["Synthetic", "Bobby", "Op^One", "オペ", "1.2.826.0.1.3680043.99.41.7", "20240229T1430", "19510231"]
    for options in (frozenset(), CHANGING_OPTIONS):
        output = _assert_gone(_deidentify(_bytes(dataset), options), secrets)
        for keyword in ("StudyDate", "StudyTime", "AcquisitionDateTime", "PatientBirthDate"):
            assert str(output.get(keyword, "") or "") in ("", "19000101", "000000.00", "19000101000000.000000")
        assert all(str(uid).startswith("2.25.") for uid in output.FailedSOPInstanceUIDList)
        assert str(output.get("PatientAge", "") or "") in ("", "000D")  # invalid age: not kept as text


def test_name_spelling_variants_without_patient_id_share_one_pseudonym() -> None:
    pseudonyms = set()
    for spelling in ("Synthetic^Bob^^^", "SYNTHETIC^BOB", "synthetic^bob=", "Synthetic^Bob "):
        dataset = _base()
        del dataset.PatientID
        dataset.PatientName = spelling
        pseudonyms.add(str(pydicom.dcmread(BytesIO(_deidentify(_bytes(dataset)))).PatientName))
    assert len(pseudonyms) == 1


def test_same_key_same_output_other_key_other_output_with_options() -> None:
    dataset = _base()
    dataset.StudyDate = "20240229"
    dataset.StudyDescription = "Synthetic follow-up"
    data = _bytes(dataset)
    first, second = _deidentify(data, CHANGING_OPTIONS), _deidentify(data, CHANGING_OPTIONS)
    other = _deidentify(data, CHANGING_OPTIONS, key=OTHER_KEY)
    assert first == second
    first_ds, other_ds = pydicom.dcmread(BytesIO(first)), pydicom.dcmread(BytesIO(other))
    for keyword in ("PatientID", "StudyInstanceUID", "SOPInstanceUID", "StudyDate"):
        assert first_ds[keyword].value != other_ds[keyword].value, keyword
