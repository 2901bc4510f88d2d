"""Digest planning: which chats are due, what their digests hold, enqueued once per slot.

Chats with the same sections, modes, language, zone, slot and starting point get the same
digest, so 100,000 chats due at 08:00 make a few hundred items, not 100,000.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.i18n import Catalogs
from bot.render.digest import digest
from bot.schedule import next_digest
from storage import articles, chats, outbox
from storage.db import Database
from storage.types import Article, Body, Chat, DueGroup, Mode, Payload, Priority, Section

log = logging.getLogger(__name__)
FIRST_DIGEST_REACH = dt.timedelta(hours=24)  # a chat's first digest looks back this far
CANDIDATES = 200  # headlines fetched for one digest, before choosing


@dataclass(frozen=True, slots=True)
class _Group:
    """What makes two chats' digests the same."""

    language: str
    zone: str
    modes: tuple[tuple[str, Mode], ...]
    since: dt.datetime
    slot: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DigestPlan:
    chats: int = 0
    digests: int = 0
    deliveries: int = 0


def _zone(chat: Chat | DueGroup, config: Config) -> str:
    return chat.timezone or config.digest.timezone


def _times(chat: Chat | DueGroup, config: Config) -> tuple[str, ...]:
    return chat.digest_times if chat.digest_times is not None else config.digest.times


def upcoming(chat: Chat | DueGroup, config: Config, now: dt.datetime) -> dt.datetime | None:
    """The chat's next digest time after `now`, or None when it takes none."""
    if not chat.digest_enabled:
        return None
    zone = ZoneInfo(_zone(chat, config))
    return next_digest(now, _times(chat, config), zone, weekdays_only=chat.weekdays_only)


def choose(
    found: Sequence[Article], modes: dict[str, Mode], max_age: dt.timedelta
) -> list[Article]:
    """What a digest holds: stories of its digest sections, and stories of its instant sections
    that were too old to post when they came in."""
    chosen = []
    for article in found:
        followed = [modes[s] for s in article.sections if s in modes]
        if Mode.DIGEST in followed or article.first_seen - article.published > max_age:
            chosen.append(article)
    return chosen


async def compose(
    db: Database,
    catalogs: Catalogs,
    config: Config,
    sections: Sequence[Section],
    *,
    modes: dict[str, Mode],
    language: str,
    zone: str,
    since: dt.datetime,
    now: dt.datetime,
    found_cache: dict[tuple[object, ...], list[Article]] | None = None,
) -> list[str]:
    """The digest messages for one chat's choices; [] when there is nothing new.
    `found_cache` shares the headlines between languages when planning many digests."""
    if not modes:
        return []
    key = (tuple(sorted(modes)), since, now)
    found = found_cache.get(key) if found_cache is not None else None
    if found is None:
        found = await articles.published_between(db, list(modes), since, now, limit=CANDIDATES)
        if found_cache is not None:
            found_cache[key] = found
    max_age = dt.timedelta(hours=config.delivery.max_age_hours)
    chosen = choose(found, modes, max_age)
    if not chosen:
        return []
    followed = [s for s in sections if s.slug in modes]
    return digest(
        catalogs.get(language),
        language,
        chosen,
        followed,
        now=now,
        zone=ZoneInfo(zone),
        max_items=config.digest.max_items,
    )


async def plan(
    db: Database, catalogs: Catalogs, config: Config, sections: Sequence[Section], now: dt.datetime
) -> DigestPlan:
    """Schedule new chats; enqueue the digests of due chats and move them to their next slot.

    A chunk of due chats at a time (storage.chats.DUE_CHUNK), each chunk's deliveries and its
    chats moved on in one short transaction, so that a reader's /start never waits long for
    the write lock, and a kill leaves the chunks not yet done due for the next tick."""
    fresh = await chats.unscheduled(db)
    await chats.schedule_digests(db, [(c.id, upcoming(c, config, now), None) for c in fresh])
    total = DigestPlan()
    composed: dict[_Group, list[str]] = {}  # groups span chunks: compose each once
    items: dict[_Group, int] = {}
    found: dict[tuple[object, ...], list[Article]] = {}  # headlines, shared between languages
    nexts: dict[tuple[object, ...], dt.datetime | None] = {}  # chats on one schedule: computed once
    async for due in chats.due_digests(db, now):
        groups: dict[_Group, list[DueGroup]] = defaultdict(list)
        for group in due:
            modes = tuple(sorted(group.modes.items()))
            since = group.digest_since or now - FIRST_DIGEST_REACH
            key = _Group(group.language, _zone(group, config), modes, since, group.next_digest_at)
            groups[key].append(group)
            if key not in composed:  # before the write transaction: reading and rendering
                composed[key] = await compose(
                    db,
                    catalogs,
                    config,
                    sections,
                    modes=dict(modes),
                    language=key.language,
                    zone=key.zone,
                    since=since,
                    now=now,
                    found_cache=found,
                )
                if composed[key]:  # its item too, in a short transaction of its own
                    items[key] = await _item(db, key, composed[key], now)
        moves = []
        recipients: dict[int, list[int]] = defaultdict(list)
        for key, members in groups.items():
            messages = composed[key]
            for group in members:
                if messages:
                    recipients[items[key]].extend(group.chat_ids)
                rule = (
                    group.digest_enabled,
                    _zone(group, config),
                    _times(group, config),
                    group.weekdays_only,
                )
                if rule not in nexts:
                    nexts[rule] = upcoming(group, config, now)
                moves.append((group.chat_ids, nexts[rule], now if messages else None))
        async with db.transaction():  # the chunk's digests and its chats moved on, together
            deliveries = await outbox.add_each(db, Priority.DIGEST, recipients, now)
            await chats.move_digests(db, moves)
        planned = sum(len(group.chat_ids) for group in due)
        total = DigestPlan(total.chats + planned, len(items), total.deliveries + deliveries)
        await asyncio.sleep(0)  # the readers' turn between chunks
    if total.chats:
        log.info("digests planned chats=%d digests=%d", total.chats, total.digests)
    return total


async def _item(db: Database, key: _Group, messages: list[str], now: dt.datetime) -> int:
    """The digest's outbox item: the same group and slot make the same key, so planning twice
    enqueues once."""
    digest_key = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()
    return await outbox.put_item(
        db,
        kind="digest",
        key=f"digest:{digest_key[:20]}",
        priority=Priority.DIGEST,
        payload=Payload({key.language: tuple(Body(m) for m in messages)}),
        now=now,
    )
