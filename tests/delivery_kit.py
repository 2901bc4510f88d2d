"""Helpers for delivery tests: audiences of chats, stories to post, what each chat received."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from bot.news.identity import title_key
from bot.runtime import Runtime
from storage import articles, chats, subscriptions
from storage.types import ChatType, Mode, NewArticle
from tests.kit import Kit


async def audience(
    kit: Kit,
    n: int,
    *,
    section: str = "world",
    mode: Mode = Mode.INSTANT,
    kind: str = "private",
    language: str = "uk",
) -> list[int]:
    """`n` chats (private users or groups) following `section` in `mode`."""
    ids = []
    for i in range(n):
        if kind == "private":
            user = kit.people.person(f"Читач {i}", language)
            chat = kit.people.private(user)
        else:
            chat = kit.people.group(f"Група {i}", kind=kind)
        await chats.ensure(
            kit.db, chat["id"], type=ChatType(chat["type"]), title="", language=language
        )
        await subscriptions.set_mode(kit.db, chat["id"], section, mode)
        ids.append(chat["id"])
    return ids


async def story(
    runtime: Runtime | Kit,
    title: str,
    sections: set[str],
    *,
    published: dt.datetime | None = None,
    summary: str = "Подробиці згодом.",
) -> int:
    """Store a story as ingest would; returns its id."""
    if isinstance(runtime, Kit):
        runtime = runtime.runtime
    now = runtime.now()
    article = NewArticle(
        f"https://news.example.ua/{abs(hash(title))}", None, title_key(title), title, summary,
        None, None, "uk", published or now, frozenset(sections),
    )  # fmt: skip
    saved = await articles.save(runtime.db, [article], feed_id=None, now=now)
    return saved[0].article_id


def received(kit: Kit, chat_ids: list[int] | None = None) -> Counter[int]:
    """How many messages the bot sent to each chat (all chats when None)."""
    got: Counter[int] = Counter()
    for call in kit.tg.calls:
        if call.method == "sendMessage" and call.ok:
            chat_id = call.result["chat"]["id"]
            if chat_ids is None or chat_id in chat_ids:
                got[chat_id] += 1
    return got
