"""A million readers, in miniature: the bulk work (digest planning, an alert to everyone) done in
small chunks (a few chats at a time here), each chunk whole or not at all, and a kill between
chunks finished by the next run, with every reader served once."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot import app as visnyk_app
from bot import jobs, pipeline
from bot.context import Context
from bot.delivery.engine import Engine
from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.newsroom import Desk, flashes
from storage import broadcasts, chats, outbox
from storage.db import Database
from storage.errors import StorageError
from storage.types import (
    Body,
    BroadcastState,
    ChatStatus,
    ChatType,
    DeliveryState,
    Payload,
    Priority,
    Result,
)
from tests.delivery_kit import audience, story
from tests.fakes.flood import Flood
from tests.fakes.people import Conversation, People
from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN, Kit, eventually, make_config

KYIV = ZoneInfo("Europe/Kyiv")
PAID = 40  # the paid window of the restart test, a second


def kyiv(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=KYIV).astimezone(dt.UTC)  # type: ignore[misc]


async def digest_readers(kit: Kit) -> list[Conversation]:
    """Seven readers with different sections and languages, scheduled for 08:00, and the news
    of the night in each of their sections."""
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 7, 0)
    choices = [("світ",), ("світ", "економіка"), ("війна",), ("економіка", "війна"), ("світ",),
               ("війна", "світ"), ("економіка",)]  # fmt: skip
    readers = []
    for i, sections in enumerate(choices):
        reader = kit.reader(f"Читач {i}", "en" if i % 3 == 0 else "uk")
        for section in sections:
            await reader.say(f"/subscribe {section}")
        readers.append(reader)
    for title, section in (("Новина світу", "world"), ("Новина економіки", "economy"),
                           ("Новина з фронту", "war")):  # fmt: skip
        await story(kit, title, {section}, published=kyiv(2026, 11, 27, 6, 0))
    assert (await pipeline.plan_digests(kit.runtime)).deliveries == 0  # scheduled for 08:00
    return readers


def digests_to(kit: Kit, ids: list[int], after: int) -> dict[int, int]:
    """How many messages each chat got from call `after` on (chats that got none left out)."""
    got = {chat_id: len(kit.sent_to(chat_id, after)) for chat_id in ids}
    return {chat_id: n for chat_id, n in got.items() if n}


async def test_digests_planned_a_few_chats_at_a_time_reach_every_reader_once(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chats, "DUE_CHUNK", 2)
    readers = await digest_readers(kit)
    ids = [r.chat["id"] for r in readers]
    blocked = ids[3]  # due, but the bot may not send to it: passed over, left as it was
    await chats.set_status(kit.db, blocked, ChatStatus.BLOCKED)
    mark = len(kit.tg.calls)
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 8, 0)
    planned = await pipeline.plan_digests(kit.runtime)
    assert (planned.chats, planned.deliveries) == (6, 6)
    served = [i for i in ids if i != blocked]
    await eventually(lambda: len(digests_to(kit, served, mark)) == 6)
    assert digests_to(kit, ids, mark) == dict.fromkeys(served, 1)
    assert kit.sent_to(ids[1], mark)[0].text.startswith("🗞")
    for chat_id in ids:
        chat = await chats.get(kit.db, chat_id)
        assert chat is not None
        expected = kyiv(2026, 11, 27, 8 if chat_id == blocked else 20, 0)
        assert chat.next_digest_at == expected
    assert (await pipeline.plan_digests(kit.runtime)).deliveries == 0  # planned once


async def test_a_planning_killed_between_chunks_is_finished_by_the_next_tick(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(chats, "DUE_CHUNK", 2)
    readers = await digest_readers(kit)
    ids = [r.chat["id"] for r in readers]
    real = outbox.add_each
    calls = 0

    async def dies_in_the_second_chunk(*args: Any, **kwargs: Any) -> int:
        nonlocal calls
        calls += 1
        added = await real(*args, **kwargs)
        if calls == 2:  # the first chunk is in; the second dies after writing its deliveries
            raise StorageError("simulated crash")
        return added

    monkeypatch.setattr(outbox, "add_each", dies_in_the_second_chunk)
    mark = len(kit.tg.calls)
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 8, 0)
    with pytest.raises(StorageError):
        await pipeline.plan_digests(kit.runtime)
    moved = [c for c in [await chats.get(kit.db, i) for i in ids] if c is not None]
    assert (
        sorted(c.next_digest_at == kyiv(2026, 11, 27, 20, 0) for c in moved)
        == [False] * 5 + [True] * 2
    )  # the first chunk whole, nothing of the second
    monkeypatch.setattr(outbox, "add_each", real)
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 8, 1)  # the next tick
    assert (await pipeline.plan_digests(kit.runtime)).chats == 5
    await eventually(lambda: len(digests_to(kit, ids, mark)) == 7)
    assert digests_to(kit, ids, mark) == dict.fromkeys(ids, 1)


async def test_an_alert_to_more_than_one_chunk_reaches_every_reader_once(
    room: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The confirmation writes the first two deliveries, which go out at once; the rest follow
    two at a time in the background, and the report ends only when they are all sent (not
    when the first two are, with the rest still to be written)."""
    monkeypatch.setattr(flashes, "FIRST_CHUNK", 2)
    monkeypatch.setattr(flashes, "CHUNK", 2)
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 6)
    everyone = [editor.chat["id"], *readers]  # the editor's chat is an active chat too
    await editor.say("/breaking Вибухи в Києві")
    controls = await editor.next_message()
    assert "7 чатів" in controls.text
    flash = int(controls.keyboard[0][0]["callback_data"].split(":")[1])
    mark = len(kit.tg.calls)
    assert (await editor.tap(controls, "", data=f"al:{flash}:send"))["text"] == "Надсилаю…"
    started = await broadcasts.get(kit.db, flash)
    assert started is not None
    assert started.item_id is not None
    assert sum((await outbox.counts(kit.db, started.item_id)).values()) in (2, 4, 6, 7)
    await eventually(lambda: "надіслано: 7" in controls.text, within=20)
    assert "готово" in controls.text
    assert digests_to(kit, everyone, mark) == dict.fromkeys(everyone, 1)

    async def done() -> bool:
        found = await broadcasts.get(kit.db, flash)
        return found is not None and (found.state, found.total) == (BroadcastState.DONE, 7)

    await eventually(done)


