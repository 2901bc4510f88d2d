"""A million readers on SQLite, on this machine: an editor's alert to every chat (time to the
first message, time to enqueue them all), a restart with the deliveries pending (time to the
first send), digest planning for every chat due at 08:00, and, while the engine sends the alert
at 1000/s with allow_paid_broadcast to a fake Telegram in its own process: the bot's peak
memory, /latest and /search through the real handlers, and the rate, 429s and CPU per message.
During each of them a reader's /start (storage.chats.ensure, a write) every 100 ms says how long
a write waits, and a task waking every 10 ms says how long the event loop stalls.

Run: `make bench-million` (or .venv/bin/python -m bench.million [--chats N] [--window S]).
The database (100,000 articles, N chats, their subscriptions) is built once, in its own process,
into bench/.cache/ (a few minutes for a million); each run works on a copy of it. The sending
is measured over a window (--window, 90 s) after the first message: a full million at 1000/s
takes 17 minutes and runs the same way from the first minute to the last."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import inspect
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, update
from telegram import Update

from bench import browse
from bench.broadcast import fake
from bot import app as visnyk_app
from bot.app import settle_memory
from bot.config import parse
from bot.delivery import digests
from bot.delivery.engine import Engine
from bot.delivery.sender import Sender
from bot.delivery.verdict import Verdict
from bot.i18n import LANGUAGES
from bot.newsroom import Desk, flashes
from bot.runtime import Runtime, open_runtime
from storage import broadcasts, chats, outbox
from storage.codes import EditorAction
from storage.db import Database
from storage.errors import StorageError
from storage.models import ChatRow, SubscriptionRow
from storage.types import Body, BroadcastKind, ChatType, Mode, Payload
from tests.kit import TOKEN

CACHE = browse.CACHE
KYIV = ZoneInfo("Europe/Kyiv")
SLUGS = browse.SECTIONS
SLOT = dt.datetime(2026, 11, 27, 8, 0, tzinfo=KYIV).astimezone(dt.UTC)  # the digests due
SINCE = dt.datetime(2026, 11, 26, 20, 0, tzinfo=KYIV).astimezone(dt.UTC)
READERS = 30  # chats that browse during the broadcast, after the N readers
WRITER_FROM = 50  # the /start probe's chats are N + 50, N + 51, …
FAKE_SPARE = 100_000  # the fake knows private chats 1 … N + this
RATE = 1000.0  # paid broadcast
RESTART_AFTER = 2.5  # seconds from the stop to the restart: Telegram's last window is past
TEXT = (
    "<b>Терміново</b>\nЗеленський провів розмову з прем'єром Польщі.\n"
    '<a href="https://news.example.ua/1">Читати далі →</a>'
)
BROWSING = ["/latest", "/latest world", "/search Зеленського", "/search ракетний Харкову"]


# ---- probes --------------------------------------------------------------------------------


@dataclass
class Probes:
    """The loop-lag probe and the /start probe, for one phase."""

    db: Database
    next_chat: int
    lag: float = 0.0  # the event loop's worst stall, seconds
    waits: list[float] = field(default_factory=list)  # each /start's time
    errors: list[str] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._lag()), asyncio.create_task(self._writer())]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    async def _lag(self) -> None:
        while True:
            start = time.perf_counter()
            await asyncio.sleep(0.01)
            self.lag = max(self.lag, time.perf_counter() - start - 0.01)

    async def _writer(self) -> None:
        while True:
            start = time.perf_counter()
            try:
                await chats.ensure(
                    self.db, self.next_chat, type=ChatType.PRIVATE, title="", language="uk"
                )
            except StorageError as e:
                self.errors.append(str(e))
            self.waits.append(time.perf_counter() - start)
            self.next_chat += 1
            await asyncio.sleep(0.1)

    def line(self) -> str:
        ordered = sorted(self.waits) or [0.0]
        p50, worst = ordered[len(ordered) // 2] * 1000, ordered[-1] * 1000
        failed = f", {len(self.errors)} FAILED ({self.errors[0]})" if self.errors else ""
        return (
            f"loop stalls at most {self.lag * 1000:.0f} ms (target <= 100); /start write: "
            f"{len(self.waits)} made, p50 {p50:.0f} ms, worst {worst:.0f} ms (target <= 200)"
            f"{failed}"
        )


@contextlib.asynccontextmanager
async def probing(db: Database, next_chat: int) -> AsyncIterator[Probes]:
    probes = Probes(db, next_chat)
    probes.start()
    try:
        yield probes
    finally:
        await probes.stop()


class Timeline:
    """The engine's sends and 429s second by second, from the tap on: where the rate dips and
    when a 429 came (enqueuing, or the steady part)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.seconds: list[tuple[int, int]] = []  # (sent, 429s) at each second's end
        self.task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        start = time.perf_counter()
        while True:
            await asyncio.sleep(start + len(self.seconds) + 1 - time.perf_counter())
            self.seconds.append((self.engine.stats.sent, self.engine.stats.retry_after))

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    def lines(self) -> list[str]:
        rates, refused = [], []
        last = (0, 0)
        for i, (sent, retry) in enumerate(self.seconds):
            rates.append(sent - last[0])
            if retry > last[1]:
                refused.append(f"{i}-{i + 1} s: {retry - last[1]}")
            last = (sent, retry)
        fives = [sum(rates[i : i + 5]) / 5 for i in range(0, len(rates), 5)]
        return [
            "    sent a second, 5-s means from the tap: " + " ".join(f"{r:.0f}" for r in fives),
            "    429s: " + (", ".join(refused) or "none"),
        ]


