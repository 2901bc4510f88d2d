"""/metrics' figures: what the running bot counts matches what the fake Telegram and the fake
web saw; the gauges read from the database; the command log line says no more than it should."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot import pipeline
from bot.config import parse
from bot.i18n import Catalogs
from bot.metrics import RATE_SECONDS, Metrics, SendRate
from bot.newsroom import Desk, PreviewRefused, drafts, flashes
from bot.runtime import open_runtime
from storage import chats, editors, outbox, subscriptions
from storage import sections as stored_sections
from storage.codes import EditorAction
from storage.db import Database
from storage.types import (
    Body,
    BroadcastKind,
    ChatType,
    DeliveryState,
    NewSection,
    Payload,
    Priority,
    Result,
)
from tests.delivery_kit import audience, received, story
from tests.fakes.flood import Flood
from tests.fakes.rules import ApiError
from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import DATA, FakeWeb
from tests.kit import Kit, eventually, started

T0 = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


def value(metrics: Metrics, name: str, **labels: str) -> float:
    """One sample's value (0 when it was never set)."""
    return metrics.registry.get_sample_value(name, labels) or 0.0


def sends_to(kit: Kit, chat_ids: list[int]) -> int:
    """sendMessage calls Telegram accepted for these chats."""
    return sum(received(kit, chat_ids).values())


async def test_a_broadcast_counts_what_telegram_received(kit: Kit) -> None:
    metrics = kit.runtime.metrics
    ids = await audience(kit, 6)
    article = await story(kit, "Новина для всіх", {"world"})
    await pipeline.post_stories(kit.runtime, [article])
    await eventually(lambda: all(received(kit, ids)[c] == 1 for c in ids))
    assert kit.runtime.engine is not None
    await kit.runtime.engine.idle()

    assert value(metrics, "visnyk_deliveries_total", lane="story", outcome="sent") == 6
    assert value(metrics, "visnyk_messages_sent_total") == sends_to(kit, ids) == 6
    # Every call of the engine's is timed (and the engine called Telegram for these alone).
    assert value(metrics, "visnyk_telegram_call_seconds_count", caller="delivery",
                 method="sendMessage") == 6  # fmt: skip
    assert value(metrics, "visnyk_telegram_rate_limited_total", caller="delivery") == 0
    # One story: its lag to storing, and to its first post, once each (not once a reader).
    assert value(metrics, "visnyk_story_stored_lag_seconds_count") == 1
    assert value(metrics, "visnyk_story_delivered_lag_seconds_count") == 1
    for outcome in ("failed", "skipped", "retried", "rate_limited"):
        assert value(metrics, "visnyk_deliveries_total", lane="story", outcome=outcome) == 0
    text = metrics.render().decode()
    assert 'visnyk_deliveries_total{lane="story",outcome="sent"} 6.0' in text
    assert not any(str(chat_id) in text for chat_id in ids)  # never a chat id


async def test_a_429_and_its_retry_after_are_counted(tg: FakeTelegram, tmp_path: Path) -> None:
    tg.flood = Flood()
    async with started(tg, tmp_path, delivery={"private_chat_interval": 1.0}) as kit:
        metrics = kit.runtime.metrics
        ids = await audience(kit, 3)
        tg.script(ApiError(429, "Too Many Requests: retry after 2", {"retry_after": 2}),
                  chat_id=ids[0])  # fmt: skip
        await pipeline.post_stories(kit.runtime, [await story(kit, "Новина", {"world"})])
        await eventually(lambda: all(received(kit, ids)[c] == 1 for c in ids), within=10)
        assert kit.runtime.engine is not None
        await kit.runtime.engine.idle()
        refused = [c for c in tg.calls if c.method == "sendMessage" and c.error is not None]
        assert len(refused) == 1
        assert value(metrics, "visnyk_telegram_rate_limited_total", caller="delivery") == 1
        assert value(metrics, "visnyk_telegram_retry_after_seconds_total", caller="delivery") == 2
        assert value(metrics, "visnyk_deliveries_total", lane="story", outcome="rate_limited") == 1
        assert value(metrics, "visnyk_deliveries_total", lane="story", outcome="sent") == 3
        assert value(metrics, "visnyk_messages_sent_total") == sends_to(kit, ids) == 3
        assert value(metrics, "visnyk_telegram_call_seconds_count", caller="delivery",
                     method="sendMessage") == 4  # fmt: skip


