"""`visnyk db copy` both ways: an SQLite newsroom of N chats (~2.5 subscriptions and one
delivery each) copied into PostgreSQL, then back into a new SQLite file. Prints, for each
direction, the rows, the seconds and the rows a second, the CPU of this process and of the
database server, and the three largest tables' own rates.

Run: .venv/bin/python -m bench.db_copy [--chats N] [--batch ROWS]  (N: 200,000). The newsroom
is built straight into an SQLite file with the stdlib's sqlite3 after the migrations made its
tables (about 20 s for 200,000 chats on 2 cores); PostgreSQL is a throw-away cluster of
tests.postgresql (PostgreSQL 15 on loopback, without fsync), started and removed by the run.
The copy is storage.copy's entry point, the one `visnyk db copy` calls, in this process; the
file copied back is compared with the source at the end, row by row."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.broadcast import Databases
from storage import copy as db_copy
from storage import sections
from storage.db import Database
from storage.types import NewSection

CHATS = 200_000
SLUGS = ["ukraine", "world", "economy", "war", "culture", "science", "sport"]
STORIES = 20  # outbox items: each chat's delivery is one of them
CHUNK = 50_000  # chats generated and inserted at a time
NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def _when(moment: dt.datetime) -> str:
    """A time as SQLAlchemy stores it in SQLite (storage.models.UTCDateTime: naive UTC)."""
    return moment.strftime("%Y-%m-%d %H:%M:%S.%f")


# ---- the newsroom ----------------------------------------------------------------------------


async def _migrated(path: Path) -> None:
    db = Database.open(f"sqlite+aiosqlite:///{path}")
    try:
        await db.upgrade()
        await sections.sync(db, [NewSection(s, {"uk": s.title(), "en": s}) for s in SLUGS])
    finally:
        await db.close()


INSERTS = {
    "chats": "INSERT INTO chats (id, type, title, language, timezone, status, created, updated, "
    "digest_times, digest_enabled, weekdays_only, next_digest_at, digest_since, quiet_start, "
    "quiet_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "subscriptions": "INSERT INTO subscriptions (chat_id, section_id, created, mode, thread_id) "
    "VALUES (?, ?, ?, ?, ?)",
    "deliveries": "INSERT INTO deliveries (id, item_id, chat_id, priority, state, silent, "
    "attempts, next_attempt, last_error, message_ids, sent_at, target_ids, thread_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
}


def _chunk(
    start: int, stop: int, section_ids: list[int], rng: random.Random
) -> dict[str, list[tuple[object, ...]]]:
    """The rows of chats start … stop-1: theirs, their subscriptions, their deliveries."""
    rows: dict[str, list[tuple[object, ...]]] = {table: [] for table in INSERTS}
    for i in range(start, stop):
        # Most are private chats (the user's id); one in twenty a group (a negative id).
        chat_id = -1_000_000_000_000 - i if i % 20 == 0 else 100_000_000 + i * 7
        created = NOW - dt.timedelta(seconds=rng.randrange(30_000_000))
        rows["chats"].append((
            chat_id, "group" if chat_id < 0 else "private", "Редакція" if chat_id < 0 else "",
            "en" if i % 10 == 0 else "uk", "Europe/Kyiv" if i % 4 == 0 else None, "active",
            _when(created), _when(created),
            json.dumps(["08:00", "19:30"]) if i % 5 == 0 else None, 1, int(i % 7 == 0),
            _when(NOW + dt.timedelta(hours=i % 24)), _when(NOW - dt.timedelta(hours=12)),
            "23:00" if i % 10 == 0 else None, "07:00" if i % 10 == 0 else None,
        ))  # fmt: skip
        for section in sorted(rng.sample(section_ids, rng.randint(1, 4))):  # 2.5 on average
            mode = "instant" if section % 3 == 0 else "digest"
            rows["subscriptions"].append((chat_id, section, _when(created), mode, None))
        sent = i % 5 != 0  # four in five sent already, the rest pending
        rows["deliveries"].append((
            i + 1, i % STORIES + 1, chat_id, 1, "sent" if sent else "pending", 0,
            int(not sent), _when(NOW), None, json.dumps([1000 + i]) if sent else None,
            _when(NOW + dt.timedelta(seconds=i % 600)) if sent else None, None, None,
        ))  # fmt: skip
    return rows


def fill(path: Path, n: int) -> dict[str, int]:
    """`n` chats into the migrated newsroom at `path`; the rows of each large table."""
    rng = random.Random(1)
    counts = dict.fromkeys(INSERTS, 0)
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute("PRAGMA foreign_keys = ON")
        section_ids = [row[0] for row in con.execute("SELECT id FROM sections ORDER BY id")]
        con.execute("BEGIN")
        payload = json.dumps({"uk": [{"text": "Новина"}], "en": [{"text": "News"}]})
        con.executemany(
            "INSERT INTO outbox_items (id, kind, key, priority, payload, created, paid) "
            "VALUES (?, 'story', ?, 1, ?, ?, NULL)",
            [(k, f"story:{k}", payload, _when(NOW)) for k in range(1, STORIES + 1)],
        )
        for start in range(0, n, CHUNK):
            for table, rows in _chunk(start, min(n, start + CHUNK), section_ids, rng).items():
                con.executemany(INSERTS[table], rows)
                counts[table] += len(rows)
        con.execute("COMMIT")
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        con.close()
    return counts


def differing(source: Path, back: Path) -> dict[str, int]:
    """Rows of each large table found on one side and not the other (0: the same rows)."""
    con = sqlite3.connect(source)
    try:
        con.execute("ATTACH DATABASE ? AS back", (str(back),))
        return {
            table: con.execute(
                f"SELECT (SELECT count(*) FROM (SELECT * FROM main.{table} EXCEPT "  # noqa: S608
                f"SELECT * FROM back.{table})) + (SELECT count(*) FROM (SELECT * FROM "
                f"back.{table} EXCEPT SELECT * FROM main.{table}))"
            ).fetchone()[0]
            for table in INSERTS
        }
    finally:
        con.close()


# ---- the copies ------------------------------------------------------------------------------


async def measure(
    dbs: Databases, label: str, source: str, target: str, batch: int
) -> db_copy.Copied:
    """One copy, with its figures printed."""
    tables: list[db_copy.TableProgress] = []

    def progress(step: db_copy.TableProgress) -> None:
        if step.finished and step.table in INSERTS:
            tables.append(step)

    cpu, server = time.process_time(), dbs.server_cpu()
    copied = await db_copy.copy(source, target, batch=batch, progress=progress)
    cpu, server = time.process_time() - cpu, dbs.server_cpu() - server
    rows = sum(copied.rows.values())
    print(
        f"{label:<22} {rows:>11,} rows  {copied.seconds:6.1f} s  "
        f"{rows / copied.seconds:>9,.0f} rows/s   CPU {cpu:5.1f} s here, {server:5.1f} s the "
        "PostgreSQL server's"
    )
    for step in tables:
        figures = f"{step.done:>11,} rows  {step.seconds:6.1f} s  {step.rate:>9,.0f} rows/s"
        print(f"  {step.table:<20} {figures}")
    return copied


async def main(n: int, batch: int) -> None:
    with tempfile.TemporaryDirectory(prefix="visnyk-bench-copy-") as tmp:
        source, back = Path(tmp) / "newsroom.db", Path(tmp) / "back.db"
        started = time.perf_counter()
        await _migrated(source)
        counts = await asyncio.to_thread(fill, source, n)
        size = source.stat().st_size / 2**20
        print(
            f"newsroom: {counts['chats']:,} chats, {counts['subscriptions']:,} subscriptions, "
            f"{counts['deliveries']:,} deliveries; SQLite {size:,.0f} MiB, built in "
            f"{time.perf_counter() - started:.1f} s; batch {batch:,} rows"
        )
        async with Databases("postgresql") as dbs:
            there = await dbs.new("copy")
            await measure(dbs, "SQLite → PostgreSQL", f"sqlite+aiosqlite:///{source}", there, batch)
            await measure(dbs, "PostgreSQL → SQLite", there, f"sqlite+aiosqlite:///{back}", batch)
        apart = await asyncio.to_thread(differing, source, back)
        print(
            "back in SQLite: the same rows as the source"
            if not any(apart.values())
            else f"back in SQLite: ROWS DIFFER from the source {apart}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chats", type=int, default=CHATS, metavar="N", help=f"({CHATS:,})")
    parser.add_argument(
        "--batch", type=int, default=db_copy.BATCH, metavar="ROWS", help=f"({db_copy.BATCH:,})"
    )
    args = parser.parse_args()
    asyncio.run(main(args.chats, args.batch))
