"""Test keys and the DICOM sample files shipped inside the pydicom wheel."""

from __future__ import annotations

from pathlib import Path

from pydicom.data import get_charset_files, get_testdata_files

TEST_KEY = b"test-key-for-deid-unit-tests-0123456789"
OTHER_KEY = b"another-key-for-deid-unit-tests-987654321"


def sample_files() -> list[Path]:
    """DICOM files shipped inside the pydicom wheel (never downloaded)."""
    files = [Path(name) for name in get_testdata_files() + get_charset_files()]
    return sorted(path for path in files if path.is_file())
