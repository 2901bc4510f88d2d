"""Chats the bot knows: registration, language, status, digest schedule, quiet hours.

Digest planning's bulk reads and moves, in each database's own words, are
storage.digest_plan's; they are asked for here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Sequence

from sqlalchemy import BigInteger, delete, literal, select, update

from storage import digest_plan
from storage.db import Database, insert_ignoring
from storage.errors import ChatNotFound
from storage.models import ChatRow, DeliveryRow, SubscriptionRow, utcnow
from storage.types import Chat, ChatStatus, ChatType, DeliveryState, DueGroup

# What a chat chose, carried over when Telegram gives it a new id.
_SETTINGS = (
    "title",
    "language",
    "timezone",
    "status",
    "digest_times",
    "digest_enabled",
    "weekdays_only",
    "next_digest_at",
    "digest_since",
    "quiet_start",
    "quiet_end",
)


def _chat(row: ChatRow) -> Chat:
    return Chat(
        id=row.id,
        type=ChatType(row.type),
        title=row.title,
        language=row.language,
        timezone=row.timezone,
        status=ChatStatus(row.status),
        created=row.created,
        updated=row.updated,
        digest_times=tuple(row.digest_times) if row.digest_times is not None else None,
        digest_enabled=row.digest_enabled,
        weekdays_only=row.weekdays_only,
        next_digest_at=row.next_digest_at,
        digest_since=row.digest_since,
        quiet_start=row.quiet_start,
        quiet_end=row.quiet_end,
    )


async def get(db: Database, chat_id: int) -> Chat | None:
    async with db.reading() as s:
        row = await s.get(ChatRow, chat_id)
        return _chat(row) if row else None


async def ensure(
    db: Database,
    chat_id: int,
    *,
    type: ChatType,
    title: str,
    language: str,
    status: ChatStatus = ChatStatus.ACTIVE,
) -> Chat:
    """Register a chat, or refresh its type, title and status; `language` is used only when new.
    Read first: a known chat with nothing new (nearly every update) takes no write lock, so a
    reader's command never waits for a bulk write to get past this."""
    async with db.reading() as s:
        row = await s.get(ChatRow, chat_id)
        if row is not None and (row.type, row.title, row.status) == (
            type.value,
            title,
            status.value,
        ):
            return _chat(row)
    async with db.transaction() as s:
        row = await s.get(ChatRow, chat_id)
        if row is None:
            # Two updates of a new chat can arrive together (a /start and its membership
            # change): where writers do not take turns (PostgreSQL) both find no row, and the
            # second INSERT gives way to the first instead of failing.
            await s.execute(
                insert_ignoring(s, ChatRow).values(
                    id=chat_id, type=type.value, title=title, language=language, status=status.value
                )
            )
            row = await s.get(ChatRow, chat_id)
            assert row is not None
        if (row.type, row.title, row.status) != (type.value, title, status.value):
            row.type, row.title, row.status = type.value, title, status.value
            row.updated = utcnow()
        await s.flush()
        return _chat(row)


async def _update(db: Database, chat_id: int, **values: object) -> Chat:
    async with db.transaction() as s:
        row = await s.get(ChatRow, chat_id)
        if row is None:
            raise ChatNotFound(chat_id)
        for name, value in values.items():
            setattr(row, name, value)
        row.updated = utcnow()
        await s.flush()
        return _chat(row)


async def set_language(db: Database, chat_id: int, language: str) -> Chat:
    return await _update(db, chat_id, language=language)


async def set_status(db: Database, chat_id: int, status: ChatStatus) -> Chat:
    return await _update(db, chat_id, status=status.value)


