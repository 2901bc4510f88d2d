"""A reader's first minutes: a new section's latest headlines, when the next digest comes, and
the button that brings its stories at once; /start for a returning reader."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import pipeline
from bot.callbacks import InstantTap, encode
from bot.i18n import Catalogs
from bot.render import arrival, visible_length
from storage import subscriptions
from storage.types import Article, Mode, Section
from tests.delivery_kit import story
from tests.fakes.people import Conversation
from tests.fakes.telegram import BotMessage
from tests.kit import Kit

KYIV = ZoneInfo("Europe/Kyiv")
UK, EN = Catalogs().get("uk"), Catalogs().get("en")


def kyiv(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=KYIV).astimezone(dt.UTC)  # type: ignore[misc]


FRIDAY_MORNING = kyiv(2026, 11, 27, 10, 0)  # UTC+2; digests at 08:00 and 20:00 by default
FRIDAY_NIGHT = kyiv(2026, 11, 27, 21, 0)
NEXT_TONIGHT = "Наступний дайджест — сьогодні о 20:00."
WORLD_TONIGHT = "Новини розділу «Світ» надійдуть у дайджесті — сьогодні о 20:00."
INSTANT_BUTTON = "⚡ Світ: надсилати одразу"
NOW_INSTANT = "⚡ Світ: відтепер кожна новина надходитиме сюди одразу після публікації."


async def newsroom(kit: Kit, now: dt.datetime = FRIDAY_MORNING) -> None:
    """Four stories in Світ (the oldest of them from yesterday), one newer in Економіка."""
    kit.runtime.clock = lambda: now
    hour = dt.timedelta(hours=1)
    await story(kit, "Саміт у Брюсселі", {"world"}, published=now - 30 * hour)
    await story(kit, "Вибори в Польщі", {"world"}, published=now - 16 * hour)
    await story(kit, "Переговори в Женеві", {"world"}, published=now - 2 * hour)
    await story(kit, "Посли G7 у Києві", {"world"}, published=now - hour / 2)
    await story(kit, "Курс гривні", {"economy"}, published=now - hour / 4)


WORLD_LOOK = [
    "Світ",
    "09:30 · Посли G7 у Києві",
    "08:00 · Переговори в Женеві",
    "вчора, 18:00 · Вибори в Польщі",
]


async def subscribed_by_button(reader: Conversation, title: str) -> BotMessage:
    """Tap `title` in /sections; the list is edited, the first look comes after it."""
    listing = await reader.say("/sections")
    answer = await reader.tap(listing, title)
    assert answer["text"] == f"✅ Підписано: «{title}»"
    await reader.edited(listing)
    assert listing.button(title)["text"] == f"✅ {title}"
    return await reader.next_message()


async def test_a_section_tapped_in_sections_shows_its_latest_and_the_next_digest(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    look = await subscribed_by_button(reader, "Світ")
    assert look.text.splitlines() == [*WORLD_LOOK, "", WORLD_TONIGHT]
    assert [e["type"] for e in look.entities] == ["bold", "text_link", "text_link", "text_link"]
    assert [b["text"] for b in look.buttons()] == [INSTANT_BUTTON]

    answer = await reader.tap(look, "надсилати одразу")
    assert answer["text"] == "⚡ Світ: кожна новина одразу"
    await reader.edited(look)
    assert look.text.splitlines() == [*WORLD_LOOK, "", WORLD_TONIGHT, "", NOW_INSTANT]
    assert look.keyboard == []
    listing = await reader.say("/sections")
    assert [b["text"] for b in listing.keyboard[1]] == ["✅ Світ", "⚡ Одразу"]
    # And so a new story comes at once, as a post.
    await pipeline.post_stories(kit.runtime, [await story(kit, "Термінова новина", {"world"})])
    post = await reader.next_message()
    assert post.text.startswith("Термінова новина\nСвіт")


async def test_the_button_sets_instant_and_a_second_tap_changes_nothing(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    look = await reader.say("/subscribe світ")
    await reader.tap(look, "надсилати одразу")
    await reader.edited(look)
    # The same data again (a slow double tap): still instant, not flipped back, no edit.
    again = await reader.tap(look, "", data="now:world")
    assert again["text"] == "⚡ Світ: кожна новина одразу"
    modes = await subscriptions.modes_of_chat(kit.db, reader.chat["id"])
    assert modes == {"world": Mode.INSTANT}
    assert look.edits == 1


async def test_subscribe_answers_with_the_first_look(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    message = await reader.say("/subscribe світ")
    assert message.text.splitlines() == [
        "✅ Підписано: «Світ».", "", *WORLD_LOOK, "", WORLD_TONIGHT,
    ]  # fmt: skip
    assert [b["text"] for b in message.buttons()] == [INSTANT_BUTTON]
    # Already subscribed: nothing new to look at.
    again = await reader.say("/subscribe світ")
    assert again.text == "Уже є в підписках: «Світ»."
    assert again.keyboard == []
    gone = await reader.say("/unsubscribe світ")
    assert gone.text == "Відписано: «Світ»."
    assert gone.keyboard == []


async def test_several_sections_at_once_share_one_message(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    await reader.say("/subscribe війна")
    message = await reader.say("/subscribe світ економіка війна")
    assert message.text.splitlines() == [
        "✅ Підписано: «Світ», «Економіка».",
        "Уже є в підписках: «Війна».",
        "",
        *WORLD_LOOK,
        "",
        "Економіка",
        "09:45 · Курс гривні",
        "",
        "Новини розділів «Світ», «Економіка» надійдуть у дайджесті — сьогодні о 20:00.",
    ]
    assert [b["text"] for b in message.buttons()] == [
        INSTANT_BUTTON,
        "⚡ Економіка: надсилати одразу",
    ]
    await reader.tap(message, "Економіка")
    await reader.edited(message)
    assert message.text.endswith(
        "⚡ Економіка: відтепер кожна новина надходитиме сюди одразу після публікації."
    )
    assert [b["text"] for b in message.buttons()] == [INSTANT_BUTTON]
    modes = await subscriptions.modes_of_chat(kit.db, reader.chat["id"])
    assert modes == {"world": Mode.DIGEST, "economy": Mode.INSTANT, "war": Mode.DIGEST}


async def test_a_deep_link_subscribes_and_the_first_look_follows(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    greeting = await reader.say("/start s_world")
    assert greeting.text.startswith("👋")
    assert "✅ Підписано: «Світ»." in greeting.text
    look = await reader.next_message()
    assert look.text.splitlines() == [*WORLD_LOOK, "", WORLD_TONIGHT]
    assert [b["text"] for b in look.buttons()] == [INSTANT_BUTTON]


async def test_the_next_digest_is_told_in_the_chats_days_and_zone(kit: Kit) -> None:
    await newsroom(kit, FRIDAY_NIGHT)
    reader = kit.reader()
    tomorrow = await reader.say("/subscribe культура")
    assert tomorrow.text.endswith(
        "Новини розділу «Культура» надійдуть у дайджесті — завтра о 08:00."
    )
    await reader.say("/schedule будні")
    monday = await reader.say("/subscribe science")
    assert monday.text.endswith(
        "Новини розділу «Наука і техніка» надійдуть у дайджесті — у понеділок о 08:00."
    )
    await reader.say("/timezone Europe/London")  # 19:00 there: tonight's 20:00 is still to come
    await reader.say("/schedule щодня")
    tonight = await reader.say("/subscribe війна")
    assert tonight.text.endswith("Новини розділу «Війна» надійдуть у дайджесті — сьогодні о 20:00.")


async def test_a_section_without_stories_says_so(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    message = await reader.say("/subscribe культура")
    assert message.text.splitlines() == [
        "✅ Підписано: «Культура».", "", "Культура", "У цьому розділі ще немає новин.",
        "", "Новини розділу «Культура» надійдуть у дайджесті — сьогодні о 20:00.",
    ]  # fmt: skip
    assert [b["text"] for b in message.buttons()] == ["⚡ Культура: надсилати одразу"]


async def test_with_digests_off_the_button_is_the_way(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    await reader.say("/schedule off")
    message = await reader.say("/subscribe світ")
    assert message.text.endswith(
        "Дайджести в цьому чаті вимкнено, тож новини цього розділу надходитимуть, лише якщо ви "
        "перемкнете його на «одразу» (кнопка нижче) або ввімкнете дайджести командою "
        "/schedule увімк."
    )
    assert "надійдуть у дайджесті" not in message.text
    assert [b["text"] for b in message.buttons()] == [INSTANT_BUTTON]


async def test_an_instant_subscription_needs_no_button(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    message = await reader.say("/subscribe світ одразу")
    assert message.text.splitlines() == [
        "✅ Підписано: «Світ».", "", *WORLD_LOOK,
        "⚡ Новини розділу надходитимуть сюди, щойно їх опублікують.",
    ]  # fmt: skip
    assert message.keyboard == []


async def test_in_english(kit: Kit) -> None:
    await newsroom(kit, FRIDAY_NIGHT)
    reader = kit.reader("Ann", "en")
    message = await reader.say("/subscribe world")
    assert message.text.splitlines() == [
        "✅ Subscribed to «World».", "", "World", "20:30 · Посли G7 у Києві",
        "19:00 · Переговори в Женеві", "05:00 · Вибори в Польщі", "",
        "Stories of the section «World» will come in the digest, tomorrow at 08:00.",
    ]  # fmt: skip
    assert [b["text"] for b in message.buttons()] == ["⚡ World: send stories at once"]


async def test_in_a_group_only_admins_tap_and_forged_taps_change_nothing(kit: Kit) -> None:
    await newsroom(kit)
    admin, member = kit.people.person("Ірина"), kit.people.person("Петро")
    group = kit.people.group("Громада", admins=(admin,), members=(member,))
    by_admin, by_member = kit.people.talk(group, admin), kit.people.talk(group, member)
    look = await by_admin.say("/subscribe світ")
    refused = await by_member.tap(look, "надсилати одразу")
    assert refused == refused | {
        "text": "Змінювати налаштування групи можуть лише її адміністратори.",
        "show_alert": True,
    }
    for data in ("now:sport", "now:war"):  # no such section; one the group does not follow
        forged = await by_admin.tap(look, "", data=data)
        assert forged == forged | {"text": "Цього розділу більше немає.", "show_alert": True}
    assert look.edits == 0
    assert await subscriptions.modes_of_chat(kit.db, group["id"]) == {"world": Mode.DIGEST}
    await by_admin.tap(look, "надсилати одразу")
    await by_admin.edited(look)
    assert await subscriptions.modes_of_chat(kit.db, group["id"]) == {"world": Mode.INSTANT}


async def test_unsubscribing_by_button_shows_nothing_more(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    await reader.say("/subscribe світ")
    listing = await reader.say("/sections")
    await reader.tap(listing, "Світ")
    await reader.edited(listing)
    assert listing.button("Світ")["text"] == "➕ Світ"
    help_message = await reader.say("/help")  # handled after the tap: nothing came between
    assert "/sections" in help_message.text


async def test_a_returning_reader_sees_their_sections(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    first = await reader.say("/start")
    assert first.text.startswith("👋")
    assert "З поверненням" not in first.text
    await reader.say("/subscribe світ")
    await reader.say("/subscribe економіка одразу")
    back = await reader.say("/start")
    assert back.text.splitlines() == [
        "👋 З поверненням, Оксано!",
        "",
        "Ваші підписки:",
        "🗞 Світ: лише в дайджестах",
        "⚡ Економіка: кожна новина одразу",
        "",
        NEXT_TONIGHT,
        "",
        "Натисніть на розділ, щоб підписатися чи відписатися.",
        "⚡ — кожна новина одразу, 🗞 — лише в дайджестах: натисніть, щоб змінити.",
    ]
    assert [b["text"] for b in back.keyboard[1]] == ["✅ Світ", "🗞 У дайджестах"]
    assert [b["text"] for b in back.keyboard[2]] == ["✅ Економіка", "⚡ Одразу"]
    await reader.say("/schedule off")
    off = await reader.say("/start")
    assert (
        "Дайджести вимкнено, тож із розділів 🗞 нічого не надходить: увімкніть дайджести командою "
        "/schedule увімк."
    ) in off.text


async def test_a_returning_readers_deep_link_still_subscribes(kit: Kit) -> None:
    await newsroom(kit)
    reader = kit.reader()
    await reader.say("/subscribe економіка")
    back = await reader.say("/start s_world")
    assert back.text.splitlines()[:5] == [
        "👋 З поверненням, Оксано!",
        "✅ Підписано: «Світ».",
        "",
        "Ваші підписки:",
        "🗞 Світ: лише в дайджестах",
    ]
    look = await reader.next_message()
    assert look.text.splitlines() == [*WORLD_LOOK, "", WORLD_TONIGHT]
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == {"world", "economy"}


# ---- pure rendering ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "uk", "en"),
    [
        (kyiv(2026, 11, 27, 20, 0), "сьогодні о 20:00", "today at 20:00"),
        (kyiv(2026, 11, 28, 8, 0), "завтра о 08:00", "tomorrow at 08:00"),
        (kyiv(2026, 11, 30, 8, 0), "у понеділок о 08:00", "on Monday at 08:00"),
        (kyiv(2026, 12, 2, 8, 30), "у середу о 08:30", "on Wednesday at 08:30"),
        (kyiv(2026, 12, 3, 20, 0), "у четвер о 20:00", "on Thursday at 20:00"),
        (kyiv(2026, 12, 4, 8, 0), "4 грудня о 08:00", "4 December at 08:00"),
        (kyiv(2027, 1, 5, 8, 0), "5 січня 2027 о 08:00", "5 January 2027 at 08:00"),
        # «об одинадцятій», never «о одинадцятій»; English has no such rule.
        (kyiv(2026, 11, 27, 11, 30), "сьогодні об 11:30", "today at 11:30"),
        (kyiv(2026, 11, 30, 11, 0), "у понеділок об 11:00", "on Monday at 11:00"),
        (kyiv(2026, 11, 28, 1, 0), "завтра о 01:00", "tomorrow at 01:00"),
    ],
)
def test_next_digest_in_words(moment: dt.datetime, uk: str, en: str) -> None:
    friday = kyiv(2026, 11, 27, 10, 0)
    assert arrival.next_digest(UK, "uk", moment, friday, KYIV) == uk
    assert arrival.next_digest(EN, "en", moment, friday, KYIV) == en


def test_next_digest_days_are_the_zones_days() -> None:
    # 23:30 in Kyiv is 21:30 in London: Kyiv's "tomorrow" 08:00 is 06:00 of London's tomorrow.
    now = kyiv(2026, 11, 27, 23, 30)
    moment = kyiv(2026, 11, 28, 8, 0)
    assert arrival.next_digest(UK, "uk", moment, now, KYIV) == "завтра о 08:00"
    assert arrival.next_digest(UK, "uk", moment, now, ZoneInfo("Europe/London")) == (
        "завтра о 06:00"
    )
    # Across the spring change (29 March 2026): the night is an hour short, still "tomorrow".
    saturday = kyiv(2026, 3, 28, 21, 0)
    sunday = dt.datetime(2026, 3, 29, 8, 0, tzinfo=KYIV).astimezone(dt.UTC)
    assert arrival.next_digest(UK, "uk", sunday, saturday, KYIV) == "завтра о 08:00"
    assert arrival.next_digest_line(UK, "uk", sunday, saturday, KYIV) == (
        "Наступний дайджест — завтра о 08:00."
    )


def _section(slug: str, title: str) -> Section:
    return Section(1, slug, {"uk": title}, 0, hidden=False)


def _article(title: str, url: str) -> Article:
    now = FRIDAY_MORNING
    return Article(1, url, title, "", None, None, "uk", now, now, ("world",))


def test_a_first_look_escapes_and_fits() -> None:
    hostile = _section("world", "Світ <b>&")
    looks = [
        arrival.FirstLook(
            hostile, Mode.DIGEST, (_article("<i>Заголовок</i> & " + "дуже " * 80, "javascript:x"),)
        )
    ]
    many = [
        arrival.FirstLook(
            _section(f"s{i}", f"Розділ {i}"),
            Mode.DIGEST,
            tuple(
                _article("Довгий заголовок " * 20, f"https://news.example.ua/{j}") for j in range(3)
            ),
        )
        for i in range(12)
    ]
    texts, markup = arrival.first_look(
        UK, "uk", looks + many, upcoming=None, now=FRIDAY_MORNING, zone=KYIV, head="✅"
    )
    assert texts[0].startswith("✅\n\n<b>Світ &lt;b&gt;&amp;</b>\n10:00 · &lt;i&gt;Заголовок")
    assert "javascript" not in texts[0]
    assert all(visible_length(t) <= arrival.FIRST_LOOK_TEXT for t in texts)
    assert len(texts) > 1
    assert texts[-1].endswith("(кнопки нижче) або ввімкнете дайджести командою /schedule увімк.")
    assert markup is not None
    assert [row[0].callback_data for row in markup.inline_keyboard][:2] == ["now:world", "now:s0"]


def test_a_switched_first_look_keeps_the_other_buttons() -> None:
    world, economy = InstantTap("world"), InstantTap("economy")
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("a", callback_data=encode(world))],
         [InlineKeyboardButton("b", callback_data=encode(economy))]]
    )  # fmt: skip
    section = _section("world", "Світ")
    text, kept = arrival.switched(UK, "uk", section, "<b>Світ</b>", markup=markup, data="now:world")
    assert text == "<b>Світ</b>\n\n" + NOW_INSTANT.replace("Світ", "<b>Світ</b>")
    assert kept is not None
    assert [[b.callback_data for b in row] for row in kept.inline_keyboard] == [["now:economy"]]
    assert arrival.switched(UK, "uk", section, "x", markup=kept, data="now:world") is None
    assert arrival.switched(UK, "uk", section, None, markup=markup, data="now:world") is None
