"""kill -9 in the middle of a broadcast: after a restart every chat gets the story, and no
more than the engine's concurrency get it twice."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest

from bot import pipeline
from bot.config import parse
from bot.runtime import open_runtime
from storage import chats, outbox, subscriptions
from storage.types import ChatType, DeliveryState, Mode, Payload, Priority
from tests import crash_kit
from tests.delivery_kit import story
from tests.fakes.flood import Flood
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import eventually

pytestmark = pytest.mark.backends
CHATS = 150
CONCURRENCY = 8
RATE = 25


def config_text(tg: FakeTelegram, url: str) -> str:
    return crash_kit.broadcast_config(tg, url, rate=RATE, concurrency=CONCURRENCY)


sent_to = crash_kit.sent_to


async def test_a_hard_kill_loses_nothing(
    tg: FakeTelegram, tmp_path: Path, database_url: str
) -> None:
    tg.flood = Flood(per_second=RATE)
    config, log = tmp_path / "config.toml", tmp_path / "bot.log"
    config.write_text(config_text(tg, database_url), encoding="utf-8")
    people = People(tg)
    runtime = await open_runtime(parse({"storage": {"url": database_url},
                                        "sections": [{"slug": "world", "title": {"uk": "Світ"}}]},
                                       environ={}))  # fmt: skip
    crowd = set()
    for i in range(CHATS):
        chat = people.private(people.person(f"Читач {i}"))
        crowd.add(chat["id"])
        await chats.ensure(runtime.db, chat["id"], type=ChatType.PRIVATE, title="", language="uk")
        await subscriptions.set_mode(runtime.db, chat["id"], "world", Mode.INSTANT)
    article = await story(runtime, "Новина перед збоєм", {"world"})
    assert await pipeline.post_stories(runtime, [article]) == CHATS
    await runtime.close()

    first = await crash_kit.start_bot(config, log)
    try:
        await eventually(lambda: len(sent_to(tg, crowd)) >= 40, within=30)
        first.send_signal(signal.SIGKILL)
        await first.wait()
    finally:
        if first.returncode is None:
            first.kill()
    before = len(sent_to(tg, crowd))
    assert before < CHATS, "the broadcast finished before the kill: nothing was tested"

    second = await crash_kit.start_bot(config, log)
    try:
        await eventually(lambda: set(sent_to(tg, crowd)) == crowd, within=30)
        second.send_signal(signal.SIGTERM)
        await asyncio.wait_for(second.wait(), 10)
    finally:
        if second.returncode is None:
            second.kill()
    assert second.returncode == 0, log.read_text()
    deliveries = sent_to(tg, crowd)
    twice = len(deliveries) - len(set(deliveries))
    assert twice <= CONCURRENCY
    assert tg.flood.rejected == 0
    runtime = await open_runtime(parse({"storage": {"url": database_url}},
                                       environ={}))  # fmt: skip
    try:
        item = await outbox.put_item(
            runtime.db, kind="story", key=f"story:{article}", priority=Priority.STORY,
            payload=Payload({}), now=runtime.now(),
        )  # fmt: skip
        counts = await outbox.counts(runtime.db, item)
        assert counts[DeliveryState.SENT] == CHATS
        assert counts[DeliveryState.PENDING] == 0
    finally:
        await runtime.close()
