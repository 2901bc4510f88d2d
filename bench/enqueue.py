"""One alert to 100,000 chats, the storage's bulk paths as the bot runs them: the editor's
preview counts the audience, Send writes the first chunk of deliveries, the progress job the
rest (storage.subscriptions.recipients_after + storage.outbox.add, a chunk a transaction);
then every outcome is recorded as the engine does (pending read 1000 at a time, outcomes
written 500 a transaction), and a recall enqueues a delete where each message went.

Run: .venv/bin/python -m bench.enqueue [--db sqlite|postgresql] [--chats N]
(PostgreSQL: a throw-away cluster of tests.postgresql, started and removed by the run)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time

from sqlalchemy import insert

from bench.broadcast import Databases
from bot.config import parse
from bot.delivery.engine import WRITE_BATCH
from bot.i18n import LANGUAGES
from bot.newsroom import Desk, flashes
from bot.runtime import open_runtime
from storage import broadcasts, outbox
from storage.codes import EditorAction
from storage.db import Database
from storage.models import ChatRow
from storage.types import Body, BroadcastKind, DeliveryState, Payload, Priority, Result

TEXT = "<b>Терміново</b>\nЗеленський провів розмову з прем'єром Польщі."
EDITOR = 1  # not a reader: chats are 1000 … 1000 + N
LOAD = 1000  # pending deliveries the engine reads at a time


async def run(kind: str, n: int) -> None:
    async with Databases(kind) as dbs:
        url = await dbs.new("enqueue")
        config = parse(
            {"telegram": {"owners": [EDITOR]}, "storage": {"url": url},
             "sections": [{"slug": "world", "title": {"uk": "Світ"}}]},
            environ={},
        )  # fmt: skip
        runtime = await open_runtime(config)
        try:
            await _readers(runtime.db, n)
            await dbs.settled(runtime.db)
            await _measure(Desk.of(runtime), dbs, n)
        finally:
            await runtime.close()


async def _readers(db: Database, n: int) -> None:
    """N active private chats, straight into the table (registering them one by one would
    take minutes)."""
    since = dt.datetime(2026, 11, 26, 18, tzinfo=dt.UTC)
    for start in range(0, n, 50_000):
        rows = [
            {"id": 1000 + i, "type": "private", "title": "", "status": "active",
             "language": "en" if i % 10 == 0 else "uk", "created": since, "updated": since,
             "digest_enabled": False, "weekdays_only": False}
            for i in range(start, min(n, start + 50_000))
        ]  # fmt: skip
        async with db.transaction() as s:
            await s.execute(insert(ChatRow), rows)


class Phase:
    """One phase's wall time, this process's CPU and the database server's (PostgreSQL works
    in processes of its own; SQLite's work is in this one's)."""

    def __init__(self, dbs: Databases) -> None:
        self.dbs = dbs
        self.wall = self.cpu = self.server = 0.0

    def __enter__(self) -> Phase:
        self._start = (time.perf_counter(), time.process_time(), self.dbs.server_cpu())
        return self

    def __exit__(self, *exc: object) -> None:
        wall, cpu, server = self._start
        self.wall += time.perf_counter() - wall
        self.cpu += time.process_time() - cpu
        self.server += self.dbs.server_cpu() - server

    def line(self, what: str) -> str:
        return (
            f"  {what:34s} {self.wall * 1000:7.0f} ms   CPU here {self.cpu * 1000:6.0f} ms, "
            f"database server {self.server * 1000:6.0f} ms"
        )


async def _measure(desk: Desk, dbs: Databases, n: int) -> None:
    payload = Payload({language: (Body(TEXT),) for language in LANGUAGES})
    with Phase(dbs) as counted:
        preview, audience = await flashes.open_preview(
            desk, EDITOR, BroadcastKind.FLASH, payload, action=EditorAction.BREAKING,
            sections=None, flash=None, target="",
        )  # fmt: skip
    with Phase(dbs) as confirmed:
        flash = await flashes.confirm(desk, preview.id, EDITOR, silent=False)
    with Phase(dbs) as rest:
        await flashes.enqueue_rest(desk)
    assert flash.item_id is not None
    written = (await outbox.counts(desk.db, flash.item_id))[DeliveryState.PENDING]
    assert written == audience == n, (written, audience, n)

    read, recorded = Phase(dbs), Phase(dbs)
    after, sent_at = 0, desk.now()
    while True:
        with read:
            rows = await outbox.pending(desk.db, Priority.BREAKING, after_id=after, limit=LOAD)
        if not rows:
            break
        after = rows[-1].id
        for i in range(0, len(rows), WRITE_BATCH):
            batch = [
                Result(r.id, DeliveryState.SENT, 1, message_ids=(r.id,), sent_at=sent_at)
                for r in rows[i : i + WRITE_BATCH]
            ]
            with recorded:
                await outbox.record(desk.db, batch)
    assert (await outbox.counts(desk.db, flash.item_id))[DeliveryState.SENT] == n

    recall, _ = await flashes.open_preview(
        desk, EDITOR, BroadcastKind.RECALL, payload, action=EditorAction.RECALL,
        sections=None, flash=flash, target=f"#{flash.id}",
    )  # fmt: skip
    with Phase(dbs) as recalled:
        await flashes.confirm(desk, recall.id, EDITOR, silent=False)
    done = await broadcasts.get(desk.db, recall.id)
    assert done is not None
    assert done.total == n, done.total

    print(f"an alert to {n:,} chats on {desk.db.dialect}")
    print(counted.line("the preview's audience counted"))
    print(confirmed.line("Send: the first chunk written"))
    print(rest.line("the rest written (progress job)"))
    enqueued = confirmed.wall + rest.wall
    print(f"  = every delivery written in {enqueued * 1000:.0f} ms")
    print(read.line(f"pending read, {LOAD} at a time"))
    print(recorded.line(f"outcomes recorded, {WRITE_BATCH} a commit"))
    print(f"  = {recorded.wall / n * 1e6:.1f} µs an outcome recorded, CPU "
          f"{(recorded.cpu + recorded.server) / n * 1e6:.1f} µs (here and server)")  # fmt: skip
    print(recalled.line("a recall enqueued to every chat"))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--chats", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(run(args.db, args.chats))
