"""The newsroom's figures for /stats: the audience, the sections' followers, the last day's
deliveries, paid broadcasts over 30 days; the chart is drawn off the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from bot import stats as figures
from bot.newsroom import Desk, budget
from storage import outbox, subscriptions
from storage import stats as stored_stats


@dataclass(frozen=True, slots=True)
class Figures:
    audience: figures.Audience
    per_section: dict[str, int]
    deliveries: dict[str, int]
    paid: tuple[int, int] | None  # messages sent paid in 30 days, and their Stars


async def gather(desk: Desk) -> Figures:
    now = desk.now()
    audience = figures.audience(await stored_stats.chat_lives(desk.db), now)
    per_section = await subscriptions.count_by_section(desk.db)
    deliveries = await stored_stats.deliveries_since(desk.db, now - dt.timedelta(days=1))
    since = (now - dt.timedelta(days=figures.DAYS - 1)).astimezone(dt.UTC).date()
    messages = await outbox.paid_since(desk.db, since)
    paid = None
    if messages or desk.rates.paid_per_second is not None:
        paid = (messages, budget.stars(desk.rates, messages))
    return Figures(audience, dict(per_section), dict(deliveries), paid)


async def chart(audience: figures.Audience, title: str) -> bytes:
    """The PNG of active subscribers per day, drawn in a thread."""
    return await asyncio.to_thread(figures.chart_png, audience.per_day, title)
