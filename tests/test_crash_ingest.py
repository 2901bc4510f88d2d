"""kill -9 during an ingest that brings new stories: no story is lost before the outbox.

Each run starts the bot on a fresh database whose READERS readers follow #world instantly,
with one feed of STORIES fresh items (published a minute ago, so within
`delivery.max_age_hours`) on the fake web, and kills the bot at one point of its first poll
(some milliseconds after the fake web has answered the feed request; when the first story post,
or the one to half the readers' messages, reaches a reader). It notes what the dead bot left,
restarts it and waits: every reader gets every story, once, save at most `concurrency`
messages in flight at the kill. The restarted bot polls the feed again (every POLL seconds) and
is answered 304 Not Modified when the dead one got as far as recording the feed's ETag, or the
same feed when it did not: either way nothing in it is new any more, so the stories a kill
left stored but never posted reach the readers only if the bot remembers them (issue #12).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from storage.db import Database
from tests import crash_kit
from tests.fakes.people import People
from tests.fakes.telegram import Call, FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import BACKENDS, TOKEN

READERS = 20
STORIES = 5
CONCURRENCY = 4  # [delivery] concurrency: at most this many messages are in flight at a kill
RATE = 50  # [delivery] messages_per_second: the 100 story posts take ~2 s
POLL = 1.0  # [ingest] poll_interval (and so the ingest tick): a restarted bot polls again soon
FEED = "world.xml"
WITHIN = 30.0  # seconds for a kill point to come, from a bot that may be starting on a busy box
SETTLE = 20.0  # seconds for a restarted bot to deliver every story
RUNS_AT_ONCE = 4  # runs side by side: most of a run is waiting for a bot to start
# Where a run kills the bot: this many ms after the fake web has answered its first poll of the
# feed ("0ms": before the bot reads the answer). Denser where it matters: with runs side by side
# on a 2-core machine the stories are stored ~15-40 ms after the answer, and their posts are
# enqueued one story at a time over the next ~40-120 ms. "first" and "half": when the first story
# post, or the one that makes half of all the posts, reaches a reader, before the bot learns the
# outcome.
KILLS = [*(f"{ms}ms" for ms in (0, 5, 10, 20, 30, 40, 50, 60, 80, 110, 150)), "first", "half"]
POSTS = ("sendMessage", "sendPhoto")


def title(n: int) -> str:
    return f"Новина {n}: Рада ухвалила закон номер {100 + n}"


def feed_xml(published: dt.datetime) -> bytes:
    """STORIES fresh items for #world, each with a summary of its own (no page to fetch)."""
    date = email.utils.format_datetime(published)
    items = "".join(
        f"""<item><title>{title(n)}</title>
<link>https://news.example.ua/world/{n}.html</link><guid>https://news.example.ua/world/{n}.html</guid>
<pubDate>{date}</pubDate>
<description>Депутати підтримали законопроєкт номер {100 + n} у другому читанні. Документ набуде
чинності після підпису президента.</description></item>
"""
        for n in range(1, STORIES + 1)
    )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Новини світу</title><link>https://news.example.ua/</link>
{items}</channel></rss>
""".encode()


def config_text(tg: FakeTelegram, feed: str, url: str) -> str:
    return f"""
