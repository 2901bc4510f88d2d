"""The delivery ledger's bulk statements, each database in its own words: deliveries enqueued
and outcomes recorded by the thousand (PostgreSQL: arrays unnested by the server; SQLite: a
JSON array read by json_each, or an executemany by shape).

The caller (storage.outbox) owns the transaction; these only speak to its connection.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, Update, bindparam, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.db import Database
from storage.models import DeliveryRow
from storage.types import Priority, Result

CHUNK = 100_000  # recipients a statement of add() enqueues

# PostgreSQL's bulk forms: the rows come as arrays, unnested by the server; a CTE counts what
# the INSERT returned (ON CONFLICT DO NOTHING returns only the rows that went in).
_ENQUEUE_PG = (
    "WITH added AS (INSERT INTO deliveries (item_id, chat_id, priority, state, silent, "
    "attempts, next_attempt) SELECT $1, r.chat_id, $2, 'pending', r.silent, 0, $3 "
    "FROM unnest($4::bigint[], $5::boolean[]) AS r(chat_id, silent) "
    "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM added"
)
_ENQUEUE_EACH_PG = (
    "WITH added AS (INSERT INTO deliveries (item_id, chat_id, priority, state, silent, "
    "attempts, next_attempt) SELECT r.item_id, r.chat_id, $1, 'pending', false, 0, $2 "
    "FROM unnest($3::integer[], $4::bigint[]) AS r(item_id, chat_id) "
    "ON CONFLICT DO NOTHING RETURNING 1) SELECT count(*) FROM added"
)
# Outcomes: one UPDATE for a batch, joined on the id; a column the outcome leaves out (NULL
# here) keeps its value, as in SQLite's form, where it is not in the statement at all.
_RECORD_PG = (
    "UPDATE deliveries AS d SET state = r.state, attempts = r.attempts, "
    "last_error = r.last_error, next_attempt = coalesce(r.next_attempt, d.next_attempt), "
    "message_ids = coalesce(r.message_ids::json, d.message_ids), "
    "sent_at = coalesce(r.sent_at, d.sent_at) "
    "FROM unnest($1::integer[], $2::text[], $3::integer[], $4::text[], $5::timestamp[], "
    "$6::text[], $7::timestamp[]) "
    "AS r(id, state, attempts, last_error, next_attempt, message_ids, sent_at) "
    "WHERE d.id = r.id"
)

# SQLite's bulk forms: the ids (or (item, chat) pairs) as one JSON array, read by SQLite in C.
_ENQUEUE_SQLITE = (
    "INSERT INTO deliveries (item_id, chat_id, priority, state, silent, "
    "attempts, next_attempt) SELECT ?, value, ?, 'pending', ?, 0, ? "
    "FROM json_each(?) WHERE true ON CONFLICT DO NOTHING"
)
_ENQUEUE_EACH_SQLITE = (
    "INSERT INTO deliveries (item_id, chat_id, priority, state, silent, attempts, "
    "next_attempt) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, "
    "'pending', 0, 0, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING"
)


def _naive(moment: dt.datetime) -> dt.datetime:
    """A UTC moment as PostgreSQL keeps it (timestamp without time zone, in UTC)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