def children_cpu() -> float:
    """CPU seconds used so far by this process's children (the fake Telegram), Linux."""
    total = 0
    with contextlib.suppress(OSError):
        me = os.getpid()
        for child in Path(f"/proc/{me}/task/{me}/children").read_text().split():
            fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def reset_peak() -> None:
    """Start VmHWM (the peak resident memory) again from the current RSS (Linux)."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def memory() -> tuple[float, float]:
    """(peak, current) resident memory in MB."""
    found = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            found[key] = int(value.split()[0]) / 1024
    if not found:  # not Linux: the peak since the process began
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak
    return found["VmHWM"], found["VmRSS"]


class FirstSend:
    """When the first message was accepted by Telegram since `arm()` (any sender)."""

    at: float | None = None
    _original: Callable[..., Awaitable[Any]] | None = None

    @classmethod
    def install(cls) -> None:
        original = cls._original = Sender.post

        async def post(self: Sender, method: str, body: bytes) -> Any:
            answer = await original(self, method, body)
            if cls.at is None and answer.verdict is Verdict.SENT:
                cls.at = time.perf_counter()
            return answer

        Sender.post = post  # type: ignore[method-assign]

    @classmethod
    def arm(cls) -> None:
        cls.at = None

    @classmethod
    async def wait(cls, within: float = 120.0) -> float:
        deadline = time.perf_counter() + within
        while cls.at is None:
            if time.perf_counter() > deadline:
                raise TimeoutError("no message sent")
            await asyncio.sleep(0.005)
        return cls.at


class RestWriter:
    """When the progress job started writing the rest of a flash's deliveries (each tick)."""

    calls: ClassVar[list[float]] = []

    @classmethod
    def install(cls) -> None:
        original = flashes.enqueue_rest

        async def enqueue_rest(desk: Desk) -> int:
            cls.calls.append(time.perf_counter())
            return await original(desk)

        flashes.enqueue_rest = enqueue_rest  # type: ignore[assignment]

    @classmethod
    def after(cls, moment: float) -> float:
        """Seconds from `moment` to the first tick after it."""
        return next((t for t in cls.calls if t > moment), moment) - moment


