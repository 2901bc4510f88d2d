"""Digest planning's reads and writes, each database in its own words: the chats due at a slot
read a chunk at a time, alike ones grouped by the database, and chats moved on to their next
digest in bulk. The statements go to the driver as they are (the planner's hot path skips
SQLAlchemy's compiling and typing); storage.chats is where callers find them.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import json
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from storage.db import Database
from storage.types import DueGroup, Mode

# One chunk of the chats due at one slot, after a rowid, in the order of the index on
# next_digest_at (no sort), each with its sections, then grouped by SQLite: Python sees a few
# hundred groups a chunk, not thousands of chats.
_DUE_CHUNK_SQL = (
    "SELECT max(r), language, timezone, digest_times, digest_enabled, weekdays_only, "
    "digest_since, modes, json_group_array(id) FROM ("
    "SELECT c.rowid AS r, c.id, c.language, c.timezone, c.digest_times, c.digest_enabled, "
    "c.weekdays_only, c.digest_since, "
    "(SELECT group_concat(s.slug || ' ' || sub.mode) FROM subscriptions sub "
    "JOIN sections s ON s.id = sub.section_id AND s.hidden = 0 "
    "WHERE sub.chat_id = c.id) AS modes "
    "FROM chats c WHERE c.next_digest_at = ? AND c.rowid > ? AND c.status = 'active' "
    "ORDER BY c.rowid LIMIT ?) "
    "GROUP BY language, timezone, digest_times, digest_enabled, weekdays_only, digest_since, modes"
)

# The same chunk as PostgreSQL says it: the chat id is the cursor (there is no rowid; groups'
# ids are below zero), the ids as an array (a list from asyncpg, nothing to parse),
# digest_times as text (json has no equality to group by). A chat's sections are read from
# its subscriptions, each section looked up by id (a hidden one's slug is NULL, and
# string_agg skips it), in a fixed order: the planner would otherwise probe every section
# for every chat (sections, a handful of rows, never get statistics of their own).
_DUE_CHUNK_PG = (
    "SELECT max(id), language, timezone, digest_times, digest_enabled, weekdays_only, "
    "digest_since, modes, array_agg(id) FROM ("
    "SELECT c.id, c.language, c.timezone, c.digest_times::text AS digest_times, "
    "c.digest_enabled, c.weekdays_only, c.digest_since, "
    "(SELECT string_agg((SELECT s.slug FROM sections s WHERE s.id = sub.section_id "
    "AND NOT s.hidden) || ' ' || sub.mode, ',' ORDER BY sub.section_id) "
    "FROM subscriptions sub WHERE sub.chat_id = c.id) AS modes "
    "FROM chats c WHERE c.next_digest_at = $1 AND c.id > $2 AND c.status = 'active' "
    "ORDER BY c.id LIMIT $3) AS due "
    "GROUP BY language, timezone, digest_times, digest_enabled, weekdays_only, digest_since, modes"
)


def _stored(moment: dt.datetime) -> str:
    """A UTC moment as SQLAlchemy keeps it in SQLite."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


@functools.lru_cache(maxsize=4096)
def _read(value: str | None) -> dt.datetime | None:
    """Chats due together share their times: each distinct value is parsed once."""
    return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC) if value else None


