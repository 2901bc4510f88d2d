"""The delivery ledger: items to send, one row per (item, chat), and how each delivery went.

Enqueuing is idempotent (an item's key and the (item, chat) pair are unique), and a row leaves
`pending` only when its outcome is recorded, so a crash loses nothing.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    String,
    Table,
    Update,
    bindparam,
    delete,
    func,
    literal_column,
    select,
    update,
)
from sqlalchemy.sql.expression import ColumnClause

from storage.db import Database, insert_ignoring, upsert
from storage.models import BroadcastRow, ChatRow, DeliveryRow, OutboxItemRow, PaidDayRow
from storage.types import Backlog, ChatType, DeliveryState, Payload, Pending, Priority, Result

CHUNK = 100_000


async def put_item(
    db: Database,
    *,
    kind: str,
    key: str,
    priority: Priority,
    payload: Payload,
    now: dt.datetime,
    paid: bool | None = None,
) -> int:
    """The item with `key`, created with `payload` if new (a second call changes nothing);
    `paid`: its messages go with allow_paid_broadcast or not (None: as its lane goes)."""
    async with db.transaction() as s:
        await s.execute(
            insert_ignoring(s, OutboxItemRow).values(
                kind=kind,
                key=key,
                priority=int(priority),
                payload=payload.to_json(),
                created=now,
                paid=paid,
            )
        )
        item_id = await s.scalar(select(OutboxItemRow.id).where(OutboxItemRow.key == key))
        assert item_id is not None
        return int(item_id)


async def add(
    db: Database,
    item_id: int,
    priority: Priority,
    recipients: Sequence[tuple[int, bool]],
    now: dt.datetime,
    *,
    threads: Mapping[int, int] | None = None,
) -> int:
    """Deliveries of the item to (chat, silent) recipients, into the forum topics `threads`
    gives by chat; repeats are ignored. Returns how many are new."""
    added = 0
    async with db.transaction() as s:
        dialect = s.get_bind().dialect.name
        conn = await s.connection()
        for start in range(0, len(recipients), CHUNK):
            chunk = recipients[start : start + CHUNK]
            if dialect == "postgresql":
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
            when = now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            for silent in (False, True):
                ids = [chat_id for chat_id, quiet in chunk if quiet is silent]
                if not ids:
                    continue
                result = await conn.exec_driver_sql(
                    "INSERT INTO deliveries (item_id, chat_id, priority, state, silent, "
                    "attempts, next_attempt) SELECT ?, value, ?, 'pending', ?, 0, ? "
                    "FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
                    (item_id, int(priority), silent, when, json.dumps(ids)),
                )
                added += int(result.rowcount)
        if threads:  # few chats route to topics: set them after the bulk insert
            table: Table = DeliveryRow.__table__  # type: ignore[assignment]
            await s.execute(
                update(table)
                .where(table.c.item_id == item_id, table.c.chat_id == bindparam("v_chat"))
                .values(thread_id=bindparam("v_thread")),
                [{"v_chat": c, "v_thread": t} for c, t in threads.items()],
            )
    return added


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


def _naive(moment: dt.datetime) -> dt.datetime:
    """A UTC moment as PostgreSQL keeps it (timestamp without time zone, in UTC)."""
    return moment.astimezone(dt.UTC).replace(tzinfo=None)


async def add_each(
    db: Database, priority: Priority, recipients: Mapping[int, Sequence[int]], now: dt.datetime
) -> int:
    """Deliveries of several items, each to its chats (not silent, not in a topic): a chunk of
    planned digests in one statement, not one an item. Repeats are ignored; returns how many
    are new."""
    async with db.transaction() as s:
        pairs = sorted(
            (
                (item_id, chat_id)
                for item_id, chat_ids in recipients.items()
                for chat_id in chat_ids
            ),
            key=lambda pair: pair[1],  # in chat order: each index is written where it was
        )
        if not pairs:
            return 0
        conn = await s.connection()
        if s.get_bind().dialect.name == "postgresql":
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
            "INSERT INTO deliveries (item_id, chat_id, priority, state, silent, attempts, "
            "next_attempt) SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), ?, "
            "'pending', 0, 0, ? FROM json_each(?) WHERE true ON CONFLICT DO NOTHING",
            (
                int(priority),
                now.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S.%f"),
                json.dumps(pairs),
            ),
        )
        return int(result.rowcount)


async def payload(db: Database, item_id: int) -> Payload | None:
    async with db.reading() as s:
        row = await s.get(OutboxItemRow, item_id)
        return Payload.from_json(row.payload) if row else None


async def paid_choice(db: Database, item_id: int) -> bool | None:
    """Whether the item's messages go with allow_paid_broadcast: chosen (or refused), or
    None: as its lane goes."""
    async with db.reading() as s:
        found = await s.scalar(select(OutboxItemRow.paid).where(OutboxItemRow.id == item_id))
        return None if found is None else bool(found)


async def unpay(db: Database, item_id: int, now: dt.datetime) -> None:
    """Telegram refused to charge for the item's paid messages: the rest go at the free rate,
    and the flash it carries (if any) notes the refusal for its editor, in one transaction."""
    async with db.transaction() as s:
        await s.execute(update(OutboxItemRow).where(OutboxItemRow.id == item_id).values(paid=False))
        await s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.item_id == item_id, BroadcastRow.paid_refused.is_(None))
            .values(paid_refused=now)
        )


async def pending(
    db: Database, priority: Priority, *, after_id: int = 0, limit: int = 1000
) -> list[Pending]:
    """Pending deliveries of one lane, by id, after `after_id`, with their chats' details."""
    async with db.reading() as s:
        rows = await s.execute(
            select(
                DeliveryRow.id,
                DeliveryRow.item_id,
                DeliveryRow.chat_id,
                ChatRow.type,
                ChatRow.language,
                DeliveryRow.silent,
                DeliveryRow.attempts,
                DeliveryRow.next_attempt,
                DeliveryRow.target_ids,
                DeliveryRow.thread_id,
            )
            .join(ChatRow, ChatRow.id == DeliveryRow.chat_id)
            .where(
                DeliveryRow.state == DeliveryState.PENDING.value,
                DeliveryRow.priority == int(priority),
                DeliveryRow.id > after_id,
            )
            .order_by(DeliveryRow.id)
            .limit(limit)
        )
        return [
            Pending(
                id=r.id,
                item_id=r.item_id,
                chat_id=r.chat_id,
                chat_type=ChatType(r.type),
                language=r.language,
                priority=priority,
                silent=r.silent,
                attempts=r.attempts,
                next_attempt=r.next_attempt,
                target_ids=tuple(r.target_ids or ()),
                thread_id=r.thread_id,
            )
            for r in rows.all()
        ]