async def delete_chat(db: Database, chat_id: int) -> bool:
    """Forget a chat and everything it chose; False if it was not known."""
    async with db.transaction() as s:
        result = await s.execute(delete(ChatRow).where(ChatRow.id == chat_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def count_by_status(db: Database) -> dict[ChatStatus, int]:
    async with db.reading() as s:
        rows = (await s.execute(select(ChatRow.status))).scalars().all()
    counts = dict.fromkeys(ChatStatus, 0)
    for status in rows:
        counts[ChatStatus(status)] += 1
    return counts


async def migrate(db: Database, old_id: int, new_id: int) -> Chat | None:
    """Move a group's data to its new supergroup id (Telegram's upgrade); None if `old_id` is
    unknown. Safe to repeat: Telegram reports a migration in both chats."""
    async with db.transaction() as s:
        # The old group's row is locked (PostgreSQL; SQLite's writers take turns anyway): of
        # two migrations at once, the second waits for the first and then finds it gone.
        old = await s.get(ChatRow, old_id, with_for_update=True)
        if old is None:
            return None
        # The supergroup may be registered at the same moment by its own first update.
        await s.execute(
            insert_ignoring(s, ChatRow).values(
                id=new_id,
                type=ChatType.SUPERGROUP.value,
                title=old.title,
                language=old.language,
                created=old.created,
            )
        )
        new = await s.get(ChatRow, new_id, with_for_update=True, populate_existing=True)
        assert new is not None
        for name in _SETTINGS:
            setattr(new, name, getattr(old, name))
        await s.flush()
        # Copied, not moved: a section the supergroup already follows (or starts following
        # meanwhile) is skipped rather than refused; the old group's go with it (cascade).
        subscribed = select(
            literal(new_id, BigInteger),
            SubscriptionRow.section_id,
            SubscriptionRow.created,
            SubscriptionRow.mode,
            SubscriptionRow.thread_id,
        ).where(SubscriptionRow.chat_id == old_id)
        await s.execute(
            insert_ignoring(s, SubscriptionRow).from_select(
                ["chat_id", "section_id", "created", "mode", "thread_id"], subscribed
            )
        )
        await s.execute(
            update(DeliveryRow)
            .where(DeliveryRow.chat_id == old_id, DeliveryRow.state == DeliveryState.PENDING.value)
            .where(
                DeliveryRow.item_id.not_in(
                    select(DeliveryRow.item_id).where(DeliveryRow.chat_id == new_id)
                )
            )
            .values(chat_id=new_id)
        )
        await s.execute(delete(ChatRow).where(ChatRow.id == old_id))
        await s.flush()
        await s.refresh(new)
        return _chat(new)


async def set_digest(
    db: Database,
    chat_id: int,
    *,
    times: tuple[str, ...] | None,
    enabled: bool,
    weekdays_only: bool,
    timezone: str | None,
    next_digest_at: dt.datetime | None,
) -> Chat:
    """The chat's digest schedule (times None: the default) and when the next one is due."""
    return await _update(
        db,
        chat_id,
        digest_times=list(times) if times is not None else None,
        digest_enabled=enabled,
        weekdays_only=weekdays_only,
        timezone=timezone,
        next_digest_at=next_digest_at,
    )


async def set_quiet(db: Database, chat_id: int, start: str | None, end: str | None) -> Chat:
    return await _update(db, chat_id, quiet_start=start, quiet_end=end)


DUE_CHUNK = 5000  # due chats read, enqueued and moved on at a time: ~20-60 ms of the write lock


def due_digests(db: Database, now: dt.datetime) -> AsyncIterator[list[DueGroup]]:
    """Active chats whose digest is due, DUE_CHUNK chats at a time, those alike grouped; each
    chunk read in a short transaction of its own (see storage.digest_plan.due_digests)."""
    return digest_plan.due_digests(db, now, DUE_CHUNK)


async def unscheduled(db: Database, limit: int = 10_000) -> list[Chat]:
    """Active chats that have no next digest time yet (new ones)."""
    async with db.reading() as s:
        rows = await s.execute(
            select(ChatRow)
            .where(
                ChatRow.next_digest_at.is_(None),
                ChatRow.digest_enabled.is_(True),
                ChatRow.status == ChatStatus.ACTIVE.value,
            )
            .limit(limit)
        )
        return [_chat(row) for row in rows.scalars()]


async def schedule_digests(
    db: Database, plan: Sequence[tuple[int, dt.datetime | None, dt.datetime | None]]
) -> None:
    """For each (chat, next digest time, new `since` or None to keep it), in one transaction."""
    if plan:
        await move_digests(db, [((chat_id,), upcoming, since) for chat_id, upcoming, since in plan])


async def move_digests(
    db: Database, moves: Sequence[tuple[Sequence[int], dt.datetime | None, dt.datetime | None]]
) -> None:
    """For each (chats, their next digest time, new `since` or None to keep it), in bulk; inside
    the caller's transaction when there is one (see storage.digest_plan.move_digests)."""
    await digest_plan.move_digests(db, moves)


async def active_of_type(db: Database, type: ChatType) -> list[Chat]:
    """Active chats of one type (the newsroom's channels), by title."""
    async with db.reading() as s:
        rows = await s.scalars(
            select(ChatRow)
            .where(ChatRow.type == type.value, ChatRow.status == ChatStatus.ACTIVE.value)
            .order_by(ChatRow.title)
        )
        return [_chat(r) for r in rows]
