"""How long a story waits for its first reader: from its posts being enqueued (in the poll that
stored it) to the first of them sent, observed once per story item, never a query a message.

After a restart, a story still being posted is observed again at its next post (the engine
keeps no record of which items it has seen): such an observation is late by the restart.
"""

from __future__ import annotations

import datetime as dt

from bot.metrics import Metrics
from storage import outbox
from storage.db import Database
from storage.types import Pending, Priority

KEPT = 10_000  # story items watched at once (more: forgotten, and perhaps observed twice)


class FirstPosts:
    def __init__(self, db: Database, metrics: Metrics) -> None:
        self.db, self.metrics = db, metrics
        self._enqueued: dict[int, dt.datetime | None] = {}  # item -> when, None once observed

    async def watch(self, row: Pending) -> None:
        """Before a delivery's send: a story item met for the first time is looked up."""
        if row.priority is not Priority.STORY or row.item_id in self._enqueued:
            return
        if len(self._enqueued) >= KEPT:
            self._enqueued.clear()
        self._enqueued[row.item_id] = await outbox.story_enqueued_at(self.db, row.item_id)

    def sent(self, item_id: int, now: dt.datetime) -> None:
        """A delivery of the item was sent: the first one is observed."""
        enqueued = self._enqueued.get(item_id)
        if enqueued is not None:
            self._enqueued[item_id] = None
            self.metrics.delivered_lag.observe(max(0.0, (now - enqueued).total_seconds()))
