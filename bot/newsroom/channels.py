"""The newsroom's channels: the sections whose stories each gets (as they come) and flashes."""

from __future__ import annotations

from collections.abc import Sequence

from bot.newsroom import Desk
from storage import chats, subscriptions
from storage import editors as stored_editors
from storage.codes import AuditOutcome, EditorAction
from storage.types import ChatStatus, ChatType, Mode, Section


async def add_channel(
    desk: Desk, chat_id: int, title: str, sections: Sequence[Section], *, by: int, name: str
) -> None:
    """Make a channel a target of these sections' stories (posted as they come) and of
    breaking news; it keeps no other sections.
    The change and the audit entry of editor `by` (who named it `name`) are one transaction."""
    async with desk.db.transaction():
        await _make_channel(desk, chat_id, title, sections)
        await stored_editors.audit(
            desk.db,
            by,
            EditorAction.CHANNEL_ADD,
            f"{name} ({chat_id})",
            AuditOutcome.ADDED,
            desk.now(),
        )


async def _make_channel(desk: Desk, chat_id: int, title: str, sections: Sequence[Section]) -> None:
    language = desk.default_language
    await chats.ensure(desk.db, chat_id, type=ChatType.CHANNEL, title=title, language=language)
    await subscriptions.unsubscribe_all(desk.db, chat_id)
    for section in sections:
        await subscriptions.set_mode(desk.db, chat_id, section.slug, Mode.INSTANT)


async def remove_channel(desk: Desk, chat_id: int, *, by: int, name: str) -> bool:
    """The channel gets nothing more; False if it was not one of ours. The change and the
    audit entry of editor `by` (who named it `name`) are one transaction."""
    async with desk.db.transaction():
        removed = await _drop_channel(desk, chat_id)
        outcome = AuditOutcome.REMOVED if removed else AuditOutcome.NOT_OURS
        await stored_editors.audit(
            desk.db, by, EditorAction.CHANNEL_REMOVE, f"{name} ({chat_id})", outcome, desk.now()
        )
    return removed


async def _drop_channel(desk: Desk, chat_id: int) -> bool:
    known = await chats.get(desk.db, chat_id)
    if known is None or known.type is not ChatType.CHANNEL or known.status is not ChatStatus.ACTIVE:
        return False
    await subscriptions.unsubscribe_all(desk.db, chat_id)
    await chats.set_status(desk.db, chat_id, ChatStatus.LEFT)
    return True


async def channels(desk: Desk) -> list[tuple[str, int, list[Section]]]:
    """(title, id, sections) of the active channels."""
    by_slug = {s.slug: s for s in desk.sections}
    out = []
    for channel in await chats.active_of_type(desk.db, ChatType.CHANNEL):
        followed = await subscriptions.of_chat(desk.db, channel.id)
        out.append((channel.title, channel.id, [by_slug[s] for s in followed if s in by_slug]))
    return out
