"""Pure timing decisions with an explicit `now`: the next feed check, the next digest, quiet
hours."""

from __future__ import annotations

import datetime as dt
import functools
import re
import zlib
import zoneinfo
from collections.abc import Sequence
from zoneinfo import ZoneInfo

MAX_BACKOFF = dt.timedelta(hours=6)
MAX_RETRY_AFTER = dt.timedelta(hours=24)
JITTER = 0.1  # ± share of the interval, so that feeds do not all fall due together


def _jitter(key: str) -> float:
    """A stable fraction in [-JITTER, JITTER] for `key`."""
    return (zlib.crc32(key.encode()) / 0xFFFFFFFF * 2 - 1) * JITTER


def next_feed_check(
    now: dt.datetime,
    *,
    interval: float,
    failures: int = 0,
    retry_after: float | None = None,
    key: str = "",
) -> dt.datetime:
    """After a success (failures=0): about `interval` seconds on. After failures: the
    interval doubled per failure, at most MAX_BACKOFF, and never before `retry_after`."""
    seconds = interval * (2 ** min(failures, 20))
    seconds = min(seconds, max(interval, MAX_BACKOFF.total_seconds()))
    seconds *= 1 + _jitter(key)
    if retry_after is not None:
        seconds = max(seconds, min(retry_after, MAX_RETRY_AFTER.total_seconds()))
    return now + dt.timedelta(seconds=seconds)


def _clock(text: str) -> dt.time:
    hours, minutes = text.split(":")
    return dt.time(int(hours), int(minutes))


def next_digest(
    now: dt.datetime, times: Sequence[str], zone: ZoneInfo, *, weekdays_only: bool = False
) -> dt.datetime | None:
    """The first digest time strictly after `now` (UTC), local times read in `zone`.

    Across DST changes no slot is skipped or doubled: a local time that does not exist (the
    spring gap) is read with the offset before the change, so it lands just after the gap; a
    local time that happens twice (the autumn fold) is taken once, at its first occurrence."""
    if not times:
        return None
    today = now.astimezone(zone).date()
    clocks = sorted(_clock(t) for t in times)
    for days in range(8):
        date = today + dt.timedelta(days=days)
        if weekdays_only and date.weekday() >= 5:
            continue
        for clock in clocks:
            local = dt.datetime.combine(date, clock, tzinfo=zone)  # fold=0: the first
            moment = local.astimezone(dt.UTC)
            if moment > now:
                return moment
    return None


def in_quiet_hours(now: dt.datetime, zone: ZoneInfo, start: str | None, end: str | None) -> bool:
    """Whether `now` falls in the chat's quiet hours [start, end), which may cross midnight."""
    if not start or not end:
        return False
    local = now.astimezone(zone).time()
    begin, finish = _clock(start), _clock(end)
    if begin <= finish:
        return begin <= local < finish
    return local >= begin or local < finish


_TIME = re.compile(r"([01]?\d|2[0-3])[:.]([0-5]\d)")
ZONE_ALIASES = {
    "kyiv": "Europe/Kyiv",
    "kiev": "Europe/Kyiv",
    "київ": "Europe/Kyiv",
    "ukraine": "Europe/Kyiv",
    "україна": "Europe/Kyiv",
    "utc": "UTC",
    "warsaw": "Europe/Warsaw",
    "london": "Europe/London",
    "berlin": "Europe/Berlin",
    "new york": "America/New_York",
}
MAX_DIGEST_TIMES = 6


def parse_time(text: str) -> str | None:
    """`8:00`, `08.00` → `08:00`; None for anything else."""
    m = _TIME.fullmatch(text.strip())
    return f"{int(m.group(1)):02d}:{m.group(2)}" if m else None


def parse_times(words: Sequence[str]) -> tuple[str, ...] | None:
    """Digest times from a reader's words, sorted and distinct; None if any is not a time."""
    times = [parse_time(w) for w in words]
    if not times or any(t is None for t in times) or len(times) > MAX_DIGEST_TIMES:
        return None
    return tuple(sorted({t for t in times if t}))


def parse_quiet(text: str) -> tuple[str, str] | None:
    """`23:00-07:00` → ("23:00", "07:00")."""
    parts = re.split(r"\s*[-–—]\s*|\s+", text.strip())
    if len(parts) != 2:
        return None
    start, end = parse_time(parts[0]), parse_time(parts[1])
    return (start, end) if start and end and start != end else None


def parse_zone(text: str) -> str | None:
    """An IANA zone from what a reader typed (any case; a few city names too)."""
    word = " ".join(text.split())
    if not word:
        return None
    alias = ZONE_ALIASES.get(word.casefold())
    if alias:
        return alias
    return _zones().get(word.casefold())


@functools.cache
def _zones() -> dict[str, str]:
    """Every IANA zone by its case-folded name (reading them all takes ~12 ms: once)."""
    return {z.casefold(): z for z in zoneinfo.available_timezones()}
