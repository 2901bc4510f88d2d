"""Fair service: one chat's flood, 429 or slow command never delays another chat's answers;
a chat's own answers keep its order; a chat or user that floods is told once, then ignored."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.app import HANDLERS_AT_ONCE as HANDLERS
from bot.app import STOP_GRACE
from bot.delivery.pacer import JITTER, PRIVATE_BURST, Pacer
from bot.throttle import Throttle, Verdict
from bot.updates import QUEUE_LIMIT, FairUpdates
from storage import subscriptions
from tests.fakes.flood import Flood
from tests.fakes.rules import ApiError
from tests.fakes.telegram import FakeTelegram
from tests.kit import Kit, eventually, started

HELP_UK = "Вісник надсилає новини редакції в цей чат."
NOTICE_UK = "⏳ Забагато запитів за короткий час."


def texts_to(kit: Kit, chat_id: int) -> list[str]:
    return [m.text for m in kit.sent_to(chat_id)]


async def test_a_flooding_group_member_delays_no_one_else(tg: FakeTelegram, tmp_path: Path) -> None:
    tg.flood = Flood(per_second=30, group_per_minute=20)
    async with started(tg, tmp_path) as kit:
        member = kit.people.person("Петро")
        group = kit.people.group("Громада", members=(member,))
        flooder = kit.people.talk(group, member)
        for _ in range(22):
            await flooder.send("/help")
        # The group's minute holds 20 messages: those go now, the last two wait their minute.
        await eventually(lambda: len(kit.sent_to(group["id"])) == 20)
        reader = kit.reader()
        answer = await reader.say("/help")  # answered at once, not after the group's minute
        assert HELP_UK in answer.text
        assert len(kit.sent_to(group["id"])) == 20
    assert tg.flood.rejected == 0  # no 429, for the group or anyone


async def test_a_chat_that_floods_is_told_once_then_ignored(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    throttle = {"updates": 5, "seconds": 60, "pause": 300}
    async with started(tg, tmp_path, throttle=throttle) as kit:
        flooder = kit.reader()
        sections = await flooder.say("/sections")
        for _ in range(11):
            await flooder.send("/help")
        chat = flooder.chat["id"]
        await eventually(lambda: len(kit.sent_to(chat)) == 6)
        other = kit.reader("Ann", "en")
        assert (await other.say("/help")).text.startswith("Visnyk sends")
        texts = texts_to(kit, chat)
        assert [HELP_UK in t for t in texts] == [False] + [True] * 4 + [False]
        assert texts[-1] == (
            "⏳ Забагато запитів за короткий час. Протягом 5 хвилин я на них не відповідатиму."
        )
        # Taps are ignored too: no answer, no edit.
        mark = len(tg.calls)
        await kit.people.tap(sections, "Світ", flooder.user)
        await other.say("/help")  # handled after the tap was looked at
        assert [c.method for c in tg.calls[mark:] if c.params.get("chat_id") == chat] == []
        assert not [c for c in tg.calls[mark:] if c.method == "answerCallbackQuery"]
        assert sections.edits == 0


async def test_one_member_flooding_a_group_does_not_mute_the_group(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    throttle = {"updates": 4, "seconds": 60, "pause": 60}
    async with started(tg, tmp_path, throttle=throttle) as kit:
        flooder, neighbour = kit.people.person("Петро"), kit.people.person("Ірина")
        group = kit.people.group("Громада", members=(flooder, neighbour))
        loud = kit.people.talk(group, flooder)
        for _ in range(8):
            await loud.send("/help")
        await eventually(lambda: any(NOTICE_UK in t for t in texts_to(kit, group["id"])))
        answer = await kit.people.talk(group, neighbour).say("/help")
        assert HELP_UK in answer.text
        # Another bot's commands are not the bot's business and cost nothing.
        for _ in range(20):
            await kit.people.talk(group, neighbour).send("/help@other_bot")
        assert HELP_UK in (await kit.people.talk(group, neighbour).say("/help")).text


async def test_a_429_holds_only_its_chat(tg: FakeTelegram, tmp_path: Path) -> None:
    tg.flood = Flood()
    async with started(tg, tmp_path) as kit:
        held, other = kit.reader(), kit.reader("Ann", "en")
        tg.script(
            ApiError(429, "Too Many Requests: retry after 2", {"retry_after": 2}),
            chat_id=held.chat["id"],
        )
        await held.send("/help")
        refused = await tg.wait_for(lambda c: c.method == "sendMessage" and not c.ok)
        answer = await other.say("/help")  # not behind the other chat's two seconds
        late = await held.next_message()
        calls = [c for c in tg.calls if c.method == "sendMessage" and c.ok]
        first_other = next(c for c in calls if c.params["chat_id"] == other.chat["id"])
        retried = next(c for c in calls if c.params["chat_id"] == held.chat["id"])
        assert first_other.index < retried.index
        assert retried.at - refused.at >= 2.0  # the hold was obeyed for that chat
        assert answer.text.startswith("Visnyk sends")
        assert HELP_UK in late.text
    assert tg.flood.ignored == 0  # nothing was sent into the hold


async def test_a_reply_held_for_long_is_given_up_quietly(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with started(tg, tmp_path) as kit:
        held = kit.reader()
        tg.script(
            ApiError(429, "Too Many Requests: retry after 900", {"retry_after": 900}),
            chat_id=held.chat["id"],
        )
        await held.send("/help")
        await eventually(lambda: "reply given up" in caplog.text)
        assert (await kit.reader("Ann", "en").say("/help")).text.startswith("Visnyk sends")
    # Neither a retry into the hold nor an apology (which would only wait for it too).
    assert [c.ok for c in tg.calls if c.params.get("chat_id") == held.chat["id"]] == [False]


async def test_a_slow_command_delays_only_its_own_chat_and_order_is_kept(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    slow, quick = kit.reader(), kit.reader("Ann", "en")
    release = asyncio.Event()
    real = subscriptions.modes_of_chat

    async def stuck(db: object, chat_id: int) -> object:
        if chat_id == slow.chat["id"]:
            await release.wait()
        return await real(db, chat_id)  # type: ignore[arg-type]

    monkeypatch.setattr(subscriptions, "modes_of_chat", stuck)
    await slow.send("/sections")
    await slow.send("/help")
    assert (await quick.say("/help")).text.startswith("Visnyk sends")
    assert texts_to(kit, slow.chat["id"]) == []  # /help waits for /sections: its chat's order
    release.set()
    await eventually(lambda: len(texts_to(kit, slow.chat["id"])) == 2)
    first, second = texts_to(kit, slow.chat["id"])
    assert first.startswith("Розділи")
    assert HELP_UK in second


async def test_stopping_does_not_wait_for_a_reply_held_by_a_limit(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.flood = Flood(group_per_minute=20)
    # Two replies wait for the group's next minute; stopping lets them go after STOP_GRACE.
    async with asyncio.timeout(STOP_GRACE + 8), started(tg, tmp_path) as kit:
        member = kit.people.person("Петро")
        group = kit.people.group("Громада", members=(member,))
        for _ in range(22):
            await kit.people.talk(group, member).send("/help")
        await eventually(lambda: len(kit.sent_to(group["id"])) == 20)
    assert tg.flood.rejected == 0


# ---- the parts, with a hand-turned clock ---------------------------------------------------


def test_throttle_counts_a_window_tells_once_and_pauses() -> None:
    throttle = Throttle(limit=3, window=10, pause=60)
    verdicts = [throttle.check(1, 1, now) for now in (0, 1, 2, 3, 4)]
    assert verdicts == [Verdict.ALLOW] * 3 + [Verdict.NOTICE, Verdict.DROP]
    assert throttle.check(1, 1, 62) is Verdict.DROP  # 3 + 60: still paused
    assert throttle.check(1, 1, 64) is Verdict.ALLOW
    assert throttle.check(2, 2, 4) is Verdict.ALLOW  # other chats never noticed anything


def test_throttle_spreads_out_over_the_window() -> None:
    throttle = Throttle(limit=3, window=10, pause=60)
    assert all(throttle.check(1, 1, t * 4.0) is Verdict.ALLOW for t in range(100))


def test_a_group_is_muted_only_past_several_members() -> None:
    throttle = Throttle(limit=2, window=10, pause=60)
    group = -100
    assert [throttle.check(7, group, t) for t in (0, 1, 2)][-1] is Verdict.NOTICE
    assert throttle.check(8, group, 3) is Verdict.ALLOW  # the group goes on
    assert throttle.check(None, 9, 3) is Verdict.ALLOW  # an anonymous sender counts for its chat


def test_throttle_forgets_idle_senders() -> None:
    throttle = Throttle(limit=3, window=10, pause=60)
    for user in range(1000):
        throttle.check(user, user, 0)
    throttle.check(5000, 5000, 100)
    assert len(throttle._seen) == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_replies_may_burst_in_a_private_chat_broadcasts_may_not() -> None:
    clock = Clock()
    p = Pacer(per_second=30, private_interval=1.0, group_per_minute=20, clock=clock)
    for _ in range(PRIVATE_BURST):
        assert p.chat_ready_at(42, burst=True) <= clock.now
        p.note(42)
    interval = 1.01 + JITTER
    assert p.chat_ready_at(42, burst=True) == pytest.approx(1000.0 + interval)
    assert p.chat_ready_at(42) == pytest.approx(1000.0 + interval)
    clock.now += 2 * interval  # two messages' worth of the burst came back
    p.note(42)
    assert p.chat_ready_at(42, burst=True) <= clock.now
    assert p.chat_ready_at(42) == pytest.approx(clock.now + interval)


def test_a_429_long_after_another_holds_only_its_chat() -> None:
    clock = Clock()
    p = Pacer(per_second=30, private_interval=1.0, group_per_minute=20, clock=clock)
    p.hold(60, chat_id=7)
    clock.now += 10  # chat 7 is still held, but not "at once" with the next one
    p.hold(3, chat_id=8)
    assert p._hold_until == 0.0
    assert p.chat_ready_at(8) == pytest.approx(clock.now + 3.05)


async def test_many_chats_waiting_out_their_minute_hold_nobody_back(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """More chats than there are places for updates at work, each with a reply waiting for its
    group's minute: the waits give their places up, and a reader elsewhere is answered."""
    tg.flood = Flood(group_per_minute=1)
    async with started(tg, tmp_path, delivery={"group_messages_per_minute": 1}) as kit:
        members = [kit.people.person(f"Учасник {i}") for i in range(HANDLERS + 6)]
        groups = [kit.people.group(f"Група {i}", members=(m,)) for i, m in enumerate(members)]
        for group, member in zip(groups, members, strict=True):
            for _ in range(2):  # the second reply waits a minute
                await kit.people.talk(group, member).send("/help")
        await eventually(lambda: all(kit.sent_to(g["id"]) for g in groups), within=15)
        answer = await kit.reader("Ann", "en").say("/help")
        assert answer.text.startswith("Visnyk sends")
    assert tg.flood.rejected == 0


