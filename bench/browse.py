"""Bot-side handling time of /latest and /search with 100,000 stored articles: the real handlers
in the real Application (storage, rendering, and the reply to a fake Telegram on loopback).
Run: `make bench-browse` (or .venv/bin/python -m bench.browse). Building the archive takes
about a minute the first time; it is kept in bench/.cache/."""

from __future__ import annotations

import asyncio
import datetime as dt
import random
import statistics
import sys
import time
from pathlib import Path

from telegram import Update

from bot import app as visnyk_app
from bot.config import parse
from bot.news.identity import title_key
from bot.runtime import open_runtime
from storage import articles, chats, subscriptions
from storage.types import ChatType, NewArticle
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
    finally:
        await runtime.close()


def _sections() -> list[dict[str, object]]:
    return [{"slug": s, "title": {"uk": s.title()}} for s in SECTIONS]


def _pct(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
    return f"p50 {statistics.median(samples) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


async def main() -> None:
    CACHE.mkdir(exist_ok=True)
    url = f"sqlite+aiosqlite:///{CACHE / 'browse.db'}"
    await _archive(url)
    tg = FakeTelegram(TOKEN)
    await tg.start()
    # The bot's rate limit is set out of the way: 300 replies in a few seconds would otherwise
    # wait for the 30-a-second window, and this measures handling, not pacing. For the same
    # reason the commands come from 30 readers in turn: one reader gets one answer a second.
    config = parse(
        {"telegram": {"token": TOKEN, "api_base_url": tg.base_url}, "storage": {"url": url},
         "delivery": {"messages_per_second": 1000}, "sections": _sections()},
        environ={},
    )  # fmt: skip
    app = visnyk_app.build(config)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    runtime = app.bot_data["runtime"]
    runtime.clock = lambda: NOW
    people = People(tg)
    readers = []
    for _ in range(READERS):
        user = people.person("Оксана")
        chat = people.private(user)
        await chats.ensure(runtime.db, chat["id"], type=ChatType.PRIVATE, title="", language="uk")
        await subscriptions.unsubscribe_all(runtime.db, chat["id"])
        for slug in ("world", "economy", "war"):
            await subscriptions.subscribe(runtime.db, chat["id"], slug)
        readers.append((user, chat))

    async def handle(text: str) -> float:
        update_id = len(tg.calls) + 1
        user, chat = readers[update_id % READERS]
        entities = [{"type": "bot_command", "offset": 0, "length": len(text.split(maxsplit=1)[0])}]
        message = {"message_id": update_id, "date": int(time.time()), "chat": chat,
                   "from": user, "text": text, "entities": entities}  # fmt: skip
        update = Update.de_json({"update_id": update_id, "message": message}, app.bot)
        start = time.perf_counter()
        await app.process_update(update)
        elapsed = time.perf_counter() - start
        assert tg.calls[-1].method == "sendMessage" and tg.calls[-1].ok, tg.calls[-1].error
        return elapsed

    cases = {
        "/latest (3 of 7 sections)": ["/latest"],
        "/latest world (one section)": ["/latest world"],
        "/search, common word": ["/search Зеленського", "/search Києві", "/search санкції"],
        "/search, two words": ["/search ракетний Харкову", "/search пенсій уряд"],
        "/search, rare word": ["/search (4242)", "/search Ірпеня страйк"],
    }
    print(f"{await articles.count(runtime.db):,} articles; {ROUNDS} rounds of each")
    for name, commands in cases.items():
        for command in commands:
            await handle(command)  # warm the page cache
        samples = [await handle(commands[i % len(commands)]) for i in range(ROUNDS)]
        print(f"{name:32s} {_pct(samples)}")
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)
    await tg.stop()


if __name__ == "__main__":
    asyncio.run(main())