async def test_blocked_chats_count_as_skipped(kit: Kit) -> None:
    metrics = kit.runtime.metrics
    ids = await audience(kit, 3)
    kit.tg.script(ApiError(403, "Forbidden: bot was blocked by the user"), chat_id=ids[1])
    await pipeline.post_stories(kit.runtime, [await story(kit, "Новина", {"world"})])
    assert kit.runtime.engine is not None
    await eventually(lambda: received(kit, ids)[ids[0]] == received(kit, ids)[ids[2]] == 1)
    await kit.runtime.engine.idle()
    assert value(metrics, "visnyk_deliveries_total", lane="story", outcome="sent") == 2
    assert value(metrics, "visnyk_deliveries_total", lane="story", outcome="skipped") == 1
    assert value(metrics, "visnyk_messages_sent_total") == 2


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'm.db'}")
    await database.upgrade()
    yield database
    await database.close()


async def deliveries(db: Database, lane: Priority, chat_ids: list[int], at: dt.datetime) -> int:
    for chat_id in chat_ids:
        await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
    item = await outbox.put_item(
        db, kind="story", key=f"{lane}:{at}", priority=lane,
        payload=Payload({"uk": (Body("Новина"),)}), now=at,
    )  # fmt: skip
    await outbox.add(db, item, lane, [(c, False) for c in chat_ids], at)
    return item


async def test_pending_and_the_oldest_age_are_read_from_the_database(db: Database) -> None:
    metrics = Metrics()
    await deliveries(db, Priority.STORY, [1, 2, 3], T0)
    await deliveries(db, Priority.STORY, [4], T0 + dt.timedelta(seconds=60))
    await deliveries(db, Priority.DIGEST, [5], T0 + dt.timedelta(seconds=30))

    await metrics.refresh(db, T0 + dt.timedelta(seconds=90))
    assert value(metrics, "visnyk_pending_deliveries", lane="story") == 4
    assert value(metrics, "visnyk_oldest_pending_delivery_age_seconds", lane="story") == 90
    assert value(metrics, "visnyk_pending_deliveries", lane="digest") == 1
    assert value(metrics, "visnyk_oldest_pending_delivery_age_seconds", lane="digest") == 60
    assert value(metrics, "visnyk_pending_deliveries", lane="breaking") == 0
    assert value(metrics, "visnyk_oldest_pending_delivery_age_seconds", lane="breaking") == 0

    # The first three: one sent, one failed, one waiting out a 429 for an hour (not due: not
    # counted, and the oldest due is the one enqueued a minute later).
    first = await outbox.pending(db, Priority.STORY)
    later = T0 + dt.timedelta(hours=1)
    await outbox.record(db, [
        Result(first[0].id, DeliveryState.SENT, 1, sent_at=T0),
        Result(first[1].id, DeliveryState.FAILED, 1, error="no"),
        Result(first[2].id, DeliveryState.PENDING, 0, next_attempt=later),
    ])  # fmt: skip
    await metrics.refresh(db, T0 + dt.timedelta(seconds=100))
    assert value(metrics, "visnyk_pending_deliveries", lane="story") == 1
    assert value(metrics, "visnyk_oldest_pending_delivery_age_seconds", lane="story") == 40
    # Once its hour is up, the one held back is due again, and has waited since then.
    await metrics.refresh(db, later + dt.timedelta(seconds=5))
    assert value(metrics, "visnyk_pending_deliveries", lane="story") == 2
    assert value(metrics, "visnyk_oldest_pending_delivery_age_seconds", lane="story") == 3545


