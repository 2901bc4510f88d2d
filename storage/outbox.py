"""The delivery ledger: items to send, one row per (item, chat), and how each delivery went.

Enqueuing is idempotent (an item's key and the (item, chat) pair are unique), and a row leaves
`pending` only when its outcome is recorded, so a crash loses nothing. The bulk statements,
in each database's own words, are storage.outbox_bulk's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sqlalchemy import String, Table, bindparam, delete, func, literal_column, select, update
from sqlalchemy.sql.expression import ColumnClause

from storage import outbox_bulk
from storage.db import Database, insert_ignoring, upsert
from storage.models import BroadcastRow, ChatRow, DeliveryRow, OutboxItemRow, PaidDayRow
from storage.types import Backlog, ChatType, DeliveryState, Payload, Pending, Priority, Result


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
    async with db.transaction() as s:
        added = await outbox_bulk.add(await s.connection(), item_id, priority, recipients, now)
        if threads:  # few chats route to topics: set them after the bulk insert
            table: Table = DeliveryRow.__table__  # type: ignore[assignment]
            await s.execute(
                update(table)
                .where(table.c.item_id == item_id, table.c.chat_id == bindparam("v_chat"))
                .values(thread_id=bindparam("v_thread")),
                [{"v_chat": c, "v_thread": t} for c, t in threads.items()],
            )
    return added


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
        return await outbox_bulk.add_each(await s.connection(), priority, pairs, now)


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
    outcomes = outbox_bulk.outcomes(db, _merged(results))
    async with db.transaction() as s:
        await outcomes.write(await s.connection())
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