def _naive(moment: dt.datetime) -> dt.datetime:
    """A UTC moment as PostgreSQL keeps it (timestamp without time zone, in UTC)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _aware(value: dt.datetime | None) -> dt.datetime | None:
    return None if value is None else value.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class _Speech:
    """How one database is asked for the due chats and told to move them on: the statements
    go to the driver as they are (the planner's hot path skips SQLAlchemy's compiling and
    typing), so each database gets them in its own words, parameters and types."""

    before_chunk: str | None  # said first in a chunk's transaction
    read_ahead: bool  # the next chunk read while the caller writes this one
    first_slot: object  # below every stored time
    first_chat: int  # below every cursor
    next_slot: str  # (slot after, now) -> the next slot due, or NULL
    chunk: str  # (slot, cursor after, limit) -> rows of _DUE_CHUNK_SQL's shape
    move: str  # (next, ids)
    move_since: str  # (next, since, ids)
    moment: Callable[[dt.datetime], object]  # a UTC moment as a parameter
    read: Callable[[Any], dt.datetime | None]  # a stored moment, aware
    ids: Callable[[Any], tuple[int, ...]]  # the chunk's aggregated ids
    id_list: Callable[[list[int]], object]  # chat ids as a parameter


_SQLITE = _Speech(
    before_chunk=None,
    read_ahead=False,  # one process, one writer: SQLite's reads and writes stay in turn
    first_slot="",
    first_chat=0,
    next_slot="SELECT min(next_digest_at) FROM chats "
    "WHERE next_digest_at > ? AND next_digest_at <= ?",
    chunk=_DUE_CHUNK_SQL,
    # The ids read from a JSON array by SQLite itself.
    move="UPDATE chats SET next_digest_at = ? WHERE id IN (SELECT value FROM json_each(?))",
    move_since="UPDATE chats SET next_digest_at = ?, digest_since = ? WHERE id IN "
    "(SELECT value FROM json_each(?))",
    moment=_stored,
    read=_read,
    ids=lambda found: tuple(json.loads(found)),
    id_list=json.dumps,
)

_POSTGRESQL = _Speech(
    # The chunk's estimated cost (a subquery a chat) passes jit_above_cost, and compiling it
    # took 5× as long as running it (230 ms to 30 ms, measured): no JIT for this transaction.
    before_chunk="SET LOCAL jit = off",
    read_ahead=True,
    first_slot=_naive(dt.datetime.min.replace(tzinfo=dt.UTC)),
    first_chat=-(2**63),
    next_slot="SELECT min(next_digest_at) FROM chats "
    "WHERE next_digest_at > $1 AND next_digest_at <= $2",
    chunk=_DUE_CHUNK_PG,
    # The ids as one bigint array: one parameter however many chats.
    move="UPDATE chats SET next_digest_at = $1 WHERE id = ANY($2::bigint[])",
    move_since="UPDATE chats SET next_digest_at = $1, digest_since = $2 "
    "WHERE id = ANY($3::bigint[])",
    moment=_naive,
    read=_aware,
    ids=tuple,
    id_list=list,
)


def _speech(db: Database) -> _Speech:
    return _POSTGRESQL if db.engine.dialect.name == "postgresql" else _SQLITE


async def due_digests(db: Database, now: dt.datetime, chunk: int) -> AsyncIterator[list[DueGroup]]:
    """Active chats whose digest is due, `chunk` chats at a time, those alike grouped. Each
    chunk is read in a short transaction of its own, so that the caller can enqueue a chunk
    and move its chats on (see move_digests) before it asks for the next; a chat moved on is
    not seen again, one left due would be by the next call. On PostgreSQL the next chunk is
    read while the caller writes this one (a read there takes no lock, and the chats after
    this chunk are not the ones being moved): the server reads and writes at once."""
    speech = _speech(db)
    slot: Any = speech.first_slot
    while True:
        async with db.reading() as s:
            conn = await s.connection()
            found = await conn.exec_driver_sql(speech.next_slot, (slot, speech.moment(now)))
            slot = found.scalar()
        if slot is None:
            return
        after = speech.first_chat
        ahead: asyncio.Task[list[Any]] | None = None
        try:
            while True:
                rows = await (ahead or _due_chunk(db, speech, slot, after, chunk))
                ahead = None
                if not rows:
                    break
                after = max(r[0] for r in rows)
                if speech.read_ahead:
                    ahead = asyncio.create_task(_due_chunk(db, speech, slot, after, chunk))
                    ahead.add_done_callback(_retrieved)
                yield [
                    DueGroup(
                        chat_ids=speech.ids(r[8]),
                        language=r[1],
                        timezone=r[2],
                        digest_times=_times(r[3]),
                        digest_enabled=bool(r[4]),
                        weekdays_only=bool(r[5]),
                        next_digest_at=speech.read(slot),
                        digest_since=speech.read(r[6]),
                        modes=_modes(r[7]),
                    )
                    for r in rows
                ]
        finally:
            if ahead is not None:  # the caller stopped early: let the read end, not cut it
                await asyncio.wait([ahead])


async def _due_chunk(db: Database, speech: _Speech, slot: Any, after: int, chunk: int) -> list[Any]:
    async with db.reading() as s:
        conn = await s.connection()
        if speech.before_chunk is not None:
            await conn.exec_driver_sql(speech.before_chunk)
        result = await conn.exec_driver_sql(speech.chunk, (slot, after, chunk))
        return list(result.all())


def _retrieved(task: asyncio.Task[list[Any]]) -> None:
    """A read ahead that nobody awaits any more may have failed: its error is not news."""
    if not task.cancelled():
        task.exception()


def _modes(pairs: str | None) -> dict[str, Mode]:
    found = {}
    for pair in (pairs or "").split(","):
        if " " in pair:
            slug, mode = pair.split(" ")
            found[slug] = Mode(mode)
    return found


@functools.lru_cache(maxsize=1024)
def _times(stored: str | None) -> tuple[str, ...] | None:
    times = json.loads(stored) if stored else None  # JSON null: the default, as SQL NULL
    return tuple(times) if times is not None else None


async def move_digests(
    db: Database, moves: Sequence[tuple[Sequence[int], dt.datetime | None, dt.datetime | None]]
) -> None:
    """For each (chats, their next digest time, new `since` or None to keep it): chats moving
    to the same (next, since) move in one statement, their ids given as one parameter (a JSON
    array that SQLite reads itself, a bigint array on PostgreSQL); inside the caller's
    transaction when there is one (a planned chunk: its deliveries and its chats moved on,
    together)."""
    together: dict[tuple[dt.datetime | None, dt.datetime | None], list[int]] = {}
    for ids, upcoming, since in moves:
        together.setdefault((upcoming, since), []).extend(ids)
    speech = _speech(db)
    async with db.transaction() as s:
        conn = await s.connection()
        for (upcoming, since), ids in together.items():
            upcoming_at = None if upcoming is None else speech.moment(upcoming)
            if since is None:
                await conn.exec_driver_sql(speech.move, (upcoming_at, speech.id_list(ids)))
            else:
                await conn.exec_driver_sql(
                    speech.move_since, (upcoming_at, speech.moment(since), speech.id_list(ids))
                )
