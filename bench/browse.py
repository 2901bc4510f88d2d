"""Bot-side handling time of /latest and /search with 100,000 stored articles: the real handlers
in the real Application (storage, rendering, and the reply to a fake Telegram on loopback).

Run: `make bench-browse` (or .venv/bin/python -m bench.browse [--db sqlite|postgresql|both]).
SQLite's archive takes about a minute to build the first time; it is kept in bench/.cache/.
PostgreSQL runs on a throw-away cluster of its own (tests.postgresql: PostgreSQL 15 from
Debian's packages, fsync off), built afresh each run (about two minutes) and ANALYZEd, as
autovacuum would have it by then; or on the database `--url` names (built there once, kept).
With `--db both` the two bots answer in turn, one command each, so that whatever else keeps
the machine busy weighs on both alike, and a last table sets their p95s side by side."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import random
import statistics
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import text
from telegram import Update

from bot import app as visnyk_app
from bot.config import parse
from bot.news.identity import title_key
from bot.runtime import open_runtime
from storage import articles, chats, subscriptions
from storage.types import ChatType, NewArticle
from tests import postgresql
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN

ARTICLES = 100_000
ROUNDS = 60
READERS = 30
CACHE = Path(__file__).parent / ".cache"
SECTIONS = ["ukraine", "world", "economy", "war", "culture", "science", "sport"]
NOW = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
SUBJECTS = [
    "Зеленський",
    "Уряд",
    "НБУ",
    "Мінфін",
    "Генштаб",
    "Верховна Рада",
    "Київрада",
    "Укрзалізниця",
    "Нафтогаз",
    "ЄС",
    "США",
    "Польща",
    "НАТО",
    "МВФ",
    "Кабмін",
]
VERBS = [
    "заявив про",
    "ухвалив",
    "оголосив",
    "спростував",
    "підтримав",
    "розкритикував",
    "запровадив",
    "скасував",
    "обговорив",
    "погодив",
]
OBJECTS = ["нові санкції", "бюджет на 2027 рік", "обмін полоненими", "ракетний удар по Харкову",
           "ремонт мостів у Києві", "ціни на пальне", "підвищення пенсій", "постачання ППО",
           "реформу освіти", "вибори у громадах", "тарифи на світло", "відбудову Ірпеня",
           "кредит від МВФ", "експорт зерна", "мобілізацію", "енергетичну безпеку",
           "захист Львова", "оборону Одеси", "страйк у Дніпрі",
           "фестиваль у Чернігові"]  # fmt: skip


def _story(i: int, rng: random.Random) -> NewArticle:
    title = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ({i})"
    summary = (
        f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)}. "
        f"Про це повідомили {rng.randint(1, 28)} листопада."
    )
    published = NOW - dt.timedelta(seconds=i * 26)  # 100,000 stories over a month
    sections = frozenset(rng.sample(SECTIONS, rng.choice([1, 1, 1, 2])))
    return NewArticle(f"https://news.example.ua/{i}", None, title_key(title), title, summary,
                      None, None, "uk", published, sections)  # fmt: skip


async def _archive(url: str) -> None:
    config = parse({"storage": {"url": url}, "sections": _sections()}, environ={})
    runtime = await open_runtime(config)
    try:
        if await articles.count(runtime.db) >= ARTICLES:
            return
        rng = random.Random(1)
        batch = 1000
        for start in range(0, ARTICLES, batch):
            stories = [_story(i, rng) for i in range(start, start + batch)]
            await articles.save(runtime.db, stories, feed_id=None, now=NOW)
            print(f"\rbuilding the archive: {start + batch:,} articles", end="", file=sys.stderr)
        print(file=sys.stderr)
        if runtime.db.dialect == "postgresql":
            async with runtime.db.engine.begin() as conn:
                await conn.execute(text("ANALYZE"))
    finally:
        await runtime.close()


def _sections() -> list[dict[str, object]]:
    return [{"slug": s, "title": {"uk": s.title()}} for s in SECTIONS]


def _pct(samples: list[float]) -> str:
    return f"p50 {statistics.median(samples) * 1000:6.1f} ms   p95 {_p95(samples) * 1000:6.1f} ms"


def _p95(samples: list[float]) -> float:
    return sorted(samples)[max(0, int(len(samples) * 0.95) - 1)]


CASES = {
    "/latest (3 of 7 sections)": ["/latest"],
    "/latest world (one section)": ["/latest world"],
    "/search, common word": ["/search Зеленського", "/search Києві", "/search санкції"],
    "/search, two words": ["/search ракетний Харкову", "/search пенсій уряд"],
    "/search, rare word": ["/search (4242)", "/search Ірпеня страйк"],
}


class Bot:
    """The bot on one database, with READERS readers subscribed to three sections."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.tg = FakeTelegram(TOKEN)
        self.readers: list[tuple[dict[str, Any], dict[str, Any]]] = []

    async def start(self) -> str:
        """Build the archive if it is not there and start the bot; what it runs on."""
        await _archive(self.url)
        await self.tg.start()
        # The bot's rate limit is set out of the way: 300 replies in a few seconds would
        # otherwise wait for the 30-a-second window, and this measures handling, not pacing.
        # For the same reason the commands come from 30 readers in turn: one reader gets one
        # answer a second.
        config = parse(
            {"telegram": {"token": TOKEN, "api_base_url": self.tg.base_url},
             "storage": {"url": self.url}, "delivery": {"messages_per_second": 1000},
             "sections": _sections()},
            environ={},
        )  # fmt: skip
        self.app = visnyk_app.build(config)
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        runtime = self.app.bot_data["runtime"]
        runtime.clock = lambda: NOW
        people = People(self.tg)
        for _ in range(READERS):
            user = people.person("Оксана")
            chat = people.private(user)
            await chats.ensure(
                runtime.db, chat["id"], type=ChatType.PRIVATE, title="", language="uk"
            )
            await subscriptions.unsubscribe_all(runtime.db, chat["id"])
            for slug in ("world", "economy", "war"):
                await subscriptions.subscribe(runtime.db, chat["id"], slug)
            self.readers.append((user, chat))
        return f"{runtime.db.dialect}: {await articles.count(runtime.db):,} articles"

    async def handle(self, text: str) -> float:
        """Seconds from the update to the bot's reply."""
        update_id = len(self.tg.calls) + 1
        user, chat = self.readers[update_id % READERS]
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]
        message = {"message_id": update_id, "date": int(time.time()), "chat": chat,
                   "from": user, "text": text, "entities": entities}  # fmt: skip
        update = Update.de_json({"update_id": update_id, "message": message}, self.app.bot)
        start = time.perf_counter()
        await self.app.process_update(update)
        elapsed = time.perf_counter() - start
        last = self.tg.calls[-1]
        assert last.method == "sendMessage" and last.ok, last.error
        return elapsed

    async def stop(self) -> None:
        await self.app.shutdown()
        assert self.app.post_shutdown is not None
        await self.app.post_shutdown(self.app)
        await self.tg.stop()


