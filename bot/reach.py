"""Whether the bot reaches Telegram, told as one line when it stops and one when it comes back.

The polling loop and the periodic probe report here what they see (pure but for its log:
the caller passes `now`). While an outage lasts nothing more is written: not a traceback a
retry, as PTB's default would (the delivery engine keeps its own pair of lines,
bot.delivery.outage). `answered_at` also tells /readyz whether Telegram answered recently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.logs import short

log = logging.getLogger(__name__)


@dataclass
class Reach:
    """What the bot last heard from Telegram (monotonic seconds), and since when it has not."""

    answered_at: float | None = None
    lost_at: float | None = None  # the first failure of the outage going on, if one is
    failures: int = 0

    def answered(self, now: float) -> None:
        """Telegram answered (any answer: an error from it is an answer too)."""
        if self.lost_at is not None:
            lost = now - self.lost_at
            log.info("Telegram reachable again after=%.0fs failures=%d", lost, self.failures)
        self.answered_at, self.lost_at, self.failures = now, None, 0

    def failed(self, what: str, cause: object, now: float) -> None:
        """`what` (polling, probe) could not reach Telegram: the first time, one line."""
        self.failures += 1
        if self.lost_at is None:
            self.lost_at = now
            log.warning("Telegram unreachable, retrying what=%s error=%s", what, short(cause))

    def silent_for(self, now: float) -> float | None:
        """Seconds since Telegram last answered; None if it never did."""
        return None if self.answered_at is None else now - self.answered_at
