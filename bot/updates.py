"""Fair service: each chat's updates in order, different chats side by side, floods throttled.

PTB hands every update to `FairUpdates.do_process_update` in a task of its own. Updates of one
chat (or, with no chat, of one user) wait for those before them, so a chat gets its answers in
the order it wrote; updates of different chats run at once, at most `concurrency` of them
working. A reply that must wait for its own chat's flood limit or a 429 gives its place up
while it waits (`waiting_for_the_chat`), so even many chats waiting out their minute never
hold anyone else back. A chat with more than QUEUE_LIMIT updates waiting has the rest dropped.
Before any of that, the throttle looks at who sent it: a chat or user past its limit gets one
notice and is then ignored for a while, at the cost of this check and nothing more; inline
queries (one per pause in typing) have a budget of their own.

Each update handled is counted by kind with the time from its arrival to the end of its
handling (bot.metrics), and each command is logged as one line: the kind of chat, the command's
name and that time, never its text or its sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import BaseUpdateProcessor

from bot.commands import COMMANDS
from bot.metrics import Dropped, Metrics, UpdateKind
from bot.throttle import Throttle, Verdict

log = logging.getLogger(__name__)
MAX_WAITING = 2**20  # PTB's own cap on updates in hand: ours are QUEUE_LIMIT per chat
QUEUE_LIMIT = 100  # updates of one chat waiting their turn; an honest chat never has that many
# Telegram's stand-ins for "someone anonymous": every anonymous group admin and every channel
# post in a discussion group come from these users, so they are never one person to throttle.
SHARED_SENDERS = frozenset({1087968824, 777000, 136817688})
KNOWN_COMMANDS = frozenset(c.name for c in COMMANDS)  # logged by name; any other as "other"

Notice = Callable[[Update], Awaitable[None]]


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0
    dropped: int = 0  # updates dropped since the queue was last empty (logged once)


class _Slot:
    """One of the places for updates at work, held by one update, given up while it waits."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self.slots, self.held = slots, False

    async def take(self) -> None:
        await self.slots.acquire()
        self.held = True

    def give(self) -> None:
        if self.held:
            self.held = False
            self.slots.release()


_slot: ContextVar[_Slot | None] = ContextVar("visnyk_update_slot", default=None)


@contextlib.asynccontextmanager
async def waiting_for_the_chat() -> AsyncIterator[None]:
    """Around a wait that is this update's chat's alone (its flood limit, a 429 for it): other
    chats' updates may work meanwhile. Outside an update (a job, the engine) it does nothing."""
    slot = _slot.get()
    if slot is None or not slot.held:
        yield
        return
    slot.give()
    try:
        yield
    finally:
        await slot.take()


def _who(update: Update) -> tuple[int | None, int | None]:
    """(sender, chat) to throttle by: a sender writing as a chat is that chat."""
    chat = update.effective_chat
    message = update.effective_message
    sender: int | None = None
    if message is not None and message.sender_chat is not None:
        sender = message.sender_chat.id
    elif update.effective_user is not None and update.effective_user.id not in SHARED_SENDERS:
        sender = update.effective_user.id
    return sender, chat.id if chat is not None else None


def ignored(update: Update) -> bool:
    """An update no handler takes, dropped before it waits anywhere: in a group, a message that
    is neither a command nor a group's move to a new id (replies to the bot, chatter it sees
    without privacy mode), and anything that is not a message, tap, inline query or change of
    the bot's membership."""
    if update.callback_query or update.inline_query or update.my_chat_member:
        return False
    message = update.message
    if message is None or update.effective_chat is None:
        return True
    if update.effective_chat.type == ChatType.PRIVATE:
        return False
    text = message.text or ""
    return not text.startswith("/") and not (
        message.migrate_to_chat_id or message.migrate_from_chat_id
    )


def costs(update: Update) -> bool:
    """Whether the update asks the bot for something: a tap, an inline query, anything in a
    private chat, or a command in a group that is not addressed to another bot."""
    if update.callback_query is not None or update.inline_query is not None:
        return True
    message = update.message
    if message is None or update.effective_chat is None:
        return False  # edits, membership changes, channel posts: nothing to answer
    if update.effective_chat.type == ChatType.PRIVATE:
        return True
    text = message.text or ""
    if not text.startswith("/"):
        return False
    _, _, addressee = text.split(maxsplit=1)[0].partition("@")
    return not addressee or addressee.lower() == (message.get_bot().username or "").lower()


def kind_of(update: Update) -> UpdateKind:
    """What an update is, for the figures (one of a few kinds)."""
    if update.message is not None:
        text = update.message.text or ""
        return UpdateKind.COMMAND if text.startswith("/") else UpdateKind.MESSAGE
    if update.callback_query is not None:
        return UpdateKind.CALLBACK_QUERY
    if update.inline_query is not None:
        return UpdateKind.INLINE_QUERY
    if update.my_chat_member is not None:
        return UpdateKind.MY_CHAT_MEMBER
    return UpdateKind.OTHER


