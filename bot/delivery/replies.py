"""PTB's rate-limiter hook: replies to commands share the engine's Pacer and go first."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.delivery.pacer import REPLY, Pacer

log = logging.getLogger(__name__)
# Calls that put, change or remove a message: what Telegram's flood limits count.
COUNTED = frozenset(
    {
        "sendMessage", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
        "deleteMessage", "sendPhoto", "sendDocument", "copyMessage", "forwardMessage",
    }
)  # fmt: skip
MAX_RETRIES = 2


class PacedReplies(BaseRateLimiter[None]):
    """Each counted call takes a slot in the Pacer's window, ahead of any broadcast."""

    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

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
        for attempt in range(MAX_RETRIES + 1):
            if endpoint in COUNTED:
                if chat_id is not None:
                    await self.pacer.wait_for_chat(chat_id)
                await self.pacer.acquire(REPLY)
                if chat_id is not None:
                    self.pacer.note(chat_id)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as e:
                seconds = (
                    e.retry_after
                    if isinstance(e.retry_after, int | float)
                    else e.retry_after.total_seconds()
                )
                self.pacer.hold(float(seconds), chat_id)
                log.warning(
                    "reply retry after endpoint=%s chat=%s seconds=%s", endpoint, chat_id, seconds
                )
                if attempt == MAX_RETRIES:
                    raise
                await asyncio.sleep(float(seconds))
        raise AssertionError("unreachable")


def _chat_id(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None  # "@channel" usernames: only the bot's window applies