async def record(db: Database, results: Sequence[Result]) -> None:
    """The outcomes of deliveries, in one transaction (its statements made before it)."""
    if not results:
        return
    paid: dict[dt.date, int] = {}  # paid messages by the (UTC) day they went
    for r in results:
        if r.paid and r.sent_at is not None:
            day = r.sent_at.astimezone(dt.UTC).date()
            paid[day] = paid.get(day, 0) + r.paid
    results = _merged(results)
    postgresql = db.engine.dialect.name == "postgresql"
    arrays = _outcome_arrays(results) if postgresql else ()
    shapes = [] if postgresql else _outcome_shapes(results)
    async with db.transaction() as s:
        conn = await s.connection()
        if postgresql:
            await conn.exec_driver_sql(_RECORD_PG, arrays)
        for statement, rows in shapes:
            await conn.execute(statement, rows)
        for day, messages in paid.items():  # counted in the commit that stores the outcome
            added = upsert(s, PaidDayRow).values(day=day, messages=messages)
            await s.execute(
                added.on_conflict_do_update(
                    index_elements=[PaidDayRow.day],
                    set_={"messages": PaidDayRow.messages + added.excluded.messages},
                )
            )


def _merged(results: Sequence[Result]) -> Sequence[Result]:
    """One outcome a delivery: a retry sent again before the batch was written is in it
    twice, and ends as the later says, with what only the earlier set (its next attempt)
    kept, as if each had been written in turn. (Written by shape, the earlier could land
    last: a sent delivery left pending, to be sent again after a restart.)"""
    if len({r.id for r in results}) == len(results):
        return results
    merged: dict[int, Result] = {}
    for result in results:
        before = merged.pop(result.id, None)
        merged[result.id] = (
            result
            if before is None
            else replace(
                result,
                next_attempt=result.next_attempt or before.next_attempt,
                message_ids=result.message_ids or before.message_ids,
                sent_at=result.sent_at or before.sent_at,
            )
        )
    return list(merged.values())


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


async def forget_paid_days(db: Database, before: dt.date) -> int:
    """Forget the paid-message counts of the days before `before` (one row a day)."""
    async with db.transaction() as s:
        result = await s.execute(delete(PaidDayRow).where(PaidDayRow.day < before))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def paid_since(db: Database, since: dt.date) -> int:
    """Messages sent with allow_paid_broadcast from `since` (a UTC day) on."""
    async with db.reading() as s:
        total = await s.scalar(select(func.sum(PaidDayRow.messages)).where(PaidDayRow.day >= since))
        return int(total or 0)


