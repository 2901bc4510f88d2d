"""Chats the bot knows: registration, language, status, digest schedule, quiet hours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, update

from storage.db import Database
from storage.errors import ChatNotFound
from storage.models import ChatRow, DeliveryRow, SubscriptionRow, utcnow
from storage.types import Chat, ChatStatus, ChatType, DeliveryState

# What a chat chose, carried over when Telegram gives it a new id.
_SETTINGS = (
    "title", "language", "timezone", "status", "digest_times", "digest_enabled",
    "weekdays_only", "next_digest_at", "digest_since", "quiet_start", "quiet_end",
)  # fmt: skip


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
    async with db.transaction() as s:
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
    """Register a chat, or refresh its type, title and status; `language` is used only when new."""
    async with db.transaction() as s:
        row = await s.get(ChatRow, chat_id)
        if row is None:
            row = ChatRow(
                id=chat_id, type=type.value, title=title, language=language, status=status.value
            )
            s.add(row)
        elif (row.type, row.title, row.status) != (type.value, title, status.value):
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
    async with db.transaction() as s:
        rows = (await s.execute(select(ChatRow.status))).scalars().all()
    counts = dict.fromkeys(ChatStatus, 0)
    for status in rows:
        counts[ChatStatus(status)] += 1
    return counts


async def migrate(db: Database, old_id: int, new_id: int) -> Chat | None:
    """Move a group's data to its new supergroup id (Telegram's upgrade); None if `old_id` is
    unknown. Safe to repeat: Telegram reports a migration in both chats."""
    async with db.transaction() as s:
        old = await s.get(ChatRow, old_id)
        if old is None:
            return None
        new = await s.get(ChatRow, new_id)
        if new is None:
            new = ChatRow(id=new_id, type=ChatType.SUPERGROUP.value, created=old.created)
            s.add(new)
        for name in _SETTINGS:
            setattr(new, name, getattr(old, name))
        await s.flush()
        taken = select(SubscriptionRow.section_id).where(SubscriptionRow.chat_id == new_id)
        await s.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.chat_id == old_id, SubscriptionRow.section_id.not_in(taken))
            .values(chat_id=new_id)
        )
        await s.execute(
            update(DeliveryRow)
            .where(DeliveryRow.chat_id == old_id, DeliveryRow.state == DeliveryState.PENDING.value)
            .where(DeliveryRow.item_id.not_in(
                select(DeliveryRow.item_id).where(DeliveryRow.chat_id == new_id)
            ))
            .values(chat_id=new_id)
        )  # fmt: skip
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


async def digests_due(db: Database, now: dt.datetime, limit: int = 10_000) -> list[Chat]:
    """Active chats whose digest is due (through the index on next_digest_at)."""
    async with db.transaction() as s:
        rows = await s.execute(
            select(*ChatRow.__table__.columns)
            .where(ChatRow.next_digest_at <= now, ChatRow.status == ChatStatus.ACTIVE.value)
            .order_by(ChatRow.next_digest_at)
            .limit(limit)
        )
        return [_chat(row) for row in rows.all()]  # type: ignore[arg-type]


async def unscheduled(db: Database, limit: int = 10_000) -> list[Chat]:
    """Active chats that have no next digest time yet (new ones)."""
    async with db.transaction() as s:
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
    """For each (chat, next digest time, new `since` or None to keep it): one transaction,
    one UPDATE per distinct pair of values (chats due together move together)."""
    if not plan:
        return
    together: dict[tuple[dt.datetime | None, dt.datetime | None], list[int]] = {}
    for chat_id, upcoming, since in plan:
        together.setdefault((upcoming, since), []).append(chat_id)
    async with db.transaction() as s:
        for (upcoming, since), ids in together.items():
            values: dict[str, object] = {"next_digest_at": upcoming}
            if since is not None:
                values["digest_since"] = since
            for start in range(0, len(ids), 900):
                await s.execute(
                    update(ChatRow).where(ChatRow.id.in_(ids[start : start + 900])).values(values)
                )
