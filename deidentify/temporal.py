"""Date and time values shifted by a patient's keyed offset (Retain Longitudinal, Modified Dates).

Every value either comes out shifted (DA, DT) or normalised (TM), or comes out empty: a
partial, malformed or out-of-range value is never passed through unchanged and never raises.

- DA ``YYYYMMDD`` (and the ACR-NEMA ``YYYY.MM.DD``) -> shifted ``YYYYMMDD``.
- DT ``YYYY[MM[DD[HH[MM[SS[.F{1,6}]]]]]][&ZZXX]`` -> the date part shifted, keeping the
  precision, the time, the fraction and the UTC offset. A year-only or year-month value is
  shifted from its first day and truncated back to the same precision.
- TM: the offset is whole days, so the time of day of a valid value is kept (intervals
  within a day and across DA+TM pairs stay exact); ``HH:MM:SS`` (ACR-NEMA) is normalised.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

_DA = re.compile(r"^(\d{4})\.?(\d{2})\.?(\d{2})$")
_DT = re.compile(
    r"^(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(\.\d{1,6})?)?)?)?)?)?([+-]\d{4})?$"
)
_TM = re.compile(r"^(\d{2})(?::?(\d{2})(?::?(\d{2})(\.\d{1,6})?)?)?$")


def shift_date(value: str, offset_days: int) -> str:
    """One DA value shifted by whole days, or '' when it is not a complete valid date."""
    match = _DA.match(value.strip(" \x00"))
    if match is None:
        return ""
    shifted = _shifted(int(match[1]), int(match[2]), int(match[3]), offset_days)
    return "" if shifted is None else shifted.strftime("%Y%m%d").zfill(8)


def shift_datetime(value: str, offset_days: int) -> str:
    """One DT value with its date part shifted, or '' when it cannot be read."""
    match = _DT.match(value.strip(" \x00"))
    if match is None:
        return ""
    year, month, day, hour, minute, second, fraction, utc_offset = match.groups()
    if not _valid_time(hour, minute, second) or (utc_offset and not _valid_utc_offset(utc_offset)):
        return ""
    shifted = _shifted(int(year), int(month or 1), int(day or 1), offset_days)
    if shifted is None:
        return ""
    text = f"{shifted.year:04d}"
    if month:
        text += f"{shifted.month:02d}"
    if day:
        text += f"{shifted.day:02d}"
    return text + (hour or "") + (minute or "") + (second or "") + (fraction or "") + (utc_offset or "")


def normalise_time(value: str) -> str:
    """One TM value in DICOM form (the day offset leaves the time of day unchanged), or ''."""
    match = _TM.match(value.strip(" \x00"))
    if match is None:
        return ""
    hour, minute, second, fraction = match.groups()
    if not _valid_time(hour, minute, second):
        return ""
    return hour + (minute or "") + (second or "") + (fraction or "" if second else "")


def _shifted(year: int, month: int, day: int, offset_days: int) -> date | None:
    try:
        return date(year, month, day) + timedelta(days=offset_days)
    except (ValueError, OverflowError):
        return None


def _valid_time(hour: str | None, minute: str | None, second: str | None) -> bool:
    # Second 60 is a leap second, allowed by PS3.5.
    return (hour is None or int(hour) < 24) and (minute is None or int(minute) < 60) and (
        second is None or int(second) <= 60
    )


def _valid_utc_offset(text: str) -> bool:
    hours, minutes = int(text[1:3]), int(text[3:5])
    return hours <= 14 and minutes < 60


SHIFTERS = {"DA": shift_date, "DT": shift_datetime}


def shift_values(vr: str, values: list[str], offset_days: int) -> list[str]:
    """Every value of a DA/DT/TM element shifted or normalised; unreadable ones dropped."""
    if vr == "TM":
        converted = [normalise_time(value) for value in values]
    else:
        shifter = SHIFTERS[vr]
        converted = [shifter(value, offset_days) for value in values]
    return [value for value in converted if value]
