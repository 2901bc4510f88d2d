"""PTB's rate-limiter hook: replies to commands share the engine's Pacer and go first.

A reply waits for its own chat's limits (a private chat: a short burst, then one a second; a
group: its share of the minute) and for a slot in the bot's window. The waiting happens in
the update's own task, and updates of other chats run beside it (bot.updates), so one chat's
wait is never anyone else's. A 429 holds the scope it was for; the reply is retried after it,
unless the wait is too long to be worth it. Each call's latency (the answer's wait, not the
pacing) and each 429 are counted in the bot's metrics, as the replies' ("reply").
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacer import REPLY, Pacer
from bot.metrics import Metrics
from bot.updates import waiting_for_the_chat

log = logging.getLogger(__name__)
# Calls that put, change or remove a message: what Telegram's flood limits count.
COUNTED = frozenset(
    {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "editMessageCaption",
        "deleteMessage",
        "sendPhoto",
        "sendDocument",
        "copyMessage",
        "forwardMessage",
    }
)
Answered = bool | dict[str, Any] | list[dict[str, Any]]  # what PTB's call gives back
MAX_RETRIES = 2
MAX_WAIT = 60.0  # a reply Telegram holds back longer than this is given up (and logged)


class PacedReplies(BaseRateLimiter[None]):
    """Each counted call takes a slot in the Pacer's window, ahead of any broadcast."""

    def __init__(self, pacer: Pacer, *, metrics: Metrics | None = None) -> None:
        self.pacer = pacer
        self.metrics = metrics or Metrics()

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def process_request(  # noqa: PLR0917 - PTB decides the signature
        self,
        callback: Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = _chat_id(data.get("chat_id"))
        counted = endpoint in COUNTED
        for attempt in range(MAX_RETRIES + 1):
            slot = None
            if counted:
                if chat_id is not None:
                    async with waiting_for_the_chat():
                        await self.pacer.wait_for_chat(chat_id)
                slot = await self.pacer.acquire(REPLY)
                if chat_id is not None:
                    self.pacer.note(chat_id)
            try:
                return await self._timed(endpoint, callback(*args, **kwargs))
            except RetryAfter as e:
                seconds = float(
                    e.retry_after
                    if isinstance(e.retry_after, int | float)
                    else e.retry_after.total_seconds()
                )
                self.metrics.rate_limited("reply", seconds)
                if counted:  # a limit on messages; other calls wait in their own task
                    self.pacer.hold(seconds, chat_id)
                log.warning(
                    "reply retry after endpoint=%s chat=%s seconds=%s", endpoint, chat_id, seconds
                )
                if attempt == MAX_RETRIES or seconds > MAX_WAIT:
                    raise
                if not counted:  # the pacer's waits above cover only counted calls
                    async with waiting_for_the_chat():
                        await asyncio.sleep(seconds)
            finally:
                if slot is not None:
                    self.pacer.settled(slot)  # counted from the answer (Pacer.settled)
        raise AssertionError("unreachable")

    async def _timed(self, endpoint: str, call: Awaitable[Answered]) -> Answered:
        """The call, its latency counted whatever became of it."""
        began = time.monotonic()
        try:
            return await call
        finally:
            self.metrics.call_timer("reply", endpoint).observe(time.monotonic() - began)


def _chat_id(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None  # "@channel" usernames: only the bot's window applies
