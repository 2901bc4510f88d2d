"""Telegram's flood limits, enforced the strict way: sliding windows, and a 429 with
`retry_after` for whoever passes them; sending into a running retry_after is counted.

A private chat tolerates a short burst (`private_burst` messages at once), then one message per
`private_interval`: a bucket that refills one message per interval."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

COUNTED = frozenset(
    {"sendMessage", "sendPhoto", "editMessageText", "editMessageReplyMarkup", "deleteMessage"}
)


@dataclass
class Flood:
    per_second: float = 30
    paid_per_second: float = 1000  # messages with allow_paid_broadcast: their own window
    private_interval: float = 1.0
    private_burst: int = 3
    group_per_minute: int = 20
    clock: Callable[[], float] = time.monotonic
    rejected: int = 0  # 429s given
    ignored: int = 0  # sends that arrived while a retry_after was running
    max_in_second: int = 0  # the most messages seen in any one-second window
    _sent: deque[float] = field(default_factory=deque)
    _paid: deque[float] = field(default_factory=deque)
    paid_sent: int = 0  # messages that came with allow_paid_broadcast
    _private: dict[int, tuple[float, float]] = field(default_factory=dict)  # (last, left)
    _groups: dict[int, deque[float]] = field(default_factory=dict)
    _global_until: float = 0.0
    _chat_until: dict[int, float] = field(default_factory=dict)

    def check(self, chat_id: int, *, paid: bool = False) -> float | None:
        """None if the message may go now (and it is counted), else seconds to wait. A paid
        message counts against the paid window, any other against the free one."""
        now = self.clock()
        until = max(self._global_until, self._chat_until.get(chat_id, 0.0))
        if now < until:
            self.ignored += 1
            return self._refuse(until - now)
        sent, limit = (self._paid, self.paid_per_second) if paid else (self._sent, self.per_second)
        while sent and sent[0] <= now - 1.0:
            sent.popleft()
        if len(sent) >= limit:
            wait = sent[0] + 1.0 - now
            self._global_until = now + math.ceil(wait)
            return self._refuse(wait)
        if chat_id > 0:
            last, left = self._private.get(chat_id, (now, float(self.private_burst)))
            left = min(float(self.private_burst), left + (now - last) / self.private_interval)
            if left < 1.0:
                wait = (1.0 - left) * self.private_interval
                self._chat_until[chat_id] = now + math.ceil(wait)
                return self._refuse(wait)
            self._private[chat_id] = (now, left - 1.0)
        else:
            window = self._groups.setdefault(chat_id, deque())
            while window and window[0] <= now - 60.0:
                window.popleft()
            if len(window) >= self.group_per_minute:
                wait = window[0] + 60.0 - now
                self._chat_until[chat_id] = now + math.ceil(wait)
                return self._refuse(wait)
            window.append(now)
        sent.append(now)
        if paid:
            self.paid_sent += 1
        else:
            self.max_in_second = max(self.max_in_second, len(sent))
        return None

    def _refuse(self, wait: float) -> float:
        self.rejected += 1
        return float(max(1, math.ceil(wait)))
