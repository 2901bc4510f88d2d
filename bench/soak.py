"""Soak: 100,000 chats for 90 simulated days on SQLite, on a virtual clock: does the database
stop growing after `keep_days`, and do the digest tick and /latest stay as fast?

Every day: 40 stories stored and posted to the 10% of chats that follow their sections
instantly, two digest ticks (08:00 and 20:00, Kyiv), one flash to every active chat, 1% of
the chats a week blocking the bot, and the daily prune job at 03:00. Each step calls the
bot's own functions with the virtual `now`; only Telegram is left out: after each step the
pending deliveries are recorded sent, as the engine records them, in batches.

Run: `make bench-soak` (or .venv/bin/python -m bench.soak [--chats 100000] [--days 90]).
At full size it takes a while (see README); try `--chats 2000 --days 20` first."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, event, insert
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import ExtBot

from bot import jobs, pipeline
from bot.config import Config, parse
from bot.context import Context
from bot.news.identity import title_key
from bot.news.stem import search_terms
from bot.newsroom import Desk, flashes
from bot.newsroom.drafts import Draft
from bot.render import news
from bot.runtime import Runtime, open_runtime
from storage import articles, chats, feeds, outbox, subscriptions
from storage.codes import EditorAction
from storage.db import READ_ONLY, Database
from storage.models import ChatRow, SubscriptionRow
from storage.search import search as search_articles
from storage.types import (
    BroadcastKind,
    ChatStatus,
    DeliveryState,
    Mode,
    NewArticle,
    Priority,
    Result,
)

KYIV = ZoneInfo("Europe/Kyiv")
START = dt.datetime(2026, 12, 1, tzinfo=KYIV)  # a Tuesday; the weeks are counted from it
SLUGS = ["ukraine", "world", "economy", "war", "culture", "science", "sport"]
EDITOR = 1000
FEED = "https://news.example.ua/rss"
STORIES_A_DAY = 40
INSTANT_SHARE = 0.10
BLOCKING_A_WEEK = 0.01
DRAIN_BATCH = 10_000  # deliveries recorded per transaction
PAGE = 4096
ROUNDS = 15  # of each browsing query, on each reported day
TABLES = ["deliveries", "outbox_items", "articles", "article_sections", "articles_fts_docsize",
          "broadcasts", "audit", "searches", "feeds", "chats"]  # fmt: skip
SUBJECTS = ["Зеленський", "Уряд", "НБУ", "Генштаб", "Верховна Рада", "Київрада", "Нафтогаз",
            "ЄС", "США", "НАТО", "МВФ", "Кабмін"]  # fmt: skip
VERBS = ["заявив про", "ухвалив", "оголосив", "спростував", "підтримав", "скасував", "погодив"]
OBJECTS = ["нові санкції", "бюджет на 2027 рік", "обмін полоненими", "ремонт мостів у Києві",
           "ціни на пальне", "постачання ППО", "тарифи на світло", "експорт зерна",
           "енергетичну безпеку", "відбудову Ірпеня"]  # fmt: skip


@dataclass
class Point:
    """What one reported day measured."""

    day: int
    file_mb: float
    used_mb: float
    rows: dict[str, int]
    objects: dict[str, int]  # bytes per table and index (dbstat)
    due: int  # chats the 08:00 tick planned
    tick: float  # seconds
    tick_hold: float  # its longest write transaction, seconds
    prune: float
    prune_hold: float
    latest: float
    latest_one: float
    search: float


class Holds:
    """The longest write transaction since the last `take`: how long it held SQLite's write
    lock (from its BEGIN IMMEDIATE to its end), so how long a reader's /start could wait."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._begun: dict[int, float] = {}
        self._longest = 0.0
        event.listen(engine.sync_engine, "begin", self._begin)
        event.listen(engine.sync_engine, "commit", self._end)
        event.listen(engine.sync_engine, "rollback", self._end)

    def _begin(self, conn: Connection) -> None:
        if not conn.get_execution_options().get(READ_ONLY, False):
            self._begun[id(conn)] = time.perf_counter()

    def _end(self, conn: Connection) -> None:
        begun = self._begun.pop(id(conn), None)
        if begun is not None:
            self._longest = max(self._longest, time.perf_counter() - begun)

    def take(self) -> float:
        longest, self._longest = self._longest, 0.0
        return longest


