"""Running Visnyk as an operator does: webhook mode behind a proxy, /healthz and /readyz, and
a stop that always stores what was sent, through the real lifecycle (bot.lifecycle)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot import app as visnyk_app
from bot.config import Config
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from bot.reach import Reach
from bot.runtime import Runtime
from storage import chats, outbox, subscriptions
from storage.errors import StorageError
from storage.types import ChatType, Mode
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import eventually, free_port, make_config

SECRET = "webhook-secret_0123456789abcdef"


def lifecycle(config: Config) -> Lifecycle:
    """The bot built and wrapped as `visnyk run` does (bot.app.run)."""
    metrics, reach = Metrics(), Reach()
    app = visnyk_app.build(config, metrics=metrics, reach=reach)
    return Lifecycle(
        app, config, reach=reach, metrics=metrics, allowed_updates=visnyk_app.ALLOWED_UPDATES
    )


@contextlib.asynccontextmanager
async def served(config: Config) -> AsyncIterator[Lifecycle]:
    """The bot as `visnyk run` runs it (bot.lifecycle), until the block ends."""
    life = lifecycle(config)
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


def command_update(
    update_id: int, chat: dict[str, Any], user: dict[str, Any], command: str
) -> dict[str, Any]:
    """An update as Telegram would post it: `user` sends `command` in `chat`."""
    message = {
        "message_id": 1,
        "date": 1_700_000_000,
        "chat": chat,
        "from": user,
        "text": command,
        "entities": [{"type": "bot_command", "offset": 0, "length": len(command)}],
    }
    return {"update_id": update_id, "message": message}


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
    forged = command_update(424242, chat, reader, "/start")
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
    update = command_update(9001, chat, reader, "/help")
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

        async def not_ready() -> bool:  # a probe's answer serves the next second's too
            return await get(f"{base}/readyz") == (503, "delivery engine not running\n")

        await eventually(not_ready)
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


async def raw_request(port: int, *parts: bytes, between: Any = None) -> bytes:
    """Send `parts` on one connection (awaiting `between()` after the first), return the
    status line of the answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for i, part in enumerate(parts):
            writer.write(part)
            await writer.drain()
            if i == 0 and between is not None:
                await between()
        return (await asyncio.wait_for(reader.readline(), 10)).strip()
    finally:
        writer.close()


async def test_an_update_whose_body_arrives_during_the_stop_is_left_to_telegram(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    config = webhook_config(tmp_path, tg)
    life = lifecycle(config)
    stop = asyncio.Event()
    serving = asyncio.create_task(life.serve(stop))
    await asyncio.wait_for(life.started.wait(), 15)
    body = b'{"update_id": 5, "message": {"message_id": 1, "date": 1, "chat": {"id": 5, "type": "private"}, "text": "hi"}}'  # noqa: E501
    head = (
        b"POST /tg/updates HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n".encode()
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:10]
    )

    async def stopping() -> None:
        stop.set()
        await eventually(lambda: not life.accepting)

    status = await raw_request(config.server.port, head, body[10:], between=stopping)
    assert status == b"HTTP/1.1 503 Service Unavailable"  # Telegram keeps it for later
    await asyncio.wait_for(serving, 20)  # and the stop is not held up by it
    assert life.app.update_queue.empty()


async def test_hostile_requests_are_answered_in_one_line(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config = webhook_config(tmp_path, tg)
    port = config.server.port
    head = b"POST /tg/updates HTTP/1.1\r\nHost: x\r\n"
    secret = f"X-Telegram-Bot-Api-Secret-Token: {SECRET}\r\n".encode()
    async with served(config):
        # A secret that is not UTF-8 is a wrong secret, not a crash.
        bad_bytes = head + b"X-Telegram-Bot-Api-Secret-Token: \xff\xfe\r\nContent-Length: 0\r\n\r\n"
        assert await raw_request(port, bad_bytes) == b"HTTP/1.1 403 Forbidden"
        chunked = head + secret + b"Transfer-Encoding: chunked\r\n\r\nZZ\r\nabc\r\n0\r\n\r\n"
        assert (await raw_request(port, chunked)).endswith(b" 400 Bad Request")
        huge_header = head + b"X-" + b"a" * 9000 + b": 1\r\n\r\n"
        for _ in range(20):
            assert b" 4" in await raw_request(port, huge_header)
        assert (await get(f"http://127.0.0.1:{port}/healthz"))[0] == 200
    tracebacks = [r for r in caplog.records if r.exc_info is not None or r.exc_text]
    assert tracebacks == []
    server_lines = [r for r in caplog.records if r.name == "aiohttp.server"]
    assert len(server_lines) <= 2  # one line a kind of bad request a minute


async def test_metrics_survive_a_failing_database_and_probes_share_a_check(
    tg: FakeTelegram, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    config = make_config(tmp_path, tg.base_url, server={"listen": f"127.0.0.1:{port}"})
    base = f"http://127.0.0.1:{port}"
    async with served(config) as life:
        runtime = runtime_of(life)
        asked = 0
        revision = runtime.db.revision

        async def counted() -> str | None:
            nonlocal asked
            asked += 1
            return await revision()

        monkeypatch.setattr(runtime.db, "revision", counted)
        answers = await asyncio.gather(*(get(f"{base}/healthz") for _ in range(50)))
        assert {a[0] for a in answers} == {200}
        assert asked <= 2  # fifty probes, one question to the database (two at a second's turn)

        async def broken(*_: object) -> list[object]:
            raise StorageError("database error: disk I/O error")

        monkeypatch.setattr(outbox, "backlog", broken)
        status, text = await get(f"{base}/metrics")
        assert status == 200
        assert "visnyk_messages_sent_total" in text


async def test_the_webhook_answers_before_the_update_is_handled(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    people = People(tg)
    reader = people.person("Оксана")
    chat = people.private(reader)
    async with served(webhook_config(tmp_path, tg)):
        hang = tg.outage("hang", 5)  # Telegram holds every answer: the reply cannot finish
        assert await tg.post_to_webhook(command_update(77, chat, reader, "/help")) == 200
        assert time.monotonic() < hang.end  # answered while the handler still waits
        await tg.wait_for(lambda c: c.method == "sendMessage", within=5)