class EngineStart:
    """When the engine's start() was called (the bot's start-up calls it)."""

    at: float | None = None

    @classmethod
    def install(cls) -> None:
        original = Engine.start

        async def start(self: Engine) -> None:
            cls.at = time.perf_counter()
            await original(self)

        Engine.start = start  # type: ignore[method-assign]


# ---- the database --------------------------------------------------------------------------


def _sections() -> list[dict[str, object]]:
    return [{"slug": s, "title": {"uk": s.title()}} for s in SLUGS]


async def build(path: Path, n: int) -> None:
    """The browse benchmark's archive, then N readers (10% in English), each following one to
    three sections for digests due at 08:00, and the browsing readers; straight into the tables."""
    await browse._archive(f"sqlite+aiosqlite:///{browse.CACHE / 'browse.db'}")
    partial = path.with_suffix(".partial")
    shutil.copy(browse.CACHE / "browse.db", partial)
    config = parse(
        {"storage": {"url": f"sqlite+aiosqlite:///{partial}"}, "sections": _sections()}, environ={}
    )
    runtime = await open_runtime(config)
    async with runtime.db.transaction() as s:  # the browse benchmark's own readers go
        await s.execute(delete(ChatRow))
    rng = random.Random(3)
    choices = [c for k in (1, 2, 3) for c in combinations(range(len(SLUGS)), k)]
    section_ids = {s.slug: s.id for s in runtime.sections}
    batch = 100_000
    for start in range(1, n + READERS + 1, batch):
        chat_rows, subs = [], []
        for chat_id in range(start, min(n + READERS, start + batch - 1) + 1):
            chat_rows.append({
                "id": chat_id, "type": "private", "title": "", "status": "active",
                "language": "en" if chat_id % 10 == 0 else "uk", "created": SINCE,
                "updated": SINCE, "next_digest_at": SLOT, "digest_since": SINCE,
                "digest_enabled": True, "weekdays_only": False,
            })  # fmt: skip
            picked = [1, 2, 3] if chat_id > n else rng.choice(choices)  # readers: world…war
            for i in picked:
                subs.append({"chat_id": chat_id, "section_id": section_ids[SLUGS[i]],
                             "created": SINCE, "mode": Mode.DIGEST.value})  # fmt: skip
        async with runtime.db.transaction() as s:
            await s.execute(insert(ChatRow), chat_rows)
            await s.execute(insert(SubscriptionRow), subs)
        print(f"\rbuilding: {start + len(chat_rows) - 1:,} chats", end="", file=sys.stderr)
    print(file=sys.stderr)
    await runtime.close()
    partial.rename(path)


def database(n: int, tmp: Path, name: str) -> str:
    """A fresh copy of the built database (built first, in another process, if missing)."""
    built = CACHE / f"million-{n}.db"
    if not built.exists():
        CACHE.mkdir(exist_ok=True)
        subprocess.run(  # noqa: S603 - ourselves, so that building leaves this process small
            [sys.executable, "-m", "bench.million", "--chats", str(n), "--build", str(built)],
            check=True,
        )
    copy = tmp / name
    shutil.copy(built, copy)
    # On disk before it is used: a fresh copy's dirty pages would be flushed by the first
    # checkpoint's fsync, a second's stall that a bot's long-lived database never has.
    with copy.open("rb+") as f:
        os.fsync(f.fileno())
    return f"sqlite+aiosqlite:///{copy}"


# ---- phases --------------------------------------------------------------------------------


async def plan_digests(n: int, tmp: Path) -> None:
    url = database(n, tmp, "digests.db")
    config = parse({"storage": {"url": url}, "sections": _sections()}, environ={})
    runtime = await open_runtime(config)
    settle_memory()  # as the bot does once started
    reset_peak()
    async with probing(runtime.db, n + WRITER_FROM) as probes:
        start = time.perf_counter()
        planned = await digests.plan(
            runtime.db, runtime.catalogs, runtime.config, runtime.sections, SLOT
        )
        elapsed = time.perf_counter() - start
    peak, _ = memory()
    await runtime.close()
    print(f"\n(c) digest planning, {n + READERS:,} chats due at 08:00")
    print(f"    {planned.chats:,} chats into {planned.digests} digests, "
          f"{planned.deliveries:,} deliveries; peak RSS {peak:.0f} MB")  # fmt: skip
    print(f"    time {elapsed:.2f} s (target <= 20 s)")
    print(f"    {probes.line()}")
    await asyncio.to_thread(Path(url.removeprefix("sqlite+aiosqlite:///")).unlink)