@dataclass
class Soak:
    runtime: Runtime
    chat_ids: list[int]
    rng: random.Random
    desk: Desk
    bot: ExtBot[None]
    feed_id: int
    holds: Holds
    clock: dt.datetime = START
    stories: int = 0
    blocked: int = 0
    phases: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    today: dict[str, float] = field(default_factory=dict)  # the 08:00 tick's and the prune's

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def config(self) -> Config:
        return self.runtime.config


def _config(path: Path) -> Config:
    return parse(
        {"telegram": {"owners": [EDITOR]},
         "storage": {"url": f"sqlite+aiosqlite:///{path}"},
         "sections": [{"slug": s, "title": {"uk": s.title()}} for s in SLUGS]},
        environ={},
    )  # fmt: skip


async def _setup(runtime: Runtime, count: int, rng: random.Random) -> None:
    """Chats straight into the tables (registering 100,000 one by one would take minutes):
    1 to 3 sections each, 10% of them following their sections instantly, all due at the
    first digest slot with no digest yet (the first looks back a day)."""
    choices = [c for n in (1, 2, 3) for c in combinations(range(len(SLUGS)), n)]
    section_ids = {s.slug: s.id for s in runtime.sections}
    first_slot = START.replace(hour=8).astimezone(dt.UTC)
    created = START - dt.timedelta(days=1)
    chat_rows, subs = [], []
    for chat_id in range(1, count + 1):
        chat_rows.append({
            "id": chat_id, "type": "private", "title": "", "status": "active",
            "language": "en" if chat_id % 10 == 0 else "uk", "created": created,
            "updated": created, "next_digest_at": first_slot, "digest_since": None,
            "digest_enabled": True, "weekdays_only": False,
        })  # fmt: skip
        mode = Mode.INSTANT if rng.random() < INSTANT_SHARE else Mode.DIGEST
        for i in rng.choice(choices):
            subs.append({"chat_id": chat_id, "section_id": section_ids[SLUGS[i]],
                         "created": created, "mode": mode.value})  # fmt: skip
    async with runtime.db.transaction() as s:
        for start in range(0, len(chat_rows), 50_000):
            await s.execute(insert(ChatRow), chat_rows[start : start + 50_000])
        for start in range(0, len(subs), 50_000):
            await s.execute(insert(SubscriptionRow), subs[start : start + 50_000])


def _story(n: int, rng: random.Random, published: dt.datetime) -> NewArticle:
    title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ({n})"
    summary = (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}. "
        f"Про це повідомили {rng.randint(1, 28)} числа."
    )
    sections = frozenset(rng.sample(SLUGS, rng.choice([1, 1, 1, 2])))
    return NewArticle(f"https://news.example.ua/{n}", None, title_key(title), title, summary,
                      None, None, "uk", published, sections)  # fmt: skip


async def _timed(soak: Soak, phase: str, step: Awaitable[object]) -> float:
    start = time.perf_counter()
    await step
    elapsed = time.perf_counter() - start
    soak.phases[phase] += elapsed
    return elapsed


async def drain(soak: Soak) -> int:
    """What the engine would do once Telegram said yes to everything: each pending delivery
    recorded sent, with a message id, at the virtual now, in batches."""
    done = 0
    for lane in Priority:
        after = 0
        while True:
            t0 = time.perf_counter()
            batch = await outbox.pending(soak.db, lane, after_id=after, limit=DRAIN_BATCH)
            soak.phases["reading pending"] += time.perf_counter() - t0
            if not batch:
                break
            t0 = time.perf_counter()
            await outbox.record(
                soak.db,
                [
                    Result(
                        p.id,
                        DeliveryState.SENT,
                        p.attempts + 1,
                        message_ids=(p.id,),
                        sent_at=soak.clock,
                    )
                    for p in batch
                ],
            )
            soak.phases["recording sends"] += time.perf_counter() - t0
            after = batch[-1].id
            done += len(batch)
    return done


