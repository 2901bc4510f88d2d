"""Feeds (RSS 0.9x/1.0/2.0, Atom) into items, with feedparser; whatever the encoding.

A feed is outside input: one bad item is one bad item. Each item is read on its own; a field
that cannot be used is dropped (an impossible date is no date, an image URL that is not a valid
http(s) URL is no image), an item readers cannot open (no valid http(s) link) or see (no
title) is dropped and counted in `ParsedFeed.dropped`, and the other items are kept. Texts are
cleaned (`bot.news.text`), links and image URLs go through `bot.urls.checked`, and the XML is
defused first (`bot.news.defuse`) and handed to feedparser as a stream, never as bytes it could
take for a file name.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import logging
import re
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import feedparser
import feedparser.encodings  # type: ignore[import-untyped]

from bot.news.dates import from_struct, parse_date
from bot.news.defuse import defuse
from bot.news.text import clean, html_to_text
from bot.urls import checked

log = logging.getLogger(__name__)
# An <img> tag's src; [^<>] keeps every attempt within one tag (linear time on any input).
_IMG = re.compile(r"<img\s[^<>]*?\bsrc\s*=\s*[\"']([^\"'<>]+)[\"']", re.IGNORECASE)
MAX_TEXT = 100_000  # characters of a title, description or other text of one item looked at
MAX_CATEGORIES = 50
MAX_GUID = 512  # a longer guid is kept as a digest of itself


MAX_TAG = 32_000  # bytes of one tag, attributes included
MAX_ELEMENTS = 200_000
_HUGE_TAG = re.compile(rb"<[^<>]{%d}" % MAX_TAG)


class NotAFeed(Exception):
    """Nothing could be read as a feed; the message says why."""


@dataclass(frozen=True, slots=True)
class FeedItem:
    title: str  # plain text
    link: str  # checked: a valid absolute http(s) URL
    guid: str | None
    description: str  # HTML, as the feed gave it
    published: dt.datetime | None  # UTC
    categories: tuple[str, ...]
    image: str | None  # checked
    author: str | None


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    title: str
    items: tuple[FeedItem, ...]
    warning: str | None  # the feed was malformed but could be read
    dropped: int = 0  # items that could not be used (no valid link, no title, past `limit`)


def parse_feed(
    body: bytes, *, url: str, content_type: str | None, timezone: ZoneInfo, limit: int | None = None
) -> ParsedFeed:
    """Items of the feed in `body` (the first `limit` of them), or NotAFeed."""
    headers = {"content-location": url}
    if content_type:
        headers["content-type"] = content_type
    try:
        parsed, problem = _parse(body, headers)
    except NotAFeed:
        raise
    except Exception as e:  # feedparser is large; nothing in it may take ingest down
        log.warning("feed not parsed url=%s error=%s: %s", url, type(e).__name__, e)
        raise NotAFeed(f"could not be read ({type(e).__name__})") from e
    version = parsed.get("version", "")
    if not parsed.entries and (problem or not version):
        raise NotAFeed(problem or "not an RSS or Atom feed")
    entries = list(parsed.entries)
    dropped = 0
    if limit is not None and len(entries) > limit:
        entries, dropped = entries[:limit], len(entries) - limit
    items = []
    for entry in entries:
        try:
            item = _item(entry, timezone)
        except Exception as e:  # a bug's way out for one item, not for the feed
            log.warning("item dropped feed=%s error=%s: %s", url, type(e).__name__, e)
            item = None
        if item is None:
            dropped += 1
        else:
            items.append(item)
    feed_title = html_to_text(_text(parsed.feed.get("title")))
    warning = f"malformed feed, read anyway: {problem}" if problem else None
    return ParsedFeed(feed_title, tuple(items), warning, dropped)


def _parse(body: bytes, headers: dict[str, str]) -> tuple[Any, str | None]:
    """feedparser's result for the defused feed, and what was wrong with it, if anything."""
    # Decode as feedparser would (HTTP charset, XML declaration, BOM, guesses) to defuse the
    # very UTF-8 it would parse; then it parses that, declared as what it is.
    converted: dict[str, Any] = {}
    utf8 = feedparser.encodings.convert_to_utf8(headers, body, converted)
    defused = defuse(utf8) if converted.get("encoding") else defuse(body)
    # feedparser's time grows with the square of one element's attributes (40,000 of them in
    # 430 kB: 20 s) and steadily with elements: no real feed comes near these bounds.
    if _HUGE_TAG.search(defused):
        raise NotAFeed(f"a tag of over {MAX_TAG // 1000} kB")
    if defused.count(b"<") > MAX_ELEMENTS:
        raise NotAFeed(f"over {MAX_ELEMENTS:,} elements")
    if converted.get("encoding"):
        headers = headers | {"content-type": "application/xml; charset=utf-8"}
    # Descriptions only ever become plain text here (bot.news.text drops tags, scripts and
    # styles), so feedparser's HTML sanitiser and relative-URI rewriting are work for nothing.
    # A stream, never bytes: feedparser first tries bytes as a file name to open, so a body
    # of "/etc/passwd" would have been that file, parsed.
    parsed = feedparser.parse(
        io.BytesIO(defused),
        response_headers=headers,
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    return parsed, _problem(parsed) or _problem(converted)


def _problem(parsed: Any) -> str | None:
    if not parsed.get("bozo"):
        return None
    error = parsed.get("bozo_exception")
    if isinstance(error, feedparser.CharacterEncodingOverride):
        return None  # the declared encoding was wrong and feedparser found the right one
    text = clean(str(error)) if error else "malformed"
    return text.splitlines()[0][:200] if text.strip() else "malformed"


def _text(value: Any) -> str:
    """A text field of the feed, bounded; feedparser gives str, a hostile feed anything."""
    return value[:MAX_TEXT] if isinstance(value, str) else ""


def _guid(value: Any) -> str | None:
    guid = clean(_text(value)).strip()
    if len(guid) > MAX_GUID:
        return "sha256:" + hashlib.sha256(guid.encode()).hexdigest()
    return guid or None


def _item(entry: Any, timezone: ZoneInfo) -> FeedItem | None:
    guid = _guid(entry.get("id"))
    link = checked(_text(entry.get("link")))
    if link is None and guid and guid.startswith(("http://", "https://")):
        link = checked(guid)
    if link is None:
        return None  # a story readers cannot open is not a story
    title = html_to_text(_text(entry.get("title")))
    if not title:
        return None
    description = _text(entry.get("summary"))
    if not description and entry.get("content"):
        description = _text(entry["content"][0].get("value"))
    published = None
    for field in ("published", "updated", "created"):
        # dict.get: feedparser's own get maps a missing "updated" to "published", with a warning
        published = parse_date(_text(dict.get(entry, field)), timezone) or from_struct(
            dict.get(entry, f"{field}_parsed")
        )
        if published:
            break
    tags = (entry.get("tags") or [])[:MAX_CATEGORIES]
    categories = tuple(
        dict.fromkeys(html_to_text(_text(t.get("term") or t.get("label"))) for t in tags)
    )
    return FeedItem(
        title=title,
        link=link,
        guid=guid,
        description=description,
        published=published,
        categories=tuple(c for c in categories if c),
        image=_image(entry, description),
        author=html_to_text(_text(entry.get("author"))) or None,
    )


def _image(entry: Any, description: str) -> str | None:
    candidates: list[Any] = []
    for media in entry.get("media_content") or []:
        if media.get("medium") == "image" or _text(media.get("type")).startswith("image/"):
            candidates.append(media.get("url"))
    candidates += [m.get("url") for m in entry.get("media_thumbnail") or []]
    for link in entry.get("links") or []:
        if link.get("rel") == "enclosure" and _text(link.get("type")).startswith("image/"):
            candidates.append(link.get("href"))
    if m := _IMG.search(description):
        candidates.append(html.unescape(m.group(1)))
    for candidate in candidates:
        if url := checked(_text(candidate)):
            return url
    return None