def _stats(base: str, reset: bool = False) -> dict[str, float]:
    if reset:
        urllib.request.urlopen(urllib.request.Request(f"{base}/__reset", method="POST"))  # noqa: S310
        return {}
    with urllib.request.urlopen(f"{base}/__stats") as response:  # noqa: S310
        data: dict[str, float] = json.loads(response.read())
        return data


def _config(url: str, base: str, editor: int) -> Any:
    return parse(
        {"telegram": {"token": TOKEN, "api_base_url": f"{base}/bot", "owners": [editor]},
         "storage": {"url": url}, "sections": _sections(),
         "delivery": {"messages_per_second": 30, "paid_broadcast": "breaking",
                      "paid_messages_per_second": RATE, "concurrency": 64}},
        environ={},
    )  # fmt: skip


async def _started(config: Any) -> tuple[visnyk_app.VisnykApp, Runtime]:
    """The bot as `run` starts it, its jobs running (the flash's progress, and the writing of
    its deliveries after the first chunk), without polling: updates come from the benchmark."""
    app = visnyk_app.build(config)
    await app.initialize()
    assert app.post_init is not None
    await app.post_init(app)
    await app.start()
    return app, app.bot_data["runtime"]


async def _stopped(app: visnyk_app.VisnykApp) -> None:
    await app.stop()
    await app.shutdown()
    assert app.post_shutdown is not None
    await app.post_shutdown(app)


class Browsing:
    """/latest and /search through the real handlers, 4 a second, from the browsing readers
    in turn (a reader gets one answer a second from Telegram)."""

    def __init__(self, app: visnyk_app.VisnykApp, n: int) -> None:
        self.app, self.n = app, n
        self.samples: dict[str, list[float]] = {c: [] for c in BROWSING}
        self.task: asyncio.Task[None] | None = None
        self.stopping = False

    async def _run(self) -> None:
        i = 0
        while not self.stopping:
            command = BROWSING[i % len(BROWSING)]
            reader = self.n + 1 + i % READERS
            user = {"id": reader, "is_bot": False, "first_name": "Оксана", "language_code": "uk"}
            entities = [{"type": "bot_command", "offset": 0,
                         "length": len(command.split(maxsplit=1)[0])}]  # fmt: skip
            message = {"message_id": i + 1, "date": int(time.time()), "text": command,
                       "chat": {"id": reader, "type": "private", "first_name": "Оксана"},
                       "from": user, "entities": entities}  # fmt: skip
            update = Update.de_json({"update_id": i + 1, "message": message}, self.app.bot)
            start = time.perf_counter()
            await self.app.process_update(update)
            self.samples[command].append(time.perf_counter() - start)
            i += 1
            await asyncio.sleep(0.25)

    def start(self) -> None:
        self.stopping = False
        self.task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """After the command under way (a reply cut off would be the fake's error, not ours)."""
        assert self.task is not None
        self.stopping = True
        await self.task

    def lines(self) -> list[str]:
        out = []
        for command, samples in self.samples.items():
            if samples:
                ordered = sorted(samples)
                p95 = ordered[max(0, int(len(ordered) * 0.95) - 1)]
                out.append(f"    {command:28s} {len(samples):4d} × p50 "
                           f"{statistics.median(samples) * 1000:5.1f} ms  p95 "
                           f"{p95 * 1000:5.1f} ms (target <= 30)")  # fmt: skip
        return out


