"""What the kill -9 tests share: the bot as a process (started, killed, stopped), a poll with
a deadline that never cuts a database query off, and the chat a fake Telegram call went to."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from tests.fakes.telegram import Call
from tests.kit import TOKEN

ROOT = Path(__file__).resolve().parents[1]


async def start_bot(config: Path, log: Path) -> asyncio.subprocess.Process:
    """`visnyk run` with `config`, its output appended to `log`."""
    env = os.environ | {"VISNYK_TELEGRAM_TOKEN": TOKEN}
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", "--config", str(config),
            env=env, stdout=out, stderr=out, cwd=ROOT,
        )  # fmt: skip


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
