"""Background jobs on PTB's JobQueue: polling feeds, planning digests, pruning (the leading
process's: bot.leading), heartbeat, probing Telegram, keeping the role up to date."""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram.error import TelegramError

from bot import ingest as ingesting
from bot import pipeline
from bot.context import Context
from bot.leading import Roles
from bot.newsroom import flashes
from bot.reach import Reach
from storage import broadcasts as stored_broadcasts
from storage import editors as stored_editors
from storage import outbox

log = logging.getLogger(__name__)
STRANGERS_KEPT_DAYS = 30  # /audit shows a week of them


Job = Callable[[Context], Coroutine[Any, Any, None]]


def leader_only(job: Job) -> Job:
    """A job that only the leading process runs (bot.leading): the others skip its turns."""

    @functools.wraps(job)
    async def run(context: Context) -> None:
        if context.runtime.leading:
            await job(context)

    return run


async def lead(context: Context) -> None:
    """Lead when the lead is free, follow when it was lost (replicas on PostgreSQL)."""
    roles: Roles = context.bot_data["roles"]
    await roles.step()


@leader_only
async def ingest(context: Context) -> None:
    """Start polling the feeds that are due, each on its own; each one's new stories go to
    instant subscribers when it is stored."""
    await pipeline.post_unannounced(context.runtime)  # what a kill left between store and post
    started = await pipeline.start_ingest(context.runtime)
    if started:
        log.debug("ingest started feeds=%d", started)  # each feed's failure is its own line


@leader_only
async def digest_tick(context: Context) -> None:
    """Enqueue the digests that are due."""
    await pipeline.plan_digests(context.runtime)


ENQUEUING = "flashes-enqueuing"  # bot_data: the task writing the rest of flashes' deliveries


@leader_only
async def progress(context: Context) -> None:
    """Go on writing the deliveries of flashes that only have their first chunk (a large
    audience, or a restart after a kill), in a task of its own: one at a time, awaited when
    the bot stops; then edit the running flashes' progress reports."""
    writing: asyncio.Task[int] | None = context.bot_data.get(ENQUEUING)
    # Not while the bot stops (a last tick may come): such a task would not be awaited; the
    # next start goes on from where the flash's deliveries are written up to.
    if context.application.running and (writing is None or writing.done()):
        context.bot_data[ENQUEUING] = context.application.create_task(
            flashes.enqueue_rest(context.desk), name="flashes-enqueuing"
        )
    await flashes.report(context.desk, context.bot)


@leader_only
async def prune(context: Context) -> None:
    """Forget articles older than `[ingest] keep_days`, finished deliveries older than
    `[delivery] keep_days`, audit entries, flashes and paid-message counts older than
    `[storage] audit_keep_days`, and strangers not seen for a month."""
    runtime = context.runtime
    await ingesting.prune(runtime.db, runtime.config, runtime.now())
    now, config = runtime.now(), runtime.config
    gone = await stored_editors.forget_strangers(
        runtime.db, now - dt.timedelta(days=STRANGERS_KEPT_DAYS)
    )
    kept = now - dt.timedelta(days=config.storage.audit_keep_days)
    audit = await stored_editors.forget_audit(runtime.db, kept)
    await outbox.forget_paid_days(runtime.db, kept.date())
    await stored_broadcasts.forget(runtime.db, kept)
    deliveries = await outbox.prune(runtime.db, now - dt.timedelta(days=config.delivery.keep_days))
    log.info("pruned strangers=%d audit=%d deliveries=%d", gone, audit, deliveries)


PROBE_AFTER = 30.0  # seconds without an answer from Telegram before the probe asks


async def probe(context: Context) -> None:
    """Ask Telegram getMe when nothing else heard from it lately: /readyz tells whether it
    answers, and the end of an outage is noticed even while the bot has nothing to send."""
    assert context.job is not None
    reach: Reach = context.job.data  # type: ignore[assignment]
    silent = reach.silent_for(time.monotonic())
    if silent is not None and silent < PROBE_AFTER:
        return
    try:
        await context.bot.get_me()
    except (TelegramError, OSError) as e:
        reach.failed("probe", e, time.monotonic())
    else:
        reach.answered(time.monotonic())


def write_heartbeat(path: Path) -> None:
    """Touch the heartbeat file that `visnyk health` (the Docker HEALTHCHECK) reads."""
    path.write_text(f"{time.time():.0f}\n")


async def heartbeat(context: Context) -> None:
    assert context.job is not None
    path: Path = context.job.data  # type: ignore[assignment]
    write_heartbeat(path)
