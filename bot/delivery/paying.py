"""Which deliveries go with allow_paid_broadcast, and what Telegram's refusal to charge
changes (see shared/TELEGRAM.md, "Paid broadcasts").

An item's stored choice wins (an editor chose paid or free for a flash; a refusal stored it
as free); without one, the item's lane decides (`paid_broadcast = "all"`: story posts and
digests). After a refusal, the lanes' new items go free for an hour (a balance that ran out
is not refilled in seconds) instead of each drawing refusals of its own.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from bot.delivery.verdict import Answer, refuses_payment
from storage import outbox
from storage.db import Database
from storage.errors import StorageError
from storage.types import Pending, Priority

log = logging.getLogger(__name__)
LANES_REST = dt.timedelta(hours=1)  # the paid lanes go free this long after a refusal
CACHED = 1000  # items whose choice is kept in memory


class Paying:
    def __init__(
        self, db: Database, lanes: frozenset[Priority], now: Callable[[], dt.datetime], *, on: bool
    ) -> None:
        self.db, self.now, self.on = db, now, on
        self.lanes = lanes if on else frozenset()
        self._items: dict[int, bool | None] = {}  # item -> its stored choice
        self._lanes_free_until: dt.datetime | None = None

    async def is_paid(self, row: Pending) -> bool:
        """Whether the delivery's messages go with allow_paid_broadcast now."""
        if not self.on:
            return False
        if row.item_id not in self._items:
            if len(self._items) >= CACHED:
                self._items.clear()
            self._items[row.item_id] = await outbox.paid_choice(self.db, row.item_id)
        choice = self._items[row.item_id]
        if choice is not None:
            return choice
        if row.priority not in self.lanes:
            return False
        rest = self._lanes_free_until
        return rest is None or self.now() >= rest

    def refusal(self, paid: bool, answer: Answer) -> bool:
        """Whether the answer to a message is Telegram's refusal to charge for it."""
        return paid and refuses_payment(answer)

    async def refused(self, row: Pending, answer: Answer) -> None:
        """Telegram would not charge (no Stars, not eligible): the item goes on free, and the
        refusal is stored with it (a restart keeps to it; a flash's editor is told)."""
        if self._items.get(row.item_id) is False:
            return  # its other deliveries in flight said so already
        self._items[row.item_id] = False
        if row.priority in self.lanes:
            self._lanes_free_until = self.now() + LANES_REST
        log.warning(
            "paid broadcast refused, going on at the free rate item=%s error=%s",
            row.item_id,
            answer.description,
        )
        try:
            await outbox.unpay(self.db, row.item_id, self.now())
        except StorageError as e:  # this run keeps to the free rate all the same
            log.error("paid refusal not stored item=%s error=%s", row.item_id, e)