def _stored(moment: dt.datetime) -> str:
    """A UTC moment as SQLAlchemy keeps it in SQLite."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


async def add(
    conn: AsyncConnection,
    item_id: int,
    priority: Priority,
    recipients: Sequence[tuple[int, bool]],
    now: dt.datetime,
) -> int:
    """Deliveries of one item to (chat, silent) recipients, CHUNK at a time; repeats ignored.
    Returns how many are new."""
    added = 0
    postgresql = conn.dialect.name == "postgresql"
    for start in range(0, len(recipients), CHUNK):
        chunk = recipients[start : start + CHUNK]
        if postgresql:
            # One statement for the chunk: the chats and their silences as two arrays
            # (asyncpg sends each as one binary parameter), counted by what it returned.
            found = await conn.exec_driver_sql(
                _ENQUEUE_PG,
                (
                    item_id,
                    int(priority),
                    _naive(now),
                    [chat_id for chat_id, _ in chunk],
                    [silent for _, silent in chunk],
                ),
            )
            added += int(found.scalar_one())
            continue
        # One statement per (item, silent): SQLite reads the ids from a JSON array in C.
        when = _stored(now)
        for silent in (False, True):
            ids = [chat_id for chat_id, quiet in chunk if quiet is silent]
            if not ids:
                continue
            result = await conn.exec_driver_sql(
                _ENQUEUE_SQLITE, (item_id, int(priority), silent, when, json.dumps(ids))
            )
            added += int(result.rowcount)
    return added


async def add_each(
    conn: AsyncConnection, priority: Priority, pairs: Sequence[tuple[int, int]], now: dt.datetime
) -> int:
    """Deliveries of (item, chat) pairs in one statement (not silent, not in a topic); repeats
    ignored. Returns how many are new."""
    if conn.dialect.name == "postgresql":
        found = await conn.exec_driver_sql(
            _ENQUEUE_EACH_PG,
            (
                int(priority),
                _naive(now),
                [item_id for item_id, _ in pairs],
                [chat_id for _, chat_id in pairs],
            ),
        )
        return int(found.scalar_one())
    result = await conn.exec_driver_sql(
        _ENQUEUE_EACH_SQLITE, (int(priority), _stored(now), json.dumps(pairs))
    )
    return int(result.rowcount)


@dataclass(frozen=True)
class Outcomes:
    """Outcomes of deliveries made into statements before the transaction that writes them:
    PostgreSQL's seven arrays, or SQLite's UPDATEs by shape with their rows."""

    arrays: tuple[list[Any], ...] | None
    shapes: list[tuple[Update, list[dict[str, Any]]]]

    async def write(self, conn: AsyncConnection) -> None:
        if self.arrays is not None:
            await conn.exec_driver_sql(_RECORD_PG, self.arrays)
        for statement, rows in self.shapes:
            await conn.execute(statement, rows)


def outcomes(db: Database, results: Sequence[Result]) -> Outcomes:
    """The statements recording `results` (a delivery once in them) as `db` speaks."""
    if db.engine.dialect.name == "postgresql":
        return Outcomes(_outcome_arrays(results), [])
    return Outcomes(None, _outcome_shapes(results))


def _outcome_shapes(results: Sequence[Result]) -> list[tuple[Update, list[dict[str, Any]]]]:
    """An UPDATE by id for each set of columns the outcomes set, with its rows: one
    executemany needs the same keys in every row. Core, not the ORM's bulk update: this runs
    for every message sent, and the ORM costs 3× more."""
    shapes: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for r in results:
        row: dict[str, Any] = {
            "v_id": r.id,
            "v_state": r.state.value,
            "v_attempts": r.attempts,
            "v_last_error": r.error[:512] if r.error else None,
        }
        if r.next_attempt is not None:
            row["v_next_attempt"] = r.next_attempt
        if r.message_ids:
            row["v_message_ids"] = list(r.message_ids)
        if r.sent_at is not None:
            row["v_sent_at"] = r.sent_at
        shapes.setdefault(tuple(sorted(row)), []).append(row)
    table: Table = DeliveryRow.__table__  # type: ignore[assignment]
    found = []
    for shape, rows in shapes.items():
        columns: dict[str, Any] = {n[2:]: bindparam(n) for n in shape if n != "v_id"}
        found.append((update(table).where(table.c.id == bindparam("v_id")).values(columns), rows))
    return found


def _outcome_arrays(results: Sequence[Result]) -> tuple[list[Any], ...]:
    """_RECORD_PG's seven arrays, a delivery once in them."""
    return (
        [r.id for r in results],
        [r.state.value for r in results],
        [r.attempts for r in results],
        [r.error[:512] if r.error else None for r in results],
        [None if r.next_attempt is None else _naive(r.next_attempt) for r in results],
        [json.dumps(list(r.message_ids)) if r.message_ids else None for r in results],
        [None if r.sent_at is None else _naive(r.sent_at) for r in results],
    )