async def skip_chat(db: Database, chat_id: int, reason: str) -> int:
    """Skip every pending delivery to a chat (blocked, removed, gone)."""
    async with db.transaction() as s:
        result = await s.execute(
            update(DeliveryRow)
            .where(DeliveryRow.chat_id == chat_id, DeliveryRow.state == DeliveryState.PENDING.value)
            .values(state=DeliveryState.SKIPPED.value, last_error=reason[:512])
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def counts(db: Database, item_id: int) -> dict[DeliveryState, int]:
    """How the item's deliveries stand."""
    async with db.reading() as s:
        rows = await s.execute(
            select(DeliveryRow.state, func.count())
            .where(DeliveryRow.item_id == item_id)
            .group_by(DeliveryRow.state)
        )
        found = dict.fromkeys(DeliveryState, 0)
        for state, n in rows.all():
            found[DeliveryState(state)] = int(n)
        return found


async def pending_count(db: Database) -> int:
    async with db.reading() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(DeliveryRow)
                .where(DeliveryRow.state == DeliveryState.PENDING.value)
            )
            or 0
        )


# ix_deliveries_due holds only pending rows: a query says so in its own words (a literal, so
# that SQLite sees the index's condition met whatever it knows of bound values).
_PENDING: ColumnClause[str] = literal_column("'pending'", String)


async def backlog(db: Database, now: dt.datetime) -> list[Backlog]:
    """Each lane's deliveries due by `now` and not yet sent, and when the oldest fell due: per
    lane, a count over the due part of the pending index (ix_deliveries_due; ~30 ms for a
    million due deliveries, nothing for the history) and a seek for the oldest."""
    found = []
    async with db.reading() as s:
        for lane in Priority:
            due = (
                DeliveryRow.state == _PENDING,
                DeliveryRow.priority == int(lane),
                DeliveryRow.next_attempt <= now,
            )
            count = await s.scalar(select(func.count()).select_from(DeliveryRow).where(*due))
            oldest = None
            if count:
                oldest = await s.scalar(select(func.min(DeliveryRow.next_attempt)).where(*due))
            found.append(Backlog(lane, int(count or 0), oldest))
    return found


async def story_enqueued_at(db: Database, item_id: int) -> dt.datetime | None:
    """When a story item's posts were enqueued (in the poll that stored the story); None for
    an item that is not a story post."""
    async with db.reading() as s:
        return await s.scalar(
            select(OutboxItemRow.created).where(
                OutboxItemRow.id == item_id, OutboxItemRow.kind == "story"
            )
        )


async def last_sent_at(db: Database) -> dt.datetime | None:
    """When the newest delivery went out (the previous run's last send, at start-up)."""
    async with db.reading() as s:
        return await s.scalar(select(func.max(DeliveryRow.sent_at)))


PRUNE_BATCH = 2000  # rows a prune transaction deletes: a few ms of the write lock at a time


async def prune(db: Database, before: dt.datetime, *, batch: int = PRUNE_BATCH) -> int:
    """Delete what was enqueued before `before` and is finished: the deliveries, then the
    items left without any (a flash keeps its final figures, see storage.broadcasts.finish).
    In small transactions with a pause between them, so that the engine and readers are never
    held up; returns how many deliveries went."""
    gone = 0
    old_items = select(OutboxItemRow.id).where(OutboxItemRow.created < before)
    while True:
        async with db.transaction() as s:
            ids = list(
                await s.scalars(
                    select(DeliveryRow.id)
                    .where(
                        DeliveryRow.item_id.in_(old_items),
                        DeliveryRow.state != DeliveryState.PENDING.value,
                    )
                    .limit(batch)
                )
            )
            if ids:
                await s.execute(delete(DeliveryRow).where(DeliveryRow.id.in_(ids)))
        gone += len(ids)
        if len(ids) < batch:
            break
        await asyncio.sleep(0.01)  # let the engine and the readers in between batches
    while True:
        async with db.transaction() as s:
            empty = list(
                await s.scalars(
                    old_items.where(
                        ~select(DeliveryRow.id)
                        .where(DeliveryRow.item_id == OutboxItemRow.id)
                        .exists()
                    ).limit(batch)
                )
            )
            if empty:
                await s.execute(
                    update(BroadcastRow).where(BroadcastRow.item_id.in_(empty)).values(item_id=None)
                )
                await s.execute(delete(OutboxItemRow).where(OutboxItemRow.id.in_(empty)))
        if len(empty) < batch:
            return gone
        await asyncio.sleep(0.01)