async def poll(soak: Soak) -> None:
    """One feed poll bringing one new story: stored as ingest stores it, the feed's health
    recorded, the story posted to its instant subscribers."""
    now = soak.clock
    soak.stories += 1
    story = _story(soak.stories, soak.rng, now - dt.timedelta(minutes=5))
    saved = await articles.save(soak.db, [story], feed_id=soak.feed_id, now=now)
    await feeds.record_success(
        soak.db, soak.feed_id, now=now, next_check=now + dt.timedelta(minutes=10)
    )
    await pipeline.post_stories(soak.runtime, [s.article_id for s in saved if s.new_sections])


async def flash(soak: Soak) -> None:
    """An editor's flash to everyone, through the newsroom's service: preview, then Send."""
    draft = Draft(None, f"Терміново: {soak.clock:%d.%m} повітряна тривога", None)
    soak.clock -= dt.timedelta(minutes=2)
    preview, _ = await flashes.open_preview(
        soak.desk,
        EDITOR,
        BroadcastKind.FLASH,
        flashes.payload(soak.desk, draft),
        action=EditorAction.BREAKING,
        sections=None,
        flash=None,
        target="",
    )
    soak.clock += dt.timedelta(minutes=2)
    sent = await flashes.confirm(soak.desk, preview.id, EDITOR, silent=False)
    await flashes.enqueue_rest(soak.desk)  # what the progress job goes on writing
    assert sent.item_id is not None
    written = sum((await outbox.counts(soak.db, sent.item_id)).values())
    active = (await chats.count_by_status(soak.db))[ChatStatus.ACTIVE]
    assert written == active, f"the flash reached {written} of {active} active chats"


async def block(soak: Soak, count: int) -> None:
    """Chats that blocked the bot, as the engine learns it from a 403: the chat's status, and
    its pending deliveries skipped."""
    for chat_id in soak.chat_ids[soak.blocked : soak.blocked + count]:
        await chats.set_status(soak.db, chat_id, ChatStatus.BLOCKED)
        await outbox.skip_chat(soak.db, chat_id, "Forbidden: bot was blocked by the user")
    soak.blocked += count


@dataclass
class _JobContext:
    """All that bot.jobs' prune and digest tick read of their context: the runtime (whose
    clock is the virtual one)."""

    runtime: Runtime


async def prune(soak: Soak) -> None:
    """The bot's daily prune job itself."""
    await jobs.prune(cast("Context", _JobContext(soak.runtime)))


async def _median(query: Callable[[], Awaitable[object]]) -> float:
    await query()  # warm
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        await query()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


async def browse(soak: Soak) -> tuple[float, float, float]:
    """/latest as its handler reads it (the chat's sections, then the page), /latest of one
    section, and /search's query: median times."""
    db, reader = soak.db, soak.chat_ids[-1]  # the last to block: active all along

    async def latest_mine() -> None:
        followed = await subscriptions.of_chat(db, reader)
        await articles.latest(db, sorted(followed), limit=news.PAGE_SIZE)

    async def latest_one() -> None:
        await articles.latest(db, ["world"], limit=news.PAGE_SIZE)

    async def search() -> None:
        await search_articles(db, search_terms("санкції"), limit=news.PAGE_SIZE)

    await articles.save_search(db, "санкції", soak.clock, reader)  # as the handler keeps it
    return await _median(latest_mine), await _median(latest_one), await _median(search)


def sizes(path: Path) -> tuple[float, float, dict[str, int], dict[str, int]]:
    """After a checkpoint that empties the WAL: the file's size, the space its pages really
    use (pages minus the free list), rows per table, and bytes per table and index."""
    with closing(sqlite3.connect(path, isolation_level=None)) as c:
        busy, _, _ = c.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        assert busy == 0, "the checkpoint was blocked"
        page = c.execute("PRAGMA page_size").fetchone()[0]
        pages = c.execute("PRAGMA page_count").fetchone()[0]
        free = c.execute("PRAGMA freelist_count").fetchone()[0]
        rows = {t: c.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES}  # noqa: S608
        objects = dict(c.execute("SELECT name, pgsize FROM dbstat WHERE aggregate = TRUE"))
    return path.stat().st_size / 1e6, (pages - free) * page / 1e6, rows, objects