async def test_a_flash_is_not_done_while_its_deliveries_are_still_being_written(
    room: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its first two deliveries sent, the rest not written yet (the background writer held
    back): the report says what is pending, the flash stays open; once the rest is written and
    sent, it is done."""
    monkeypatch.setattr(flashes, "FIRST_CHUNK", 2)
    monkeypatch.setattr(flashes, "CHUNK", 2)
    kit = room
    assert kit.app.job_queue is not None
    for job in kit.app.job_queue.get_jobs_by_name("progress"):
        job.enabled = False  # the test runs its steps itself
    desk = Desk.of(kit.runtime)
    editor = kit.owner()
    readers = await audience(kit, 6)
    await editor.say("/breaking Вибухи в Києві")
    controls = await editor.next_message()
    flash = int(controls.keyboard[0][0]["callback_data"].split(":")[1])
    await editor.tap(controls, "", data=f"al:{flash}:send")
    started = await broadcasts.get(kit.db, flash)
    assert started is not None
    assert started.item_id is not None
    item = started.item_id

    engine = kit.runtime.engine
    assert engine is not None
    await engine.idle()  # the first two sent, their outcomes stored
    assert (await outbox.counts(kit.db, item))[DeliveryState.SENT] == 2
    await flashes.report(desk, kit.app.bot)
    still = await broadcasts.get(kit.db, flash)
    assert still is not None
    assert still.state is BroadcastState.SENDING
    assert "у черзі: 5 з 7" in controls.text
    assert await flashes.enqueue_rest(desk) == 5
    await engine.idle()
    await flashes.report(desk, kit.app.bot)
    done = await broadcasts.get(kit.db, flash)
    assert done is not None
    assert (done.state, done.total) == (BroadcastState.DONE, 7)
    assert "надіслано: 7" in controls.text
    assert all(len(kit.sent_to(r)) == 1 for r in readers)


async def test_a_readers_write_waits_for_the_bulk_jobs_current_chunk_not_for_all_of_them(
    tmp_path: Path,
) -> None:
    """A bulk job commits chunk after chunk, each holding the write lock 50 ms; a /start
    meanwhile waits about one chunk, not the two seconds of them all (SQLite alone lets a
    waiting writer retry on a backoff and miss every gap between chunks)."""
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'visnyk.db'}")
    await db.upgrade()
    await chats.ensure(db, 1, type=ChatType.PRIVATE, title="", language="uk")

    async def bulk() -> None:
        for i in range(40):
            async with db.transaction() as s:
                await s.execute(text("UPDATE chats SET title = :t WHERE id = 1"), {"t": str(i)})
                await asyncio.sleep(0.05)  # the chunk's work, the write lock held

    job = asyncio.create_task(bulk())
    waits = []
    try:
        await asyncio.sleep(0.2)
        for chat_id in range(2, 7):
            start = time.perf_counter()
            await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
            waits.append(time.perf_counter() - start)
            await asyncio.sleep(0.07)
        assert not job.done()  # each /start came while the bulk job was still going
    finally:
        await job
        await db.close()
    assert max(waits) < 0.5, waits


async def test_a_known_readers_command_takes_no_write_lock(tmp_path: Path) -> None:
    """Every update registers its chat; for a chat already known, unchanged, that is a read,
    which does not wait for a writer (here one holding the lock for a second)."""
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'visnyk.db'}")
    await db.upgrade()
    await chats.ensure(db, 1, type=ChatType.PRIVATE, title="", language="uk")
    held = asyncio.Event()

    async def long_write() -> None:
        async with db.transaction() as s:
            await s.execute(text("UPDATE chats SET title = 'x' WHERE id = 2"))
            held.set()
            await asyncio.sleep(1.0)

    writer = asyncio.create_task(long_write())
    try:
        await held.wait()
        start = time.perf_counter()
        chat = await chats.ensure(db, 1, type=ChatType.PRIVATE, title="", language="uk")
        waited = time.perf_counter() - start
        assert not writer.done()
    finally:
        await writer
        await db.close()
    assert chat.id == 1
    assert waited < 0.5


async def test_a_restart_right_after_paid_sends_waits_out_telegrams_paid_window(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """A paid broadcast cut off by a crash filled Telegram's paid window a moment ago: the
    restarted engine holds its paid lane until that second has passed, as it does the free
    one, and draws no 429."""
    tg.flood = Flood(per_second=10, paid_per_second=PAID)
    people = People(tg)
    readers = [people.private(people.person(f"Читач {i}"))["id"] for i in range(20)]
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'visnyk.db'}")
    sender = Sender(tg.base_url, TOKEN, connections=4)
    free = Pacer(per_second=10, private_interval=0.02, group_per_minute=20)
    paid = Pacer(per_second=PAID, private_interval=0.02, group_per_minute=20)
    engine = Engine(db, sender, free, concurrency=4, paid=paid)
    try:
        await db.upgrade()
        for chat_id in readers:
            await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
        now = dt.datetime.now(dt.UTC)
        payload = Payload({"uk": (Body("Блискавка"),)})
        item = await outbox.put_item(db, kind="flash", key="flash:1", priority=Priority.BREAKING,
                                     payload=payload, now=now, paid=True)  # fmt: skip
        await outbox.add(db, item, Priority.BREAKING, [(c, False) for c in readers], now)
        # The run before: its last paid second, and the one outcome it stored from it.
        first, *rest = await outbox.pending(db, Priority.BREAKING)
        await outbox.record(db, [Result(first.id, DeliveryState.SENT, 1, sent_at=now, paid=1)])
        for i in range(PAID):  # to other readers, as far as this test's Telegram can tell
            assert tg.flood.check(9_000_000 + i, paid=True) is None
        await sender.start()
        await engine.start()
        await engine.idle()
    finally:
        await engine.stop()
        await sender.close()
        await db.close()
    assert tg.flood.rejected == 0
    assert engine.stats.sent == len(rest)


async def test_a_progress_tick_while_the_bot_stops_starts_no_writer(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """The last progress tick may come while the bot is stopping: it starts no background task
    (which nothing would await); a flash's unwritten deliveries wait for the next start."""
    app = visnyk_app.build(make_config(tmp_path, tg.base_url))
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    try:
        assert not app.running
        await jobs.progress(Context(app))
        assert jobs.ENQUEUING not in app.bot_data
    finally:
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)


