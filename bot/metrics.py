"""What a running Visnyk counts for Prometheus: one `Metrics` per bot, on its own registry.

Labels stay low-cardinality: lanes, outcomes, update kinds, Telegram methods; never chat ids.
The hot paths (a message sent, an update handled) touch only label children made once and
cached here: an `inc` or an `observe`, no label strings built per call. The gauges that need
the database (pending deliveries, the oldest one's age) are read in `refresh`, which bot.server
calls before `render` gives the text format `/metrics` serves.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Callable
from enum import StrEnum

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from bot.news.report import FeedReport
from storage import outbox
from storage.db import Database
from storage.types import BroadcastKind, Priority

CONTENT_TYPE = CONTENT_TYPE_LATEST
RATE_SECONDS = 10  # the sends-per-second gauge is the mean over this many whole seconds
# Telegram answers in tens of milliseconds; the Sender gives up after 15 s.
CALL_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)
# An update's handling includes its wait for its chat's earlier updates and limits.
UPDATE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
# From a story's publication (feeds are polled every few minutes) to its first reader.
LAG_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0, 6 * 3600.0, 86400.0)


class Outcome(StrEnum):
    """What became of one try of a delivery: the engine's verdicts."""

    SENT = "sent"
    SKIPPED = "skipped"  # the chat blocked the bot, removed it, or is gone
    FAILED = "failed"  # refused for good (malformed, rejected, transient for too long)
    RETRIED = "retried"  # a transient failure: again after a backoff
    RATE_LIMITED = "rate_limited"  # a 429: again after its retry_after
    MIGRATED = "migrated"  # the group moved to a new id: again there
    PAID_REFUSED = "paid_refused"  # Telegram would not charge: again, at the free rate


class UpdateKind(StrEnum):
    COMMAND = "command"
    MESSAGE = "message"
    CALLBACK_QUERY = "callback_query"
    INLINE_QUERY = "inline_query"
    MY_CHAT_MEMBER = "my_chat_member"
    OTHER = "other"


class Dropped(StrEnum):
    """Why an update was not handled."""

    THROTTLED = "throttled"  # its sender is past their limit (one notice, then silence)
    QUEUE_FULL = "queue_full"  # its chat had too many updates waiting


def lane_name(lane: Priority) -> str:
    return lane.name.lower()