async def day(soak: Soak, number: int, chats_total: int) -> tuple[float, float, float]:
    """One simulated day; returns the browsing times measured at noon."""
    base = START + dt.timedelta(days=number)
    to_block = round(chats_total * BLOCKING_A_WEEK * (number + 1) / 7) - soak.blocked
    browsed: list[float] = []

    async def at_noon() -> None:
        browsed.extend(await browse(soak))

    async def tick() -> None:
        soak.holds.take()
        start = time.perf_counter()
        planned = await pipeline.plan_digests(soak.runtime)  # the digest tick job's one call
        elapsed = time.perf_counter() - start
        soak.phases["digest ticks"] += elapsed
        if soak.clock.astimezone(KYIV).hour == 8:
            soak.today.update(due=planned.chats, tick=elapsed, tick_hold=soak.holds.take())

    async def flash_and_blocks() -> None:
        await _timed(soak, "flash", flash(soak))
        await _timed(soak, "blocking", block(soak, to_block))

    async def stories() -> None:
        await _timed(soak, "stories", poll(soak))

    async def pruning() -> None:
        soak.holds.take()
        soak.today["prune"] = await _timed(soak, "prune", prune(soak))
        soak.today["prune_hold"] = soak.holds.take()

    events: list[tuple[dt.timedelta, Callable[[], Awaitable[None]]]] = [
        (dt.timedelta(hours=3), pruning),
        (dt.timedelta(hours=8), tick),
        (dt.timedelta(hours=12), at_noon),
        (dt.timedelta(hours=13), flash_and_blocks),
        (dt.timedelta(hours=20), tick),
    ]
    step = dt.timedelta(days=1) / STORIES_A_DAY
    events += [(step / 2 + k * step, stories) for k in range(STORIES_A_DAY)]
    for offset, happening in sorted(events, key=lambda e: e[0]):
        # Wall-clock time in Kyiv: the day's events keep their local hours.
        soak.clock = (base.replace(tzinfo=None) + offset).replace(tzinfo=KYIV).astimezone(dt.UTC)
        await happening()
        await drain(soak)
        if happening is flash_and_blocks:
            await flashes.report(soak.desk, soak.bot)  # the flash is done: its figures kept
    return browsed[0], browsed[1], browsed[2]


def _row(p: Point) -> str:
    r = p.rows
    return (
        f"{p.day:4d} {p.file_mb:9.1f} {p.used_mb:9.1f} {r['deliveries']:11,} "
        f"{r['outbox_items']:7,} {r['articles']:6,} {r['articles_fts_docsize']:6,} "
        f"{r['broadcasts']:4,} {r['audit']:5,} {p.due:7,} {p.tick:5.2f} {p.tick_hold * 1000:5.0f} "
        f"{p.prune:6.2f} {p.prune_hold * 1000:5.0f} {p.latest * 1000:6.1f} "
        f"{p.latest_one * 1000:6.1f} {p.search * 1000:6.1f} {os.getloadavg()[0]:5.2f}"
    )


HEADER = (
    " day   file MB   used MB  deliveries   items  artcl    fts bcst audit     due  tick  hold "
    " prune  hold latest 1 sect search  load\n"
    "                                                                   chats     s    ms "
    "     s    ms     ms     ms     ms"
)


def _span(values: list[float]) -> str:
    return f"{min(values):.1f}–{max(values):.1f}"


def growth(points: list[Point], since_day: int) -> list[str]:
    """Tables and indexes that still grow once everything kept for a while is being pruned:
    bytes per week, from the first reported day after `since_day` to the last."""
    settled = [p for p in points if p.day > since_day]
    if len(settled) < 2:
        return []
    first, last = settled[0], settled[-1]
    weeks = (last.day - first.day) / 7
    lines = []
    for name in sorted(set(first.objects) | set(last.objects)):
        before, after = first.objects.get(name, 0), last.objects.get(name, 0)
        per_week = (after - before) / weeks
        if per_week > PAGE:  # less is a page's noise
            lines.append(
                f"  {name:36s} {before / 1e6:9.2f} MB -> {after / 1e6:9.2f} MB "
                f"({per_week / 1e3:+,.1f} kB a week)"
            )
    for table in TABLES:
        before, after = first.rows[table], last.rows[table]
        if after > before:
            lines.append(
                f"  rows in {table:28s} {before:12,} -> {after:12,} "
                f"({(after - before) / weeks:+,.1f} a week)"
            )
    return lines


