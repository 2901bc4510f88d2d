"""The pacer's arithmetic with a hand-turned clock, and the meaning of Telegram's answers."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery.pacer import JITTER, REPLY, Pacer
from bot.delivery.verdict import Verdict, classify
from bot.leading import shares


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pacer(clock: Clock, per_second: float = 30) -> Pacer:
    return Pacer(per_second=per_second, private_interval=1.0, group_per_minute=20, clock=clock)


def test_a_private_chat_waits_its_interval() -> None:
    clock = Clock()
    p = pacer(clock)
    assert p.chat_ready_at(42) == 0.0
    p.note(42)
    assert p.chat_ready_at(42) == pytest.approx(1000.0 + 1.01 + JITTER)


def test_a_group_gets_twenty_a_minute() -> None:
    clock = Clock()
    p = pacer(clock)
    for i in range(20):
        clock.now = 1000.0 + i
        p.note(-5)
    assert p.chat_ready_at(-5) == pytest.approx(1000.0 + 60.6 + JITTER)
    clock.now = 1000.0 + 61
    assert p.chat_ready_at(-5) == 0.0  # the first one left the minute


def test_holds_for_one_chat_or_for_the_bot() -> None:
    clock = Clock()
    p = pacer(clock)
    p.hold(3, chat_id=7)
    assert p.chat_ready_at(7) == pytest.approx(1003.05)
    assert p._hold_until == 0.0  # the bot goes on with other chats
    p.hold(2, chat_id=8)  # a second chat held at once: it is the bot's limit
    assert p._hold_until == pytest.approx(1002.05)
    p.hold(5)
    assert p._hold_until == pytest.approx(1005.05)


async def test_a_reply_takes_the_next_slot_before_broadcasts() -> None:
    p = Pacer(per_second=2, private_interval=1.0, group_per_minute=20)
    await p.acquire(REPLY + 2)
    await p.acquire(REPLY + 2)  # the window (2 a second) is full now
    order: list[str] = []

    async def take(name: str, priority: int) -> None:
        await p.acquire(priority)
        order.append(name)

    broadcast = asyncio.create_task(take("broadcast", REPLY + 1))
    await asyncio.sleep(0)
    reply = asyncio.create_task(take("reply", REPLY))
    await asyncio.wait_for(asyncio.gather(broadcast, reply), 5)
    assert order == ["reply", "broadcast"]


@pytest.mark.parametrize(
    ("status", "body", "verdict"),
    [
        (200, {"ok": True, "result": {"message_id": 5}}, Verdict.SENT),
        (429, {"ok": False, "description": "Too Many Requests: retry after 7",
               "parameters": {"retry_after": 7}}, Verdict.RETRY_AFTER),
        (403, {"ok": False, "description": "Forbidden: bot was blocked by the user"},
         Verdict.BLOCKED),
        (403, {"ok": False, "description": "Forbidden: bot was kicked from the supergroup chat"},
         Verdict.LEFT),
        (403, {"ok": False, "description": "Forbidden: user is deactivated"}, Verdict.GONE),
        (400, {"ok": False, "description": "Bad Request: chat not found"}, Verdict.GONE),
        (400, {"ok": False,
               "description": "Bad Request: group chat was upgraded to a supergroup chat",
               "parameters": {"migrate_to_chat_id": -100123}}, Verdict.MIGRATED),
        (400, {"ok": False, "description": "Bad Request: can't parse entities: x"}, Verdict.BROKEN),
        (400, {"ok": False, "description": "Bad Request: message is too long"}, Verdict.BROKEN),
        (400, {"ok": False, "description": "Bad Request: something else"}, Verdict.REJECTED),
        (502, None, Verdict.TRANSIENT),
        # Not the Bot API's answer at all (a proxy's page, a cut-off body): try again.
        (200, None, Verdict.TRANSIENT),
        (404, None, Verdict.TRANSIENT),
        (200, {"result": 1}, Verdict.TRANSIENT),
    ],
)  # fmt: skip
def test_what_telegram_means(status: int, body: dict[str, object] | None, verdict: Verdict) -> None:
    answer = classify(status, body)
    assert answer.verdict is verdict
    if verdict is Verdict.RETRY_AFTER:
        assert answer.retry_after == 7
    if verdict is Verdict.MIGRATED:
        assert answer.new_chat_id == -100123
    if verdict is Verdict.SENT:
        assert answer.message_id == 5


def test_replicas_share_the_bots_rate() -> None:
    """The followers together answer within a fifth of the bot's rate, the leader within the
    rest; alone, a process has it all (bot.leading)."""
    assert shares(30, 1) == (30, 30)
    leader, follower = shares(30, 3)
    assert leader == pytest.approx(24)
    assert follower == pytest.approx(3)
    assert leader + 2 * follower == pytest.approx(30)


async def test_a_resized_window_counts_what_was_sent_before() -> None:
    p = pacer(Clock(), per_second=10)
    for _ in range(5):
        await p.acquire(REPLY)
    assert p.busy == 0.5
    p.resize(5)  # a follower joined: this process's share shrinks
    assert p.limit == 5
    assert p.busy == 1.0  # the five sent in this window fill the smaller one


async def test_a_reply_counts_from_its_answer_not_its_slot() -> None:
    """A burst of replies whose requests were slow to go out: each frees its place in the
    window a window after Telegram answered it, so the next burst cannot overlap its tail."""
    clock = Clock()
    p = pacer(clock, per_second=2)
    first = await p.acquire(REPLY)
    second = await p.acquire(REPLY)
    clock.now += 0.5  # the answers came half a second later
    p.settled(first)
    p.settled(second)
    clock.now += p.window - 0.1  # a window after the slots, not yet after the answers
    assert p.busy == 1.0
    clock.now += 0.5
    assert p.busy == 0.0
    p.settled(first)  # settling again, or a slot already gone, changes nothing
    assert p.busy == 0.0