async def _confirm(desk: Desk, broadcast_id: int, editor: int) -> Any:
    """The editor taps Send (paid, where the service lets the editor choose)."""
    extra: dict[str, Any] = {}
    if "paid" in inspect.signature(flashes.confirm).parameters:
        extra["paid"] = True
    return await flashes.confirm(desk, broadcast_id, editor, silent=False, **extra)


async def _enqueued(desk: Desk, broadcast_id: int) -> None:
    """Wait until every delivery of the alert is written (the first chunk with the
    confirmation, the rest by the bot's progress job)."""
    while any(b.id == broadcast_id for b, _ in await broadcasts.enqueuing(desk.db)):  # noqa: ASYNC110 - polls the database
        await asyncio.sleep(0.05)


async def alert(n: int, tmp: Path, window: float) -> None:
    url = database(n, tmp, "alert.db")
    db = Database.open(url)
    async with db.transaction() as s:  # no digest falls due while the alert is measured
        await s.execute(update(ChatRow).values(digest_enabled=False, next_digest_at=None))
    await db.close()
    editor = n + READERS + 10
    async with fake(RATE, n + FAKE_SPARE) as base:
        config = _config(url, base, editor)
        app, runtime = await _started(config)
        assert runtime.engine is not None
        timeline = Timeline(runtime.engine)
        timeline.start()
        next_chat = await _confirmed(runtime, base, editor, n)
        next_chat = await _sending(app, runtime, base, n, window=window, next_chat=next_chat)
        await timeline.stop()
        print(*timeline.lines(), sep="\n")
        await _stopped(app)
        await _restart(config, url, base, next_chat)
    await asyncio.to_thread(Path(url.removeprefix("sqlite+aiosqlite:///")).unlink)


async def _confirmed(runtime: Runtime, base: str, editor: int, n: int) -> int:
    """(a): the editor's preview, then Send; the time to the first message and to the last
    delivery written."""
    desk = Desk.of(runtime)
    payload = Payload({lang: (Body(TEXT),) for lang in LANGUAGES})
    start = time.perf_counter()
    broadcast, audience = await flashes.open_preview(
        desk, editor, BroadcastKind.FLASH, payload, action=EditorAction.BREAKING,
        sections=None, flash=None, target="",
    )  # fmt: skip
    preview = time.perf_counter() - start
    await asyncio.to_thread(_stats, base, True)
    reset_peak()
    FirstSend.arm()
    async with probing(runtime.db, n + WRITER_FROM) as probes:
        start = time.perf_counter()
        confirmed = await _confirm(desk, broadcast.id, editor)
        confirm_s = time.perf_counter() - start
        await _enqueued(desk, confirmed.id)
        enqueue_s = time.perf_counter() - start
        first = await FirstSend.wait() - start
    print(f"\n(a) an alert to every chat ({audience:,} in the preview, counted in {preview:.1f} s)")
    print(f"    time to the first message {first:.2f} s (target <= 1 s)")
    print(f"    confirm answered after {confirm_s:.2f} s; every delivery written after "
          f"{enqueue_s:.2f} s (target <= 10 s), the rest begun by the progress job's tick "
          f"{RestWriter.after(start):.2f} s after the tap")  # fmt: skip
    print(f"    {probes.line()}")
    return probes.next_chat


