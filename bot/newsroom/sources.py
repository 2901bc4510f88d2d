"""The feeds, at an editor's request: poll every one now."""

from __future__ import annotations

from bot import pipeline
from bot.news.report import FeedReport
from bot.runtime import Runtime
from storage import feeds
from storage.types import Feed


async def fetch_all(runtime: Runtime) -> list[FeedReport]:
    """Poll every feed now, due or not; post what is new to instant subscribers."""
    return await pipeline.ingest(runtime, only_due=False)


async def listed(runtime: Runtime) -> list[Feed]:
    """Every feed with its health, for /sources."""
    return await feeds.listed(runtime.db)
