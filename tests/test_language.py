"""/language and the command menus."""

from __future__ import annotations

from storage import chats
from tests.kit import Kit


async def test_command_menus_are_registered_in_both_languages(kit: Kit) -> None:
    uk = kit.tg.commands[("default", "uk")]
    en = kit.tg.commands[("default", "en")]
    default = kit.tg.commands[("default", "")]
    assert [c["command"] for c in uk] == [
        "latest",
        "search",
        "sections",
        "digest",
        "schedule",
        "subscribe",
        "unsubscribe",
        "timezone",
        "quiet",
        "language",
        "help",
        "stop",
    ]
    assert uk == default
    assert uk[0]["description"] == "Останні новини"
    assert en[0]["description"] == "The latest news"


async def test_language_buttons(kit: Kit) -> None:
    reader = kit.reader()
    message = await reader.say("/language")
    assert message.text == "Бот розмовляє українською. Оберіть мову:"
    assert [b["text"] for b in message.buttons()] == ["✓ Українська", "English"]
    answer = await reader.tap(message, "English")
    assert answer["text"] == "✅ The bot now speaks English."
    await reader.edited(message)
    assert message.text == "✅ The bot now speaks English."
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert chat.language == "en"
    # The chat's own menu follows its choice, whatever the Telegram app's language.
    menu = kit.tg.commands[(f"chat:{reader.chat['id']}", "")]
    assert menu[0]["description"] == "The latest news"
    assert (await reader.say("/sections")).text.startswith("Sections")


async def test_language_argument(kit: Kit) -> None:
    reader = kit.reader("Ann", "en")
    assert (await reader.say("/language українська")).text == "✅ Тепер бот розмовляє українською."
    assert (await reader.say("/language EN")).text == "✅ The bot now speaks English."
    hint = await reader.say("/language klingon")
    assert hint.text == "Unknown language. Use /language ukrainian or /language english."
    assert (await reader.say("/language")).text == "The bot speaks English. Choose a language:"
