"""Reading and writing DICOM Part 10 bytes, failing closed and without leaking values.

pydicom reports odd values through warnings and its logger, and those messages can quote
header values; both are silenced while an object is read, cleaned and written.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from io import BytesIO

import pydicom
from pydicom.errors import InvalidDicomError
from pydicom.dataset import FileDataset
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID

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


def write_dicom(dataset: FileDataset) -> bytes:
    """Serialise as a Part 10 file with a blank preamble and this implementation's identity."""
    # A preamble may hold a TIFF header or anything else the sender put there.
    dataset.preamble = b"\x00" * 128
    dataset.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    dataset.file_meta.ImplementationVersionName = IMPLEMENTATION_VERSION_NAME
    buffer = BytesIO()
    try:
        dataset.save_as(buffer, enforce_file_format=True)
    except Exception as error:
        raise UnreadableDicomError(f"cannot be re-encoded ({type(error).__name__})") from None
    return buffer.getvalue()
