"""/sections with its buttons, /subscribe and /unsubscribe in a private chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from storage import subscriptions
from storage.types import Mode
from tests.fakes.telegram import FakeTelegram
from tests.kit import Kit, started


async def test_tapping_toggles_and_edits_in_place(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/sections")
    assert message.text.startswith("Розділи\nПідписок поки немає.")
    answer = await reader.tap(message, "Війна")
    assert answer["text"] == "✅ Підписано: «Війна»"
    await reader.edited(message)
    assert "Ви підписані на 1 розділ." in message.text
    assert message.button("Війна")["text"] == "✅ Війна"
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == {"war"}
    answer = await reader.tap(message, "Війна")
    assert answer["text"] == "Відписано: «Війна»"
    await reader.edited(message)
    assert message.button("Війна")["text"] == "➕ Війна"
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == frozenset()


@pytest.mark.parametrize(
    ("typed", "slug"),
    [
        ("світ", "world"),
        ("СВІТ", "world"),
        ("world", "world"),
        ("World", "world"),
        ("#economy", "economy"),
        ("наука і техніка", "science"),
        ("Science & Tech", "science"),
    ],
)
async def test_subscribe_by_slug_or_title(kit: Kit, typed: str, slug: str) -> None:
    reader = kit.reader()
    message = await reader.say(f"/subscribe {typed}")
    assert message.text.startswith("✅ Підписано: «")
    # Durable before the answer: the reply came, so the row is there.
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == {slug}


async def test_subscribe_several_and_again(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/subscribe світ, economy культура")
    assert message.text.startswith("✅ Підписано: «Світ», «Економіка», «Культура».\n\n")
    again = await reader.say("/subscribe світ war")
    assert again.text.startswith("✅ Підписано: «Війна».\nУже є в підписках: «Світ».\n\n")


async def test_subscribe_hints(kit: Kit) -> None:
    reader = kit.reader()
    usage = await reader.say("/subscribe")
    assert usage.text.startswith("Який розділ? Наприклад: /subscribe світ")
    assert "Розділи: Україна, Світ, Економіка" in usage.text
    unknown = await reader.say("/subscribe спорт <b>&")
    assert unknown.text.startswith("Не знайдено: «спорт», «<b>&».")
    assert "Економіка" in unknown.text
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == frozenset()


async def test_unsubscribe(kit: Kit) -> None:
    reader = kit.reader()
    await reader.say("/subscribe world economy war")
    one = await reader.say("/unsubscribe Світ культура")
    assert one.text == "Відписано: «Світ».\nНе було в підписках: «Культура»."
    everything = await reader.say("/unsubscribe усі")
    assert everything.text == "Ви відписалися від 2 розділів."
    nothing = await reader.say("/unsubscribe all")
    assert nothing.text == "Скасовувати нічого: підписок не було."
    usage = await reader.say("/unsubscribe")
    assert "/unsubscribe усі" in usage.text
    unknown = await reader.say("/unsubscribe марс")
    assert unknown.text.startswith("Не знайдено: «марс».")


async def test_english_replies(kit: Kit) -> None:
    reader = kit.reader("Ann", "en")
    subscribed = await reader.say("/subscribe світ")
    assert subscribed.text.startswith("✅ Subscribed to «World».\n\nWorld\nNo stories in this")
    assert (await reader.say("/unsubscribe all")).text == "Unsubscribed from 1 section."
    message = await reader.say("/sections")
    assert message.text.startswith("Sections\nNo subscriptions yet.")


async def test_stale_and_forged_buttons(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/sections")
    gone = await reader.tap(message, "", data="sec:sport")
    assert gone == gone | {"text": "Цього розділу більше немає.", "show_alert": True}
    forged = await reader.tap(message, "", data="drop table")
    assert forged["text"] == "Ця кнопка вже не діє. Надішліть команду ще раз."
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == frozenset()


async def test_ukrainian_plurals(tg: FakeTelegram, tmp_path: Path) -> None:
    many = [
        {"slug": f"s{i}", "title": {"uk": f"Розділ {i}", "en": f"Section {i}"}} for i in range(25)
    ]
    async with started(tg, tmp_path, sections=many) as kit:
        reader = kit.reader()
        expected = {
            1: "1 розділ",
            2: "2 розділи",
            5: "5 розділів",
            11: "11 розділів",
            21: "21 розділ",
            22: "22 розділи",
        }
        subscribed = 0
        for n, words in expected.items():
            names = " ".join(f"s{i}" for i in range(subscribed, n))
            await reader.say(f"/subscribe {names}")
            subscribed = n
            message = await reader.say("/sections")
            assert f"Ви підписані на {words}." in message.text
        assert (await reader.say("/unsubscribe all")).text == "Ви відписалися від 22 розділів."
        await reader.say(
            "/subscribe s1 s2 s3 s4 s5 s6 s7 s8 s9 s10 s11 s12 s13 s14 s15 s16 s17 s18 s19 s20 s21"
        )
        assert (await reader.say("/unsubscribe all")).text == "Ви відписалися від 21 розділу."


async def test_no_sections_configured(tg: FakeTelegram, tmp_path: Path) -> None:
    async with started(tg, tmp_path, sections=[]) as kit:
        message = await kit.reader().say("/sections")
        assert message.text == "Редакція ще не налаштувала жодного розділу."
        assert message.keyboard == []


async def test_a_sections_mode_is_switched_by_its_button(kit: Kit) -> None:
    reader = kit.reader()
    await reader.say("/subscribe світ")
    message = await reader.say("/sections")
    assert "⚡ — кожна новина одразу" in message.text
    answer = await reader.tap(message, "У дайджестах")
    assert answer["text"] == "⚡ Світ: кожна новина одразу"
    await reader.edited(message)
    assert [b["text"] for b in message.keyboard[1]] == ["✅ Світ", "⚡ Одразу"]
    assert await subscriptions.modes_of_chat(kit.db, reader.chat["id"]) == {"world": Mode.INSTANT}
    answer = await reader.tap(message, "Одразу")
    assert answer["text"] == "🗞 Світ: лише в дайджестах"
    # A stale button (an older message still offering ⚡) switches to what it offers, and
    # its message is redrawn as things are; tapping it twice changes nothing more.
    stale = await reader.say("/sections")
    await reader.tap(stale, "У дайджестах")
    await reader.edited(stale)
    assert (await reader.tap(stale, "Одразу"))["text"] == "🗞 Світ: лише в дайджестах"
    await reader.edited(stale)
    old = kit.tg.messages[(reader.chat["id"], stale.message_id)]
    assert await subscriptions.modes_of_chat(kit.db, reader.chat["id"]) == {"world": Mode.DIGEST}
    old_instant = "mode:world:i"
    answer = await reader.tap(old, "", data=old_instant)
    assert answer["text"] == "⚡ Світ: кожна новина одразу"
    answer = await reader.tap(old, "", data=old_instant)
    assert answer["text"] == "⚡ Світ: кожна новина одразу"
    assert await subscriptions.modes_of_chat(kit.db, reader.chat["id"]) == {"world": Mode.INSTANT}
    answer = await reader.tap(old, "", data="mode:world")  # a button from before: it flips
    assert answer["text"] == "🗞 Світ: лише в дайджестах"
    direct = await reader.say("/subscribe економіка одразу")
    assert direct.text == (
        "✅ Підписано: «Економіка».\n\nЕкономіка\nУ цьому розділі ще немає новин.\n"
        "⚡ Новини розділу надходитимуть сюди, щойно їх опублікують."
    )
    switched = await reader.say("/subscribe світ одразу")
    assert switched.text == "✅ Підписано: «Світ».\n⚡ Світ: кожна новина одразу"