async def measure(urls: dict[str, str]) -> dict[str, dict[str, float]]:
    """Time each case on each database, one sample on each in turn (so that a machine busy
    with something else weighs on both alike); p95 by database and case."""
    bots = {db: Bot(url) for db, url in urls.items()}
    try:
        for bot in bots.values():
            print(await bot.start())
        print(f"{ROUNDS} rounds of each case")
        p95s: dict[str, dict[str, float]] = {db: {} for db in bots}
        for name, commands in CASES.items():
            samples: dict[str, list[float]] = {db: [] for db in bots}
            for bot in bots.values():
                for command in commands:
                    await bot.handle(command)  # warm the caches
            for i in range(ROUNDS):
                for db, bot in bots.items():
                    samples[db].append(await bot.handle(commands[i % len(commands)]))
            for db in bots:
                print(f"{name:32s} {db:10s} {_pct(samples[db])}")
                p95s[db][name] = _p95(samples[db])
        return p95s
    finally:
        for bot in bots.values():
            await bot.stop()


@contextlib.contextmanager
def _databases(dbs: list[str], url: str | None) -> Iterator[dict[str, str]]:
    """The URL of each database to measure on: --url, SQLite's cached file, or the
    database of a new PostgreSQL cluster."""
    urls = {}
    with contextlib.ExitStack() as stack:
        for db in dbs:
            if url is not None:
                urls[db] = url
            elif db == "sqlite":
                CACHE.mkdir(exist_ok=True)
                urls[db] = f"sqlite+aiosqlite:///{CACHE / 'browse.db'}"
            else:
                urls[db] = stack.enter_context(postgresql.cluster()).url("postgres")
        yield urls


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="sqlite")
    parser.add_argument("--url", help="measure on this database (built there if empty)")
    args = parser.parse_args()
    if args.url and args.db == "both":
        parser.error("--url names one database: --db sqlite or --db postgresql")
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    with _databases(dbs, args.url) as urls:
        results = asyncio.run(measure(urls))
    if len(results) == 2:
        print("\np95, PostgreSQL beside SQLite")
        for name, lite in results["sqlite"].items():
            pg = results["postgresql"][name]
            print(f"{name:32s} {lite * 1000:6.1f} ms {pg * 1000:6.1f} ms   {pg / lite:4.1f}×")


if __name__ == "__main__":
    main()
