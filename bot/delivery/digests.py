"""Digest planning: which chats are due, what their digests hold, enqueued once per slot.

Chats with the same sections, modes, language, zone, slot and starting point get the same
digest, so 100,000 chats due at 08:00 make a few hundred items, not 100,000.
"""

from __future__ import annotations

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
from storage.types import Article, Body, Chat, DueChat, Mode, Payload, Priority, Section

log = logging.getLogger(__name__)
FIRST_DIGEST_REACH = dt.timedelta(hours=24)  # a chat's first digest looks back this far
BATCH = 250_000  # due chats read at once: one pass over the index, in memory ~100 MB
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


def _zone(chat: Chat | DueChat, config: Config) -> str:
    return chat.timezone or config.digest.timezone


def _times(chat: Chat | DueChat, config: Config) -> tuple[str, ...]:
    return chat.digest_times if chat.digest_times is not None else config.digest.times


def upcoming(chat: Chat | DueChat, config: Config, now: dt.datetime) -> dt.datetime | None:
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
    """Schedule new chats; enqueue the digests of due chats and move them to their next slot."""
    fresh = await chats.unscheduled(db)
    await chats.schedule_digests(db, [(c.id, upcoming(c, config, now), None) for c in fresh])
    total = DigestPlan()
    composed: dict[_Group, list[str]] = {}  # groups span batches: compose each once
    items: dict[_Group, int] = {}
    while True:
        due = await chats.digests_due(db, now, limit=BATCH)
        if not due:
            return total
        done = await _plan_batch(
            db, catalogs, config, sections, due, now=now, composed=composed, items=items
        )
        total = DigestPlan(total.chats + done.chats, len(items), total.deliveries + done.deliveries)
        if len(due) < BATCH:
            log.info("digests planned chats=%d digests=%d", total.chats, total.digests)
            return total


async def _plan_batch(
    db: Database,
    catalogs: Catalogs,
    config: Config,
    sections: Sequence[Section],
    due: Sequence[DueChat],
    *,
    now: dt.datetime,
    composed: dict[_Group, list[str]],
    items: dict[_Group, int],
) -> DigestPlan:
    found: dict[tuple[object, ...], list[Article]] = {}
    groups: dict[_Group, list[DueChat]] = defaultdict(list)
    signature: dict[int, tuple[tuple[str, Mode], ...]] = {}  # chats share their modes' dicts
    for chat in due:
        modes = signature.get(id(chat.modes))
        if modes is None:
            modes = signature[id(chat.modes)] = tuple(sorted(chat.modes.items()))
        since = chat.digest_since or now - FIRST_DIGEST_REACH
        key = _Group(chat.language, _zone(chat, config), modes, since, chat.next_digest_at)
        groups[key].append(chat)
    schedule: list[tuple[int, dt.datetime | None, dt.datetime | None]] = []
    deliveries = 0
    nexts: dict[tuple[object, ...], dt.datetime | None] = {}
    for key, members in groups.items():
        if key not in composed:
            composed[key] = await compose(
                db,
                catalogs,
                config,
                sections,
                modes=dict(key.modes),
                language=key.language,
                zone=key.zone,
                since=key.since,
                now=now,
                found_cache=found,
            )
        messages = composed[key]
        if messages:
            item_id = items.get(key)
            if item_id is None:
                # The same group and slot make the same key: planning twice enqueues once.
                digest_key = hashlib.sha1(repr(key).encode(), usedforsecurity=False).hexdigest()
                item_id = items[key] = await outbox.put_item(
                    db,
                    kind="digest",
                    key=f"digest:{digest_key[:20]}",
                    priority=Priority.DIGEST,
                    payload=Payload({key.language: tuple(Body(m) for m in messages)}),
                    now=now,
                )
            deliveries += await outbox.add(
                db, item_id, Priority.DIGEST, [(c.id, False) for c in members], now
            )
        for chat in members:
            # Chats on the same schedule share their next time: compute it once.
            rule = (
                chat.digest_enabled,
                _zone(chat, config),
                _times(chat, config),
                chat.weekdays_only,
            )
            if rule not in nexts:
                nexts[rule] = upcoming(chat, config, now)
            schedule.append((chat.id, nexts[rule], now if messages else None))
    await chats.schedule_digests(db, schedule)
    return DigestPlan(len(due), 0, deliveries)