def summary(points: list[Point], settle: int) -> None:
    after = [p for p in points if p.day > settle]
    first, last = points[0], points[-1]
    if after:
        per = max(p.used_mb * 1e6 / max(1, p.rows["deliveries"]) for p in after)
        print(
            f"plateau after day {settle}: file {_span([p.file_mb for p in after])} MB, "
            f"used {_span([p.used_mb for p in after])} MB "
            f"(≤ {per:.0f} bytes of database per delivery kept)"
        )
    rate = [p.tick / max(1, p.due) * 100_000 for p in (first, last)]
    print(
        f"digest tick day {first.day}: {first.tick:.2f} s for {first.due:,} chats, "
        f"day {last.day}: {last.tick:.2f} s for {last.due:,} "
        f"({rate[0]:.2f} -> {rate[1]:.2f} s per 100,000); "
        f"longest write transaction: tick {max(p.tick_hold for p in points) * 1000:.0f} ms, "
        f"prune {max(p.prune_hold for p in points) * 1000:.0f} ms"
    )
    print(f"/latest {first.latest * 1000:.1f} -> {last.latest * 1000:.1f} ms, "
          f"/latest one section {first.latest_one * 1000:.1f} -> {last.latest_one * 1000:.1f} ms, "
          f"/search {first.search * 1000:.1f} -> {last.search * 1000:.1f} ms")  # fmt: skip
    if len(after) < 2 or after[-1].day - after[0].day < 14:
        print(f"(too few days to see a plateau: articles are kept {settle} days)")
        return
    grown = growth(points, settle)
    print(f"still growing after day {settle}" + (" (per week):" if grown else ": nothing"))
    for line in grown:
        print(line)


async def soak_for(chats_total: int, days: int, path: Path) -> None:
    wall = time.perf_counter()
    runtime = await open_runtime(_config(path))
    rng = random.Random(7)
    await _setup(runtime, chats_total, rng)
    feed_id = (await feeds.ensure(runtime.db, [FEED], START))[0].id
    ids = list(range(1, chats_total + 1))
    rng.shuffle(ids)  # the order in which they block the bot
    holds = Holds(runtime.db.engine)
    soak = Soak(runtime, ids, rng, Desk.of(runtime), ExtBot("1:soak"), feed_id, holds)
    runtime.clock = lambda: soak.clock
    dl, ig = runtime.config.delivery.keep_days, runtime.config.ingest.keep_days
    print(f"{chats_total:,} chats ({INSTANT_SHARE:.0%} instant), {days} days: "
          f"{STORIES_A_DAY} stories, 2 digests and 1 flash a day, "
          f"{BLOCKING_A_WEEK:.0%} of chats blocking a week; keep_days: deliveries {dl}, "
          f"articles {ig}; load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    print(HEADER)
    points: list[Point] = []
    try:
        for number in range(days):
            latest, latest_one, search = await day(soak, number, chats_total)
            shown = number + 1
            if shown == 1 or shown % 7 == 0 or shown == days:
                start = time.perf_counter()
                file_mb, used_mb, rows, objects = sizes(path)
                soak.phases["measuring sizes"] += time.perf_counter() - start
                t = soak.today
                point = Point(shown, file_mb, used_mb, rows, objects, int(t["due"]), t["tick"],
                              t["tick_hold"], t["prune"], t["prune_hold"], latest, latest_one,
                              search)  # fmt: skip
                points.append(point)
                print(_row(point), flush=True)
            print(f"\rday {shown}: {time.perf_counter() - wall:.0f} s", end="", file=sys.stderr)
        print(file=sys.stderr)
    finally:
        await runtime.close()
    summary(points, max(dl, ig))
    phases = ", ".join(f"{k} {v:.0f} s" for k, v in sorted(soak.phases.items()))
    print(f"run time {time.perf_counter() - wall:.0f} s ({phases}); "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip


async def main() -> None:
    args = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    args.add_argument("--chats", type=int, default=100_000)
    args.add_argument("--days", type=int, default=90)
    opts = args.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        await soak_for(opts.chats, opts.days, Path(tmp) / "soak.db")


if __name__ == "__main__":
    asyncio.run(main())
