"""From a feed item to a story worth storing: identity, sections, summary, a sane date."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from bot.news.identity import canonical_url, title_key
from bot.news.parse import FeedItem
from bot.news.summary import language_of, summarise
from bot.news.text import html_to_text, strip_trailers
from bot.urls import checked
from storage.types import NewArticle

MAX_TITLE = 300
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def _fold(text: str) -> str:
    return " ".join(text.casefold().split())


def sections_for(
    categories: Iterable[str],
    feed_sections: Iterable[str],
    by_category: Mapping[str, Iterable[str]],
) -> frozenset[str]:
    """The sections an item belongs to: those that list its feed, and those whose
    `categories` name one of the item's (any case)."""
    found = set(feed_sections)
    folded = {_fold(c) for c in categories}
    for slug, wanted in by_category.items():
        if folded & {_fold(c) for c in wanted}:
            found.add(slug)
    return frozenset(found)


def description_summary(item: FeedItem) -> str | None:
    """A summary from the feed's own description, if it holds a whole sentence."""
    text = strip_trailers(html_to_text(item.description))
    if not text or _fold(text) == _fold(item.title):
        return None
    return summarise(text)


def story(
    item: FeedItem, sections: frozenset[str], *, now: dt.datetime, summary: str | None
) -> NewArticle:
    """The record for `item`; a missing or future date becomes `now`. Its URL is the item's
    checked link made canonical, still a valid URL (`bot.urls.checked`)."""
    published = item.published or now
    if published > now + FUTURE_TOLERANCE:
        published = now
    title = item.title
    if len(title) > MAX_TITLE:
        title = title[: MAX_TITLE - 1].rsplit(" ", 1)[0] + "…"
    return NewArticle(
        url=checked(canonical_url(item.link)) or item.link,
        guid=item.guid,
        title_key=title_key(item.title),
        title=title,
        summary=summary or "",
        image_url=item.image,
        author=item.author[:256] if item.author else None,
        language=language_of(f"{item.title} {summary or ''}"),
        published=published,
        sections=sections,
    )
