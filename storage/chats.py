"""Chats the bot knows: registration, language, status, deletion."""

from __future__ import annotations

from sqlalchemy import delete, select, update

from storage.db import Database
from storage.errors import ChatNotFound
from storage.models import ChatRow, SubscriptionRow, utcnow
from storage.types import Chat, ChatStatus, ChatType


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
            new = ChatRow(
                id=new_id,
                type=ChatType.SUPERGROUP.value,
                title=old.title,
                language=old.language,
                timezone=old.timezone,
                status=old.status,
                created=old.created,
            )
            s.add(new)
        else:
            new.language, new.timezone = old.language, old.timezone
        await s.flush()
        taken = select(SubscriptionRow.section_id).where(SubscriptionRow.chat_id == new_id)
        await s.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.chat_id == old_id, SubscriptionRow.section_id.not_in(taken))
            .values(chat_id=new_id)
        )
        await s.execute(delete(ChatRow).where(ChatRow.id == old_id))
        await s.flush()
        await s.refresh(new)
        return _chat(new)
