"""`visnyk run` as a process, as an operator meets it: signals while it stops, and a Telegram
outage told in a handful of lines."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import sys
from pathlib import Path

import pytest

from storage.db import Database
from tests import crash_kit
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import OWNER, TOKEN, eventually, free_port

READERS = 30
WITHIN = 30.0  # seconds for a bot process that may be starting on a busy machine


def write_config(tmp_path: Path, tg: FakeTelegram, rate: float) -> Path:
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[telegram]
api_base_url = "{tg.base_url}"
owners = [{OWNER}]
[storage]
url = "sqlite+aiosqlite:///{tmp_path / "visnyk.db"}"
[delivery]
messages_per_second = {rate}
concurrency = 4
private_chat_interval = 0.02
[[sections]]
slug = "world"
title = {{ uk = "Світ" }}
""",
        encoding="utf-8",
    )
    return config


class Newsroom:
    """An editor (the owner), READERS readers of #world, and the bot as a process."""

    def __init__(self, tg: FakeTelegram, tmp_path: Path, *, rate: float) -> None:
        self.tg, self.people = tg, People(tg)
        user = self.people.person("Редакторка")
        assert user["id"] == OWNER
        self.editor = self.people.talk(self.people.private(user), user)
        self.readers = [
            self.people.private(self.people.person(f"Читач {i}"))["id"] for i in range(READERS)
        ]
        self.db_path = tmp_path / "visnyk.db"
        self.config = write_config(tmp_path, tg, rate)
        self.log = tmp_path / "bot.log"
        self.bot: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        db = Database.open(f"sqlite+aiosqlite:///{self.db_path}")
        try:
            await crash_kit.prepare(db, self.readers, asyncio.Lock())
        finally:
            await db.close()
        self.bot = await crash_kit.start_bot(self.config, self.log)

    async def flash(self, text: str) -> None:
        """The editor sends a breaking-news alert to everyone."""
        await self.editor.send(text)
        await self.editor.next_message(within=WITHIN)  # the preview
        controls = await self.editor.next_message(within=WITHIN)
        await self.editor.tap(controls, "", data=controls.keyboard[0][0]["callback_data"])

    def delivered(self) -> set[int]:
        """Readers the fake Telegram has delivered a message to."""
        readers = set(self.readers)
        return {
            chat
            for c in self.tg.calls
            if c.method == "sendMessage" and c.ok and (chat := crash_kit.chat_id_of(c)) in readers
        }

    def stored_as_sent(self) -> set[int]:
        with sqlite3.connect(self.db_path) as db:
            rows = db.execute("SELECT chat_id FROM deliveries WHERE state = 'sent'").fetchall()
        return {chat for (chat,) in rows} & set(self.readers)

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.mark.parametrize(
    ("first", "second"), [(signal.SIGTERM, signal.SIGTERM), (signal.SIGINT, signal.SIGINT)]
)
async def test_a_second_signal_does_not_skip_storing_outcomes(
    tg: FakeTelegram, tmp_path: Path, first: signal.Signals, second: signal.Signals
) -> None:
    room = Newsroom(tg, tmp_path, rate=10)  # 30 readers: three seconds of sending
    await room.start()
    bot = room.bot
    assert bot is not None
    try:
        await room.flash("/breaking Термінове повідомлення")
        await eventually(lambda: len(room.delivered()) >= 5, within=WITHIN)
        bot.send_signal(first)
        # Signals of one kind are not queued: the second comes once the first is taken.
        await eventually(lambda: "stopping signal=" in room.text(), within=WITHIN)
        bot.send_signal(second)
        await asyncio.wait_for(bot.wait(), WITHIN)
        log = room.text()
        assert bot.returncode == 0, log
        assert "already stopping" in log
        assert "never awaited" not in log
        assert "Traceback" not in log
        assert log.rstrip().endswith("stopped"), log[-2000:]
        delivered = room.delivered()
        assert 5 <= len(delivered) < READERS  # stopped mid-broadcast
        assert room.stored_as_sent() == delivered  # every message Telegram got is recorded
    finally:
        crash_kit.kill(bot)
        await bot.wait()


