"""Editors' broadcasts: a flash (or its recall or correction) goes preview → sending → done,
or preview → cancelled; the step from preview is one conditional UPDATE, so two taps (or two
editors) can never send it twice. What it sends is an outbox item (storage.outbox)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Integer, String, delete, false, func, literal, select, update

from storage.db import Database, insert_ignoring
from storage.models import BroadcastRow, ChatRow, DeliveryRow, UTCDateTime
from storage.types import Broadcast, BroadcastKind, BroadcastState, DeliveryState, Payload, Priority


def _broadcast(row: BroadcastRow) -> Broadcast:
    return Broadcast(
        id=row.id,
        kind=BroadcastKind(row.kind),
        editor_id=row.editor_id,
        created=row.created,
        state=BroadcastState(row.state),
        sections=tuple(row.sections) if row.sections is not None else None,
        payload=Payload.from_json(row.payload),
        of_id=row.of_id,
        silent=row.silent,
        report_chat_id=row.report_chat_id,
        report_message_id=row.report_message_id,
        item_id=row.item_id,
        total=row.total,
        started=row.started,
        finished=row.finished,
        figures=None
        if row.figures is None
        else {DeliveryState(k): int(v) for k, v in row.figures.items()},
        paid=row.paid,
        paid_refused=row.paid_refused,
    )


async def create(
    db: Database,
    *,
    kind: BroadcastKind,
    editor_id: int,
    payload: Payload,
    sections: Sequence[str] | None,
    of_id: int | None,
    total: int,
    now: dt.datetime,
) -> Broadcast:
    """A new flash (or recall, or correction) in preview."""
    async with db.transaction() as s:
        row = BroadcastRow(
            kind=kind.value,
            editor_id=editor_id,
            created=now,
            state=BroadcastState.PREVIEW.value,
            sections=list(sections) if sections is not None else None,
            payload=payload.to_json(),
            of_id=of_id,
            silent=False,
            total=total,
        )
        s.add(row)
        await s.flush()
        return _broadcast(row)


async def get(db: Database, broadcast_id: int) -> Broadcast | None:
    async with db.reading() as s:
        row = await s.get(BroadcastRow, broadcast_id)
        return _broadcast(row) if row else None


async def set_report(db: Database, broadcast_id: int, chat_id: int, message_id: int) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id)
            .values(report_chat_id=chat_id, report_message_id=message_id)
        )


async def leave_preview(
    db: Database,
    broadcast_id: int,
    state: BroadcastState,
    *,
    silent: bool,
    now: dt.datetime,
    paid: bool = False,
) -> bool:
    """Move a preview on (to sending or cancelled); False if it was not in preview any more."""
    async with db.transaction() as s:
        result = await s.execute(
            update(BroadcastRow)
            .where(
                BroadcastRow.id == broadcast_id, BroadcastRow.state == BroadcastState.PREVIEW.value
            )
            .values(state=state.value, silent=silent, paid=paid, started=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def attach(
    db: Database, broadcast_id: int, item_id: int, total: int, *, enqueued_to: int | None = None
) -> None:
    """The outbox item that carries it, how many chats it goes to, and, while its deliveries
    are still being written, the chat id they are written up to (`enqueued_to`)."""
    async with db.transaction() as s:
        await s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id)
            .values(item_id=item_id, total=total, enqueued_to=enqueued_to)
        )


async def enqueuing(db: Database) -> list[tuple[Broadcast, int]]:
    """Those sending whose deliveries are still being written, each with the chat id they
    are written up to."""
    async with db.reading() as s:
        rows = await s.scalars(
            select(BroadcastRow).where(
                BroadcastRow.state == BroadcastState.SENDING.value,
                BroadcastRow.enqueued_to.is_not(None),
            )
        )
        return [(_broadcast(r), int(r.enqueued_to or 0)) for r in rows]


async def enqueued_to(db: Database, broadcast_id: int, chat_id: int | None) -> None:
    """Its deliveries are written up to the chat `chat_id`; None: all of them are, and its total
    becomes how many there are."""
    async with db.transaction() as s:
        if chat_id is not None:
            values: dict[str, Any] = {"enqueued_to": chat_id}
        else:
            written = (
                select(func.count())
                .select_from(DeliveryRow)
                .where(DeliveryRow.item_id == BroadcastRow.item_id)
                .scalar_subquery()
            )
            values = {"enqueued_to": None, "total": written}
        await s.execute(update(BroadcastRow).where(BroadcastRow.id == broadcast_id).values(values))


async def finish(
    db: Database, broadcast_id: int, now: dt.datetime, figures: Mapping[DeliveryState, int]
) -> None:
    """Done: with its deliveries' final figures, which outlive the deliveries."""
    async with db.transaction() as s:
        await s.execute(
            update(BroadcastRow)
            .where(BroadcastRow.id == broadcast_id)
            .values(
                state=BroadcastState.DONE.value,
                finished=now,
                figures={state.value: n for state, n in figures.items()},
            )
        )