[telegram]
api_base_url = "{tg.base_url}"
[storage]
url = "{url}"
[ingest]
poll_interval = {POLL}
[delivery]
messages_per_second = {RATE}
concurrency = {CONCURRENCY}
private_chat_interval = 0.02
[[sections]]
slug = "world"
title = {{ uk = "Світ" }}
feeds = ["{feed}"]
"""


class Run(crash_kit.Subject):
    """The bot as a process, its database, the fake web with the feed, the readers of #world."""

    def __init__(self, tg: FakeTelegram, web: FakeWeb, tmp_path: Path, kill: str, url: str) -> None:
        self.tg, self.web, self.kill_at = tg, web, kill
        people = People(tg)
        self.readers = [people.private(people.person(f"Читач {i}"))["id"]
                        for i in range(READERS)]  # fmt: skip
        published = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(minutes=1)
        feed = web.serve(
            FEED,
            feed_xml(published),
            etag='"world-1"',
            last_modified=email.utils.format_datetime(published, usegmt=True),
        )
        self.config = tmp_path / "config.toml"
        self.config.write_text(config_text(tg, feed, url), encoding="utf-8")
        self.log = tmp_path / "bot.log"
        self.db = Database.open(url)
        self.bot: asyncio.subprocess.Process | None = None
        self.problems: list[str] = []
        self.notes: list[str] = []  # what happened, for a failure's message
        self.polls_at_restart = 0  # the fake web's answers to the feed before the restart

    # ---- the process -----------------------------------------------------------------------

    def unhook(self) -> None:
        self.tg.on_call = self.web.on_answer = None

    def arm(self) -> None:
        """Kill the bot at `kill_at` (see KILLS) of its first poll of the feed."""
        readers = set(self.readers)
        loop = asyncio.get_running_loop()
        kill = self.kill_at

        def on_answer(path: str, status: int) -> None:
            if path == FEED and status == 200:
                self.web.on_answer = None
                delay = int(kill.removesuffix("ms")) / 1000
                if delay:
                    loop.call_later(delay, self.kill)
                else:
                    self.kill()

        hits = {"first": 1, "half": READERS * STORIES // 2}.get(kill, 0)

        def on_call(call: Call) -> None:
            nonlocal hits
            hits -= call.method in POSTS and call.ok and _chat_id(call) in readers
            if hits == 0:
                self.tg.on_call = None
                self.kill()

        if kill.endswith("ms"):
            self.web.on_answer = on_answer
        else:
            self.tg.on_call = on_call

    # ---- what the database holds and the readers saw ---------------------------------------

    async def query(self, sql: str, **params: Any) -> list[Any]:
        async with self.db.transaction() as s:
            return list((await s.execute(text(sql), params)).all())

    async def left(self) -> str:
        """What the dead bot left: articles stored (and unannounced),
        story items and their deliveries, posts that reached readers. Records an article
        marked announced without its posts as a problem (every story here is fresh and has
        readers: announced means posted)."""
        [(stored,)] = await self.query("SELECT count(*) FROM articles")
        items = await self.query(
            "SELECT o.key, count(d.id) FROM outbox_items o "
            "LEFT JOIN deliveries d ON d.item_id = o.id WHERE o.kind = 'story' GROUP BY o.id"
        )
        posted = {str(key): int(n) for key, n in items}
        words = f"{stored} articles stored"
        rows = await self.query("SELECT id, announced FROM articles")
        words += f" ({sum(not a for _, a in rows)} unannounced)"
        for article_id, announced in rows:
            deliveries = posted.get(f"story:{article_id}")
            if announced and deliveries != READERS:
                self.problems.append(
                    f"killed at {self.kill_at}: article {article_id} marked announced with "
                    f"{'no story item' if deliveries is None else f'{deliveries} deliveries'}"
                )
        full = sum(n == READERS for n in posted.values())
        words += f", {len(posted)} story items ({full} with a delivery per reader)"
        return words + f", {len(self.received())} posts received"

    def received(self) -> list[tuple[int, int]]:
        """(reader, story number) of each story post that reached a reader, in order."""
        readers = set(self.readers)
        got = []
        for call in self.tg.calls:
            chat_id = _chat_id(call)
            if call.method not in POSTS or not call.ok or chat_id not in readers:
                continue
            words = str(call.params.get("text") or call.params.get("caption") or "")
            got += [(chat_id, n) for n in range(1, STORIES + 1) if title(n) in words]
        return got

    def missing(self) -> Counter[int]:
        """Story number → how many readers never got it."""
        got = set(self.received())
        return Counter(n for n in range(1, STORIES + 1) for r in self.readers if (r, n) not in got)

    async def quiet(self) -> bool:
        """The restarted bot has polled the feed again (twice, so an ingest tick has come and
        gone) and has no delivery left to make: nothing more is coming."""
        if self.web.hits[FEED] < self.polls_at_restart + 2:
            return False
        [(pending,)] = await self.query("SELECT count(*) FROM deliveries WHERE state = 'pending'")
        return pending == 0

    # ---- the run ---------------------------------------------------------------------------

    async def through_a_kill(self) -> None:
        self.arm()
        await self.start()
        assert self.bot is not None
        try:
            await asyncio.wait_for(self.bot.wait(), WITHIN)
        except TimeoutError:  # the point never came: kill it anyway
            self.tg.on_call = self.web.on_answer = None
            self.kill()
            await self.bot.wait()
            self.problems.append(f"killed at {self.kill_at}: the kill point never came")
        self.notes.append(f"at the kill: {await self.left()}")
        self.polls_at_restart = self.web.hits[FEED]

        await self.start()

        async def delivered() -> bool:
            return not self.missing() or await self.quiet()

        await settles(delivered)
        if lost := self.missing():
            stories = ", ".join(f"story {n} by {lost[n]}" for n in sorted(lost))
            self.problems.append(
                f"killed at {self.kill_at}: readers never got {stories} (of {READERS} readers)"
            )
        got = self.received()
        twice = len(got) - len(set(got))
        if twice > CONCURRENCY:
            self.problems.append(
                f"killed at {self.kill_at}: {twice} story posts reached a reader twice "
                f"(at most {CONCURRENCY} may)"
            )
        polls = self.web.hits[FEED] - self.polls_at_restart
        self.notes.append(
            f"after the restart: {await self.left()}; the feed polled {polls} more times"
        )


async def settles(condition: Callable[[], Awaitable[bool]], within: float = SETTLE) -> bool:
    return await crash_kit.settles(condition, within)


_chat_id = crash_kit.chat_id_of


Outcome = tuple[list[str], list[str]]  # what went wrong (nothing: []), and what happened


async def run(kill: str, tmp_path: Path, migrating: asyncio.Lock, url: str) -> Outcome:
    """One run: the first poll of the feed through a kill at `kill`."""
    tg, web = FakeTelegram(TOKEN), FakeWeb()
    await tg.start()
    await web.start()
    current = Run(tg, web, tmp_path, kill, url)
    try:
        await current.prepare(migrating)
        await current.through_a_kill()
    except Exception as e:  # a run that breaks off fails its own test, not the others'
        current.problems.append(f"the run broke off: {e!r}"[:1000])
    finally:
        await current.close()
        await web.stop()
        await tg.stop()
    return current.problems, [*current.notes, f"(the bot's log: {current.log})"]


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def outcomes(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    new_database: Callable[[str, Path], str],
) -> dict[str, Outcome]:
    """Every kill point's run, RUNS_AT_ONCE at a time (most of a run is waiting for a bot to
    start)."""
    slots, migrating = asyncio.Semaphore(RUNS_AT_ONCE), asyncio.Lock()

    async def one(kill: str) -> Outcome:
        async with slots:
            directory = tmp_path_factory.mktemp(f"kill-{kill}")
            url = new_database(request.param, directory)
            return await run(kill, directory, migrating, url)

    found = await asyncio.gather(*(one(kill) for kill in KILLS))
    return dict(zip(KILLS, found, strict=True))


@pytest.mark.parametrize("kill", KILLS)
def test_a_kill_while_ingesting_loses_no_story(outcomes: dict[str, Outcome], kill: str) -> None:
    problems, notes = outcomes[kill]
    print(f"killed at {kill}:", *notes, sep="\n  ")  # shown with -s, or on a failure
    assert not problems, "\n".join(problems + notes)
