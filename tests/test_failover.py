"""Replicas on PostgreSQL: two `visnyk run` processes share one database; one leads (sends,
polls, runs the jobs). kill -9 the leader in the middle of a broadcast: the other takes over
within 10 seconds and finishes it, every chat gets the story, no more than the engine's
in-flight bound twice, and Telegram never says 429.

PostgreSQL only, by nature: on SQLite a second process on the same file refuses to start
(tests/test_lifecycle.py::test_one_bot_per_database)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import text

from bot import pipeline
from bot.config import parse
from bot.runtime import open_runtime
from storage import chats, outbox, subscriptions
from storage.db import Database
from storage.leader import Leadership
from storage.types import ChatType, DeliveryState, Mode, Payload, Priority
from tests import crash_kit
from tests.delivery_kit import story
from tests.fakes.flood import Flood
from tests.fakes.people import People
from tests.fakes.telegram import Call, FakeTelegram
from tests.kit import eventually, free_port

pytestmark = pytest.mark.parametrize("backend", ["postgresql"])
CHATS = 200
CONCURRENCY = 8
RATE = 25
TAKEOVER = 10.0  # seconds: the bound from the kill to the new leader's first send


def config_text(tg: FakeTelegram, url: str) -> str:
    return crash_kit.broadcast_config(tg, url, rate=RATE, concurrency=CONCURRENCY)


sent_to = crash_kit.sent_to


async def crowd_with_a_story(tg: FakeTelegram, url: str) -> tuple[set[int], int]:
    """CHATS readers of #world, and a story enqueued to them all (not yet sent)."""
    people = People(tg)
    config = parse(
        {"storage": {"url": url}, "sections": [{"slug": "world", "title": {"uk": "Світ"}}]},
        environ={},
    )
    runtime = await open_runtime(config)
    try:
        crowd = set()
        for i in range(CHATS):
            chat = people.private(people.person(f"Читач {i}"))
            crowd.add(chat["id"])
            await chats.ensure(
                runtime.db, chat["id"], type=ChatType.PRIVATE, title="", language="uk"
            )
            await subscriptions.set_mode(runtime.db, chat["id"], "world", Mode.INSTANT)
        article = await story(runtime, "Новина перед збоєм", {"world"})
        assert await pipeline.post_stories(runtime, [article]) == CHATS
        return crowd, article
    finally:
        await runtime.close()


def log_has(path: Path, text: str) -> bool:
    return path.exists() and text in path.read_text(encoding="utf-8", errors="replace")


Bot = asyncio.subprocess.Process


@contextlib.asynccontextmanager
async def leader_and_follower(
    configs: tuple[Path, Path], logs: tuple[Path, Path], env: dict[str, str] | None = None
) -> AsyncIterator[tuple[Bot, Bot]]:
    """Two `visnyk run` processes on one database: the first started leads, the second
    follows; both stopped at the end (a process the test killed or stopped is left as is)."""
    bots: list[Bot] = []
    try:
        bots.append(await crash_kit.start_bot(configs[0], logs[0], env))
        await eventually(lambda: log_has(logs[0], "role=leader"), within=30)
        bots.append(await crash_kit.start_bot(configs[1], logs[1], env))
        await eventually(lambda: log_has(logs[1], "role=follower"), within=30)
        yield bots[0], bots[1]
    finally:
        for bot in bots:
            await crash_kit.stop(bot)


