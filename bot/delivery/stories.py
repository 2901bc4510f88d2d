"""Story posts: each new story goes to the chats that follow one of its sections instantly."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from bot.i18n import LANGUAGES, Catalogs
from bot.metrics import Metrics
from bot.render import news
from bot.schedule import in_quiet_hours
from storage import articles, outbox, subscriptions
from storage.db import Database
from storage.types import Article, Body, Payload, Priority, Recipient, Section

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
    metrics: Metrics | None = None,
) -> int:
    """Enqueue posts of the stories; those published more than `max_age` ago are left to
    digests and /latest (a new feed or a restart never floods chats). Each story's posts and
    its "announced" mark are one transaction, so a kill leaves it either posted or still to
    post. `metrics` observes each story's lag from publication to storing. Returns deliveries
    added."""
    added = 0
    for article_id in dict.fromkeys(article_ids):
        async with db.transaction():
            article = await articles.get(db, article_id)
            if article is not None:
                if metrics is not None:
                    lag = (article.first_seen - article.published).total_seconds()
                    metrics.stored_lag.observe(max(0.0, lag))
                added += await _post(db, catalogs, sections, article, now, max_age, default_zone)
            await articles.announce(db, [article_id])
    if added:
        log.info("story posts enqueued deliveries=%d", added)
    return added


async def _post(  # noqa: PLR0917 - post's arguments, for one story
    db: Database,
    catalogs: Catalogs,
    sections: Sequence[Section],
    article: Article,
    now: dt.datetime,
    max_age: dt.timedelta,
    default_zone: str,
) -> int:
    if now - article.published > max_age:
        return 0
    recipients = await subscriptions.instant_recipients(db, article.sections)
    if not recipients:
        return 0
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
            in_quiet_hours(now, ZoneInfo(r.timezone or default_zone), r.quiet_start, r.quiet_end),
        )
        for r in recipients
    ]
    threads = {r.chat_id: r.thread_id for r in recipients if r.thread_id is not None}
    return await outbox.add(db, item_id, Priority.STORY, chosen, now, threads=threads)


def _quiet(recipient: Recipient, now: dt.datetime, default_zone: str) -> bool:
    zone = ZoneInfo(recipient.timezone or default_zone)
    return in_quiet_hours(now, zone, recipient.quiet_start, recipient.quiet_end)