async def forget(db: Database, before: dt.datetime) -> int:
    """Forget flashes (and recalls, corrections, previews never sent) made before `before`
    that are no longer sending; one still referred to by a later recall or correction stays
    until that one goes."""
    async with db.transaction() as s:
        later = select(BroadcastRow.of_id).where(
            BroadcastRow.of_id.is_not(None), BroadcastRow.created >= before
        )
        result = await s.execute(
            delete(BroadcastRow).where(
                BroadcastRow.created < before,
                BroadcastRow.state != BroadcastState.SENDING.value,
                BroadcastRow.id.not_in(later),
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def untold_refusals(db: Database) -> list[Broadcast]:
    """Paid flashes whose paid sending Telegram refused, and whose editor is not told yet."""
    async with db.reading() as s:
        rows = await s.scalars(
            select(BroadcastRow).where(
                BroadcastRow.paid_refused.is_not(None), BroadcastRow.refusal_told.is_(False)
            )
        )
        return [_broadcast(r) for r in rows]


async def refusal_told(db: Database, broadcast_id: int) -> None:
    async with db.transaction() as s:
        await s.execute(
            update(BroadcastRow).where(BroadcastRow.id == broadcast_id).values(refusal_told=True)
        )


async def sending(db: Database) -> list[Broadcast]:
    """Those whose deliveries are under way (for the progress reports)."""
    async with db.reading() as s:
        rows = await s.scalars(
            select(BroadcastRow).where(BroadcastRow.state == BroadcastState.SENDING.value)
        )
        return [_broadcast(r) for r in rows]


async def recent(db: Database, kind: BroadcastKind, limit: int = 10) -> list[Broadcast]:
    """The newest of a kind that left preview, newest first."""
    async with db.reading() as s:
        rows = await s.scalars(
            select(BroadcastRow)
            .where(
                BroadcastRow.kind == kind.value,
                BroadcastRow.state.in_([BroadcastState.SENDING.value, BroadcastState.DONE.value]),
            )
            .order_by(BroadcastRow.id.desc())
            .limit(limit)
        )
        return [_broadcast(r) for r in rows]


async def reached(db: Database, item_id: int) -> int:
    """How many chats hold a message of the item (deliveries sent with message ids)."""
    async with db.reading() as s:
        return int(
            await s.scalar(
                select(func.count())
                .select_from(DeliveryRow)
                .where(
                    DeliveryRow.item_id == item_id,
                    DeliveryRow.state == DeliveryState.SENT.value,
                    DeliveryRow.message_ids.is_not(None),
                )
            )
            or 0
        )


async def enqueue_follow_up(db: Database, item_id: int, of_item_id: int, now: dt.datetime) -> int:
    """Deliveries of an edit or delete item to every chat where `of_item_id` was sent, each
    carrying the message ids it acts on; repeats are ignored. Returns how many are new.

    One INSERT … SELECT, on either database: a recall of a flash sent to a million chats
    copies a million rows inside the server, none of them through Python."""
    sent = (
        select(
            literal(item_id, Integer),
            DeliveryRow.chat_id,
            literal(int(Priority.BREAKING), Integer),
            literal(DeliveryState.PENDING.value, String),
            false(),
            literal(0, Integer),
            literal(now, UTCDateTime),
            DeliveryRow.message_ids,
        )
        .join(ChatRow, ChatRow.id == DeliveryRow.chat_id)
        .where(
            DeliveryRow.item_id == of_item_id,
            DeliveryRow.state == DeliveryState.SENT.value,
            DeliveryRow.message_ids.is_not(None),
        )
        .order_by(DeliveryRow.chat_id)
    )
    columns = ["item_id", "chat_id", "priority", "state", "silent", "attempts", "next_attempt"]
    async with db.transaction() as s:
        result = await s.execute(
            insert_ignoring(s, DeliveryRow.__table__).from_select([*columns, "target_ids"], sent)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]
