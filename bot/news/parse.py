"""Feeds (RSS 0.9x/1.0/2.0, Atom) into items, with feedparser; whatever the encoding."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import feedparser

from bot.news.dates import from_struct, parse_date
from bot.news.text import html_to_text

_IMG = re.compile(r"<img[^>]+src=[\"']([^\"']+)[\"']", re.IGNORECASE)


class NotAFeed(Exception):
    """Nothing could be read as a feed; the message says why."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str  # plain text
    link: str
    guid: str | None
    description: str  # HTML, as the feed gave it (sanitised by feedparser)
    published: dt.datetime | None  # UTC
    categories: tuple[str, ...]
    image: str | None
    author: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    items: tuple[FeedItem, ...]
    warning: str | None  # the feed was malformed but could be read


def parse_feed(
    body: bytes, *, url: str, content_type: str | None, timezone: ZoneInfo
) -> ParsedFeed:
    """Items of the feed in `body`, or NotAFeed."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    # Descriptions only ever become plain text here (bot.news.text drops tags, scripts and
    # styles), so feedparser's HTML sanitiser and relative-URI rewriting are work for nothing.
    parsed = feedparser.parse(
        body, response_headers=headers, sanitize_html=False, resolve_relative_uris=False
    )
    problem = _problem(parsed)
    version = parsed.get("version", "")
    if not parsed.entries and (problem or not version):
        raise NotAFeed(problem or "not an RSS or Atom feed")
    items = tuple(i for i in (_item(e, timezone) for e in parsed.entries) if i is not None)
    feed_title = html_to_text(parsed.feed.get("title", "") or "")
    warning = f"malformed feed, read anyway: {problem}" if problem else None
    return ParsedFeed(feed_title, items, warning)


def _problem(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    error = parsed.get("bozo_exception")
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return None  # the declared encoding was wrong and feedparser found the right one
    text = str(error) if error else "malformed"
    return text.splitlines()[0][:200] if text else "malformed"


def _item(entry: Any, timezone: ZoneInfo) -> FeedItem | None:
    link = (entry.get("link") or "").strip()
    if not link.startswith(("http://", "https://")):
        guid = (entry.get("id") or "").strip()
        if not guid.startswith(("http://", "https://")):
            return None  # a story readers cannot open is not a story
        link = guid
    title = html_to_text(entry.get("title") or "")
    if not title:
        return None
    description = entry.get("summary") or ""
    if not description and entry.get("content"):
        description = entry["content"][0].get("value", "")
    published = None
    for field in ("published", "updated", "created"):
        published = parse_date(entry.get(field), timezone) or from_struct(
            entry.get(f"{field}_parsed")
        )
        if published:
            break
    categories = tuple(
        dict.fromkeys(
            html_to_text(t.get("term") or t.get("label") or "") for t in entry.get("tags") or []
        )
    )
    return FeedItem(
        title=title,
        link=link,
        guid=(entry.get("id") or "").strip() or None,
        description=description,
        published=published,
        categories=tuple(c for c in categories if c),
        image=_image(entry, description),
        author=html_to_text(entry.get("author") or "") or None,
    )


def _image(entry: Any, description: str) -> str | None:
    candidates: list[str] = []
    for media in entry.get("media_content") or []:
        if media.get("medium") == "image" or (media.get("type") or "").startswith("image/"):
            candidates.append(media.get("url", ""))
    candidates += [m.get("url", "") for m in entry.get("media_thumbnail") or []]
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and (link.get("type") or "").startswith("image/"):
            candidates.append(link.get("href", ""))
    if m := _IMG.search(description):
        candidates.append(m.group(1))
    for candidate in candidates:
        if candidate.startswith(("http://", "https://")):
            return candidate
    return None
