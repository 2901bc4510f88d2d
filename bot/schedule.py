"""Pure timing decisions with an explicit `now`: when a feed is next checked."""

from __future__ import annotations

import datetime as dt
import zlib

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
