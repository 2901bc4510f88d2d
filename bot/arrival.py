"""A reader's first minutes: gathers what a newly followed section brings and when the chat's
next digest comes, for bot/render/arrival.py to draw. The sections and start handlers call it.
"""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import MaybeInaccessibleMessage, Message

from bot.delivery import digests
from bot.render import Markup
from bot.render import arrival as view
from bot.render.entities import Entity, to_html
from bot.runtime import Runtime
from storage import articles, subscriptions
from storage.types import Chat


def _zone(runtime: Runtime, chat: Chat) -> ZoneInfo:
    return ZoneInfo(chat.timezone or runtime.config.digest.timezone)


async def first_look(
    runtime: Runtime, chat: Chat, slugs: Sequence[str], *, head: str = ""
) -> tuple[list[str], Markup]:
    """The first look at the sections `slugs` the chat has just subscribed to (those it no
    longer follows, or that are gone, are left out); `head` goes first."""
    modes = await subscriptions.modes_of_chat(runtime.db, chat.id)
    by_slug = {s.slug: s for s in runtime.sections}
    looks = []
    for slug in slugs:
        if slug in by_slug and slug in modes:
            page = await articles.latest(runtime.db, [slug], limit=view.FIRST_LOOK)
            looks.append(view.FirstLook(by_slug[slug], modes[slug], page.articles))
    now = runtime.now()
    return view.first_look(
        runtime.catalogs.get(chat.language),
        chat.language,
        looks,
        upcoming=digests.upcoming(chat, runtime.config, now),
        now=now,
        zone=_zone(runtime, chat),
        head=head,
    )


async def returning(runtime: Runtime, chat: Chat, name: str | None, *, news: str = "") -> str:
    """What /start says to a chat that follows sections already; `news` under the greeting
    (what a deep link did)."""
    modes = await subscriptions.modes_of_chat(runtime.db, chat.id)
    now = runtime.now()
    return view.returning(
        runtime.catalogs.get(chat.language),
        chat.language,
        runtime.sections,
        modes,
        first_name=name,
        news=news,
        upcoming=digests.upcoming(chat, runtime.config, now),
        now=now,
        zone=_zone(runtime, chat),
    )


def message_html(message: MaybeInaccessibleMessage | None) -> str | None:
    """A message of ours as the HTML that makes it again (from its text and entities), or
    None when Telegram no longer shows it to us."""
    if not isinstance(message, Message) or message.text is None:
        return None
    found = [Entity(str(e.type), e.offset, e.length, e.url) for e in message.entities]
    return to_html(message.text, found)
