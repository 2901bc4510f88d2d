"""What the kill -9 tests share: the bot as a process (started, killed, stopped), a poll with
a deadline that never cuts a database query off, and the chat a fake Telegram call went to."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from storage import chats, subscriptions
from storage import sections as stored_sections
from storage.db import Database
from storage.types import ChatType, Mode, NewSection
from tests.fakes.telegram import Call, FakeTelegram
from tests.kit import TOKEN

ROOT = Path(__file__).resolve().parents[1]


async def start_bot(
    config: Path, log: Path, env: dict[str, str] | None = None
) -> asyncio.subprocess.Process:
    """`visnyk run` with `config` (and `env` besides the token), its output appended to
    `log`."""
    env = os.environ | {"VISNYK_TELEGRAM_TOKEN": TOKEN} | (env or {})
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config),
            env=env, stdout=out, stderr=out, cwd=ROOT,
        )  # fmt: skip


def broadcast_config(tg: FakeTelegram, url: str, *, rate: float, concurrency: int) -> str:
    """A config of one section (#world) sending at `rate` with `concurrency` in flight."""
    return f"""
[telegram]
api_base_url = "{tg.base_url}"
[storage]
url = "{url}"
[delivery]
messages_per_second = {rate}
concurrency = {concurrency}
[[sections]]
slug = "world"
title = {{ uk = "Світ" }}
"""


def sent_to(tg: FakeTelegram, crowd: set[int]) -> list[int]:
    """The chats of `crowd` each accepted sendMessage went to, in order (repeats: twice)."""
    return [
        c.result["chat"]["id"]
        for c in tg.calls
        if c.method == "sendMessage" and c.ok and c.result["chat"]["id"] in crowd
    ]


def kill(bot: asyncio.subprocess.Process | None) -> None:
    """SIGKILL: no shutdown, nothing flushed; what a crash or the OOM killer does."""
    if bot is not None and bot.returncode is None:
        bot.send_signal(signal.SIGKILL)


async def stop(bot: asyncio.subprocess.Process | None) -> None:
    """SIGTERM and wait (killed after 10 s)."""
    if bot is None or bot.returncode is not None:
        return
    bot.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(bot.wait(), 10)
    except TimeoutError:
        kill(bot)
        await bot.wait()


async def settles(condition: Callable[[], Awaitable[bool]], within: float) -> bool:
    """Poll `condition` until it holds (True) or `within` seconds pass (False). Unlike
    tests.kit.eventually it never cancels a poll midway: a query cut off inside its
    transaction could leave the database locked for the bot and for the checks after it."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not await condition():
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)  # a poll with a deadline, on purpose
    return True


def chat_id_of(call: Call) -> int | None:
    try:
        return int(call.params.get("chat_id", 0))
    except (TypeError, ValueError):
        return None


async def prepare(db: Database, readers: Sequence[int], migrating: asyncio.Lock) -> None:
    """The database before the bot's first start: migrated, #world, its instant readers."""
    async with migrating:  # alembic's context is one per process
        await db.upgrade()
    await stored_sections.sync(db, [NewSection("world", {"uk": "Світ"})])
    for chat_id in readers:
        await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
        await subscriptions.set_mode(db, chat_id, "world", Mode.INSTANT)


class Subject:
    """A test's bot as a process with its database: `prepare` it, `start`, `kill`, `close`.
    A test's own class sets `db`, `readers`, `config`, `log` and says how to `unhook` the
    fakes' hooks."""

    db: Database
    readers: list[int]
    config: Path
    log: Path
    bot: asyncio.subprocess.Process | None = None

    def unhook(self) -> None:
        """Clear the fakes' hooks before the bot is stopped."""

    async def prepare(self, migrating: asyncio.Lock) -> None:
        await prepare(self.db, self.readers, migrating)

    async def start(self) -> None:
        self.bot = await start_bot(self.config, self.log)

    def kill(self) -> None:
        kill(self.bot)

    async def close(self) -> None:
        self.unhook()
        await stop(self.bot)
        await self.db.close()
