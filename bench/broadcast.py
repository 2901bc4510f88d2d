"""Broadcast of one story to N chats through a fake Telegram (another process) that enforces
the same limits as a strict sliding window: Visnyk's engine beside PTB's AIORateLimiter and a
plain send-and-sleep loop. Prints achieved rate ÷ configured rate, 429s, CPU ms per message.
Run: `make bench-broadcast` (or .venv/bin/python -m bench.broadcast [--db sqlite|postgresql];
PostgreSQL: a throw-away cluster of tests.postgresql, started and removed by the run, its
server's CPU a column of its own)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import asyncpg
from sqlalchemy import text
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
from storage.db import Database
from storage.types import Body, ChatType, Payload, Priority
from tests import postgresql
from tests.kit import TOKEN

TEXT = (
    "<b>Терміново</b>\nЗеленський провів розмову з прем'єром Польщі.\n"
    '<a href="https://news.example.ua/1">Читати далі →</a>'
)
CASES = [(30.0, 300), (1000.0, 6000)]
FREE_RATE = 30.0  # Telegram's limit without allow_paid_broadcast; 1000/s is paid


class Databases:
    """Fresh databases for a benchmark, by name: SQLite files in a temporary directory, or
    databases of a throw-away PostgreSQL cluster (tests.postgresql: PostgreSQL 15 on loopback,
    without fsync, as SQLite here in WAL with synchronous=NORMAL waits for no disk at commit).
    Use as `async with Databases(kind) as dbs:`; all is stopped and removed at the end."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._stack = contextlib.ExitStack()
        self._tmp: Path | None = None
        self._cluster: postgresql.Cluster | None = None

    async def __aenter__(self) -> Databases:
        if self.kind == "postgresql":
            self._cluster = await asyncio.to_thread(self._stack.enter_context, postgresql.cluster())
        else:
            self._tmp = Path(tempfile.mkdtemp(prefix="visnyk-bench-"))
            self._stack.callback(shutil.rmtree, self._tmp, ignore_errors=True)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self._stack.close)

    async def new(self, name: str) -> str:
        """The URL of a new, empty database."""
        if self._cluster is None:
            assert self._tmp is not None
            return f"sqlite+aiosqlite:///{self._tmp / name}.db"
        conn = await asyncpg.connect(self._cluster.dsn())
        try:
            await conn.execute(f'CREATE DATABASE "{name}"')
        finally:
            await conn.close()
        return self._cluster.url(name)

    async def settled(self, db: Database) -> None:
        """After a bulk setup: PostgreSQL's statistics as autovacuum would have them by the
        time a bot's table is this large (a table written a moment ago has none, and the
        planner would choose for an empty one). SQLite plans without statistics."""
        if self._cluster is not None:
            async with db.engine.connect() as conn:
                await conn.execute(text("ANALYZE"))
                await conn.commit()

    def server_cpu(self) -> float:
        """CPU seconds the database server has used so far: PostgreSQL's postmaster, its
        backends and background writers (Linux); 0 for SQLite, which works inside this
        process and is counted in its CPU."""
        if self._cluster is None:
            return 0.0
        with contextlib.suppress(OSError, ValueError):
            pid = (self._cluster.directory / "data" / "postmaster.pid").read_text().split()[0]
            total = _ticks(pid, children=True)
            for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
                with contextlib.suppress(OSError):
                    total += _ticks(child)
            return total / os.sysconf("SC_CLK_TCK")
        return 0.0


def _ticks(pid: str, *, children: bool = False) -> int:
    """A process's CPU ticks (user + system), with its reaped children's if asked."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    return ticks + (int(fields[13]) + int(fields[14]) if children else 0)


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
    base: str, n: int, run: Callable[[], Awaitable[None]], dbs: Databases
) -> tuple[float, float, float, dict[str, float]]:
    """Wall time, this process's CPU and the database server's (PostgreSQL), the fake's
    figures."""
    await asyncio.to_thread(_stats, base, True)
    cpu, wall, server = time.process_time(), time.perf_counter(), dbs.server_cpu()
    await run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    server = dbs.server_cpu() - server
    stats = await asyncio.to_thread(_stats, base)
    return wall, cpu, server, stats


async def visnyk(
    base: str, rate: float, n: int, dbs: Databases | None = None
) -> Callable[[], Awaitable[None]]:
    assert dbs is not None
    config = parse({"storage": {"url": await dbs.new(f"broadcast_{n}")}}, environ={})
    runtime = await open_runtime(config)
    now = dt.datetime.now(dt.UTC)
    for start in range(1, n + 1, 1000):
        for chat_id in range(start, min(n, start + 999) + 1):
            await chats.ensure(runtime.db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
    item = await outbox.put_item(runtime.db, kind="story", key="bench", priority=Priority.STORY,
                                 payload=Payload({"uk": (Body(TEXT),)}), now=now)  # fmt: skip
    await dbs.settled(runtime.db)
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


async def aio_rate_limiter(
    base: str, rate: float, n: int, dbs: Databases | None = None
) -> Callable[[], Awaitable[None]]:
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


async def send_and_sleep(
    base: str, rate: float, n: int, dbs: Databases | None = None
) -> Callable[[], Awaitable[None]]:
    async def run() -> None:
        async with Bot(TOKEN, base_url=f"{base}/bot", request=HTTPXRequest()) as bot:
            for chat_id in range(1, n + 1):
                with contextlib.suppress(RetryAfter):
                    await bot.send_message(
                        chat_id, TEXT, parse_mode="HTML", allow_paid_broadcast=rate > FREE_RATE
                    )
                await asyncio.sleep(1 / rate)

    return run


async def main(db: str) -> None:
    print(
        "rate ratio: messages a second from the first send to the last, at the fake, ÷ the "
        "configured rate; overall: the same over the whole run, enqueuing included; CPU: this "
        f"process's, and the database server's (PostgreSQL); database: {db}"
    )
    print(f"{'configured':>10} {'sender':<22} {'messages':>8} {'rate ratio':>10} "
          f"{'overall':>8} {'429s':>5} {'CPU ms/msg':>10} {'DB server':>9}")  # fmt: skip
    senders: list[tuple[str, Callable[..., Awaitable[Callable[[], Awaitable[None]]]]]] = [
        ("Visnyk engine", visnyk)
    ]
    if db == "sqlite":  # the others use no database: once is enough
        senders += [("PTB AIORateLimiter", aio_rate_limiter), ("send-and-sleep", send_and_sleep)]
    async with Databases(db) as dbs:
        for rate, n in CASES:
            async with fake(rate, n) as base:
                for name, make in senders:
                    run = await make(base, rate, n, dbs)
                    wall, cpu, server, stats = await measure(base, n, run, dbs)
                    sent = int(stats["sent"])
                    ratio = (sent - 1) / stats["span"] / rate if stats["span"] else 0.0
                    overall = sent / wall / rate
                    cpu_ms = cpu / max(sent, 1) * 1000
                    server_ms = server / max(sent, 1) * 1000
                    print(f"{rate:>8.0f}/s {name:<22} {sent:>8} {ratio:>10.2f} {overall:>8.2f} "
                          f"{int(stats['rejected']):>5} {cpu_ms:>10.2f} {server_ms:>9.2f}",
                          flush=True)  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    asyncio.run(main(parser.parse_args().db))