async def test_a_chat_with_too_many_updates_waiting_has_the_rest_dropped(
    tg: FakeTelegram, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tg.flood = Flood(group_per_minute=1)
    async with started(
        tg, tmp_path, delivery={"group_messages_per_minute": 1}, throttle={"updates": 1000}
    ) as kit:
        member = kit.people.person("Петро")
        group = kit.people.group("Балакуча", members=(member,))
        talk = kit.people.talk(group, member)
        for _ in range(QUEUE_LIMIT + 20):  # the second reply waits a minute; the rest queue
            await talk.send("/help")
        await eventually(lambda: "its chat has too many waiting" in caplog.text)
        assert (await kit.reader("Ann", "en").say("/help")).text.startswith("Visnyk sends")


async def test_messages_no_handler_takes_never_wait_in_a_chats_queue(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """Replies to the bot in a group (privacy mode lets them through) are not commands: they
    are dropped before they could fill the group's queue and crowd out an admin's command."""
    tg.flood = Flood(group_per_minute=1)
    async with started(tg, tmp_path, delivery={"group_messages_per_minute": 1}) as kit:
        member = kit.people.person("Петро")
        group = kit.people.group("Балакуча", members=(member,))
        talk = kit.people.talk(group, member)
        await talk.send("/help")
        await talk.send("/help")  # waits a minute, holding the group's turn
        for i in range(150):
            await talk.send(f"репліка {i}")
        await kit.reader("Ann", "en").say("/help")  # the updates before it were looked at
        processor = kit.app.update_processor
        assert isinstance(processor, FairUpdates)
        assert processor._turns[group["id"]].users <= 2
