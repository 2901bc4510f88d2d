"""Whose turn it is: the engine's queue of chats. Each chat holds its loaded deliveries, most
urgent first; a chat is ready when its pacing allows (and its head's retry time has come),
and ready chats go most urgent lane first, then in the order they became ready. A chat has
at most one delivery in flight, so one chat's messages keep their order."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.delivery.pacer import Pacer
from storage.types import Pending


@dataclass
class Chat:
    rows: list[tuple[int, int, Pending]] = field(default_factory=list)  # (priority, id, row)
    busy: bool = False  # a delivery to this chat is in flight
    scheduled: int | None = None  # the priority it is queued with, if queued


class Turns:
    def __init__(self, pacer: Pacer, now: Callable[[], dt.datetime]) -> None:
        self.pacer, self.now = pacer, now
        self.chats: dict[int, Chat] = {}
        self.wake = asyncio.Event()  # something may have become ready
        self._ready: list[tuple[int, int, int]] = []  # (priority, seq, chat)
        self._waiting: list[tuple[float, int, int]] = []  # (ready at, seq, chat)
        self._seq = itertools.count()

    def queue(self, row: Pending) -> None:
        chat = self.chats.setdefault(row.chat_id, Chat())
        heapq.heappush(chat.rows, (int(row.priority), row.id, row))
        self.schedule(row.chat_id, chat)

    def schedule(self, chat_id: int, chat: Chat) -> None:
        if chat.busy or not chat.rows:
            return
        priority = chat.rows[0][0]
        if chat.scheduled is not None and chat.scheduled <= priority:
            return  # already queued at least as urgently
        chat.scheduled = priority
        head = chat.rows[0][2]
        ready = max(self.pacer.chat_ready_at(chat_id), self._due(head))
        if ready <= self.pacer.clock():
            heapq.heappush(self._ready, (priority, next(self._seq), chat_id))
        else:
            heapq.heappush(self._waiting, (ready, next(self._seq), chat_id))
        self.wake.set()

    def _due(self, row: Pending) -> float:
        """A retry's next attempt, on the pacer's clock (0 for "now")."""
        delay = (row.next_attempt - self.now()).total_seconds()
        return self.pacer.clock() + delay if delay > 0 else 0.0

    async def next_chat(self) -> int:
        """The next chat whose turn it is, waiting until there is one."""
        while True:
            now = self.pacer.clock()
            while self._waiting and self._waiting[0][0] <= now:
                _, seq, chat_id = heapq.heappop(self._waiting)
                chat = self.chats.get(chat_id)
                if chat is not None and chat.scheduled is not None and chat.rows:
                    heapq.heappush(self._ready, (chat.rows[0][0], seq, chat_id))
            while self._ready:
                priority, _, chat_id = heapq.heappop(self._ready)
                chat = self.chats.get(chat_id)
                if chat is None or chat.busy or not chat.rows or chat.scheduled is None:
                    continue
                if chat.rows[0][0] != priority:
                    continue  # stale entry: queued again at another priority
                ready = max(self.pacer.chat_ready_at(chat_id), self._due(chat.rows[0][2]))
                if ready > self.pacer.clock():
                    heapq.heappush(self._waiting, (ready, next(self._seq), chat_id))
                    continue
                return chat_id
            self.wake.clear()
            timeout = self._waiting[0][0] - self.pacer.clock() if self._waiting else None
            await wait(self.wake, timeout)


async def wait(event: asyncio.Event, seconds: float | None) -> None:
    """Wait for the event, at most `seconds`. (Not `asyncio.wait_for`: on Python 3.11 it
    can swallow a cancellation that comes as the wait ends, and a task then never stops.)"""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(seconds):
            await event.wait()
