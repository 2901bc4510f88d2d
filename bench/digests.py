"""Digest planning: 100,000 chats due at 08:00, from the due-index to the outbox.
Run: `make bench-digests` (or .venv/bin/python -m bench.digests [--db sqlite|postgresql];
PostgreSQL: a throw-away cluster of tests.postgresql, started and removed by the run)."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import time
from dataclasses import replace
from itertools import combinations
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from bench.broadcast import Databases
from bench.browse import _story
from bot.config import parse
from bot.delivery import digests
from bot.runtime import open_runtime
from storage import articles, outbox
from storage.models import ChatRow, SubscriptionRow
from storage.types import Mode

CHATS = 100_000
KYIV = ZoneInfo("Europe/Kyiv")
SLUGS = ["ukraine", "world", "economy", "war", "culture", "science", "sport"]


async def main(db: str) -> None:
    async with Databases(db) as dbs:
        await plan(dbs)


async def plan(dbs: Databases) -> None:
    config = parse(
        {"storage": {"url": await dbs.new("digests")},
         "sections": [{"slug": s, "title": {"uk": s.title()}} for s in SLUGS]},
        environ={},
    )  # fmt: skip
    runtime = await open_runtime(config)
    slot = dt.datetime(2026, 11, 27, 8, 0, tzinfo=KYIV).astimezone(dt.UTC)
    since = dt.datetime(2026, 11, 26, 20, 0, tzinfo=KYIV).astimezone(dt.UTC)
    rng = random.Random(3)
    choices = [c for n in (1, 2, 3) for c in combinations(range(len(SLUGS)), n)]
    section_ids = {s.slug: s.id for s in runtime.sections}
    # Setup straight into the tables: 100,000 registrations one by one would take minutes.
    async with runtime.db.transaction() as s:
        chat_rows, subs = [], []
        for chat_id in range(1, CHATS + 1):
            chat_rows.append({
                "id": chat_id, "type": "private", "title": "", "status": "active",
                "language": "en" if chat_id % 10 == 0 else "uk", "created": since,
                "updated": since, "next_digest_at": slot, "digest_since": since,
                "digest_enabled": True, "weekdays_only": False,
            })  # fmt: skip
            for i in rng.choice(choices):
                subs.append({"chat_id": chat_id, "section_id": section_ids[SLUGS[i]],
                             "created": since, "mode": Mode.DIGEST.value})  # fmt: skip
        await s.execute(insert(ChatRow), chat_rows)
        await s.execute(insert(SubscriptionRow), subs)
    stories = [
        replace(_story(i, rng), published=slot - dt.timedelta(minutes=i)) for i in range(600)
    ]
    await articles.save(runtime.db, stories, feed_id=None, now=slot)
    await dbs.settled(runtime.db)

    start, cpu, server = time.perf_counter(), time.process_time(), dbs.server_cpu()
    planned = await digests.plan(
        runtime.db, runtime.catalogs, runtime.config, runtime.sections, slot
    )
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    server = dbs.server_cpu() - server
    pending = await outbox.pending_count(runtime.db)
    await runtime.close()
    print(f"{CHATS:,} chats due at 08:00, {len(choices)} combinations of sections, 2 languages, "
          f"on {runtime.db.dialect}")  # fmt: skip
    print(f"planned {planned.chats:,} chats into {planned.digests} digests, "
          f"{planned.deliveries:,} deliveries enqueued ({pending:,} pending)")  # fmt: skip
    print(f"time: {elapsed:.2f} s  (target <= 5 s); CPU {cpu:.2f} s here, "
          f"{server:.2f} s the database server's")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    asyncio.run(main(parser.parse_args().db))