async def test_the_backlog_query_uses_the_pending_index(db: Database) -> None:
    async with db.engine.connect() as conn:
        plan = await conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM deliveries WHERE state = 'pending' "
            "AND priority = 1 AND next_attempt <= '2026-11-27 10:00:00.000000'"
        )
        assert "COVERING INDEX ix_deliveries_due" in str(plan.all())


async def test_updates_are_counted_by_kind_and_commands_logged_without_text(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = kit.runtime.metrics
    caplog.set_level(logging.INFO, logger="bot.updates")
    reader = kit.reader("Таємна Читачка")
    await reader.say("/start")
    await reader.say("/search секретні слова")
    await reader.say("/nosuchcommand приватне")
    await reader.say("просто текст")
    # The log line comes once the update is done, just after its answer.
    await eventually(lambda: value(metrics, "visnyk_updates_total", kind="message") == 1)
    assert value(metrics, "visnyk_updates_total", kind="command") == 3
    assert value(metrics, "visnyk_update_seconds_count", kind="command") == 3
    assert value(metrics, "visnyk_updates_total", kind="callback_query") == 0
    # The answers went through PTB: timed as the replies' calls.
    replies = value(metrics, "visnyk_telegram_call_seconds_count", caller="reply",
                    method="sendMessage")  # fmt: skip
    assert replies == len(kit.sent_to(reader.chat["id"])) >= 4

    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("command ")]
    assert [line.rsplit(" ", 1)[0] for line in lines] == [
        "command chat=private name=/start",
        "command chat=private name=/search",
        "command chat=private name=/other",
    ]
    assert all(line.rsplit(" ", 1)[1].startswith("latency_ms=") for line in lines)
    everything = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("секретні", "приватне", "nosuchcommand", "Таємна", str(reader.user["id"])):
        assert secret not in everything


async def test_the_bots_one_metrics_are_what_build_was_given(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    from bot import app as visnyk_app  # noqa: PLC0415 - the composition root, for this test only
    from tests.kit import make_config  # noqa: PLC0415

    metrics = Metrics()
    app = visnyk_app.build(make_config(tmp_path, tg.base_url), metrics=metrics)
    await app.initialize()
    try:
        assert app.post_init is not None
        await app.post_init(app)
        runtime = app.bot_data["runtime"]
        assert runtime.metrics is metrics
        assert runtime.engine is not None
        assert runtime.engine.sender.metrics is metrics
        assert app.update_processor.metrics is metrics  # type: ignore[attr-defined]
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def serve_news(web: FakeWeb) -> str:
    body = (
        (DATA / "ukrinform.xml").read_bytes().replace(b"https://news.example.ua", web.base.encode())
    )
    web.serve("culture/3905-berlinale.html", "article.html",
              content_type="text/html; charset=utf-8")  # fmt: skip
    return web.serve("news.xml", body, etag='"v1"')


async def test_feed_polls_by_outcome(web: FakeWeb, tmp_path: Path) -> None:
    news = serve_news(web)
    missing = web.url("gone.xml")
    config = parse(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"},
            "ingest": {"feeds": [news, missing], "timeout": 2},
            "sections": [
                {"slug": "world", "title": {"uk": "Світ"}, "categories": ["Світ", "World"]},
                {"slug": "economy", "title": {"uk": "Економіка"}, "categories": ["економіка"]},
            ],
        },
        environ={},
    )
    runtime = await open_runtime(config)
    runtime.clock = lambda: T0
    metrics = runtime.metrics
    try:
        first = {r.url: r for r in await pipeline.ingest(runtime, only_due=False)}
        assert first[missing].error
        assert value(metrics, "visnyk_feed_polls_total", outcome="ok") == 1
        assert value(metrics, "visnyk_feed_polls_total", outcome="failed") == 1
        assert value(metrics, "visnyk_feed_items_total", change="new") == first[news].new > 0
        assert value(metrics, "visnyk_feed_items_total", change="updated") == 0
        # Each story new to a section: its lag from publication (as the feed dates it) to T0.
        assert value(metrics, "visnyk_story_stored_lag_seconds_count") == len(first[news].fresh)

        await pipeline.ingest(runtime, only_due=False)
        assert value(metrics, "visnyk_feed_polls_total", outcome="not_modified") == 1
        assert value(metrics, "visnyk_feed_polls_total", outcome="failed") == 2
        assert value(metrics, "visnyk_feed_items_total", change="new") == first[news].new
    finally:
        await runtime.close()


