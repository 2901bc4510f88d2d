"""Pacing to Telegram's limits: a sliding one-second window for the whole bot, an interval per
private chat, a sliding minute per group or channel, and the holds a 429 imposes.

One Pacer serves both the delivery engine and the replies to commands (through PTB's rate
limiter hook), so together they never pass a limit; a waiting reply goes before broadcasts.
Replies to a private chat may come a few at once (Telegram tolerates a short burst: a reader
who taps three buttons in a row sees three answers), then one per interval; broadcasts keep
to the interval.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import math
import time
from collections import deque
from collections.abc import Callable

# Windows are kept longer than Telegram's by this share and these seconds: a request sent
# later may arrive sooner (network and server jitter), and Telegram counts arrivals.
MARGIN = 0.01
JITTER = 0.03
REPLY = 0  # the priority of replies to commands; delivery lanes follow
PRIVATE_BURST = 3  # replies one private chat may get at once before the interval applies
RECENT_HOLD = 2.0  # two chats held within this many seconds: the 429s are the bot's


class Pacer:
    def __init__(
        self,
        *,
        per_second: float,
        private_interval: float,
        group_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.resize(per_second)
        self.private_interval = private_interval * (1 + MARGIN) + JITTER
        self.group_limit = group_per_minute
        self.group_window = 60.0 * (1 + MARGIN) + JITTER
        self.clock = clock
        self._next_even = 0.0
        self._sent: deque[float] = deque()
        self._waiters: list[tuple[int, int]] = []
        self._seq = itertools.count()
        self._turn = asyncio.Event()
        self._hold_until = 0.0
        self._private: dict[int, tuple[float, float]] = {}  # chat -> (last send, burst left)
        self._group_sent: dict[int, deque[float]] = {}
        self._chat_hold: dict[int, tuple[float, float]] = {}  # chat -> (held since, until)

    # ---- the whole bot -----------------------------------------------------------------

    def resize(self, per_second: float) -> None:
        """The bot's rate, or this process's share of it when processes share the bot
        (bot.leading); what was sent in the window so far still counts."""
        self.per_second = per_second
        self.limit = max(1, math.floor(per_second))
        self.window = self.limit / per_second * (1 + MARGIN) + JITTER
        self.spacing = self.window / self.limit  # broadcasts go evenly, never in a burst
        # A late wake-up may be made up for, within this much: timers are not that exact.
        self.slack = min(max(2 * self.spacing, 0.01), 0.02)

    def _global_wait(self, now: float) -> float:
        sent = self._sent
        while sent and sent[0] <= now - self.window:
            sent.popleft()
        wait = self._hold_until - now
        if len(sent) >= self.limit:
            wait = max(wait, sent[0] + self.window - now)
        return max(0.0, wait)

    async def acquire(self, priority: int) -> float:
        """Wait for a slot in the bot's window; among waiters the lowest priority goes first.
        Returns the slot's time, for `settled`.

        Broadcasts (any priority after REPLY) are also spread evenly over the window, so a
        slot frees every `spacing` seconds and a waiting reply takes the next one."""
        entry = (priority, next(self._seq))
        heapq.heappush(self._waiters, entry)
        try:
            while True:
                now = self.clock()
                wait = self._global_wait(now)
                if priority > REPLY:
                    wait = max(wait, self._next_even - self.slack - now)
                if self._waiters[0] == entry:
                    if wait <= 0:
                        heapq.heappop(self._waiters)
                        self._sent.append(now)
                        if priority > REPLY:
                            self._next_even = max(now - self.slack, self._next_even) + self.spacing
                        self._next_turn()
                        return now
                    await asyncio.sleep(wait)
                else:
                    await self._turn.wait()
        except BaseException:
            if entry in self._waiters:
                self._waiters.remove(entry)
                heapq.heapify(self._waiters)
                self._next_turn()
            raise

    def settled(self, slot: float) -> None:
        """The message of the slot taken at `slot` has been answered: it counts from now.
        Telegram counts a message when it arrives, at some moment between the two; a burst of
        replies whose requests queue (a busy machine, the connection pool) arrives spread out,
        and counted from the slot, the next burst could overlap the tail of the last one at
        Telegram. Counted from the answer, never."""
        sent = self._sent
        try:
            sent.remove(slot)
        except ValueError:
            return  # already out of the window
        bisect.insort(sent, self.clock())

    def _next_turn(self) -> None:
        """Wake the waiters to see who is first now."""
        self._turn.set()
        self._turn = asyncio.Event()

    @property
    def busy(self) -> float:
        """How full the bot's window is now (0..1)."""
        self._global_wait(self.clock())
        return len(self._sent) / self.limit

    # ---- one chat ----------------------------------------------------------------------

    def chat_ready_at(self, chat_id: int, *, burst: bool = False) -> float:
        """When the chat may get its next message (monotonic clock); with `burst` (replies),
        a private chat may take up to PRIVATE_BURST at once, refilled one per interval."""
        ready = self._chat_hold.get(chat_id, (0.0, 0.0))[1]
        if chat_id > 0:  # users' ids are positive: a private chat
            state = self._private.get(chat_id)
            if state is not None:
                last, left = state
                wait = max(0.0, 1.0 - left) if burst else 1.0
                ready = max(ready, last + wait * self.private_interval)
        else:
            sent = self._group_sent.get(chat_id)
            if sent:
                now = self.clock()
                while sent and sent[0] <= now - self.group_window:
                    sent.popleft()
                if len(sent) >= self.group_limit:
                    ready = max(ready, sent[0] + self.group_window)
        return ready

    def note(self, chat_id: int) -> None:
        """A message went to the chat now."""
        now = self.clock()
        if chat_id > 0:
            state = self._private.get(chat_id)
            left = float(PRIVATE_BURST)
            if state is not None:
                last, before = state
                left = min(left, before + (now - last) / self.private_interval)
            self._private[chat_id] = (now, left - 1.0)
        else:
            self._group_sent.setdefault(chat_id, deque()).append(now)

    def hold(self, seconds: float, chat_id: int | None = None) -> None:
        """Telegram said "retry after": nothing goes into that scope until it has passed.

        Which scope a 429 is for, Telegram does not say. It is the bot's when its window was
        nearly full, or when another chat was held moments ago (two chats at once: it is us);
        otherwise the one chat's, and the bot goes on with every other chat."""
        now = self.clock()
        until = now + seconds + 0.05
        held = any(
            since > now - RECENT_HOLD and end > now
            for c, (since, end) in self._chat_hold.items()
            if c != chat_id
        )
        if chat_id is None or self.busy >= 0.9 or held:
            self._hold_until = max(self._hold_until, until)
        else:
            end = max(self._chat_hold.get(chat_id, (now, 0.0))[1], until)
            self._chat_hold[chat_id] = (now, end)

    async def wait_for_chat(self, chat_id: int) -> None:
        """Wait until the chat may get a reply: its holds, its interval after a short burst (a
        private chat) or its minute's share (a group). Only this chat's caller waits."""
        # Not a poll: each sleep lasts until the moment the limits name (others may have sent
        # to the chat meanwhile, so the moment is read again).
        while (delay := self.chat_ready_at(chat_id, burst=True) - self.clock()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(delay)

    def forget_idle(self) -> None:
        """Drop what no longer limits anything (so memory does not grow with chats)."""
        now = self.clock()
        full = PRIVATE_BURST * self.private_interval  # a chat idle this long has its burst back
        for chat_id in [c for c, (t, _) in self._private.items() if t < now - full]:
            del self._private[chat_id]
        for chat_id in [
            c for c, d in self._group_sent.items() if not d or d[-1] < now - self.group_window
        ]:
            del self._group_sent[chat_id]
        for chat_id in [c for c, (_, t) in self._chat_hold.items() if t < now]:
            del self._chat_hold[chat_id]
