"""Paid broadcasts as an editor's choice (issue #12): the preview says what each way takes and
costs, the chosen way is how the flash goes, a refusal to charge turns it free without losing
a message, and /stats counts the paid messages and their Stars."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest

from bot import jobs, pipeline
from bot.delivery.paying import Paying
from bot.delivery.verdict import Verdict, classify, refuses_payment
from bot.i18n import Catalogs
from bot.newsroom import budget
from bot.render import flashes as view
from storage import broadcasts, outbox
from storage.types import (
    Body,
    BroadcastState,
    ChatType,
    DeliveryState,
    Payload,
    Pending,
    Priority,
    Result,
)
from tests.delivery_kit import audience, story
from tests.fakes.flood import Flood
from tests.fakes.telegram import FakeTelegram
from tests.kit import OWNER, Kit, eventually, started
from tests.test_newsroom import alive, controls_id, press, preview
from tests.ukrainian import assert_ukrainian

FREE, PAID = 10, 200  # messages a second: the fake enforces both windows


def paid_delivery(mode: str) -> dict[str, object]:
    """Paid broadcasts on (`mode`), at the rates the fake enforces, with Telegram's own
    interval for private chats (the test kit's is shorter)."""
    return {
        "messages_per_second": FREE, "paid_broadcast": mode, "paid_messages_per_second": PAID,
        "private_chat_interval": 1.0,
    }  # fmt: skip


@pytest.fixture
async def paid_room(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Kit]:
    """A newsroom whose flashes may go paid: free 10/s, paid 200/s, 0.1 ⭐ a message."""
    tg.flood = Flood(per_second=FREE, paid_per_second=PAID)
    delivery = paid_delivery("breaking")
    async with started(tg, tmp_path, telegram={"owners": [OWNER]}, delivery=delivery) as k:
        yield k


def flashes_sent(kit: Kit, text: str) -> list[dict[str, object]]:
    return [
        c.params
        for c in kit.tg.calls
        if c.method == "sendMessage" and c.ok and text in str(c.params.get("text"))
    ]


async def test_the_preview_offers_paid_or_free_and_paid_goes_fast_with_the_flag(
    paid_room: Kit,
) -> None:
    kit = paid_room
    editor = kit.owner()
    readers = await audience(kit, 119)  # and the editor's own chat: 120
    controls = await preview(kit, editor, "/breaking Уряд подав у відставку")
    assert "Її отримають 120 чатів" in controls.text
    # 120 × 0.1 ⭐ = 12 ⭐; 120 / 200 per second: 1 s; 120 / 10 per second: 12 s.
    assert "Платно: ≈ 12 ⭐, 1 с — або безплатно: 12 с." in controls.text
    assert [[b["text"] for b in row] for row in controls.keyboard] == [
        ["⭐ Надіслати платно", "⭐ Платно, без звуку"],
        ["Надіслати безплатно", "Безплатно, без звуку"],
        ["Скасувати"],
    ]
    assert_ukrainian(controls.text)
    await press(editor, controls, "paid")
    await eventually(lambda: len(flashes_sent(kit, "Уряд подав у відставку")) == 121, within=10)
    assert all(len(alive(kit, r)) == 1 for r in readers)
    sent = flashes_sent(kit, "Уряд подав у відставку")
    assert len(sent) == 121  # the 120 chats, and the preview
    assert sum(1 for p in sent if p.get("allow_paid_broadcast")) == 120
    assert kit.tg.flood is not None
    assert kit.tg.flood.rejected == 0
    assert kit.tg.flood.paid_sent == 120
    await eventually(lambda: "готово" in controls.text, within=10)
    audit = (await editor.say("/audit")).text
    assert "підтверджено платно для 120 чатів" in audit
    stats = await editor.say("/stats")
    assert "Платні розсилки за 30 днів" in stats.text
    assert "120 платних повідомлень ≈ 12 ⭐" in stats.text


async def test_free_is_the_free_rate_without_the_flag(paid_room: Kit) -> None:
    kit = paid_room
    editor = kit.owner()
    readers = await audience(kit, 29)
    controls = await preview(kit, editor, "/breaking Новина без грошей")
    await press(editor, controls, "quiet")
    await eventually(lambda: len(flashes_sent(kit, "Новина без грошей")) == 31, within=15)
    assert all(len(alive(kit, r)) == 1 for r in readers)
    sent = flashes_sent(kit, "Новина без грошей")[1:]  # after the preview
    assert len(sent) == 30
    assert not any(p.get("allow_paid_broadcast") for p in sent)
    assert all(p.get("disable_notification") for p in sent)
    assert kit.tg.flood is not None
    assert kit.tg.flood.paid_sent == 0
    assert "0 платних повідомлень ≈ 0 ⭐" in (await editor.say("/stats")).text


async def test_when_telegram_refuses_to_charge_the_flash_goes_on_free_and_the_editor_is_told_once(
    paid_room: Kit,
) -> None:
    kit = paid_room
    kit.tg.paid_budget = 25  # the balance pays for 25 messages, then Telegram refuses
    editor = kit.owner()
    readers = await audience(kit, 79)
    controls = await preview(kit, editor, "/breaking Грошей забракло")
    flash = controls_id(controls)
    await press(editor, controls, "paid")
    await eventually(lambda: len(flashes_sent(kit, "Грошей забракло")) == 81, within=30)
    assert all(len(alive(kit, r)) == 1 for r in readers)
    await eventually(lambda: "готово" in controls.text, within=15)
    sent = flashes_sent(kit, "Грошей забракло")[1:]
    assert len(sent) == 80  # every chat once: nothing lost, nothing twice
    assert sum(1 for p in sent if p.get("allow_paid_broadcast")) == 25
    told = [m for m in alive(kit, editor.chat["id"]) if "відмовився списати зірки" in m.text]
    assert len(told) == 1
    assert f"блискавку #{flash}" in told[0].text
    assert_ukrainian(told[0].text)
    # The report job runs on while the next story goes out: it tells nothing more.
    await pipeline.post_stories(kit.runtime, [await story(kit, "Наступна", {"world"})])
    await eventually(lambda: all(len(alive(kit, r)) == 2 for r in readers), within=20)
    again = [m for m in alive(kit, editor.chat["id"]) if "відмовився списати зірки" in m.text]
    assert len(again) == 1
    assert kit.tg.flood is not None
    assert kit.tg.flood.rejected == 0
    assert "25 платних повідомлень ≈ 3 ⭐" in (await editor.say("/stats")).text


async def test_with_paid_broadcasts_off_the_preview_says_the_time_and_a_forged_paid_tap_is_free(
    room: Kit,
) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 9)
    controls = await preview(kit, editor, "/breaking Тільки безплатно")
    assert "Надсилання триватиме приблизно 1 с." in controls.text
    assert "⭐" not in controls.text
    assert [[b["text"] for b in row] for row in controls.keyboard] == [
        ["Надіслати", "Надіслати без звуку"],
        ["Скасувати"],
    ]
    answer = await press(editor, controls, "paid")  # an old or forged button
    assert answer == "Платні розсилки зараз вимкнено: надсилаю безплатно…"
    await eventually(lambda: all(len(alive(kit, r)) == 1 for r in readers))
    assert not any(p.get("allow_paid_broadcast") for p in flashes_sent(kit, "Тільки безплатно"))
    assert "Платні розсилки" not in (await editor.say("/stats")).text


