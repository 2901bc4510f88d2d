"""From the feeds to the outbox: polling the feeds (each feed's new stories posted to instant
subscribers as soon as it is stored), posting stories, planning the digests that are due.
Each step takes the running bot's resources (bot.runtime) and wakes the engine when it
enqueued something, and counts what it did in the runtime's metrics; a chat's digest can also
be composed on demand (/digest)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from bot.delivery import digests, stories
from bot.news.report import FeedReport
from bot.runtime import Runtime
from storage import articles, subscriptions
from storage.types import Chat


async def ingest(runtime: Runtime, *, only_due: bool = True) -> list[FeedReport]:
    """Poll the feeds (those due, or all) and wait for them all."""
    return await runtime.ingester.run(
        runtime.now(), only_due=only_due, on_report=lambda report: _posted(runtime, report)
    )


async def start_ingest(runtime: Runtime) -> int:
    """Start polling the feeds that are due, each on its own (the bot's tick)."""
    return await runtime.ingester.start_due(runtime.now(), lambda report: _posted(runtime, report))


async def _posted(runtime: Runtime, report: FeedReport) -> None:
    runtime.metrics.polled(report)
    if report.fresh:
        await post_stories(runtime, report.fresh)


async def post_stories(runtime: Runtime, article_ids: Sequence[int]) -> int:
    """Enqueue posts of these stories for their instant subscribers."""
    config = runtime.config
    added = await stories.post(
        runtime.db,
        runtime.catalogs,
        runtime.sections,
        article_ids,
        now=runtime.now(),
        max_age=dt.timedelta(hours=config.delivery.max_age_hours),
        default_zone=config.digest.timezone,
        metrics=runtime.metrics,
    )
    if added:
        runtime.notify()
    return added


async def post_unannounced(runtime: Runtime) -> int:
    """Post the stories a kill left stored but unposted (stored new to a section, their story
    posts never enqueued). At start and on every ingest tick; posting twice enqueues once."""
    ids = await articles.unannounced(runtime.db)
    return await post_stories(runtime, ids) if ids else 0


async def plan_digests(runtime: Runtime) -> digests.DigestPlan:
    """Enqueue the digests that are due now."""
    planned = await digests.plan(
        runtime.db, runtime.catalogs, runtime.config, runtime.sections, runtime.now()
    )
    runtime.metrics.digests_planned.inc(planned.deliveries)
    if planned.deliveries:
        runtime.notify()
    return planned


async def digest_now(runtime: Runtime, chat: Chat) -> list[str] | None:
    """A chat's digest as of now (its messages; [] when nothing is new), without touching its
    schedule; None when the chat follows no section."""
    modes = await subscriptions.modes_of_chat(runtime.db, chat.id)
    if not modes:
        return None
    now = runtime.now()
    return await digests.compose(
        runtime.db,
        runtime.catalogs,
        runtime.config,
        runtime.sections,
        modes=modes,
        language=chat.language,
        zone=chat.timezone or runtime.config.digest.timezone,
        since=chat.digest_since or now - digests.FIRST_DIGEST_REACH,
        now=now,
    )