async def _sending(
    app: visnyk_app.VisnykApp, runtime: Runtime, base: str, n: int, *, window: float, next_chat: int
) -> int:
    """(d, e, g): the broadcast goes on; measured over the window from the first message, with
    readers browsing."""
    engine = runtime.engine
    assert engine is not None
    browsing = Browsing(app, n)
    async with probing(runtime.db, next_chat) as probes:
        browsing.start()
        cpu, wall, sent = time.process_time(), time.perf_counter(), engine.stats.sent
        fake_cpu = children_cpu()
        end = (FirstSend.at or wall) + window
        await asyncio.sleep(max(0.0, end - time.perf_counter()))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        fake_cpu = children_cpu() - fake_cpu
        sent = engine.stats.sent - sent
        await browsing.stop()
    stats = await asyncio.to_thread(_stats, base)
    peak, current = memory()
    replies = sum(len(s) for s in browsing.samples.values())
    broadcast = int(stats["sent"]) - replies
    ratio = (broadcast - 1) / stats["span"] / RATE if stats["span"] else 0.0
    print(
        f"\n(d, e, g) the broadcast at {RATE:.0f}/s (paid), {window:.0f} s from the first message"
    )
    print(f"    sent {broadcast:,}: rate ratio {ratio:.3f} from the first message, as Telegram "
          f"saw them (target >= 0.95); 429s {int(stats['rejected'])} (target 0)")  # fmt: skip
    print(f"    once every delivery was written: {sent / wall / RATE:.3f} of the rate, CPU "
          f"{cpu / max(sent, 1) * 1000:.3f} ms a message (target <= 0.5), "
          f"{cpu / wall * 100:.0f}% of a core (the fake Telegram, on the same 2 cores: "
          f"{fake_cpu / wall * 100:.0f}%)")  # fmt: skip
    print(
        f"    peak RSS {peak:.0f} MB from the tap on (target <= 500), {current:.0f} MB at the end"
    )
    print(*browsing.lines(), sep="\n")
    print(f"    {probes.line()}")
    return probes.next_chat


async def _restart(config: Any, url: str, base: str, next_chat: int) -> None:
    """(b): the bot starts again with the rest of the alert pending, once the last run's last
    second of sends is behind (within it, the engine first waits it out: up to ~2 s, on
    purpose, so that Telegram's window is not overrun)."""
    pending = await _pending(url)
    await asyncio.to_thread(_stats, base, True)
    await asyncio.sleep(RESTART_AFTER)
    FirstSend.arm()
    start = time.perf_counter()
    app, runtime = await _started(config)
    async with probing(runtime.db, next_chat) as probes:
        first = await FirstSend.wait() - start
        engine_first = (FirstSend.at or 0.0) - (EngineStart.at or start)
        await asyncio.sleep(3)
    stats = await asyncio.to_thread(_stats, base)
    print(f"\n(b) restart with {pending:,} deliveries pending, {RESTART_AFTER:.1f} s after the "
          "last send")  # fmt: skip
    print(f"    first send {first:.2f} s after the bot's start ({engine_first:.2f} s after the "
          f"engine's start; target <= 2 s)")  # fmt: skip
    print(f"    429s in the first 3 s: {int(stats['rejected'])}")
    print(f"    {probes.line()}")
    await _stopped(app)


async def _pending(url: str) -> int:
    db = Database.open(url)
    try:
        return await outbox.pending_count(db)
    finally:
        await db.close()


async def main(n: int, window: float, only: str | None) -> None:
    FirstSend.install()
    EngineStart.install()
    RestWriter.install()
    tmp = Path(tempfile.mkdtemp(prefix="million-"))
    await asyncio.to_thread(database, n, tmp, "probe.db")  # built first, if it is not yet
    await asyncio.to_thread((tmp / "probe.db").unlink)
    print(f"{n:,} readers (+{READERS} browsing), 100,000 articles; SQLite; "
          f"{_load()}")  # fmt: skip
    try:
        if only in (None, "digests"):
            await plan_digests(n, tmp)
        if only in (None, "alert"):
            await alert(n, tmp, window)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _load() -> str:
    with contextlib.suppress(OSError):
        return "load average " + Path("/proc/loadavg").read_text().split(maxsplit=1)[0]
    return ""


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=1_000_000)
    parser.add_argument("--window", type=float, default=90.0, help="seconds of sending measured")
    parser.add_argument("--only", choices=["digests", "alert"])
    parser.add_argument("--build", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.build:
        asyncio.run(build(args.build, args.chats))
    else:
        asyncio.run(main(args.chats, args.window, args.only))