@pytest.mark.parametrize("kind", ["502", "hang"])
async def test_a_telegram_outage_is_a_handful_of_lines(
    tg: FakeTelegram, tmp_path: Path, kind: str
) -> None:
    room = Newsroom(tg, tmp_path, rate=5)
    await room.start()
    try:
        await room.flash("/breaking Перед збоєм")
        await eventually(lambda: len(room.delivered()) >= 3, within=WITHIN)
        before = len(room.text())
        tg.outage(kind, 20, updates=True)
        # Everyone has the alert once Telegram is back: the outage (20 s) lies in between.
        await eventually(lambda: len(room.delivered()) == READERS, within=90)
        await eventually(lambda: "reachable again" in room.text()[before:], within=WITHIN)
        lines = room.text()[before:].splitlines()
        assert "Traceback" not in "\n".join(lines)
        assert len(lines) <= 6, "\n".join(lines)
        assert any("Telegram unreachable" in line for line in lines)
        # Once each, for the engine and for polling: no "reachable again" while it is down.
        assert sum("reachable again" in line for line in lines) <= 2
        # Everyone: the readers and the editor's own chat.
        assert "broadcast started broadcast=1 kind=flash chats=31 paid=False" in room.text()
        finished = "broadcast finished broadcast=1 kind=flash sent=31 failed=0 skipped=0"
        await eventually(lambda: finished in room.text(), within=WITHIN)
    finally:
        await crash_kit.stop(room.bot)


async def test_webhook_mode_as_a_process_keeps_its_secrets(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    port = free_port()
    secret = "process-webhook-secret_0123456789"
    config = tmp_path / "config.toml"
    config.write_text(
        f"""
[telegram]
api_base_url = "{tg.base_url}"
webhook_url = "http://127.0.0.1:{port}/hook"
[server]
listen = "127.0.0.1:{port}"
[logging]
format = "json"
[storage]
url = "sqlite+aiosqlite:///{tmp_path / "visnyk.db"}"
[[sections]]
slug = "world"
title = {{ uk = "Світ" }}
""",
        encoding="utf-8",
    )
    log = tmp_path / "bot.log"
    env = os.environ | {"VISNYK_TELEGRAM_TOKEN": TOKEN, "VISNYK_WEBHOOK_SECRET": secret}
    with log.open("ab") as out:
        bot = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config),
            env=env, stdout=out, stderr=out, cwd=crash_kit.ROOT,
        )  # fmt: skip
    try:
        await tg.wait_for(lambda c: c.method == "setWebhook", within=WITHIN)
        assert tg.webhook_secret == secret
        people = People(tg)
        reader = people.person("Оксана")
        talk = people.talk(people.private(reader), reader)
        assert "Оксано" in (await talk.say("/start")).text
        assert await tg.post_to_webhook({"update_id": 1}, secret="wrong-secret-0123456789") == 403
    finally:
        await crash_kit.stop(bot)
    assert bot.returncode == 0
    text = log.read_text(encoding="utf-8")
    lines = [json.loads(line) for line in text.splitlines()]
    assert {"running", "stopped"} <= {line["event"] for line in lines}
    assert any(line.get("reason") == "secret" for line in lines)  # the refusal, logged
    assert TOKEN not in text
    assert TOKEN.partition(":")[2][:8] not in text
    assert secret not in text


async def test_one_bot_per_database(tg: FakeTelegram, tmp_path: Path) -> None:
    config = write_config(tmp_path, tg, rate=30)
    first = await crash_kit.start_bot(config, tmp_path / "first.log")
    try:
        await eventually(lambda: "ready" in (tmp_path / "first.log").read_text(), within=WITHIN)
        second = await crash_kit.start_bot(config, tmp_path / "second.log")
        assert await asyncio.wait_for(second.wait(), WITHIN) == 1
        told = (tmp_path / "second.log").read_text().strip().splitlines()
        assert told[-1].startswith(
            "visnyk: another visnyk process (run or db copy) is using this database (pid "
        )
        assert str(first.pid) in told[-1]
        assert first.returncode is None  # the first goes on
        crash_kit.kill(first)  # a crash: the kernel lets the lock go with the process
        await first.wait()
        third = await crash_kit.start_bot(config, tmp_path / "third.log")
        await eventually(lambda: "ready" in (tmp_path / "third.log").read_text(), within=WITHIN)
        await crash_kit.stop(third)
        assert third.returncode == 0
    finally:
        crash_kit.kill(first)
        await first.wait()