class SendRate:
    """Messages sent per second over the last RATE_SECONDS whole seconds: a ring of per-second
    counts, so that counting a send is an index and an addition."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._ring = [0] * (RATE_SECONDS + 1)
        self._second = int(clock())

    def _advance(self, second: int) -> None:
        for s in range(max(self._second + 1, second - RATE_SECONDS), second + 1):
            self._ring[s % len(self._ring)] = 0
        self._second = second

    def count(self) -> None:
        second = int(self.clock())
        if second != self._second:
            self._advance(second)
        self._ring[second % len(self._ring)] += 1

    def per_second(self) -> float:
        """The mean over the whole seconds before the current one."""
        second = int(self.clock())
        if second != self._second:
            self._advance(second)
        current = self._ring[second % len(self._ring)]
        return (sum(self._ring) - current) / RATE_SECONDS


class Metrics:
    """The bot's counters, gauges and histograms; each instance has its own registry, so that
    two bots in one process (tests) never share figures."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        # No `_created` series beside each counter and histogram: they double the page and no
        # dashboard reads them (prometheus_client's switch is process-wide).
        disable_created_metrics()  # type: ignore[no-untyped-call]
        self.registry = r = CollectorRegistry(auto_describe=True)
        self.clock = clock
        self._refreshing = asyncio.Lock()

        # ---- delivery
        deliveries = Counter(
            "visnyk_deliveries",
            "Tries of deliveries by lane and outcome (a retry counts again)",
            ["lane", "outcome"],
            registry=r,
        )
        self._deliveries = {
            (lane, outcome): deliveries.labels(lane_name(lane), outcome.value)
            for lane in Priority
            for outcome in Outcome
        }
        pending = Gauge(
            "visnyk_pending_deliveries",
            "Deliveries due and not yet sent, by lane (those scheduled for later not counted)",
            ["lane"],
            registry=r,
        )
        oldest = Gauge(
            "visnyk_oldest_pending_delivery_age_seconds",
            "How long the oldest due delivery has waited since it fell due, by lane (0: none)",
            ["lane"],
            registry=r,
        )
        self._pending = {lane: pending.labels(lane_name(lane)) for lane in Priority}
        self._oldest = {lane: oldest.labels(lane_name(lane)) for lane in Priority}
        self.messages_sent = Counter(
            "visnyk_messages_sent",
            "Messages the delivery engine put, changed or removed in chats (each part of a "
            "long message counts)",
            registry=r,
        )
        self.send_rate = SendRate(clock)
        Gauge(
            "visnyk_sends_per_second",
            f"Messages sent per second, the mean of the last {RATE_SECONDS} whole seconds",
            registry=r,
        ).set_function(self.send_rate.per_second)
        self.leader = Gauge(
            "visnyk_leader",
            "1 when this process leads (sends, runs the jobs, polls), 0 when it follows",
            registry=r,
        )
        self.leader.set(1)
        self.replicas = Gauge(
            "visnyk_replicas", "Processes sharing the database, this one included", registry=r
        )
        self.replicas.set(1)

        # ---- Telegram
        limited = Counter(
            "visnyk_telegram_rate_limited",
            "429 answers from Telegram, by caller (delivery: the engine; reply: the handlers)",
            ["caller"],
            registry=r,
        )
        asked = Counter(
            "visnyk_telegram_retry_after_seconds",
            "Seconds Telegram's 429 answers asked to wait, by caller",
            ["caller"],
            registry=r,
        )
        self._calls = Histogram(
            "visnyk_telegram_call_seconds",
            "Bot API calls' latency, by caller and method (the answer's wait only, not pacing)",
            ["caller", "method"],
            buckets=CALL_BUCKETS,
            registry=r,
        )
        self._limited = {c: limited.labels(c) for c in ("delivery", "reply")}
        self._asked = {c: asked.labels(c) for c in ("delivery", "reply")}
        self._call_children: dict[tuple[str, str], Histogram] = {}

        # ---- updates
        updates = Counter("visnyk_updates", "Updates handled, by kind", ["kind"], registry=r)
        seconds = Histogram(
            "visnyk_update_seconds",
            "Time from an update's arrival to the end of its handling (its turn included)",
            ["kind"],
            buckets=UPDATE_BUCKETS,
            registry=r,
        )
        dropped = Counter(
            "visnyk_updates_dropped", "Updates not handled, by reason", ["reason"], registry=r
        )
        self._updates = {k: updates.labels(k.value) for k in UpdateKind}
        self._update_seconds = {k: seconds.labels(k.value) for k in UpdateKind}
        self._dropped = {d: dropped.labels(d.value) for d in Dropped}

        # ---- feeds and news
        polls = Counter("visnyk_feed_polls", "Feed polls by outcome", ["outcome"], registry=r)
        items = Counter(
            "visnyk_feed_items",
            "Feed items by what polling made of them (new, updated, dropped)",
            ["change"],
            registry=r,
        )
        self._polls = {o: polls.labels(o) for o in ("ok", "not_modified", "failed")}
        self._items = {c: items.labels(c) for c in ("new", "updated", "dropped")}
        self.stored_lag = Histogram(
            "visnyk_story_stored_lag_seconds",
            "From a story's publication (as its feed dates it) to its storing",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.delivered_lag = Histogram(
            "visnyk_story_delivered_lag_seconds",
            "From a story's storing (its posts enqueued) to its first post sent",
            buckets=LAG_BUCKETS,
            registry=r,
        )
        self.digests_planned = Counter(
            "visnyk_digests_planned",
            "Digests the planner enqueued, one a chat (chats alike share one composed digest)",
            registry=r,
        )
        alerts = Counter(
            "visnyk_alerts_sent",
            "Editors' confirmed alerts: flashes, and recalls and corrections of them",
            ["kind"],
            registry=r,
        )
        self._alerts = {k: alerts.labels(k.value) for k in BroadcastKind}

        # ---- the HTTP server
        refused = Counter(
            "visnyk_webhook_refused",
            "Webhook requests refused, by reason (secret, body, size)",
            ["reason"],
            registry=r,
        )
        self._webhook_refused = {k: refused.labels(k) for k in ("secret", "body", "size")}
        self._webhook_refused_family = refused

    # ---- delivery ----------------------------------------------------------------------

    def delivered(self, lane: Priority, outcome: Outcome) -> None:
        self._deliveries[lane, outcome].inc()

    def sent(self) -> None:
        """One message sent (a part of a delivery)."""
        self.messages_sent.inc()
        self.send_rate.count()

    async def refresh(self, db: Database, now: dt.datetime) -> None:
        """Read the gauges that live in the database: by lane, the deliveries due and how long
        the oldest has waited (storage.outbox.backlog: cheap at any size of the history).
        Concurrent scrapes share one reading."""
        if self._refreshing.locked():
            async with self._refreshing:
                return  # the refresh under way had just begun: its figures are fresh
        async with self._refreshing:
            for lane in await outbox.backlog(db, now):
                self._pending[lane.lane].set(lane.pending)
                oldest = lane.oldest_due
                age = 0.0 if oldest is None else max(0.0, (now - oldest).total_seconds())
                self._oldest[lane.lane].set(age)

    # ---- Telegram ----------------------------------------------------------------------

    def call_timer(self, caller: str, method: str) -> Histogram:
        """The latency histogram of one caller's method (made on first use, then cached)."""
        child = self._call_children.get((caller, method))
        if child is None:
            child = self._call_children[caller, method] = self._calls.labels(caller, method)
        return child

    def rate_limited(self, caller: str, retry_after: float) -> None:
        self._limited[caller].inc()
        self._asked[caller].inc(retry_after)

    # ---- updates -----------------------------------------------------------------------

    def handled(self, kind: UpdateKind, seconds: float) -> None:
        self._updates[kind].inc()
        self._update_seconds[kind].observe(seconds)

    def dropped(self, reason: Dropped) -> None:
        self._dropped[reason].inc()

    # ---- news --------------------------------------------------------------------------

    def polled(self, report: FeedReport) -> None:
        """One feed's poll, as its report tells it."""
        if report.error:
            self._polls["failed"].inc()
            return
        if report.not_modified:
            self._polls["not_modified"].inc()
            return
        self._polls["ok"].inc()
        self._items["new"].inc(report.new)
        self._items["updated"].inc(report.updated)
        self._items["dropped"].inc(report.dropped)

    def alert_sent(self, kind: BroadcastKind) -> None:
        self._alerts[kind].inc()

    # ---- the HTTP server ---------------------------------------------------------------

    def webhook_refused(self, reason: str) -> None:
        """A webhook request refused: a wrong or missing secret, a body that is not an update,
        or one too large."""
        child = self._webhook_refused.get(reason)
        if child is None:  # a reason bot.lifecycle adds later: still counted, once made
            child = self._webhook_refused[reason] = self._webhook_refused_family.labels(reason)
        child.inc()

    def render(self) -> bytes:
        """Everything, in Prometheus' text exposition format."""
        return generate_latest(self.registry)
