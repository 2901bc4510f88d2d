"""The resources a running Visnyk holds: opened once, closed once, passed explicitly."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from bot.config import Config
from bot.delivery.engine import Engine
from bot.delivery.pacer import Pacer
from bot.delivery.sender import Sender
from bot.i18n import Catalogs
from bot.ingest import Ingester
from bot.metrics import Metrics
from bot.news.fetch import client
from bot.news.hosts import Hosts
from storage import sections as stored_sections
from storage.db import Database
from storage.leader import Leadership
from storage.types import NewSection, Priority, Section

_waking: set[asyncio.Future[None]] = set()  # wake-ups on their way to the leader


@dataclass
class Runtime:
    """Opened by `open_runtime` (the bot's post_init, or a CLI command), closed by `close`:
    resources only, built in one place. `engine` is the running bot's (None in one-off
    commands); `clock` is what every decision reads as now (tests set it); `metrics` is what
    the bot counts for /metrics (the Sender's and the engine's too)."""

    config: Config
    db: Database
    catalogs: Catalogs
    http: httpx.AsyncClient
    ingester: Ingester
    sections: list[Section] = field(default_factory=list)  # visible, in configured order
    clock: Callable[[], dt.datetime] = field(default=lambda: dt.datetime.now(dt.UTC))
    engine: Engine | None = None
    metrics: Metrics = field(default_factory=Metrics)
    # The running bot's: its claim to lead, and what the engine is built from when it leads.
    leadership: Leadership | None = None
    sender: Sender | None = None
    pacer: Pacer | None = None

    @property
    def leading(self) -> bool:
        """Whether this process sends and runs the jobs (one-off commands: always)."""
        return self.leadership is None or self.leadership.held

    async def lead(self) -> None:
        """This process leads now: start the delivery engine."""
        if self.engine is None and self.sender is not None and self.pacer is not None:
            self.engine = _engine(
                self.config, self.db, self.sender, self.pacer, self.now, self.metrics
            )
            await self.engine.start()

    async def follow(self) -> None:
        """Another process leads (or may, the lead's session being lost): stop sending now,
        the deliveries in flight finishing first; those never confirmed go again from the
        leader (at most the engine's in-flight bound twice)."""
        engine, self.engine = self.engine, None
        if engine is not None:
            await engine.stop()

    def now(self) -> dt.datetime:
        """The time every decision uses."""
        return self.clock()

    def notify(self) -> None:
        """Wake the engine: something was enqueued (nothing to wake in one-off commands); in
        a follower, the leader's, through the database."""
        if self.engine is not None:
            self.engine.notify()
        elif self.leadership is not None and self.leadership.shared:
            task = asyncio.ensure_future(self.leadership.wake_leader())
            _waking.add(task)
            task.add_done_callback(_waking.discard)

    async def close(self) -> None:
        await self.follow()
        if self.sender is not None:
            await self.sender.close()
        if self.leadership is not None:
            await self.leadership.release()
        await self.ingester.close()
        await self.http.aclose()
        await self.db.close()


async def open_runtime(
    config: Config,
    *,
    sender: Sender | None = None,
    pacer: Pacer | None = None,
    metrics: Metrics | None = None,
) -> Runtime:
    """Open the database (migrated, sections synced), the catalogs and the HTTP client; with a
    sender and a pacer (the running bot), the delivery engine too, started. `metrics`: by
    default the sender's (one set of figures for the bot), or a new one."""
    if metrics is None:
        metrics = sender.metrics if sender is not None else Metrics()
    db = Database.open(config.storage.url)
    leadership = Leadership(db) if sender is not None else None
    try:
        await db.upgrade()
        if leadership is not None:
            await leadership.try_lead()
        configured = [NewSection(s.slug, s.title) for s in config.sections]
        visible = await stored_sections.sync(db, configured)
    except BaseException:
        if leadership is not None:
            await leadership.release()
        await db.close()
        raise
    # The hosts the client may connect to on any address, and the ingester's trusted hosts.
    hosts = Hosts(config.feed_urls(), config.ingest.page_hosts)
    http = client(timeout=config.ingest.timeout, user_agent=config.ingest.user_agent, hosts=hosts)
    catalogs = Catalogs(config.i18n.default_language)
    runtime = Runtime(
        config, db, catalogs, http, Ingester(config, db, http, hosts), visible, metrics=metrics
    )
    if sender is not None and pacer is not None:
        runtime.leadership, runtime.sender, runtime.pacer = leadership, sender, pacer
        if runtime.leading:
            await runtime.lead()
    return runtime


def _engine(  # noqa: PLR0917 - the engine's parts, from open_runtime alone
    config: Config,
    db: Database,
    sender: Sender,
    pacer: Pacer,
    now: Callable[[], dt.datetime],
    metrics: Metrics,
) -> Engine:
    """The delivery engine; with paid broadcasts on, paid messages get a window of their own
    (at the paid rate), while chats' limits stay shared with everything else."""
    dl = config.delivery
    paid = None
    if dl.paid_broadcast != "off":
        paid = Pacer(
            per_second=dl.paid_messages_per_second,
            private_interval=dl.private_chat_interval,
            group_per_minute=dl.group_messages_per_minute,
        )
    # Flashes go paid when their editor chooses so (the item says); with "all", story posts
    # and digests always do.
    lanes = frozenset({Priority.STORY, Priority.DIGEST}) if dl.paid_broadcast == "all" else None
    return Engine(
        db,
        sender,
        pacer,
        concurrency=dl.concurrency,
        now=now,
        give_up=dt.timedelta(hours=dl.give_up_hours),
        paid=paid,
        paid_lanes=lanes or frozenset(),
        metrics=metrics,
    )
