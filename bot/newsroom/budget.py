"""What sending a flash will take (pure): the time at the free rate and, where paid broadcasts
are on, at the paid rate and the price in Telegram Stars, so that the editor chooses."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rates:
    free_per_second: float  # the bot's own rate (Telegram's free limit is ~30)
    paid_per_second: float | None = None  # None: paid broadcasts are off
    stars_per_message: float = 0.1


FREE = Rates(free_per_second=30.0)


@dataclass(frozen=True, slots=True)
class Estimate:
    messages: int
    free_seconds: float
    paid_seconds: float | None  # None: paid broadcasts are off
    stars: int | None


def estimate(rates: Rates, chats: int, messages_per_chat: int = 1) -> Estimate:
    """Sending `messages_per_chat` messages to each of `chats` chats."""
    messages = chats * max(1, messages_per_chat)
    paid = rates.paid_per_second
    return Estimate(
        messages=messages,
        free_seconds=messages / rates.free_per_second,
        paid_seconds=None if paid is None else messages / paid,
        stars=None if paid is None else stars(rates, messages),
    )


def stars(rates: Rates, messages: int) -> int:
    """What `messages` paid messages cost, in whole Stars (rounded up: Telegram charges per
    message, and a balance is in whole Stars)."""
    return math.ceil(round(messages * rates.stars_per_message, 6))
