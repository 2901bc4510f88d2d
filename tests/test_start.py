"""/start, deep links and /help, in Ukrainian and English."""

from __future__ import annotations

from storage import chats, subscriptions
from tests.kit import Kit


async def test_start_greets_registers_and_shows_sections(kit: Kit) -> None:
    reader = kit.reader("Оксана", "uk")
    message = await reader.say("/start")
    assert message.text.startswith("👋 Вітаю, Оксано!")
    assert "Підписок поки немає." in message.text
    assert [b["text"] for b in message.buttons()] == [
        "➕ Україна",
        "➕ Світ",
        "➕ Економіка",
        "➕ Війна",
        "➕ Культура",
        "➕ Наука і техніка",
    ]
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert (chat.language, chat.type.value, chat.status.value) == ("uk", "private", "active")


async def test_start_in_english(kit: Kit) -> None:
    reader = kit.reader("John", "en-GB")
    message = await reader.say("/start")
    assert message.text.startswith("👋 Hello, John!")
    assert "No subscriptions yet." in message.text
    assert "➕ Science & Tech" in [b["text"] for b in message.buttons()]


async def test_language_follows_telegram_and_defaults_to_ukrainian(kit: Kit) -> None:
    german = await kit.reader("Hans", "de").say("/start")
    assert german.text.startswith("👋 Hello, Hans!")
    unknown = await kit.reader("Хтось", None).say("/start")
    assert unknown.text.startswith("👋 Вітаю!")


async def test_welcome_buttons_keep_the_greeting(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/start")
    answer = await reader.tap(message, "Світ")
    assert answer["text"] == "✅ Підписано: «Світ»"
    await reader.edited(message)
    assert message.text.startswith("👋 Вітаю, Оксано!")
    assert "Ви підписані на 1 розділ." in message.text
    assert message.button("Світ")["text"] == "✅ Світ"


async def test_deep_link_subscribes_at_once(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/start s_economy")
    assert "✅ Підписано: «Економіка»." in message.text
    assert message.button("Економіка")["text"] == "✅ Економіка"
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == {"economy"}
    look = await reader.next_message()  # the section's first look follows the greeting
    assert look.text.startswith("Економіка\nУ цьому розділі ще немає новин.")
    again = await reader.say("/start s_economy")
    assert again.text.startswith("👋 З поверненням, Оксано!\nУже є в підписках: «Економіка».")
    assert "🗞 Економіка: лише в дайджестах" in again.text


async def test_unknown_payloads_are_ignored_politely(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/start promo_2026")
    assert message.text.startswith("👋 Вітаю")
    assert "розділу, якого вже немає" not in message.text
    gone = await reader.say("/start s_sport")
    assert "Це посилання веде до розділу, якого вже немає." in gone.text
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == frozenset()


async def test_help_lists_every_command(kit: Kit) -> None:
    uk = await kit.reader().say("/help")
    en = await kit.reader("Ann", "en").say("/help")
    for command in ("/sections", "/subscribe", "/unsubscribe", "/language", "/stop", "/help"):
        assert command in uk.text
        assert command in en.text
    assert "/subscribe <розділ>" in uk.text
    assert "Visnyk sends the newsroom's stories" in en.text
    assert "адміністратори" not in uk.text