async def test_the_leader_killed_mid_broadcast_another_finishes_it(
    tg: FakeTelegram, tmp_path: Path, database_url: str
) -> None:
    tg.flood = Flood(per_second=RATE)
    config = tmp_path / "config.toml"
    config.write_text(config_text(tg, database_url), encoding="utf-8")
    crowd, article = await crowd_with_a_story(tg, database_url)
    one, two = tmp_path / "one.log", tmp_path / "two.log"

    async with leader_and_follower((config, config), (one, two)) as (first, second):
        polls: list[float] = []  # when getUpdates calls arrived (the fake keeps no record)

        def heard(call: Call) -> None:
            if call.method == "getUpdates":
                polls.append(time.monotonic())

        tg.on_call = heard
        await eventually(lambda: len(sent_to(tg, crowd)) >= 40, within=30)
        crash_kit.kill(first)
        await first.wait()
        killed_at, sent_at_kill = time.monotonic(), len(tg.calls)
        assert len(set(sent_to(tg, crowd))) < CHATS, "finished before the kill: nothing tested"

        # The follower takes over: it leads, polls and sends, within the bound.
        await eventually(lambda: log_has(two, "leading"), within=TAKEOVER)
        await eventually(
            lambda: any(
                c.method == "sendMessage" and c.ok and c.result["chat"]["id"] in crowd
                for c in tg.calls[sent_at_kill:]
            ),
            within=TAKEOVER - (time.monotonic() - killed_at),
        )
        await eventually(lambda: set(sent_to(tg, crowd)) == crowd, within=60)
        assert any(t > killed_at for t in polls), "the new leader does not poll"
        tg.on_call = None
        await crash_kit.stop(second)
        assert second.returncode == 0, two.read_text()
    deliveries = sent_to(tg, crowd)
    assert len(deliveries) - len(set(deliveries)) <= CONCURRENCY
    assert tg.flood.rejected == 0
    assert "Traceback" not in one.read_text() + two.read_text()

    config_ = parse({"storage": {"url": database_url}}, environ={})
    runtime = await open_runtime(config_)
    try:
        item = await outbox.put_item(
            runtime.db,
            kind="story",
            key=f"story:{article}",
            priority=Priority.STORY,
            payload=Payload({}),
            now=runtime.now(),
        )
        counts = await outbox.counts(runtime.db, item)
        assert counts[DeliveryState.SENT] == CHATS
        assert counts[DeliveryState.PENDING] == 0
    finally:
        await runtime.close()


async def test_only_the_leader_polls_and_a_clean_stop_hands_over(
    tg: FakeTelegram, tmp_path: Path, database_url: str
) -> None:
    """Two replicas: updates reach the bot through the leader's polling; when the leader stops
    (SIGTERM) the follower leads at its next look and answers the next /start."""
    config = tmp_path / "config.toml"
    config.write_text(config_text(tg, database_url), encoding="utf-8")
    one, two = tmp_path / "one.log", tmp_path / "two.log"
    async with leader_and_follower((config, config), (one, two)) as (first, second):
        people = People(tg)
        user = people.person("Оксана")
        reader = people.talk(people.private(user), user)
        await reader.send("/start")
        await reader.next_message(within=15)
        await crash_kit.stop(first)
        assert first.returncode == 0, one.read_text()
        await eventually(lambda: log_has(two, "leading"), within=TAKEOVER)
        await reader.send("/help")
        await reader.next_message(within=15)
    assert second.returncode == 0, two.read_text()
    assert "Traceback" not in one.read_text() + two.read_text()


class Balancer:
    """A load balancer in front of the replicas' webhooks: each post goes to the next one."""

    def __init__(self, backends: list[str]) -> None:
        self.backends, self.turn = backends, 0
        self.port = free_port()
        self.runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hook", self._forward)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        self.session = aiohttp.ClientSession()

    async def stop(self) -> None:
        await self.session.close()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        backend = self.backends[self.turn % len(self.backends)]
        self.turn += 1
        headers = {k: v for k, v in request.headers.items() if k.lower().startswith("x-telegram")}
        try:
            async with self.session.post(
                backend,
                data=await request.read(),
                headers=headers | {"Content-Type": "application/json"},
            ) as answer:
                return web.Response(status=answer.status, body=await answer.read())
        except aiohttp.ClientError:
            return web.Response(status=502)


