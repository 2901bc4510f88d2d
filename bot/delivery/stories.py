"""Story posts: each new story goes to the chats that follow one of its sections instantly."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.i18n import LANGUAGES, Catalogs
from bot.render import news
from bot.schedule import in_quiet_hours
from storage import articles, outbox, subscriptions
from storage.db import Database
from storage.types import Article, Body, Payload, Priority, Section

log = logging.getLogger(__name__)


def payload(
    catalogs: Catalogs, article: Article, sections: Sequence[Section], now: dt.datetime
) -> Payload:
    """The post in each language: a card without a time, with the article's link preview."""
    by_slug = {s.slug: s for s in sections}
    out: dict[str, tuple[Body, ...]] = {}
    for lang in LANGUAGES:
        text, preview = news.card(
            catalogs.get(lang),
            lang,
            article,
            by_slug,
            now=now,
            zone=ZoneInfo("UTC"),
            with_time=False,
        )
        out[lang] = (Body(text, preview.to_dict()),)
    return Payload(out)


async def post(
    db: Database,
    catalogs: Catalogs,
    sections: Sequence[Section],
    article_ids: Sequence[int],
    *,
    now: dt.datetime,
    max_age: dt.timedelta,
    default_zone: str,
) -> int:
    """Enqueue posts of the stories; those published more than `max_age` ago are left to
    digests and /latest (a new feed or a restart never floods chats). Returns deliveries added."""
    added = 0
    for article_id in dict.fromkeys(article_ids):
        article = await articles.get(db, article_id)
        if article is None or now - article.published > max_age:
            continue
        recipients = await subscriptions.instant_recipients(db, article.sections)
        if not recipients:
            continue
        item_id = await outbox.put_item(
            db,
            kind="story",
            key=f"story:{article.id}",
            priority=Priority.STORY,
            payload=payload(catalogs, article, sections, now),
            now=now,
        )
        chosen = [
            (
                r.chat_id,
                in_quiet_hours(
                    now, ZoneInfo(r.timezone or default_zone), r.quiet_start, r.quiet_end
                ),
            )
            for r in recipients
        ]
        threads = {r.chat_id: r.thread_id for r in recipients if r.thread_id is not None}
        added += await outbox.add(db, item_id, Priority.STORY, chosen, now, threads=threads)
    if added:
        log.info("story posts enqueued deliveries=%d", added)
    return added