def test_sends_per_second_is_the_mean_of_the_last_whole_seconds() -> None:
    now = [100.0]
    rate = SendRate(lambda: now[0])
    for _ in range(30):
        rate.count()
    now[0] = 101.5
    for _ in range(10):
        rate.count()
    assert rate.per_second() == 30 / RATE_SECONDS  # second 101 is still going: not counted
    now[0] = 102.0
    assert rate.per_second() == 40 / RATE_SECONDS
    now[0] = 100.0 + RATE_SECONDS + 1.2  # second 100 has left the window
    assert rate.per_second() == 10 / RATE_SECONDS
    now[0] = 500.0  # long quiet
    assert rate.per_second() == 0


async def test_digests_planned_are_counted_one_a_chat(kit: Kit) -> None:
    kyiv = ZoneInfo("Europe/Kyiv")
    kit.runtime.clock = lambda: dt.datetime(2026, 11, 27, 7, 0, tzinfo=kyiv)
    readers = [kit.reader(f"Читач {i}") for i in range(3)]
    for reader in readers:
        await reader.say("/subscribe світ")
    await story(kit, "Новина ночі", {"world"})
    assert (await pipeline.plan_digests(kit.runtime)).deliveries == 0  # scheduled for 08:00
    assert value(kit.runtime.metrics, "visnyk_digests_planned_total") == 0
    kit.runtime.clock = lambda: dt.datetime(2026, 11, 27, 8, 0, tzinfo=kyiv)
    planned = await pipeline.plan_digests(kit.runtime)
    assert planned.deliveries == 3
    assert value(kit.runtime.metrics, "visnyk_digests_planned_total") == 3


async def test_alerts_are_counted_when_their_editor_confirms(tmp_path: Path) -> None:
    db = Database.open(f"sqlite+aiosqlite:///{tmp_path / 'desk.db'}")
    await db.upgrade()
    try:
        sections = await stored_sections.sync(db, [NewSection("world", {"uk": "Світ"})])
        await chats.ensure(db, 101, type=ChatType.PRIVATE, title="", language="uk")
        await subscriptions.subscribe(db, 101, "world")
        await editors.add_editor(db, 2, 1, T0)
        desk = Desk(db, frozenset({1}), lambda: T0, lambda: None, Catalogs(), sections, "uk",
                    ZoneInfo("Europe/Kyiv"))  # fmt: skip
        metrics = Metrics()
        payload = flashes.payload(desk, drafts.Draft(None, "Уряд подав у відставку", None))
        preview, _ = await flashes.open_preview(
            desk, 2, BroadcastKind.FLASH, payload, action=EditorAction.BREAKING, sections=None,
            flash=None, target="",
        )  # fmt: skip
        with pytest.raises(PreviewRefused):  # not the preview's editor: nothing sent
            await flashes.confirm(desk, preview.id, 1, silent=False, metrics=metrics)
        assert value(metrics, "visnyk_alerts_sent_total", kind="flash") == 0
        await flashes.confirm(desk, preview.id, 2, silent=False, metrics=metrics)
        with pytest.raises(PreviewRefused):  # a second tap
            await flashes.confirm(desk, preview.id, 2, silent=False, metrics=metrics)
        assert value(metrics, "visnyk_alerts_sent_total", kind="flash") == 1
    finally:
        await db.close()
