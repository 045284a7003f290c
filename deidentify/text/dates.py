"""Moving dates written in free text by a number of days, keeping the way they were written.

"12/03/2024", "2024-03-12", "20240312", "12th March 2024", "Tue, Mar. 12 2024", "March 2024",
"12 March" and "2024" are parsed and rewritten in the same format (widths, separators,
month-name style, ordinal suffix, weekday). Anything else containing digits is reported as
unparseable so the caller replaces it entirely.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                "October", "November", "December")
_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTH = (r"(?P<mon>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
          r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)(?![A-Za-z])"
          # an abbreviation's dot, not a full stop after "May" or "March"
          r"(?P<dot>(?:(?<=Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec)|(?<=Sept))\.)?")
_WEEKDAY = re.compile(r"\b(?:Mon|Tue|Tues|Wed|Thu|Thur|Thurs|Fri|Sat|Sun)(?:day|nesday|rsday|urday|sday)?\b\.?",
                      re.IGNORECASE)
_ORDINAL = r"(?P<ord>st|nd|rd|th)?"
_TIME_OF_DAY = re.compile(
    r"(?<!\d)[0-2]?\d:[0-5]\d(?::[0-5]\d(?:\.\d+)?)?(?:\s?[AaPp]\.?[Mm]\.?)?|\b[AaPp]\.?[Mm]\b\.?"
)
# Two-digit years: 00-49 are 20xx, 50-99 are 19xx (fixed, so output never depends on today).
_PIVOT = 50
# A date with no year is moved as if it were in a leap year, so 29 February stays valid.
_YEARLESS_REFERENCE = 2000


@dataclass(frozen=True)
class _Format:
    pattern: re.Pattern[str]
    render: Callable[[re.Match[str], int, bool], tuple[str, date | None] | None]


def shift_date_text(text: str, offset_days: int, *, day_first: bool = False) -> str | None:
    """`text` with every date in it moved by `offset_days`, or None when a date in it cannot
    be parsed (invalid day, ambiguous leftovers): the caller then replaces the whole text."""
    pieces: list[str] = []
    position = 0
    weekday_date: date | None = None
    found_any = False
    while True:
        best: tuple[int, int, re.Match[str], _Format] | None = None
        for priority, form in enumerate(_FORMATS):
            match = form.pattern.search(text, position)
            if match and (best is None or (match.start(), priority) < (best[0], best[1])):
                best = (match.start(), priority, match, form)
        if best is None:
            break
        _, _, match, form = best
        rendered = form.render(match, offset_days, day_first)
        if rendered is None:
            return None
        pieces.append(text[position:match.start()])
        pieces.append(rendered[0])
        weekday_date = weekday_date or rendered[1]
        position = match.end()
        found_any = True
    pieces.append(text[position:])
    if not found_any:
        return None
    shifted = "".join(pieces)
    if _WEEKDAY.search(shifted):
        if weekday_date is None:
            return None  # a weekday next to a date without a year cannot be kept consistent
        shifted = _WEEKDAY.sub(lambda m: _styled_weekday(m.group(), weekday_date), shifted)
    # Digits outside the recognised dates and times of day may belong to a date that was not
    # understood (e.g. '12/03 & 14/03/2024'): then nothing of the text is kept.
    untouched = "".join(pieces[0::2])
    if re.search(r"\d", _TIME_OF_DAY.sub("", untouched)):
        return None
    return shifted


def _shift(day: date, offset_days: int) -> date | None:
    try:
        return day + timedelta(days=offset_days)
    except OverflowError:
        return None


def _valid(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _full_year(digits: str) -> int:
    value = int(digits)
    if len(digits) == 4:
        return value
    return 2000 + value if value < _PIVOT else 1900 + value


def _year_text(year: int, like: str) -> str:
    if len(like) == 4:
        return f"{year:04d}"
    return f"{year % 100:02d}"


def _number(value: int, padded: bool) -> str:
    return f"{value:02d}" if padded else str(value)


def _padded(*fields: str) -> bool:
    """Whether a date's day/month fields were written zero-padded ('03', or all two digits)."""
    return any(field.startswith("0") for field in fields) or all(len(field) == 2 for field in fields)


def _styled_month(month: int, like: str, dot: str) -> str:
    """Month `month` written like the original month word: full or abbreviated, same case."""
    full = _MONTH_NAMES[month - 1]
    lowered = like.lower()
    abbreviated = lowered != _MONTH_NAMES[_month_number(like) - 1].lower()
    if not abbreviated:
        word = full
    elif lowered == "sept" and month == 9:
        word = "Sept"
    else:
        word = full[:3]
    return _cased(word, like) + ((dot or "") if len(word) < len(full) else "")


def _styled_weekday(like: str, day: date) -> str:
    dot = "." if like.endswith(".") else ""
    bare = like.rstrip(".")
    full = _WEEKDAY_NAMES[day.weekday()]
    word = full if len(bare) > 4 or bare.lower().endswith("day") else full[:3]
    return _cased(word, bare) + dot


def _cased(word: str, like: str) -> str:
    if like.isupper():
        return word.upper()
    if like.islower():
        return word.lower()
    return word


def _ordinal(day: int, like: str | None) -> str:
    if not like:
        return ""
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return _cased(suffix, like)


def _month_number(name: str) -> int:
    return next(index for index, full in enumerate(_MONTH_NAMES, 1) if full.lower().startswith(name[:3].lower()))


