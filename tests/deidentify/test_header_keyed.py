"""Keyed per-patient date offsets and the burned-in-text quarantine reason."""

from __future__ import annotations

from deidentify.errors import BurnedInTextError, DeidentificationError
from deidentify.keyed import DATE_OFFSET_MAX_DAYS, DATE_OFFSET_MIN_DAYS, KeyedMapper
from tests.deidentify.deid_samples import OTHER_KEY, TEST_KEY


def test_date_offset_is_stable_across_mappers_with_one_key() -> None:
    first = KeyedMapper(TEST_KEY).date_offset_days("PATIENT^SYNTHETIC|ID-0001")
    second = KeyedMapper(TEST_KEY).date_offset_days("PATIENT^SYNTHETIC|ID-0001")
    assert first == second
    assert isinstance(first, int)


def test_date_offsets_are_negative_whole_days_in_range_and_spread() -> None:
    mapper = KeyedMapper(TEST_KEY)
    offsets = {mapper.date_offset_days(f"synthetic-{n}") for n in range(200)}
    assert all(DATE_OFFSET_MIN_DAYS <= offset <= DATE_OFFSET_MAX_DAYS < 0 for offset in offsets)
    assert len(offsets) > 150


def test_date_offset_differs_per_patient_and_per_key() -> None:
    mapper, other = KeyedMapper(TEST_KEY), KeyedMapper(OTHER_KEY)
    patients = [f"synthetic-{n}" for n in range(20)]
    assert len({mapper.date_offset_days(p) for p in patients}) > 15
    assert sum(mapper.date_offset_days(p) != other.date_offset_days(p) for p in patients) >= 18


def test_burned_in_text_error_is_a_quarantine_reason() -> None:
    error = BurnedInTextError("ocr found text near the top edge")
    assert isinstance(error, DeidentificationError)
    assert error.reason == "burned-in-text"
    assert str(error) == "burned-in-text: ocr found text near the top edge"
