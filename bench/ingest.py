"""Ingest of a 50-item Ukrainian feed (parse, identify, summarise, store) beside feedparser's
parse of the same feed alone. Run: `make bench-ingest` (or .venv/bin/python -m bench.ingest)."""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

import feedparser

from bench.feedgen import feed
from bot.config import parse
from bot.runtime import open_runtime
from storage import articles

ROUNDS = 40
URL = "https://news.example.ua/rss"


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return f"median {statistics.median(samples) * 1000:6.1f} ms   p95 {p95 * 1000:6.1f} ms"


async def main() -> None:
    body = feed()
    categories = ["Світ", "Економіка", "Україна", "Війна", "Культура"]
    sections = [
        {"slug": f"s{i}", "title": {"uk": c}, "categories": [c]} for i, c in enumerate(categories)
    ]
    with tempfile.TemporaryDirectory() as tmp:
        config = parse(
            {"storage": {"url": f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"},
             "ingest": {"feeds": [URL]}, "sections": sections},
            environ={},
        )  # fmt: skip
        runtime = await open_runtime(config)
        ingester = runtime.ingester
        now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
        for _ in range(3):  # warm up: imports, regex compilation, the sentence splitter's rules
            feedparser.parse(body)
            ingester._stories(body, URL, None, URL, now)

        alone: list[float] = []
        first: list[float] = []
        again: list[float] = []
        for round_ in range(ROUNDS):
            fresh = feed(prefix=f"https://news{round_}.example.ua")
            start = time.perf_counter()
            feedparser.parse(fresh, response_headers={"content-type": "application/rss+xml"})
            alone.append(time.perf_counter() - start)
            for samples in (first, again):  # new stories, then the same feed polled again
                start = time.perf_counter()
                _, stories = ingester._stories(fresh, URL, "application/rss+xml", URL, now)
                await articles.save(runtime.db, stories, feed_id=None, now=now)
                samples.append(time.perf_counter() - start)
        await runtime.close()

    base = statistics.median(alone)
    print(f"feed: 50 items, {len(body) / 1000:.0f} kB, {ROUNDS} rounds")
    print(f"feedparser.parse alone                  {_ms(alone)}")
    print(f"Visnyk ingest, 50 new stories           {_ms(first)}")
    print(f"Visnyk ingest, the same feed again      {_ms(again)}")
    print(
        f"ratio (medians): new {statistics.median(first) / base:.2f}x, "
        f"again {statistics.median(again) / base:.2f}x feedparser (target <= 2.0x)"
    )


if __name__ == "__main__":
    asyncio.run(main())
