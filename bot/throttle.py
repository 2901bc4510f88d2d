"""Who is sending faster than anyone reads: a sliding window of updates per user and per chat.

A user who sends more than `limit` updates (commands, taps, inline queries) within `window`
seconds gets one notice and is then ignored for `pause` seconds; so is a group as a whole past
GROUP_FACTOR times that (one member's flood mutes that member first, not the group). Pure
arithmetic with an explicit `now`; memory stays bounded by the keys active in the last window.
"""

from __future__ import annotations

from collections import deque
from enum import Enum

GROUP_FACTOR = 3


class Verdict(Enum):
    ALLOW = "allow"
    NOTICE = "notice"  # just went over: say so once
    DROP = "drop"  # ignored for now


class Throttle:
    def __init__(self, limit: int, window: float, pause: float) -> None:
        self.limit, self.window, self.pause = limit, window, pause
        self._seen: dict[int, deque[float]] = {}
        self._muted: dict[int, float] = {}
        self._swept = 0.0

    def check(self, user: int | None, chat: int | None, now: float) -> Verdict:
        """Count one update from `user` in `chat` (either may be None) at `now`."""
        keys = [(k, self.limit) for k in (user,) if k is not None]
        if chat is not None and chat != user:
            keys.append((chat, self.limit * GROUP_FACTOR))
        if now - self._swept > self.window:
            self._sweep(now)
        if any(self._muted.get(k, 0.0) > now for k, _ in keys):
            return Verdict.DROP
        verdict = Verdict.ALLOW
        for key, limit in keys:
            times = self._seen.setdefault(key, deque())
            while times and times[0] <= now - self.window:
                times.popleft()
            times.append(now)
            if len(times) > limit:
                self._muted[key] = now + self.pause
                del self._seen[key]
                verdict = Verdict.NOTICE
                break  # a muted user's update is not counted against their group
        return verdict

    def _sweep(self, now: float) -> None:
        """Forget keys with nothing in the window and mutes that have run out."""
        self._swept = now
        for key in [k for k, t in self._seen.items() if not t or t[-1] <= now - self.window]:
            del self._seen[key]
        for key in [k for k, until in self._muted.items() if until <= now]:
            del self._muted[key]
