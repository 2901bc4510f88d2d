"""Broadcast of one story to N chats through a fake Telegram (another process) that enforces
the same limits as a strict sliding window: Visnyk's engine beside PTB's AIORateLimiter and a
plain send-and-sleep loop. Prints achieved rate ÷ configured rate, 429s, CPU ms per message.
Run: `make bench-broadcast` (or .venv/bin/python -m bench.broadcast)."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from telegram import Bot
from telegram.error import RetryAfter, TimedOut
from telegram.ext import AIORateLimiter, ExtBot
from telegram.request import HTTPXRequest

from bot.app import settle_memory
from bot.config import parse
from bot.delivery.engine import Engine
from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.runtime import open_runtime
from storage import chats, outbox
from storage.types import Body, ChatType, Payload, Priority
from tests.kit import TOKEN

TEXT = (
    "<b>Терміново</b>\nЗеленський провів розмову з прем'єром Польщі.\n"
    '<a href="https://news.example.ua/1">Читати далі →</a>'
)
CASES = [(30.0, 300), (1000.0, 6000)]
FREE_RATE = 30.0  # Telegram's limit without allow_paid_broadcast; 1000/s is paid


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def fake(rate: float, chats_n: int) -> AsyncIterator[str]:
    port = _port()
    process = subprocess.Popen(  # noqa: ASYNC220, S603 - our own fake, started once
        [sys.executable, "-m", "bench.fake_telegram", str(port), str(rate), str(chats_n)],
        stdout=subprocess.PIPE,
    )
    assert process.stdout is not None
    await asyncio.to_thread(process.stdout.readline)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait()


def _stats(base: str, reset: bool = False) -> dict[str, float]:
    if reset:
        urllib.request.urlopen(urllib.request.Request(f"{base}/__reset", method="POST"))  # noqa: S310
        return {}
    with urllib.request.urlopen(f"{base}/__stats") as response:  # noqa: S310
        data: dict[str, float] = json.loads(response.read())
        return data


async def measure(
    base: str, n: int, run: Callable[[], Awaitable[None]]
) -> tuple[float, float, dict[str, float]]:
    await asyncio.to_thread(_stats, base, True)
    cpu, wall = time.process_time(), time.perf_counter()
    await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stats = await asyncio.to_thread(_stats, base)
    return wall, cpu, stats


async def visnyk(base: str, rate: float, n: int) -> Callable[[], Awaitable[None]]:
    tmp = Path(tempfile.mkdtemp())
    config = parse({"storage": {"url": f"sqlite+aiosqlite:///{tmp / 'b.db'}"}}, environ={})
    runtime = await open_runtime(config)
    now = dt.datetime.now(dt.UTC)
    for start in range(1, n + 1, 1000):
        for chat_id in range(start, min(n, start + 999) + 1):
            await chats.ensure(runtime.db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
    item = await outbox.put_item(runtime.db, kind="story", key="bench", priority=Priority.STORY,
                                 payload=Payload({"uk": (Body(TEXT),)}), now=now)  # fmt: skip
    settle_memory()  # as the bot does once started

    async def run() -> None:
        await outbox.add(
            runtime.db, item, Priority.STORY, [(c, False) for c in range(1, n + 1)], now
        )
        # Above Telegram's free 30 a second, as a bot must: the story lane is paid
        # (allow_paid_broadcast, its own window at `rate`), everything else keeps to 30.
        free = min(rate, FREE_RATE)
        pacer = Pacer(per_second=free, private_interval=1.0, group_per_minute=20)
        paid = Pacer(per_second=rate, private_interval=1.0, group_per_minute=20)
        sender = Sender(f"{base}/bot", TOKEN, connections=64)
        await sender.start()
        engine = Engine(
            runtime.db, sender, pacer, concurrency=64,
            paid=paid if rate > FREE_RATE else None, paid_lanes=frozenset({Priority.STORY}),
        )  # fmt: skip
        await engine.start()
        await engine.idle()
        await engine.stop()
        await sender.close()
        await runtime.close()

    return run


async def aio_rate_limiter(base: str, rate: float, n: int) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        limiter = AIORateLimiter(overall_max_rate=rate, overall_time_period=1, max_retries=5)
        request = HTTPXRequest(connection_pool_size=64, pool_timeout=None)
        async with ExtBot(
            TOKEN, base_url=f"{base}/bot", rate_limiter=limiter, request=request
        ) as bot:

            async def one(chat_id: int) -> None:
                # A 429 past max_retries, or PTB's pool timing out under 6000 waiting sends:
                # that message is lost, which the rate figures show.
                with contextlib.suppress(RetryAfter, TimedOut):
                    await bot.send_message(
                        chat_id, TEXT, parse_mode="HTML", allow_paid_broadcast=rate > FREE_RATE
                    )

            await asyncio.gather(*(one(c) for c in range(1, n + 1)))

    return run


async def send_and_sleep(base: str, rate: float, n: int) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        async with Bot(TOKEN, base_url=f"{base}/bot", request=HTTPXRequest()) as bot:
            for chat_id in range(1, n + 1):
                with contextlib.suppress(RetryAfter):
                    await bot.send_message(
                        chat_id, TEXT, parse_mode="HTML", allow_paid_broadcast=rate > FREE_RATE
                    )
                await asyncio.sleep(1 / rate)

    return run


async def main() -> None:
    print(
        "rate ratio: messages a second from the first send to the last, at the fake, ÷ the "
        "configured rate; overall: the same over the whole run, enqueuing included"
    )
    print(f"{'configured':>10} {'sender':<22} {'messages':>8} {'rate ratio':>10} "
          f"{'overall':>8} {'429s':>5} {'CPU ms/msg':>10}")  # fmt: skip
    for rate, n in CASES:
        async with fake(rate, n) as base:
            for name, make in (("Visnyk engine", visnyk), ("PTB AIORateLimiter", aio_rate_limiter),
                               ("send-and-sleep", send_and_sleep)):  # fmt: skip
                run = await make(base, rate, n)
                wall, cpu, stats = await measure(base, n, run)
                sent = int(stats["sent"])
                ratio = (sent - 1) / stats["span"] / rate if stats["span"] else 0.0
                overall = sent / wall / rate
                cpu_ms = cpu / max(sent, 1) * 1000
                print(f"{rate:>8.0f}/s {name:<22} {sent:>8} {ratio:>10.2f} {overall:>8.2f} "
                      f"{int(stats['rejected']):>5} {cpu_ms:>10.2f}", flush=True)  # fmt: skip


if __name__ == "__main__":
    asyncio.run(main())