def _render_iso(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    original = _valid(int(match["y"]), int(match["m"]), int(match["d"]))
    moved = original and _shift(original, offset)
    if moved is None:
        return None
    separator, padded = match["sep"], _padded(match["m"], match["d"])
    text = f"{moved.year:04d}{separator}{_number(moved.month, padded)}{separator}{_number(moved.day, padded)}"
    return text, moved


def _render_compact(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    original = _valid(int(match["y"]), int(match["m"]), int(match["d"]))
    moved = original and _shift(original, offset)
    return None if moved is None else (moved.strftime("%Y%m%d"), moved)


def _render_numeric(match: re.Match[str], offset: int, day_first: bool) -> tuple[str, date | None] | None:
    first, second = int(match["a"]), int(match["b"])
    if first > 12 and second <= 12:
        day_first = True
    elif second > 12 and first <= 12:
        day_first = False
    day_text, month_text = (match["a"], match["b"]) if day_first else (match["b"], match["a"])
    original = _valid(_full_year(match["y"]), int(month_text), int(day_text))
    moved = original and _shift(original, offset)
    if moved is None:
        return None
    padded = _padded(day_text, month_text)
    day_out, month_out = _number(moved.day, padded), _number(moved.month, padded)
    first_out, second_out = (day_out, month_out) if day_first else (month_out, day_out)
    separator = match["sep"]
    return f"{first_out}{separator}{second_out}{separator}{_year_text(moved.year, match['y'])}", moved


def _day_words(day: date, match: re.Match[str]) -> str:
    """The day of a month-name date as written: '6', '06', '6th', '6th of'."""
    number = _number(day.day, match["d"].startswith("0"))
    return f"{number}{_ordinal(day.day, match['ord'])}{match.groupdict().get('of') or ''}"


def _month_word(day: date, match: re.Match[str]) -> str:
    return _styled_month(day.month, match["mon"], match["dot"])


def _moved_named(match: re.Match[str], year: int, offset: int) -> date | None:
    original = _valid(year, _month_number(match["mon"]), int(match["d"]))
    return original and _shift(original, offset)


def _render_day_month_year(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    year_digits = match["y"].lstrip("'")
    moved = _moved_named(match, _full_year(year_digits), offset)
    if moved is None:
        return None
    apostrophe = "'" if match["y"].startswith("'") else ""
    year = _year_text(moved.year, year_digits)
    return f"{_day_words(moved, match)}{match['s1']}{_month_word(moved, match)}{match['s2']}{apostrophe}{year}", moved


def _render_month_day_year(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    moved = _moved_named(match, int(match["y"]), offset)
    if moved is None:
        return None
    return f"{_month_word(moved, match)}{match['s1']}{_day_words(moved, match)}{match['s2']}{moved.year:04d}", moved


def _render_month_year(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    # The middle of the month, so the shifted month is the one the interval points to.
    moved = _shift(date(int(match["y"]), _month_number(match["mon"]), 15), offset)
    if moved is None:
        return None
    return f"{_month_word(moved, match)}{match['s1']}{moved.year:04d}", None


def _render_numeric_month_year(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    original = _valid(int(match["y"]), int(match["m"]), 15)
    moved = original and _shift(original, offset)
    if moved is None:
        return None
    return f"{_number(moved.month, match['m'].startswith('0'))}{match['sep']}{moved.year:04d}", None


def _render_day_month(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    moved = _moved_named(match, _YEARLESS_REFERENCE, offset)
    return None if moved is None else (f"{_day_words(moved, match)}{match['s1']}{_month_word(moved, match)}", None)


def _render_month_day(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    moved = _moved_named(match, _YEARLESS_REFERENCE, offset)
    return None if moved is None else (f"{_month_word(moved, match)}{match['s1']}{_day_words(moved, match)}", None)


def _render_year(match: re.Match[str], offset: int, _: bool) -> tuple[str, date | None] | None:
    # Mid-year, so a year moves by the whole years in the offset (and one more past half a year).
    moved = _shift(date(int(match["y"]), 7, 2), offset)
    return None if moved is None else (f"{moved.year:04d}", None)


def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


_FORMATS = (
    _Format(_compiled(r"(?<!\d)(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\d)"), _render_iso),
    _Format(_compiled(r"(?<!\d)(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?!\d)"), _render_compact),
    _Format(_compiled(r"(?<!\d)(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})(?!\d)"),
            _render_numeric),
    _Format(_compiled(rf"(?<!\d)(?P<d>\d{{1,2}}){_ORDINAL}(?P<of>\s+of)?(?P<s1>[\s-]+){_MONTH}(?P<s2>[\s,-]+)"
                      r"(?P<y>\d{4}|'\d{2}|\d{2})(?![\d:])"), _render_day_month_year),
    _Format(_compiled(rf"{_MONTH}(?P<s1>\s+)(?P<d>\d{{1,2}}){_ORDINAL}(?P<s2>,?\s+)(?P<y>\d{{4}})(?!\d)"),
            _render_month_day_year),
    _Format(_compiled(rf"{_MONTH}(?P<s1>,?\s+|-)(?P<y>\d{{4}})(?!\d)"), _render_month_year),
    _Format(_compiled(r"(?<![\d/.-])(?P<m>0?[1-9]|1[0-2])(?P<sep>[/.-])(?P<y>\d{4})(?!\d)"),
            _render_numeric_month_year),
    _Format(_compiled(rf"(?<!\d)(?P<d>\d{{1,2}}){_ORDINAL}(?P<of>\s+of)?(?P<s1>[\s-]+){_MONTH}"), _render_day_month),
    _Format(_compiled(rf"{_MONTH}(?P<s1>\s+)(?P<d>\d{{1,2}}){_ORDINAL}(?!\d)"), _render_month_day),
    _Format(_compiled(r"(?<!\d)(?P<y>1[89]\d\d|2\d\d\d)(?!\d)"), _render_year),
)
