"""Dates in free text move by a patient's offset and keep the way they were written."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from deidentify.text.dates import shift_date_text

OFFSET = -400  # 2024-03-12 - 400 days = 2023-02-06 (a Monday)


@pytest.mark.parametrize(
    ("original", "shifted"),
    [
        ("2024-03-12", "2023-02-06"),
        ("2024/3/12", "2023/2/6"),
        ("2024-03-12T10:30:00", "2023-02-06T10:30:00"),
        ("20240312", "20230206"),
        ("03/12/2024", "02/06/2023"),      # month first unless told otherwise
        ("3/12/24", "2/6/23"),
        ("13/03/2024", "07/02/2023"),      # 13 cannot be a month: day first
        ("12th March 2024", "6th February 2023"),
        ("12 MAR 2024", "6 FEB 2023"),
        ("12-mar-2024", "6-feb-2023"),
        ("Tue, Mar. 12 2024", "Mon, Feb. 6 2023"),
        ("Tuesday, March 12th, 2024 at 9:15 AM", "Monday, February 6th, 2023 at 9:15 AM"),
        ("March 2024", "February 2023"),
        ("03/2024", "02/2023"),
        ("12 March", "6 February"),
        ("2024", "2023"),
        ("from 2024-03-12 to 2024-03-26", "from 2023-02-06 to 2023-02-20"),
    ],
)
def test_formats_are_kept(original: str, shifted: str) -> None:
    assert shift_date_text(original, OFFSET) == shifted


def test_day_first_settles_ambiguous_numeric_dates() -> None:
    assert shift_date_text("03/04/2024", OFFSET, day_first=True) == "28/02/2023"
    assert shift_date_text("03/04/2024", OFFSET, day_first=False) == "01/29/2023"


@pytest.mark.parametrize("offset", [-365, -366, -1000, -3650])
def test_the_shift_is_exactly_the_offset(offset: int) -> None:
    for day in (date(2024, 2, 29), date(2000, 1, 1), date(1951, 9, 23)):
        expected = day + timedelta(days=offset)
        assert shift_date_text(day.isoformat(), offset) == expected.isoformat()
        assert shift_date_text(day.strftime("%d %B %Y"), offset, day_first=True) == (
            f"{expected.day:02d} {expected:%B %Y}" if day.day < 10 else f"{expected.day} {expected:%B %Y}")


@pytest.mark.parametrize("original", ["2024-02-30", "31/04/2024", "12/03 and 14/03/2024", "last Easter", "Q3 2024",
                                      "Friday 12 March"])
def test_unparseable_dates_are_refused(original: str) -> None:
    assert shift_date_text(original, OFFSET) is None
