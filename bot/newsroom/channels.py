"""The newsroom's channels: the sections whose stories each gets (as they come) and flashes."""

from __future__ import annotations

from collections.abc import Sequence

from bot.newsroom import Desk
from storage import chats, subscriptions
from storage.types import ChatStatus, ChatType, Mode, Section


async def add_channel(desk: Desk, chat_id: int, title: str, sections: Sequence[Section]) -> None:
    """Make a channel a target of these sections' stories (posted as they come) and of
    breaking news; it keeps no other sections."""
    language = desk.default_language
    await chats.ensure(desk.db, chat_id, type=ChatType.CHANNEL, title=title, language=language)
    await subscriptions.unsubscribe_all(desk.db, chat_id)
    for section in sections:
        await subscriptions.set_mode(desk.db, chat_id, section.slug, Mode.INSTANT)


async def remove_channel(desk: Desk, chat_id: int) -> bool:
    """The channel gets nothing more; False if it was not one of ours."""
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
