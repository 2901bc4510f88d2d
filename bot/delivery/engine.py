"""The delivery engine: drains the outbox into Telegram, lane by lane, chat by chat, paced.

A loader brings pending deliveries from the database, breaking news first; a dispatcher picks
the most urgent chat that its limits allow and takes a slot in the bot's window; senders call
Telegram; a writer records the outcomes in batches.

Guarantee: a delivery leaves `pending` only once its outcome is stored. At most `concurrency`
deliveries are ever "sent, outcome not yet stored" (a permit is held from dispatch until the
writer commits), so a crash (kill -9) repeats at most `concurrency` messages and loses none.
When Telegram fails transiently the lanes pause and one delivery at a time probes (outage.py);
a hang repeats the messages in flight when it began, at most `concurrency` (each timed out, may
have gone through, and goes again), and any probe that timed out too (README: After a hang).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from bot.delivery.firsts import FirstPosts
from bot.delivery.outage import Outage
from bot.delivery.pacer import REPLY, Pacer
from bot.delivery.paying import Paying
from bot.delivery.requests import Requests
from bot.delivery.sender import Sender
from bot.delivery.turns import Turns, wait
from bot.delivery.verdict import (
    GIVE_UP,
    METHODS,
    STATUS_OF,
    Answer,
    Verdict,
    already,
    attempts_within,
    backoff,
)
from bot.metrics import Metrics, Outcome
from storage import chats, outbox
from storage.db import Database
from storage.errors import StorageError
from storage.types import ChatType, DeliveryState, Operation, Payload, Pending, Priority, Result

log = logging.getLogger(__name__)
LANE_CAPACITY = 10_000  # deliveries held in memory per lane
POLL_SECONDS = 5.0  # the loader looks for rows nobody told it of at least this often
WRITE_SECONDS = 1.0  # an outcome waits at most this long for its commit
WRITE_BATCH = 500
LOAD_GRACE = 2.0  # seconds a load under way may take to finish when the engine stops


@dataclass
class Stats:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    retry_after: int = 0


class Engine:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        pacer: Pacer,
        *,
        concurrency: int = 32,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
        give_up: dt.timedelta = GIVE_UP,
        paid: Pacer | None = None,
        paid_lanes: frozenset[Priority] = frozenset(),
        metrics: Metrics | None = None,
    ) -> None:
        self.db, self.sender, self.pacer, self.now = db, sender, pacer, now
        self.metrics = metrics or sender.metrics
        self.concurrency = concurrency
        # Paid broadcasts: the messages that carry allow_paid_broadcast (bot.delivery.paying)
        # go through the paid window (`paid`); everything else, replies included, stays in
        # the free one.
        self.paid = paid
        self._paying = Paying(db, paid_lanes, now, on=paid is not None)
        self.max_attempts = attempts_within(give_up)
        self._outage = Outage(pacer.clock)  # Telegram unreachable: one probe at a time
        self.stats = Stats()
        self._turns = Turns(pacer, now)
        self._chats = self._turns.chats
        self._loaded: dict[Priority, int] = dict.fromkeys(Priority, 0)
        self._cursor: dict[Priority, int] = dict.fromkeys(Priority, 0)
        self._payloads: dict[int, Payload] = {}
        self._requests = Requests()  # the calls' JSON
        self._full: set[Priority] = set()  # lanes whose last load stopped at capacity
        self._wake = self._turns.wake
        self._new_rows = asyncio.Event()
        self._permits = asyncio.Semaphore(concurrency)
        self._results: list[Result] = []
        self._unwritten = asyncio.Event()  # there are outcomes to store
        self._written = asyncio.Event()  # store them now
        self._drained = asyncio.Event()  # nothing loaded, in flight or unwritten
        self._inflight: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False
        self._moved: dict[int, int] = {}  # chats that Telegram moved, old id -> new id
        self._firsts = FirstPosts(db, self.metrics)  # the lag to a story's first post

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        # Telegram counts what a previous run sent in its last second, and that run may have
        # sent more than it stored (outcomes wait up to WRITE_SECONDS): after a recent send,
        # the first window is held, so that a restart after a crash draws no 429. The paid
        # window too: a paid broadcast cut off by a crash filled it.
        last = await outbox.last_sent_at(self.db)
        if last is not None:
            for window in (self.pacer, self.paid):
                if window is None:
                    continue
                gap = window.window + WRITE_SECONDS - (self.now() - last).total_seconds()
                if gap > 0:
                    window.hold(min(gap, window.window + WRITE_SECONDS))
        self._tasks = [
            asyncio.create_task(self._load_loop(), name="delivery-loader"),
            asyncio.create_task(self._dispatch_loop(), name="delivery-dispatcher"),
            asyncio.create_task(self._write_loop(), name="delivery-writer"),
        ]

    async def stop(self, grace: float = 8.0) -> None:
        """Stop taking deliveries, let those in flight finish (up to `grace`), store outcomes."""
        self._stopping = True
        self._wake.set()
        self._new_rows.set()
        loops = self._tasks[:2]  # the loader, the dispatcher
        # The loader ends on its own after the load under way: cancelled mid-read, the pool
        # logs a traceback for the connection's rollback. One that takes longer is cancelled.
        if loops:
            await asyncio.wait(loops[:1], timeout=LOAD_GRACE)
        for task in loops:
            task.cancel()
        await asyncio.gather(*loops, return_exceptions=True)
        if self._inflight:
            _, late = await asyncio.wait(self._inflight, timeout=grace)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        self._unwritten.set()  # the writer wakes, stores what it has and ends
        self._written.set()
        await asyncio.gather(self._tasks[2], return_exceptions=True)
        await self._flush()
        log.info("delivery stopped sent=%d failed=%d", self.stats.sent, self.stats.failed)

    @property
    def running(self) -> bool:
        """Whether it delivers: started, not stopping, none of its loops ended (a crash)."""
        return bool(self._tasks) and not self._stopping and not any(t.done() for t in self._tasks)

    def notify(self) -> None:
        """New deliveries were enqueued: look for them now, not at the next poll."""
        self._new_rows.set()

    async def idle(self) -> None:
        """Wait until nothing is queued, in flight or unwritten (for tests and tools)."""
        while True:
            if not self._chats and not self._inflight and not self._results:
                if not await outbox.pending_count(self.db):
                    return
                self._new_rows.set()
            if self._results and not self._inflight:
                self._written.set()  # nobody waits for a batch to fill up
            self._drained.clear()
            await wait(self._drained, POLL_SECONDS)

    # ---- loading -----------------------------------------------------------------------

    async def _load_loop(self) -> None:
        while not self._stopping:
            self._new_rows.clear()  # before loading: news that comes during a load is kept
            try:
                await self._load()
            except StorageError as e:
                log.error("delivery load failed error=%s", e)
            await wait(self._new_rows, POLL_SECONDS)

    async def _load(self) -> None:
        for lane in Priority:
            room = LANE_CAPACITY - self._loaded[lane]
            if room <= 0:
                continue
            rows = await outbox.pending(self.db, lane, after_id=self._cursor[lane], limit=room)
            if len(rows) == room:
                self._full.add(lane)
            else:
                self._full.discard(lane)
            for row in rows:
                self._cursor[lane] = max(self._cursor[lane], row.id)
                self._loaded[lane] += 1
                self._turns.queue(row)
        self._wake.set()

    # ---- dispatching -------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while not self._stopping:
            await self._permits.acquire()
            await self._outage.turn()
            chat_id = await self._turns.next_chat()
            chat = self._chats[chat_id]
            row = chat.rows[0][2]
            # The dispatcher alone waits for the bot's window: one waiter, not `concurrency`.
            paid = await self._paying.is_paid(row)  # decided here: the window is the paid one
            await self._window(paid).acquire(REPLY + 1 + int(row.priority))
            if chat.busy or not chat.rows or chat.rows[0][2] is not row:
                self._permits.release()  # the chat changed while we waited: choose again
                continue
            if self._outage.shut():  # Telegram became unreachable while we waited: later
                chat.scheduled = None
                self._turns.schedule(chat_id, chat)
                self._permits.release()
                continue
            heapq.heappop(chat.rows)
            chat.busy, chat.scheduled = True, None
            task = asyncio.create_task(self._deliver(row, paid))
            self._outage.dispatched(row.id, task)
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    def _window(self, paid: bool) -> Pacer:
        """The global window a delivery's messages go through: the paid one if they are."""
        return self.paid if paid and self.paid is not None else self.pacer

    async def _deliver(self, row: Pending, paid: bool) -> None:
        """Send one delivery (one or more messages) and queue its outcome."""
        try:
            result = await self._send(row, paid)
        except Exception as e:  # a bug here must not stop the engine
            log.exception("delivery crashed delivery=%s chat=%s", row.id, row.chat_id)
            self.metrics.delivered(row.priority, Outcome.FAILED)
            result = Result(row.id, DeliveryState.FAILED, row.attempts + 1, error=f"internal: {e}")
        self._finish(row, result)

    async def _payload(self, item_id: int) -> Payload:
        payload = self._payloads.get(item_id)
        if payload is None:
            payload = await outbox.payload(self.db, item_id) or Payload({})
            if len(self._payloads) > 1000:
                self._payloads.clear()
            self._payloads[item_id] = payload
        return payload

    async def _send(self, row: Pending, paid: bool) -> Result:
        payload = await self._payload(row.item_id)
        await self._firsts.watch(row)
        op = payload.op
        messages = [b.params() for b in payload.messages(row.language)]
        if op is Operation.DELETE:
            messages = [{"message_id": message_id} for message_id in row.target_ids]
        elif op is Operation.EDIT:
            messages = [{"message_id": row.target_ids[0], **messages[0]}] if row.target_ids else []
        sent_ids: list[int] = []
        paid, paid_sent, i = paid and op is Operation.SEND, 0, 0
        while i < len(messages):
            message = messages[i]
            if i:  # a later part waits for its chat and a slot like any message
                delay = self.pacer.chat_ready_at(row.chat_id) - self.pacer.clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                await self._window(paid).acquire(REPLY + 1 + int(row.priority))
            self.pacer.note(row.chat_id)
            request = self._requests.call(row, op, i, message, paid)
            answer = await self.sender.post(METHODS[op], request)
            if answer.verdict is not Verdict.TRANSIENT and self._outage.answered():
                log.info("Telegram reachable again")
            if self._paying.refusal(paid, answer):  # no Stars: on at the free rate
                await self._paying.refused(row, answer)
                if not i:  # nothing sent yet: it goes again, untried, through the free window
                    self.metrics.delivered(row.priority, Outcome.PAID_REFUSED)
                    return Result(row.id, DeliveryState.PENDING, row.attempts, error="unpaid")
                paid = False  # the parts sent stay sent; this one again, free
                continue
            if answer.verdict is not Verdict.SENT and not already(op, answer):
                return await self._trouble(row, answer, message, paid)
            if answer.message_id is not None:
                sent_ids.append(answer.message_id)
            paid_sent += paid
            i += 1
        self.stats.sent += 1
        self.metrics.delivered(row.priority, Outcome.SENT)
        sent_at = self.now()
        self._firsts.sent(row.item_id, sent_at)
        return Result(
            row.id,
            DeliveryState.SENT,
            row.attempts + 1,
            message_ids=tuple(sent_ids),
            sent_at=sent_at,
            paid=paid_sent,
        )

    async def _trouble(
        self, row: Pending, answer: Answer, message: dict[str, Any], paid: bool
    ) -> Result:
        verdict, attempts = answer.verdict, row.attempts + 1
        if verdict is Verdict.RETRY_AFTER:
            self.stats.retry_after += 1
            seconds = answer.retry_after or 1.0
            self.pacer.hold(seconds, row.chat_id)  # the chat's limits live here
            if paid and self.paid is not None:  # and the window it came through
                self.paid.hold(seconds, row.chat_id)
            log.warning("retry after chat=%s seconds=%s", row.chat_id, seconds)
            later = self.now() + dt.timedelta(seconds=seconds)
            self.metrics.delivered(row.priority, Outcome.RATE_LIMITED)
            return Result(row.id, DeliveryState.PENDING, row.attempts, next_attempt=later)
        if verdict in STATUS_OF:
            await chats.set_status(self.db, row.chat_id, STATUS_OF[verdict])
            await outbox.skip_chat(self.db, row.chat_id, answer.description)
            log.info("chat unreachable chat=%s reason=%s", row.chat_id, answer.description)
            self.stats.skipped += 1
            self.metrics.delivered(row.priority, Outcome.SKIPPED)
            return Result(row.id, DeliveryState.SKIPPED, attempts, error=answer.description)
        if verdict is Verdict.MIGRATED and answer.new_chat_id:
            new_id = int(answer.new_chat_id)
            await chats.migrate(self.db, row.chat_id, new_id)
            log.info("chat migrated old=%s new=%s", row.chat_id, new_id)
            self._moved[row.chat_id] = new_id
            self.metrics.delivered(row.priority, Outcome.MIGRATED)
            return Result(row.id, DeliveryState.PENDING, row.attempts, error=answer.description)
        if verdict is Verdict.TRANSIENT and self._outage.failed(row.id, self.pacer.clock()):
            # One line an outage, not one a message.
            log.warning("Telegram unreachable, probing error=%s", answer.description)
        if verdict is Verdict.TRANSIENT and attempts < self.max_attempts:
            self.stats.retried += 1
            self.metrics.delivered(row.priority, Outcome.RETRIED)
            later = self.now() + dt.timedelta(seconds=backoff(attempts))
            return Result(
                row.id,
                DeliveryState.PENDING,
                attempts,
                next_attempt=later,
                error=answer.description,
            )
        if verdict is Verdict.BROKEN:
            log.error(
                "message refused as malformed chat=%s error=%s text=%r",
                row.chat_id,
                answer.description,
                message.get("text"),
            )
        else:
            log.warning("delivery failed chat=%s error=%s", row.chat_id, answer.description)
        self.stats.failed += 1
        self.metrics.delivered(row.priority, Outcome.FAILED)
        return Result(row.id, DeliveryState.FAILED, attempts, error=answer.description)

    def _finish(self, row: Pending, result: Result) -> None:
        """Queue the outcome for the writer; a retry goes back in line, a migrated chat's
        deliveries move to its new id."""
        self._results.append(result)
        chat = self._chats.get(row.chat_id)
        if result.state is DeliveryState.PENDING:
            again = replace(
                row, attempts=result.attempts, next_attempt=result.next_attempt or self.now()
            )
            if chat is not None:
                heapq.heappush(chat.rows, (int(row.priority), row.id, again))
        else:
            self._loaded[row.priority] -= 1
            if row.priority in self._full and self._loaded[row.priority] < LANE_CAPACITY // 2:
                self._full.discard(row.priority)
                self._new_rows.set()  # room for more of a lane that did not fit
        if chat is not None:
            chat.busy = False
            if result.state is DeliveryState.SKIPPED:
                for _, _, dropped in chat.rows:
                    self._loaded[dropped.priority] -= 1
                chat.rows.clear()
            new_id = self._moved.pop(row.chat_id, None)
            if new_id is not None:
                moved, chat.rows = chat.rows, []
                for _, _, r in moved:
                    self._turns.queue(replace(r, chat_id=new_id, chat_type=ChatType.SUPERGROUP))
            if chat.rows:
                self._turns.schedule(row.chat_id, chat)
            else:
                del self._chats[row.chat_id]
        self._unwritten.set()
        # Permits come back only with a commit: write before they run out, and at once when
        # nothing more is queued (no batch is coming to fill up).
        if not self._chats or len(self._results) >= min(WRITE_BATCH, max(1, self.concurrency // 2)):
            self._written.set()

    # ---- writing -----------------------------------------------------------------------

    async def _write_loop(self) -> None:
        """Commit outcomes when a batch is full, or when the first of them has waited
        WRITE_SECONDS; with nothing to write, sleep."""
        while not self._stopping:
            await self._unwritten.wait()
            await wait(self._written, WRITE_SECONDS)
            self._written.clear()
            self._unwritten.clear()
            await self._flush()
            if self._results:  # the commit failed: they are back in line
                self._unwritten.set()

    async def _flush(self) -> None:
        if not self._results:
            return
        batch, self._results = self._results, []
        try:
            await outbox.record(self.db, batch)
        except StorageError as e:
            log.error("delivery outcomes not stored, retrying count=%d error=%s", len(batch), e)
            self._results = batch + self._results
            return
        for _ in batch:
            self._permits.release()
        if not self._chats and not self._inflight and not self._results:
            self.pacer.forget_idle()
            self._drained.set()
