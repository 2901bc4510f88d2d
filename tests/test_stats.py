"""The newsroom's audience figures: who counts as active on each of the last 30 days."""

from __future__ import annotations

import datetime as dt

from bot.stats import audience
from storage.types import ChatLife, ChatStatus, ChatType


def test_audience_per_day_counts_chats_while_they_were_there() -> None:
    now = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)
    day = dt.timedelta(days=1)
    lives = [
        ChatLife(ChatType.PRIVATE, ChatStatus.ACTIVE, now - 40 * day, now - 40 * day),
        ChatLife(ChatType.PRIVATE, ChatStatus.ACTIVE, now - 2 * day, now - 2 * day),
        ChatLife(ChatType.CHANNEL, ChatStatus.ACTIVE, now - 10 * day, now - 10 * day),
        ChatLife(ChatType.PRIVATE, ChatStatus.BLOCKED, now - 20 * day, now - 5 * day),
        ChatLife(ChatType.GROUP, ChatStatus.LEFT, now - 3 * day, now - 1 * day),
    ]
    figures = audience(lives, now)
    assert (figures.private, figures.groups, figures.channels) == (2, 0, 1)
    assert (figures.blocked, figures.left) == (1, 1)
    assert (figures.new_week, figures.lost_week) == (2, 2)
    counts = dict(figures.per_day)
    assert len(counts) == 30
    assert counts[dt.date(2026, 10, 29)] == 1  # only the oldest chat
    assert counts[dt.date(2026, 11, 17)] == 3  # + the channel, + the one that later blocked
    assert counts[dt.date(2026, 11, 24)] == 3  # + the group; the blocker left on the 22nd
    assert counts[dt.date(2026, 11, 25)] == 4  # + the newest reader
    assert counts[dt.date(2026, 11, 27)] == 3  # the group has left too