async def test_webhook_replicas_answer_beside_a_broadcast_within_the_bots_limit(
    tg: FakeTelegram, tmp_path: Path, database_url: str
) -> None:
    """Both replicas handle updates (behind a balancer) while the leader broadcasts at the
    bot's full rate: the follower's replies and the leader's sends together stay within
    Telegram's limit (no 429), and every reader is answered."""
    tg.flood = Flood(per_second=RATE)
    crowd, _ = await crowd_with_a_story(tg, database_url)
    ports = [free_port(), free_port()]
    balancer = Balancer([f"http://127.0.0.1:{p}/hook" for p in ports])
    await balancer.start()
    logs = [tmp_path / "one.log", tmp_path / "two.log"]
    configs = []
    for port, name in zip(ports, ("one", "two"), strict=True):
        config = tmp_path / f"{name}.toml"
        config.write_text(
            config_text(tg, database_url).replace(
                "[storage]",
                f'webhook_url = "http://127.0.0.1:{balancer.port}/hook"\n'
                f'[server]\nlisten = "127.0.0.1:{port}"\n[storage]',
            ),
            encoding="utf-8",
        )
        configs.append(config)
    env = {"VISNYK_WEBHOOK_SECRET": "Zq8wLx3mVb7nKd2pTf6hJs9c"}
    try:
        async with leader_and_follower((configs[0], configs[1]), (logs[0], logs[1]), env) as bots:
            await eventually(lambda: log_has(logs[0], "replicas=2 role=leader"), within=10)
            people = People(tg)
            readers = []
            for i in range(30):
                user = people.person(f"Глядач {i}")
                readers.append(people.talk(people.private(user), user))
            await eventually(lambda: len(sent_to(tg, crowd)) >= 20, within=30)
            for reader in readers:
                await reader.send("/help")
            for reader in readers:
                await reader.next_message(within=30)
            assert len(set(sent_to(tg, crowd))) < CHATS, "the broadcast ended before the replies"
            await eventually(lambda: set(sent_to(tg, crowd)) == crowd, within=60)
    finally:
        await balancer.stop()
    assert balancer.turn >= 30  # the updates went through the balancer, to both
    assert tg.flood.rejected == 0
    for bot, log in zip(bots, logs, strict=True):
        assert bot.returncode == 0, log.read_text()
        assert "Traceback" not in log.read_text()


async def test_a_leader_whose_session_is_cut_stops_sending_and_one_leads_again(
    tg: FakeTelegram, tmp_path: Path, database_url: str
) -> None:
    """The leader's lock session is ended by the server (a network cut, an administrator's
    pg_terminate_backend) while the process lives: it stops sending at once, a process leads
    again (the other one, or itself when it is first), and the broadcast ends complete."""
    tg.flood = Flood(per_second=RATE)
    config = tmp_path / "config.toml"
    config.write_text(config_text(tg, database_url), encoding="utf-8")
    crowd, _ = await crowd_with_a_story(tg, database_url)
    one, two = tmp_path / "one.log", tmp_path / "two.log"
    async with leader_and_follower((config, config), (one, two)) as (first, _):
        await eventually(lambda: len(sent_to(tg, crowd)) >= 30, within=30)
        db = Database.open(database_url)
        try:
            async with db.transaction() as s:
                cut = await s.scalar(
                    text(
                        "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l "
                        "WHERE l.locktype = 'advisory' AND l.granted"
                    )
                )
        finally:
            await db.close()
        assert cut == 1
        await eventually(lambda: log_has(one, "lead lost: following"), within=TAKEOVER)
        await eventually(
            lambda: log_has(two, "leading") or one.read_text().count("leading") >= 2,
            within=TAKEOVER,
        )
        await eventually(lambda: set(sent_to(tg, crowd)) == crowd, within=60)
    deliveries = sent_to(tg, crowd)
    assert len(deliveries) - len(set(deliveries)) <= CONCURRENCY
    assert tg.flood.rejected == 0
    assert first.returncode == 0, one.read_text()
    assert "Traceback" not in one.read_text() + two.read_text()


async def test_a_followers_wake_up_reaches_the_leader_only(database_url: str) -> None:
    """What a follower enqueues wakes the leader's engine at once (NOTIFY), not at its next
    look for rows; a follower's own listener is not called."""
    db = Database.open(database_url)
    leader, follower = Leadership(db), Leadership(db)
    woken = {"leader": asyncio.Event(), "follower": asyncio.Event()}
    leader.on_wake(woken["leader"].set)
    follower.on_wake(woken["follower"].set)
    try:
        assert await leader.try_lead()
        assert not await follower.try_lead()
        assert await leader.replicas() == 2
        await follower.wake_leader()
        await asyncio.wait_for(woken["leader"].wait(), 5)
        assert not woken["follower"].is_set()
        await leader.release()  # a clean stop lets the lead go at once
        assert await follower.try_lead()
    finally:
        await leader.release()
        await follower.release()
        await db.close()
