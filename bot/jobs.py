"""Background jobs on PTB's JobQueue: polling feeds, pruning old articles, the heartbeat."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from bot import ingest as ingesting
from bot.context import Context

log = logging.getLogger(__name__)


async def ingest(context: Context) -> None:
    """Poll the feeds that are due."""
    runtime = context.runtime
    reports = await runtime.ingester.run(runtime.now())
    if reports:
        new = sum(r.new for r in reports)
        failed = sum(1 for r in reports if r.error)
        log.info("ingest feeds=%d new=%d failed=%d", len(reports), new, failed)


async def prune(context: Context) -> None:
    """Forget articles older than `[ingest] keep_days`."""
    runtime = context.runtime
    await ingesting.prune(runtime.db, runtime.config, runtime.now())


def write_heartbeat(path: Path) -> None:
    """Touch the heartbeat file that `visnyk health` (the Docker HEALTHCHECK) reads."""
    path.write_text(f"{time.time():.0f}\n")


async def heartbeat(context: Context) -> None:
    assert context.job is not None
    path: Path = context.job.data  # type: ignore[assignment]
    write_heartbeat(path)
