"""Reading and writing DICOM Part 10 bytes, failing closed and without leaking values.

pydicom reports odd values through warnings and its logger, and those messages can quote
header values; both are silenced while an object is read, cleaned and written.
"""

from __future__ import annotations

import contextlib
import logging
import struct
import warnings
from collections.abc import Iterator
from io import BytesIO

import pydicom
from pydicom.charset import convert_encodings
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement, RawDataElement, convert_raw_data_element
from pydicom.dataset import Dataset, FileDataset, validate_file_meta
from pydicom.errors import InvalidDicomError
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_data_element, write_dataset, write_file_meta_info
from pydicom.tag import BaseTag
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, UID
from pydicom.valuerep import EXPLICIT_VR_LENGTH_32

from deidentify.errors import NotDicomError, UnreadableDicomError

MEDIA_STORAGE_DIRECTORY_SOP_CLASS = "1.2.840.10008.1.3.10"
IMPLEMENTATION_VERSION_NAME = "TI_DEID_0_1"


@contextlib.contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Suppress pydicom's warnings and log records (they may quote header values)."""
    pydicom_logger = logging.getLogger("pydicom")
    previous_level = pydicom_logger.level
    pydicom_logger.setLevel(logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        pydicom_logger.setLevel(previous_level)


def read_dicom(data: bytes) -> FileDataset:
    """Parse Part 10 bytes (preamble, 'DICM', file meta). Raises NotDicomError / UnreadableDicomError."""
    if len(data) < 132 or data[128:132] != b"DICM":
        raise NotDicomError("no DICOM Part 10 preamble and 'DICM' prefix")
    try:
        dataset = pydicom.dcmread(BytesIO(data), force=False)
    except InvalidDicomError:
        raise NotDicomError("pydicom does not recognise the file as DICOM") from None
    except Exception as error:  # pydicom raises many types on damaged input
        raise UnreadableDicomError(f"parse failed ({type(error).__name__})") from None
    if "TransferSyntaxUID" not in dataset.file_meta:
        raise UnreadableDicomError("file meta has no Transfer Syntax UID")
    if len(dataset) == 0:
        raise UnreadableDicomError("no data set after the file meta")
    return dataset


def peek(dataset: Dataset, keyword: str, default: object = None) -> object:
    """``dataset.get(keyword, default)`` without keeping the decoded element: an element only
    read stays undecoded, so the writer copies its original bytes."""
    tag = tag_for_keyword(keyword)
    element = dataset._dict.get(tag) if tag is not None else None
    if element is None:
        return dataset.get(keyword, default)
    # A raw UN element is left to pydicom, which stores it under its dictionary VR.
    if isinstance(element, RawDataElement) and element.value is not None and element.VR != "UN" and tag != 0x00080005:
        encoding = dataset.original_character_set or dataset._character_set
        return convert_raw_data_element(element, encoding=encoding, ds=dataset).value
    return dataset.get(keyword, default)


def set_text(dataset: Dataset, keyword: str, vr: str, values: list[str]) -> None:
    """Give an element ASCII text values, stored encoded as pydicom's writer would encode them
    (padding: NUL for UI, space otherwise) so the writer copies them; pydicom decodes them on access."""
    tag = tag_for_keyword(keyword)
    encoding = dataset.original_encoding
    if tag is None or None in encoding or not all(value.isascii() for value in values):
        setattr(dataset, keyword, values[0] if len(values) == 1 else values)
        return
    element = raw_text_element(BaseTag(tag), vr, values, bool(encoding[0]), bool(encoding[1]))
    dataset._dict[element.tag] = element


def raw_text_element(tag: BaseTag, vr: str, values: list[str], implicit_vr: bool, little_endian: bool) -> RawDataElement:
    """ASCII text values encoded and padded as pydicom's writer would write them."""
    data = "\\".join(values).encode("ascii")
    if len(data) % 2:
        data += b"\x00" if vr == "UI" else b" "
    return RawDataElement(tag, vr, len(data), data, 0, implicit_vr, little_endian)


def write_dicom(dataset: FileDataset) -> bytes:
    """Serialise as a Part 10 file with a blank preamble and this implementation's identity."""
    # A preamble may hold a TIFF header or anything else the sender put there.
    dataset.preamble = b"\x00" * 128
    dataset.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    dataset.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    buffer = BytesIO()
    try:
        encoding = _direct_encoding(dataset)
        if encoding is None:
            dataset.save_as(buffer, enforce_file_format=True)
        else:
            _write_direct(buffer, dataset, encoding)
    except Exception as error:
        raise UnreadableDicomError(f"cannot be re-encoded ({type(error).__name__})") from None
    return buffer.getvalue()


# ---- direct writing --------------------------------------------------------------------------
# pydicom's writer spends most of its time on per-element bookkeeping for elements it copies
# unchanged. For public, non-deflated transfer syntaxes the data set is written here:
# unchanged (raw) elements are copied with their header, sequences are walked, and every other
# element goes through pydicom's own element writer. The bytes equal pydicom's (tested).

_UNDEFINED_LENGTH = 0xFFFFFFFF
_PIXEL_DATA = 0x7FE00010
_LONG_VRS = frozenset(str(vr) for vr in EXPLICIT_VR_LENGTH_32)


class _Layout:
    """Element and item headers in one byte order."""

    def __init__(self, order: str) -> None:
        self.explicit_16 = struct.Struct(order + "HH2sH").pack
        self.explicit_32 = struct.Struct(order + "HH2sHL").pack
        self.implicit = struct.Struct(order + "HHL").pack
        self.length = struct.Struct(order + "L").pack
        tag = struct.Struct(order + "HHL").pack
        self.item = tag(0xFFFE, 0xE000, _UNDEFINED_LENGTH)[:4]
        self.item_delimiter = tag(0xFFFE, 0xE00D, 0)
        self.sequence_delimiter = tag(0xFFFE, 0xE0DD, 0)


_LAYOUTS = {True: _Layout("<"), False: _Layout(">")}


def _direct_encoding(dataset: FileDataset) -> tuple[bool, bool] | None:
    """(implicit VR, little endian) when the data set can be written directly, else None."""
    syntax = dataset.file_meta.get("TransferSyntaxUID")
    if not isinstance(syntax, UID) or syntax.is_private or not syntax.is_transfer_syntax or syntax.is_deflated:
        return None
    return (syntax.is_implicit_VR, syntax.is_little_endian)


def _write_direct(buffer: BytesIO, dataset: FileDataset, encoding: tuple[bool, bool]) -> None:
    # What pydicom's dcmwrite(enforce_file_format=True) checks and writes before the data set.
    if any(tag >> 16 in (0, 2) for tag in dataset._dict):
        raise ValueError("command or file meta elements inside the data set")
    file_meta = dataset.file_meta
    sop_class = peek(dataset, "SOPClassUID")
    meta_class = file_meta.get("MediaStorageSOPClassUID", None)
    if meta_class is None or (sop_class and sop_class != meta_class):
        file_meta.MediaStorageSOPClassUID = sop_class
    sop_instance = peek(dataset, "SOPInstanceUID")
    meta_instance = file_meta.get("MediaStorageSOPInstanceUID", None)
    if meta_instance is None or (sop_instance and sop_instance != meta_instance):
        file_meta.MediaStorageSOPInstanceUID = sop_instance
    validate_file_meta(file_meta, enforce_standard=True)
    pixel_data = dataset._dict.get(_PIXEL_DATA)
    if pixel_data is not None:
        # PS3.5 A.4: encapsulated pixel data has undefined length, native pixel data a defined one.
        compressed = file_meta.TransferSyntaxUID.is_compressed
        if not (isinstance(pixel_data, RawDataElement) and (pixel_data.length == _UNDEFINED_LENGTH) == compressed):
            dataset["PixelData"].is_undefined_length = compressed
    fp = DicomBytesIO()
    fp.is_implicit_VR, fp.is_little_endian = False, True
    fp.write(dataset.preamble + b"DICM")
    write_file_meta_info(fp, file_meta, enforce_standard=True)
    fp.is_implicit_VR, fp.is_little_endian = encoding
    _write_dataset(fp, dataset, encoding, pydicom.charset.default_encoding)
    buffer.write(fp.getvalue())


def _write_dataset(fp: DicomBytesIO, dataset: Dataset, encoding: tuple[bool, bool], parent_encoding: object) -> None:
    if dataset.original_encoding != encoding or dataset.original_character_set != dataset._character_set:
        write_dataset(fp, dataset, parent_encoding)  # type: ignore[arg-type] - re-encoding: pydicom's own path
        return
    implicit = encoding[0]
    layout = _LAYOUTS[encoding[1]]
    elements = dataset._dict
    dataset_encoding = dataset.get("SpecificCharacterSet", parent_encoding)
    write = fp.write
    for tag in sorted(elements):
        if tag & 0xFFFF == 0 and tag >> 16 > 6:  # retired group lengths are not written
            continue
        element = elements[tag]
        if isinstance(element, RawDataElement):
            value = element.value
            vr = element.VR
            if (
                value is None
                or element.length == _UNDEFINED_LENGTH
                or element.is_buffered
                or (not implicit and (vr is None or len(vr) != 2))
            ):
                write_data_element(fp, dataset.get_item(tag), dataset_encoding)  # type: ignore[arg-type]
                continue
            length = len(value)
            if implicit:
                write(layout.implicit(tag >> 16, tag & 0xFFFF, length))
            elif vr in _LONG_VRS:
                write(layout.explicit_32(tag >> 16, tag & 0xFFFF, vr.encode(), 0, length))
            elif length <= 0xFFFF:
                write(layout.explicit_16(tag >> 16, tag & 0xFFFF, vr.encode(), length))
            else:  # too long for a 16-bit length: pydicom rewrites the VR as UN
                write_data_element(fp, element, dataset_encoding)  # type: ignore[arg-type]
                continue
            write(value)
        elif element.VR == "SQ":
            _write_sequence(fp, element, encoding, convert_encodings(dataset_encoding))  # type: ignore[arg-type]
        else:
            write_data_element(fp, element, dataset_encoding)  # type: ignore[arg-type]


def _write_sequence(fp: DicomBytesIO, element: DataElement, encoding: tuple[bool, bool], encodings: list[str]) -> None:
    layout = _LAYOUTS[encoding[1]]
    tag = element.tag
    undefined = element.is_undefined_length
    body = DicomBytesIO()
    body.is_implicit_VR, body.is_little_endian = encoding
    for item in element.value or ():
        body.write(layout.item)
        length_at = body.tell()
        body.write(b"\xff\xff\xff\xff")
        _write_dataset(body, item, encoding, encodings)
        if getattr(item, "is_undefined_length_sequence_item", False):
            body.write(layout.item_delimiter)
        else:
            end = body.tell()
            body.seek(length_at)
            body.write(layout.length(end - length_at - 4))
            body.seek(end)
    value = body.getvalue()
    length = _UNDEFINED_LENGTH if undefined else len(value)
    if encoding[0]:
        fp.write(layout.implicit(tag >> 16, tag & 0xFFFF, length))
    else:
        fp.write(layout.explicit_32(tag >> 16, tag & 0xFFFF, b"SQ", 0, length))
    fp.write(value)
    if undefined:
        fp.write(layout.sequence_delimiter)
