"""The newsroom's audience figures (pure, with an explicit `now`) and their chart as a PNG.

The chart is drawn with matplotlib's Agg backend, which is CPU work: call `chart_png` off the
event loop (`asyncio.to_thread`)."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from storage.types import ChatLife, ChatStatus, ChatType

DAYS = 30
WEEK = dt.timedelta(days=7)


@dataclass(frozen=True, slots=True)
class Audience:
    private: int
    groups: int
    channels: int
    blocked: int
    left: int  # removed from groups and channels, or gone
    new_week: int
    lost_week: int
    per_day: tuple[tuple[dt.date, int], ...]  # active chats at the end of each day

    @property
    def active(self) -> int:
        return self.private + self.groups + self.channels


def audience(lives: Sequence[ChatLife], now: dt.datetime, days: int = DAYS) -> Audience:
    """Active chats by kind, the lost ones, this week's arrivals and departures, and the
    active count at the end of each of the last `days` days (today: now). A chat that left
    counts as active until its status last changed."""
    active = [c for c in lives if c.status is ChatStatus.ACTIVE]
    gone = [c for c in lives if c.status is not ChatStatus.ACTIVE]
    week_ago = now - WEEK
    today = now.date()
    per_day = []
    for back in range(days - 1, -1, -1):
        day = today - dt.timedelta(days=back)
        end = min(now, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC))
        alive = sum(1 for c in active if c.created < end) + sum(
            1 for c in gone if c.created < end <= c.updated
        )
        per_day.append((day, alive))
    return Audience(
        private=sum(1 for c in active if c.type is ChatType.PRIVATE),
        groups=sum(1 for c in active if c.type in (ChatType.GROUP, ChatType.SUPERGROUP)),
        channels=sum(1 for c in active if c.type is ChatType.CHANNEL),
        blocked=sum(1 for c in gone if c.status is ChatStatus.BLOCKED),
        left=sum(1 for c in gone if c.status is not ChatStatus.BLOCKED),
        new_week=sum(1 for c in lives if c.created >= week_ago),
        lost_week=sum(1 for c in gone if c.updated >= week_ago),
        per_day=tuple(per_day),
    )


def chart_png(per_day: Sequence[tuple[dt.date, int]], title: str) -> bytes:
    """A line chart of active chats per day, as PNG bytes."""
    import matplotlib  # noqa: PLC0415 - heavy; loaded on the first /stats, not at start-up

    matplotlib.use("Agg")
    from matplotlib.figure import Figure  # noqa: PLC0415

    figure = Figure(figsize=(8, 4), dpi=100)
    axes = figure.add_subplot()
    labels = [d.strftime("%d.%m") for d, _ in per_day]
    axes.plot(range(len(labels)), [n for _, n in per_day], marker="o", markersize=3)
    axes.set_xticks(range(0, len(labels), 5), labels[::5])
    axes.set_title(title)
    axes.set_ylim(bottom=0)
    axes.grid(alpha=0.3)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
