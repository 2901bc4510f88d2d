"""Running Visnyk as an operator does: webhook mode behind a proxy, /healthz and /readyz, and
a stop that always stores what was sent, through the real lifecycle (bot.lifecycle)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp

from bot import app as visnyk_app
from bot.config import Config
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from bot.reach import Reach
from bot.runtime import Runtime
from storage import chats, subscriptions
from storage.types import ChatType, Mode
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import eventually, free_port, make_config

SECRET = "webhook-secret_0123456789abcdef"


@contextlib.asynccontextmanager
async def served(config: Config) -> AsyncIterator[Lifecycle]:
    """The bot as `visnyk run` runs it (bot.lifecycle), until the block ends."""
    metrics, reach = Metrics(), Reach()
    app = visnyk_app.build(config, metrics=metrics, reach=reach)
    life = Lifecycle(
        app, config, reach=reach, metrics=metrics, allowed_updates=visnyk_app.ALLOWED_UPDATES
    )
    stop = asyncio.Event()
    serving = asyncio.create_task(life.serve(stop))
    try:
        async with asyncio.timeout(15):
            done, _ = await asyncio.wait(
                {serving, asyncio.ensure_future(life.started.wait())},
                return_when=asyncio.FIRST_COMPLETED,
            )
        if serving in done:
            serving.result()  # start-up failed: its error
        yield life
    finally:
        stop.set()
        await serving


def webhook_config(tmp_path: Path, tg: FakeTelegram, **tables: Any) -> Config:
    port = free_port()
    return make_config(
        tmp_path,
        tg.base_url,
        telegram={"webhook_url": f"http://127.0.0.1:{port}/tg/updates", "webhook_secret": SECRET}
        | tables.pop("telegram", {}),
        server={"listen": f"127.0.0.1:{port}"} | tables.pop("server", {}),
        **tables,
    )


def runtime_of(life: Lifecycle) -> Runtime:
    runtime = life.runtime
    assert runtime is not None
    return runtime


async def get(url: str) -> tuple[int, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as answer:
        return answer.status, await answer.text()


async def test_updates_come_by_webhook_with_the_secret(tg: FakeTelegram, tmp_path: Path) -> None:
    config = webhook_config(tmp_path, tg)
    async with served(config):
        assert tg.webhook == config.telegram.webhook_url
        assert tg.webhook_secret == SECRET
        assert tg.webhook_settings["max_connections"] == 40
        assert set(tg.webhook_settings["allowed_updates"]) == set(visnyk_app.ALLOWED_UPDATES)
        people = People(tg)
        reader = people.person("Оксана")
        talk = people.talk(people.private(reader), reader)
        greeting = await talk.say("/start")
        assert "Оксано" in greeting.text
        assert all(status == 200 for _, status in tg.webhook_answers)
        assert not [c for c in tg.calls if c.method == "getUpdates"]


async def test_a_post_without_the_secret_is_refused_and_not_handled(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    config = webhook_config(tmp_path, tg)
    people = People(tg)
    reader = people.person("Оксана")
    chat = people.private(reader)
    forged = {
        "update_id": 424242,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": chat,
            "from": reader,
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }
    async with served(config):
        assert await tg.post_to_webhook(forged, secret="") == 403
        assert await tg.post_to_webhook(forged, secret="not-the-secret-at-all") == 403
        assert await tg.post_to_webhook(forged, secret=SECRET[:-1]) == 403
        assert await tg.post_to_webhook(b"{not json", secret=SECRET) == 400
        assert await tg.post_to_webhook(b"[1, 2]", secret=SECRET) == 400
        assert await tg.post_to_webhook({"update_id": "x"}, secret=SECRET) == 400
        assert await tg.post_to_webhook(b"x" * (2 << 20), secret=SECRET) == 413
        status, metrics = await get(config.telegram.webhook_url.replace("/tg/updates", "/metrics"))
        assert status == 200
        assert 'visnyk_webhook_refused_total{reason="secret"} 3.0' in metrics
        assert 'visnyk_webhook_refused_total{reason="body"} 3.0' in metrics
        assert 'visnyk_webhook_refused_total{reason="size"} 1.0' in metrics
        # The reader's real update, after the forged ones: the only one answered.
        talk = people.talk(chat, reader)
        answer = await talk.say("/help")
        assert "/sections" in answer.text
        sent = [c for c in tg.calls if c.method == "sendMessage" and c.ok]
        assert len(sent) == 1


async def test_an_update_posted_again_is_handled_once(tg: FakeTelegram, tmp_path: Path) -> None:
    people = People(tg)
    reader = people.person("Оксана")
    chat = people.private(reader)
    update = {
        "update_id": 9001,
        "message": {
            "message_id": 1,
            "date": 1_700_000_000,
            "chat": chat,
            "from": reader,
            "text": "/help",
            "entities": [{"type": "bot_command", "offset": 0, "length": 5}],
        },
    }
    async with served(webhook_config(tmp_path, tg)):
        # Telegram posts again what it thinks was not received (our answer got lost).
        assert await tg.post_to_webhook(update) == 200
        assert await tg.post_to_webhook(update) == 200
        assert await tg.post_to_webhook(update | {"update_id": True}) == 400
        talk = people.talk(chat, reader)
        await talk.say("/sections")  # handled after the /help: the chat's updates keep order
    sent = [c.params["text"] for c in tg.calls if c.method == "sendMessage" and c.ok]
    assert len(sent) == 2
    assert "/sections" in sent[0]


async def test_back_to_polling_deletes_the_webhook(tg: FakeTelegram, tmp_path: Path) -> None:
    async with served(webhook_config(tmp_path, tg)):
        assert tg.webhook
    polling = make_config(tmp_path, tg.base_url)
    async with served(polling):
        assert tg.webhook == ""
        people = People(tg)
        reader = people.person("Оксана")
        talk = people.talk(people.private(reader), reader)
        assert "Оксано" in (await talk.say("/start")).text


async def test_health_and_readiness(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    config = make_config(tmp_path, tg.base_url, server={"listen": f"127.0.0.1:{port}"})
    base = f"http://127.0.0.1:{port}"
    async with served(config) as life:
        assert await get(f"{base}/healthz") == (200, "ok\n")
        assert await get(f"{base}/readyz") == (200, "ok\n")
        status, metrics = await get(f"{base}/metrics")
        assert status == 200
        assert 'visnyk_pending_deliveries{lane="story"} 0.0' in metrics
        assert (await get(f"{base}/nothing"))[0] == 404
        # The engine stops (a crash in its loops would too): not ready, still alive.
        engine = runtime_of(life).engine
        assert engine is not None
        await engine.stop()
        status, text = await get(f"{base}/readyz")
        assert (status, text) == (503, "delivery engine not running\n")
        assert (await get(f"{base}/healthz"))[0] == 200


async def test_not_ready_while_deliveries_wait_too_long(tg: FakeTelegram, tmp_path: Path) -> None:
    port = free_port()
    config = make_config(
        tmp_path,
        tg.base_url,
        server={"listen": f"127.0.0.1:{port}", "max_pending_age": 0.2},
        telegram={"owners": [100001]},
        delivery={"messages_per_second": 3},
    )
    base = f"http://127.0.0.1:{port}"
    async with served(config) as life:
        people = People(tg)
        owner = people.person("Редакторка")
        db = runtime_of(life).db
        for i in range(12):
            reader = people.private(people.person(f"Читач {i}"))["id"]
            await chats.ensure(db, reader, type=ChatType.PRIVATE, title="", language="uk")
            await subscriptions.set_mode(db, reader, "world", Mode.INSTANT)
        assert (await get(f"{base}/readyz"))[0] == 200
        talk = people.talk(people.private(owner), owner)
        await talk.say("/breaking Терміново: тест черги")
        controls = await talk.next_message()
        await talk.tap(controls, "", data=controls.keyboard[0][0]["callback_data"])

        async def late() -> bool:
            status, text = await get(f"{base}/readyz")
            return status == 503 and "oldest pending delivery waited" in text

        await eventually(late, within=10)
        engine = runtime_of(life).engine
        assert engine is not None
        await engine.idle()
        assert (await get(f"{base}/readyz"))[0] == 200
