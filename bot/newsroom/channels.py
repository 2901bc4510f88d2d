"""The newsroom's channels: the sections whose stories each gets (as they come) and flashes."""

from __future__ import annotations

from collections.abc import Sequence

from bot.runtime import Runtime
from storage import chats, subscriptions
from storage.types import ChatStatus, ChatType, Mode, Section


async def add_channel(
    runtime: Runtime, chat_id: int, title: str, sections: Sequence[Section]
) -> None:
    """Make a channel a target of these sections' stories (posted as they come) and of
    breaking news; it keeps no other sections."""
    language = runtime.config.i18n.default_language
    await chats.ensure(runtime.db, chat_id, type=ChatType.CHANNEL, title=title, language=language)
    await subscriptions.unsubscribe_all(runtime.db, chat_id)
    for section in sections:
        await subscriptions.set_mode(runtime.db, chat_id, section.slug, Mode.INSTANT)


async def remove_channel(runtime: Runtime, chat_id: int) -> bool:
    """The channel gets nothing more; False if it was not one of ours."""
    known = await chats.get(runtime.db, chat_id)
    if known is None or known.type is not ChatType.CHANNEL or known.status is not ChatStatus.ACTIVE:
        return False
    await subscriptions.unsubscribe_all(runtime.db, chat_id)
    await chats.set_status(runtime.db, chat_id, ChatStatus.LEFT)
    return True


async def channels(runtime: Runtime) -> list[tuple[str, int, list[Section]]]:
    """(title, id, sections) of the active channels."""
    by_slug = {s.slug: s for s in runtime.sections}
    out = []
    for channel in await chats.active_of_type(runtime.db, ChatType.CHANNEL):
        followed = await subscriptions.of_chat(runtime.db, channel.id)
        out.append((channel.title, channel.id, [by_slug[s] for s in followed if s in by_slug]))
    return out
