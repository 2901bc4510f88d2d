"""Whether Telegram is reachable, and while it is not, when the next probe may go (pure: the
engine passes its monotonic `now`).

A transient failure (5xx, a time-out, a connection error, an answer that is not the Bot API's)
starts an outage. During one, the dispatcher lets a single delivery through at a time — the
probe — and waits between probes (0.5 s, doubling, at most PROBE_CAP) instead of sending every
queued delivery into the outage: those keep their attempts, and Telegram gets one request
where it would have had thirty a second. Any answer from Telegram (a success, a refusal, a 429)
ends the outage, and the lanes go at full speed again.

Failures of the deliveries that were already in flight when the outage began are part of it:
they neither start another outage nor delay the next probe. The decisions take an explicit
`now`; `turn` is the dispatcher's wait, on the clock it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from bot.delivery.turns import wait

PROBE_FIRST = 0.5  # seconds from the failure that starts an outage to the first probe…
PROBE_CAP = 10.0  # …doubling after each failed probe up to this: an outage of hours costs one
# request every 10 s, and its end is noticed within 10 s


class Outage:
    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self.down = False
        self.probe: int | None = None  # the delivery sent as a probe, its answer awaited
        self.failed_probes = 0
        self.next_probe = 0.0  # when the next probe may go (on `clock`)
        self._news = asyncio.Event()  # the outage began, ended, or a probe came back

    async def turn(self) -> None:
        """Wait until a delivery may go: at once while Telegram is reachable."""
        while (delay := self.delay(self.clock())) != 0.0:
            self._news.clear()
            await wait(self._news, delay)

    def shut(self) -> bool:
        """Whether a delivery must wait now (for the dispatcher's second look)."""
        return self.delay(self.clock()) != 0.0

    def delay(self, now: float) -> float | None:
        """How long the dispatcher waits before it sends: 0 (go), seconds until the next
        probe, or None (a probe is in flight: wait for its answer)."""
        if not self.down:
            return 0.0
        if self.probe is not None:
            return None
        return max(0.0, self.next_probe - now)

    def dispatched(self, delivery: int, task: asyncio.Task[None]) -> None:
        """A delivery goes now (in `task`); during an outage it is the probe."""
        if self.down:
            self.probe = delivery
            task.add_done_callback(lambda _: self.settled(delivery))

    def failed(self, delivery: int, now: float) -> bool:
        """A send failed transiently; True when that starts an outage."""
        if not self.down:
            self.down, self.probe, self.failed_probes = True, None, 0
            self.next_probe = now + PROBE_FIRST
            self._news.set()
            return True
        if delivery == self.probe:
            self.probe = None
            self.failed_probes += 1
            self.next_probe = now + min(PROBE_CAP, PROBE_FIRST * 2.0**self.failed_probes)
            self._news.set()
        return False

    def answered(self) -> bool:
        """Telegram answered (whatever it said); True when that ends an outage."""
        was_down = self.down
        self.down, self.probe, self.failed_probes = False, None, 0
        if was_down:
            self._news.set()
        return was_down

    def settled(self, delivery: int) -> None:
        """The delivery is done, whatever became of it: a probe that never got to Telegram
        (the engine failed before sending) must not hold up the next one."""
        if delivery == self.probe:
            self.probe = None
            self._news.set()
