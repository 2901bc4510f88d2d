"""The resources a running Visnyk holds: opened once, closed once, passed explicitly."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import httpx

from bot.config import Config
from bot.delivery import digests, stories
from bot.delivery.engine import Engine
from bot.i18n import Catalogs
from bot.ingest import Ingester
from bot.news.fetch import client
from bot.news.hosts import Hosts
from bot.news.report import FeedReport
from storage import sections as stored_sections
from storage.db import Database
from storage.types import NewSection, Section


@dataclass
class Runtime:
    """Opened by `open_runtime` (the bot's post_init, or a CLI command), closed by `close`."""

    config: Config
    db: Database
    catalogs: Catalogs
    http: httpx.AsyncClient
    ingester: Ingester
    sections: list[Section] = field(default_factory=list)  # visible, in configured order
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    engine: Engine | None = None  # the running bot's; None in one-off commands

    async def close(self) -> None:
        await self.ingester.close()
        await self.http.aclose()
        await self.db.close()

    async def ingest(self, *, only_due: bool = True) -> list[FeedReport]:
        """Poll the feeds (those due, or all) and wait for them all; each feed's new stories
        are posted to instant subscribers as soon as that feed is stored."""
        return await self.ingester.run(self.now(), only_due=only_due, on_report=self._posted)

    async def start_ingest(self) -> int:
        """Start polling the feeds that are due, each on its own (the bot's tick)."""
        return await self.ingester.start_due(self.now(), self._posted)

    async def _posted(self, report: FeedReport) -> None:
        if report.fresh:
            await self.post_stories(report.fresh)

    async def post_stories(self, article_ids: Sequence[int]) -> int:
        """Enqueue posts of these stories for their instant subscribers."""
        added = await stories.post(
            self.db, self.catalogs, self.sections, article_ids, now=self.now(),
            max_age=dt.timedelta(hours=self.config.delivery.max_age_hours),
            default_zone=self.config.digest.timezone,
        )  # fmt: skip
        if added and self.engine is not None:
            self.engine.notify()
        return added

    async def plan_digests(self) -> digests.DigestPlan:
        """Enqueue the digests that are due now."""
        planned = await digests.plan(self.db, self.catalogs, self.config, self.sections, self.now())
        if planned.deliveries and self.engine is not None:
            self.engine.notify()
        return planned

    def now(self) -> dt.datetime:
        """The time every decision uses; tests set `clock`."""
        return self.clock()


async def open_runtime(config: Config) -> Runtime:
    """Open the database (migrated, sections synced), the catalogs and the HTTP client."""
    db = Database.open(config.storage.url)
    try:
        await db.upgrade()
        configured = [NewSection(s.slug, s.title) for s in config.sections]
        visible = await stored_sections.sync(db, configured)
    except BaseException:
        await db.close()
        raise
    # The hosts the client may connect to on any address, and the ingester's trusted hosts.
    hosts = Hosts(config.feed_urls(), config.ingest.page_hosts)
    http = client(timeout=config.ingest.timeout, user_agent=config.ingest.user_agent, hosts=hosts)
    catalogs = Catalogs(config.i18n.default_language)
    return Runtime(config, db, catalogs, http, Ingester(config, db, http, hosts), visible)