async def test_with_all_paid_story_posts_go_paid_and_a_refusal_turns_them_free(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.flood = Flood(per_second=FREE, paid_per_second=PAID)
    tg.paid_budget = 5
    delivery = paid_delivery("all")
    async with started(tg, tmp_path, delivery=delivery) as kit:
        readers = await audience(kit, 20)
        await pipeline.post_stories(kit.runtime, [await story(kit, "Для всіх", {"world"})])
        await eventually(lambda: all(len(alive(kit, r)) == 1 for r in readers), within=15)
        sent = flashes_sent(kit, "Для всіх")
        assert len(sent) == 20
        assert sum(1 for p in sent if p.get("allow_paid_broadcast")) == 5
        assert tg.flood.rejected == 0


def test_estimates_round_up_and_read_well() -> None:
    rates = budget.Rates(free_per_second=30, paid_per_second=1000, stars_per_message=0.1)
    cost = budget.estimate(rates, 250_000)
    assert (cost.messages, cost.stars) == (250_000, 25_000)
    assert math.isclose(cost.free_seconds, 250_000 / 30)
    t = Catalogs().get("uk")
    assert view.span(t, cost.free_seconds) == "2 год 19 хв"
    assert view.span(t, cost.paid_seconds or 0) == "5 хв"
    assert view.span(t, 0.2) == "1 с"
    assert view.span(t, 3600) == "1 год"
    assert view.span(t, 12_300_000 / 30) == "4 д 18 год"  # not «113 год 54 хв»
    assert view.span(t, 24 * 3600) == "1 д 0 год"
    assert budget.stars(rates, 1) == 1  # 0.1 ⭐ is charged as a whole Star's worth
    assert budget.stars(rates, 30) == 3  # not 3.0000000000000004 → 4
    assert budget.estimate(budget.Rates(free_per_second=30), 10).stars is None
    en = Catalogs().get("en")
    assert view.span(en, dt.timedelta(hours=2, minutes=19).total_seconds()) == "2 h 19 min"


@pytest.mark.parametrize(
    ("status", "description", "refusal"),
    [
        (400, "Bad Request: BALANCE_TOO_LOW", True),
        (400, "Bad Request: not enough Stars", True),
        (403, "Forbidden: paid broadcasts are not available for the bot", True),
        (402, "Payment Required: STARS_PAYMENT_REQUIRED", True),
        (400, "Bad Request: message thread not found", False),
        (400, "Bad Request: restart the thread", False),
        (403, "Forbidden: bot was blocked by the user", False),
        (400, "Bad Request: ALLOW_PAYMENT_REQUIRED", False),  # the chat's own price
        (429, "Too Many Requests: retry after 5", False),
    ],
)
def test_a_refusal_to_charge_is_told_apart_from_other_refusals(
    status: int, description: str, refusal: bool
) -> None:
    answer = classify(status, {"ok": False, "description": description})
    assert refuses_payment(answer) is refusal
    assert answer.verdict is not Verdict.BLOCKED or not refusal


async def test_a_refusal_is_stored_so_a_restart_keeps_to_the_free_rate(paid_room: Kit) -> None:
    kit = paid_room
    now = kit.runtime.now()
    item = await outbox.put_item(
        kit.db, kind="flash", key="x", priority=Priority.BREAKING,
        payload=Payload({}), now=now, paid=True,
    )  # fmt: skip
    assert await outbox.paid_choice(kit.db, item) is True
    await outbox.unpay(kit.db, item, now)
    assert await outbox.paid_choice(kit.db, item) is False
    assert await outbox.paid_since(kit.db, (now - dt.timedelta(days=1)).date()) == 0


async def test_paid_counts_are_kept_by_day_and_forgotten_after_a_year(paid_room: Kit) -> None:
    """The counts /stats reads are stored with the outcomes (the same commit), one row a day,
    and the daily prune forgets those older than `[storage] audit_keep_days`."""
    db = paid_room.db
    now = paid_room.runtime.now()
    long_ago = now - dt.timedelta(days=400)
    sent = DeliveryState.SENT
    await outbox.record(
        db,
        [
            Result(1, sent, 1, sent_at=now, paid=1),
            Result(2, sent, 1, sent_at=now, paid=2),
            Result(3, sent, 1, sent_at=now),  # free
            Result(4, sent, 1, sent_at=long_ago, paid=5),
        ],
    )
    await outbox.record(db, [Result(5, sent, 1, sent_at=now, paid=1)])
    assert await outbox.paid_since(db, now.date()) == 4
    assert await outbox.paid_since(db, long_ago.date()) == 9
    await jobs.prune(SimpleNamespace(runtime=paid_room.runtime))  # type: ignore[arg-type]
    assert await outbox.paid_since(db, long_ago.date()) == 4


async def test_a_refusal_between_the_parts_of_a_message_sends_each_part_once(
    paid_room: Kit,
) -> None:
    """Part one went paid, Telegram refuses to charge for part two: part two goes again,
    free, and part one is not repeated; the paid count is the one part Telegram charged."""
    kit = paid_room
    kit.tg.paid_budget = 1
    [chat] = await audience(kit, 1)
    now = kit.runtime.now()
    parts = Payload({"uk": (Body("Частина перша"), Body("Частина друга"))})
    item = await outbox.put_item(
        kit.db, kind="flash", key="parts", priority=Priority.BREAKING, payload=parts, now=now,
        paid=True,
    )  # fmt: skip
    await outbox.add(kit.db, item, Priority.BREAKING, [(chat, False)], now)
    kit.runtime.notify()
    await eventually(lambda: len(alive(kit, chat)) == 2, within=10)
    assert [m.text for m in alive(kit, chat)] == ["Частина перша", "Частина друга"]
    tried = [(c.params.get("text"), bool(c.params.get("allow_paid_broadcast")), c.ok)
             for c in kit.tg.calls if "Частина" in str(c.params.get("text"))]  # fmt: skip
    assert tried == [
        ("Частина перша", True, True),
        ("Частина друга", True, False),  # refused: no Stars left
        ("Частина друга", False, True),
    ]

    async def counted() -> bool:  # the outcome is stored up to a second after the send
        sent = (await outbox.counts(kit.db, item))[DeliveryState.SENT] == 1
        return sent and await outbox.paid_since(kit.db, now.date()) == 1

    await eventually(counted)


async def test_after_a_refusal_the_paid_lanes_rest_and_a_restart_keeps_the_refusal(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.flood = Flood(per_second=FREE, paid_per_second=PAID)
    tg.paid_budget = 0  # no Stars at all
    delivery = paid_delivery("all")
    async with started(tg, tmp_path, delivery=delivery) as kit:
        readers = await audience(kit, 10)
        await pipeline.post_stories(kit.runtime, [await story(kit, "Перша", {"world"})])
        await eventually(lambda: all(len(alive(kit, r)) == 1 for r in readers), within=15)
        refused = [c for c in tg.calls if not c.ok and "BALANCE" in c.error.description]  # type: ignore[union-attr]
        assert 1 <= len(refused) <= kit.config.delivery.concurrency
        await pipeline.post_stories(kit.runtime, [await story(kit, "Друга", {"world"})])
        await eventually(lambda: all(len(alive(kit, r)) == 2 for r in readers), within=15)
        again = [c for c in tg.calls if not c.ok and "BALANCE" in c.error.description]  # type: ignore[union-attr]
        assert again == refused  # the lanes rest: the second story tried no paid send
    # A new engine (a restart) reads the refusal from the item, whatever its lane says.
    paying = Paying(kit.db, frozenset({Priority.STORY}), kit.runtime.now, on=True)
    row = Pending(
        id=0, item_id=1, chat_id=readers[0], chat_type=ChatType.PRIVATE, language="uk",
        priority=Priority.STORY, silent=False, attempts=0, next_attempt=kit.runtime.now(),
    )  # fmt: skip
    assert not await paying.is_paid(row)
    assert await paying.is_paid(replace(row, item_id=10_000))  # an item never refused


async def test_an_editor_who_cannot_be_told_is_not_asked_again(paid_room: Kit) -> None:
    kit = paid_room
    kit.tg.paid_budget = 0
    editor = kit.owner()
    await audience(kit, 5)
    controls = await preview(kit, editor, "/breaking Нікому сказати")
    flash_id = controls_id(controls)
    kit.tg.blocked_by.add(editor.chat["id"])  # the editor blocks the bot before it is told
    await press(editor, controls, "paid")
    tries = lambda: [  # noqa: E731
        c for c in kit.tg.calls
        if c.method == "sendMessage" and "списати зірки" in str(c.params.get("text"))
    ]  # fmt: skip

    async def done() -> bool:
        flash = await broadcasts.get(kit.db, flash_id)
        return flash is not None and flash.state is BroadcastState.DONE

    await eventually(done, within=20)  # report runs after the one that tried to tell
    await eventually(lambda: len(tries()) >= 1, within=10)
    flash = await broadcasts.get(kit.db, flash_id)
    assert flash is not None
    assert flash.paid_refused is not None
    assert await broadcasts.untold_refusals(kit.db) == []
    assert len(tries()) == 1


async def test_a_preview_for_nobody_estimates_nothing(paid_room: Kit) -> None:
    kit = paid_room
    editor = kit.owner()
    controls = await preview(kit, editor, "/breaking #culture Нікому")
    assert "Її отримають 0 чатів" in controls.text
    assert "⭐," not in controls.text
    assert "Надсилання триватиме" not in controls.text


async def test_a_429_to_a_paid_message_holds_the_paid_window(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    """Telegram allows fewer paid messages than the bot was told (here 50/s against 200/s):
    its first 429 holds the paid window, instead of the paid lane sending on into the
    `retry_after` (issue #12's million benchmark: one 429, then ~950)."""
    tg.flood = Flood(per_second=FREE, paid_per_second=50)
    delivery = paid_delivery("breaking")
    async with started(tg, tmp_path, delivery=delivery) as kit:
        readers = await audience(kit, 300)
        now = kit.runtime.now()
        item = await outbox.put_item(
            kit.db, kind="flash", key="fast", priority=Priority.BREAKING,
            payload=Payload({"uk": (Body("Швидко"),)}), now=now, paid=True,
        )  # fmt: skip
        await outbox.add(kit.db, item, Priority.BREAKING, [(c, False) for c in readers], now)
        kit.runtime.notify()
        await eventually(lambda: all(len(alive(kit, r)) == 1 for r in readers), within=30)
        assert tg.flood.ignored <= 5  # sent into a running retry_after
        assert tg.flood.rejected <= 15