async def test_a_large_flashs_report_is_counted_every_fifteen_seconds(
    room: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counting a million deliveries costs a quarter of a second: a large flash's report is
    counted and edited every 15 s, not at each 3-s tick (large is 3 chats here)."""
    monkeypatch.setattr(flashes, "LARGE", 3)
    kit = room
    assert kit.app.job_queue is not None
    for job in kit.app.job_queue.get_jobs_by_name("progress"):
        job.enabled = False  # the test runs the ticks itself
    tapped = dt.datetime.now(dt.UTC)
    kit.runtime.clock = lambda: tapped
    desk = Desk.of(kit.runtime)
    editor = kit.owner()
    await audience(kit, 6)
    await editor.say("/breaking Вибухи в Києві")
    controls = await editor.next_message()
    flash = int(controls.keyboard[0][0]["callback_data"].split(":")[1])
    await editor.tap(controls, "", data=f"al:{flash}:send")
    engine = kit.runtime.engine
    assert engine is not None
    await engine.idle()
    before = controls.text
    for seconds in (3.5, 6.5, 9.5, 12.5):  # the ticks between
        kit.runtime.clock = lambda seconds=seconds: tapped + dt.timedelta(seconds=seconds)
        await flashes.report(desk, kit.app.bot)
        assert controls.text == before
        found = await broadcasts.get(kit.db, flash)
        assert found is not None
        assert found.state is BroadcastState.SENDING
    kit.runtime.clock = lambda: tapped + dt.timedelta(seconds=15.5)
    await flashes.report(desk, kit.app.bot)
    assert "надіслано: 7" in controls.text
    found = await broadcasts.get(kit.db, flash)
    assert found is not None
    assert found.state is BroadcastState.DONE
