"""Feeds and their health: last attempt and success, failures, errors, next check."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select

from storage.db import Database, insert_ignoring
from storage.errors import NotFound
from storage.models import FeedRow
from storage.types import Feed


def _feed(row: FeedRow) -> Feed:
    return Feed(
        id=row.id,
        url=row.url,
        title=row.title,
        etag=row.etag,
        last_modified=row.last_modified,
        last_attempt=row.last_attempt,
        last_success=row.last_success,
        failures=row.failures,
        last_error=row.last_error,
        warning=row.warning,
        next_check=row.next_check,
        dropped=row.dropped,
    )


async def ensure(db: Database, urls: Sequence[str], now: dt.datetime) -> list[Feed]:
    """The feeds at `urls` (added, due at once, when new), in the order given."""
    async with db.transaction() as s:
        rows = {r.url: r for r in (await s.execute(select(FeedRow))).scalars()}
        missing = [url for url in dict.fromkeys(urls) if url not in rows]
        if missing:
            # Replicas starting together add the same feeds: the second's rows give way.
            await s.execute(
                insert_ignoring(s, FeedRow),
                [{"url": url, "title": "", "failures": 0, "next_check": now} for url in missing],
            )
            added = await s.scalars(select(FeedRow).where(FeedRow.url.in_(missing)))
            rows.update((r.url, r) for r in added)
        return [_feed(rows[url]) for url in dict.fromkeys(urls)]


async def get(db: Database, feed_id: int) -> Feed:
    async with db.reading() as s:
        row = await s.get(FeedRow, feed_id)
        if row is None:
            raise NotFound(f"feed {feed_id} not found")
        return _feed(row)


async def record_success(
    db: Database,
    feed_id: int,
    *,
    now: dt.datetime,
    next_check: dt.datetime,
    title: str | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    warning: str | None = None,
    not_modified: bool = False,
    dropped: int = 0,
) -> Feed:
    """A poll that worked; `dropped` counts the items it could not use (bad links, …)."""
    async with db.transaction() as s:
        row = await s.get(FeedRow, feed_id)
        if row is None:
            raise NotFound(f"feed {feed_id} not found")
        row.last_attempt = row.last_success = now
        row.failures, row.last_error, row.next_check = 0, None, next_check
        if not not_modified:
            row.etag, row.last_modified, row.warning = etag, last_modified, warning
            row.dropped = dropped
            if title:
                row.title = title[:512]
        await s.flush()
        return _feed(row)


async def record_failure(
    db: Database, feed_id: int, *, now: dt.datetime, error: str, next_check: dt.datetime
) -> Feed:
    async with db.transaction() as s:
        row = await s.get(FeedRow, feed_id)
        if row is None:
            raise NotFound(f"feed {feed_id} not found")
        row.last_attempt, row.next_check = now, next_check
        row.failures += 1
        row.last_error = error[:1024]
        await s.flush()
        return _feed(row)


async def listed(db: Database) -> list[Feed]:
    """Every feed, in the order they were added."""
    async with db.reading() as s:
        return [_feed(r) for r in (await s.scalars(select(FeedRow).order_by(FeedRow.id)))]
