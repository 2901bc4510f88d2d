"""Dates as feeds write them, Ukrainian ones included, into aware UTC datetimes.

A date that names no possible moment of news (year 1, year 9999 with an offset that passes the
end of the calendar, before EARLIEST) is no date: these functions return None, never raise.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
import time
from zoneinfo import ZoneInfo

EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)  # no news site published before this
# What a date from outside can raise on its way to UTC: a bad field, a year past the calendar.
_BAD = (ValueError, OverflowError, TypeError, IndexError)

_MONTH_STEMS = {
    "січ": 1,
    "лют": 2,
    "бер": 3,
    "кві": 4,
    "кв": 4,
    "тра": 5,
    "чер": 6,
    "лип": 7,
    "сер": 8,
    "вер": 9,
    "жов": 10,
    "лис": 11,
    "гру": 12,
}
_EN_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_WEEKDAYS = r"(?:пн|вт|ср|чт|пт|сб|нд|понеділок|вівторок|середа|четвер|п'ятниця|субота|неділя)"
_TZ = r"(?P<tz>[+-]\d{2}:?\d{2}|z|utc|gmt)?"
_TIME = r"(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2}))?"
# 29 квітня 2024 18:00, 29 квітня 2024 р., 18:00, 29 квітня 2024 року о 18:00
_UK_WORDS = re.compile(
    rf"^(?:{_WEEKDAYS},?\s+)?(?P<d>\d{{1,2}})\s+(?P<mon>[а-яіїєґ']+)\.?,?\s+(?P<y>\d{{4}})"
    rf"(?:\s*(?:р\.|року|р))?(?:,?\s*(?:о\s+)?{_TIME})?\s*{_TZ}$",
    re.IGNORECASE,
)
# 29.04.2024 18:00
_DOTTED = re.compile(
    rf"^(?P<d>\d{{1,2}})\.(?P<mo>\d{{1,2}})\.(?P<y>\d{{4}})(?:,?\s+{_TIME})?\s*{_TZ}$", re.I
)


_RFC822_YEAR = re.compile(r"^(?:[a-z]+,?\s*)?\d{1,2}\s+[a-z]+\.?\s+(?P<y>\d+)\b", re.I)


def _month(word: str) -> int | None:
    word = word.lower()
    for stem, number in _MONTH_STEMS.items():
        if word.startswith(stem):
            return number
    return None


def _offset(tz: str | None, default: dt.tzinfo) -> dt.tzinfo:
    if not tz:
        return default
    if tz.lower() in ("z", "utc", "gmt"):
        return dt.UTC
    sign = 1 if tz[0] == "+" else -1
    digits = tz[1:].replace(":", "")
    return dt.timezone(sign * dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def _build(m: re.Match[str], month: int, default: dt.tzinfo) -> dt.datetime:
    return dt.datetime(
        int(m["y"]),
        month,
        int(m["d"]),
        int(m["h"] or 0),
        int(m["mi"] or 0),
        int(m["s"] or 0),
        tzinfo=_offset(m["tz"], default),
    )


def _plausible(when: dt.datetime | None) -> dt.datetime | None:
    """`when` in UTC, or None for a moment before EARLIEST or past the calendar's end."""
    if when is None:
        return None
    try:
        utc = when.astimezone(dt.UTC)
    except _BAD:
        return None
    return utc if utc >= EARLIEST else None


def _english_rfc822(raw: str) -> str:
    """`Пн, 29 кві 2024 18:00:00 +0300` → `29 Apr 2024 18:00:00 +0300`."""
    text = re.sub(rf"^{_WEEKDAYS},?\s*", "", raw.strip(), flags=re.I)

    def month(m: re.Match[str]) -> str:
        number = _month(m.group(0))
        return _EN_MONTHS[number - 1] if number else m.group(0)

    return re.sub(r"[а-яіїєґ]+\.?", month, text, flags=re.I)


def parse_date(raw: str | None, default_tz: ZoneInfo) -> dt.datetime | None:
    """The moment `raw` names, in UTC; times without an offset are in `default_tz`. None when
    it names none (or none since EARLIEST); never raises."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 200:
        return None
    try:
        return _plausible(_parse(raw, default_tz))
    except _BAD:
        return None


def _parse(raw: str, default_tz: ZoneInfo) -> dt.datetime | None:
    text = " ".join(raw.split())
    if m := _UK_WORDS.match(text):
        month = _month(m["mon"])
        return _build(m, month, default_tz) if month else None
    if m := _DOTTED.match(text):
        return _build(m, int(m["mo"]), default_tz)
    try:
        parsed = dt.datetime.fromisoformat(text.replace(" ", "T", 1) if "T" not in text else text)
    except ValueError:
        parsed = None
    if parsed is None:
        rfc822 = _english_rfc822(text)
        year = _RFC822_YEAR.match(rfc822)
        if year and len(year["y"]) > 2 and int(year["y"]) < 1000:
            return None  # email.utils takes "0001" for 2001, as it would "01"
        parsed = email.utils.parsedate_to_datetime(rfc822)
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            # email.utils leaves "-0000" (UTC, RFC 2822) naive, like a date with no zone at all.
            zoned = re.search(r"(?:[+-]\d{4}|gmt|utc|ut|z)$", text, re.I)
            parsed = parsed.replace(tzinfo=dt.UTC if zoned else default_tz)
    elif parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=default_tz)
    return parsed


def from_struct(value: time.struct_time | None) -> dt.datetime | None:
    """feedparser's `*_parsed` (UTC struct_time) as an aware datetime; None for no possible
    date; never raises."""
    if value is None:
        return None
    try:
        return _plausible(dt.datetime(*value[:6], tzinfo=dt.UTC))
    except _BAD:
        return None
