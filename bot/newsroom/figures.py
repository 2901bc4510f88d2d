"""The newsroom's figures for /stats: the audience, the sections' followers, the last day's
deliveries; the chart is drawn off the event loop."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from bot import stats as figures
from bot.newsroom import Desk
from storage import stats as stored_stats
from storage import subscriptions


@dataclass(frozen=True, slots=True)
class Figures:
    audience: figures.Audience
    per_section: dict[str, int]
    deliveries: dict[str, int]


async def gather(desk: Desk) -> Figures:
    now = desk.now()
    audience = figures.audience(await stored_stats.chat_lives(desk.db), now)
    per_section = await subscriptions.count_by_section(desk.db)
    deliveries = await stored_stats.deliveries_since(desk.db, now - dt.timedelta(days=1))
    return Figures(audience, dict(per_section), dict(deliveries))


async def chart(audience: figures.Audience, title: str) -> bytes:
    """The PNG of active subscribers per day, drawn in a thread."""
    return await asyncio.to_thread(figures.chart_png, audience.per_day, title)