def command_name(text: str) -> str:
    """A command's name as logged: one the bot has (without @bot), or "other" (what a user
    typed after a slash is theirs, not the log's)."""
    name = text.split(maxsplit=1)[0][1:].partition("@")[0].lower() if text else ""
    return name if name in KNOWN_COMMANDS else "other"


class FairUpdates(BaseUpdateProcessor):
    def __init__(
        self,
        throttle: Throttle,
        notice: Notice,
        *,
        inline: Throttle | None = None,
        concurrency: int = 64,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates=MAX_WAITING)
        self.throttle, self.notice, self.clock = throttle, notice, clock
        self.metrics = metrics or Metrics()
        self.inline = inline or throttle
        self._slots = asyncio.Semaphore(concurrency)
        self._turns: dict[int, _Turn] = {}
        self._running: set[asyncio.Task[Any]] = set()
        self._stopping = False
        self._cancel: asyncio.TimerHandle | None = None

    async def initialize(self) -> None:
        self._stopping = False

    async def shutdown(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()
            self._cancel = None

    def stop(self, grace: float) -> None:
        """Take no more updates; those still running after `grace` seconds (a reply waiting
        out a chat's limit) are cancelled, so that stopping never waits a minute."""
        self._stopping = True
        self._cancel = asyncio.get_running_loop().call_later(grace, self._cancel_running)

    def _cancel_running(self) -> None:
        if self._running:
            log.info("updates cancelled at stop count=%d", len(self._running))
        for task in self._running:
            task.cancel()

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._stopping:
            _discard(coroutine)
            return
        arrived = time.monotonic()
        key = None
        counted = update if isinstance(update, Update) else None  # what its figures are of
        if isinstance(update, Update):
            if ignored(update):
                _discard(coroutine)
                return
            sender, chat = _who(update)
            # A chat's updates keep their order; inline queries need none (each one replaces
            # the one before it as the reader types).
            key = chat if chat is not None or update.inline_query is not None else sender
            if costs(update):
                throttle = self.throttle if update.inline_query is None else self.inline
                verdict = throttle.check(sender, chat, self.clock())
                if verdict is not Verdict.ALLOW:
                    _discard(coroutine)
                    self.metrics.dropped(Dropped.THROTTLED)
                    if verdict is Verdict.DROP or update.inline_query is not None:
                        return  # an inline query has no chat to tell
                    log.warning("throttled user=%s chat=%s", sender, chat)
                    coroutine = self.notice(update)
                    counted = None  # the notice is what is handled, not the update
        turn = self._turns.get(key) if key is not None else None
        if turn is not None and turn.users >= QUEUE_LIMIT:
            _discard(coroutine)
            self.metrics.dropped(Dropped.QUEUE_FULL)
            turn.dropped += 1
            if turn.dropped == 1:  # once until its queue empties: a flood is not a log flood
                log.warning("updates dropped: its chat has too many waiting chat=%s", key)
            return
        task = asyncio.current_task()
        assert task is not None
        self._running.add(task)
        slot = _Slot(self._slots)
        started = False
        try:
            async with self._turn(key):
                await slot.take()
                token = _slot.set(slot)
                started = True
                try:
                    await coroutine
                finally:
                    _slot.reset(token)
                if counted is not None:
                    self._handled(counted, time.monotonic() - arrived)
        finally:
            slot.give()
            self._running.discard(task)
            if not started:  # cancelled at stop while waiting for its turn
                _discard(coroutine)

    def _handled(self, update: Update, seconds: float) -> None:
        """Count a handled update; a command is logged too (its chat's kind, its name)."""
        kind = kind_of(update)
        self.metrics.handled(kind, seconds)
        if kind is UpdateKind.COMMAND and update.message is not None:
            log.info(
                "command chat=%s name=/%s latency_ms=%d",
                update.message.chat.type,
                command_name(update.message.text or ""),
                round(seconds * 1000),
            )

    @contextlib.asynccontextmanager
    async def _turn(self, key: int | None) -> AsyncIterator[None]:
        """One update of `key` at a time, in the order they came (asyncio's locks are fair)."""
        if key is None:
            yield
            return
        turn = self._turns.setdefault(key, _Turn())
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if not turn.users:
                if turn.dropped:
                    log.info("chat caught up chat=%s dropped=%d", key, turn.dropped)
                del self._turns[key]


def _discard(coroutine: Awaitable[Any]) -> None:
    """Drop a coroutine PTB made for an update we will not process, without a warning."""
    close = getattr(coroutine, "close", None)
    if close is not None:
        close()
