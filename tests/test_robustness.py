"""Nothing a user types makes the bot fail: every input gets an answer Telegram accepts."""

from __future__ import annotations

import pytest

from storage import subscriptions
from storage.errors import StorageError
from tests.kit import Kit

ODD_ARGUMENTS = [
    "",
    "   ",
    "<b>bold</b>",
    "Tom & Jerry <script>alert(1)</script>",
    "&amp; &lt; &#x0;",
    "🇺🇦" * 50,
    "світ" * 1500,
    " ".join(["невідомий"] * 400),
    "s_",
    "'; DROP TABLE chats; --",
    "\u202eRTL\u200b",
    "../../etc/passwd",
    "99999999999999999999999",
    "-1 ² ٣",
    "25:99-99:99",
    'https://x.ua/a?b=1&c="2"',
]
COMMANDS = [
    "/start", "/subscribe", "/unsubscribe", "/language", "/sections", "/help", "/latest",
    "/search", "/digest", "/schedule", "/timezone", "/quiet", "/topic", "/stop",
]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
async def test_odd_arguments_get_a_valid_answer(kit: Kit, command: str) -> None:
    reader = kit.reader()
    for argument in ODD_ARGUMENTS:
        message = await reader.say(f"{command} {argument}".strip())
        assert message.text.strip()
    failed = [c for c in kit.tg.calls if not c.ok]
    assert failed == []


async def test_unknown_command_and_plain_text_in_private(kit: Kit) -> None:
    reader = kit.reader()
    assert (await reader.say("/weather")).text == "Такої команди я не знаю. Дивіться /help."
    assert (await reader.say("привіт")).text == (
        "Я розумію лише команди. Дивіться /help або оберіть розділи: /sections."
    )
    english = kit.reader("Ann", "en")
    assert (await english.say("/weather")).text == "I don't know that command. See /help."


async def test_an_internal_failure_is_answered_and_the_bot_goes_on(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    reader = kit.reader("Ann", "en")
    await reader.say("/help")

    async def broken(*_: object) -> dict[str, object]:
        raise StorageError("database error: disk I/O error")

    with monkeypatch.context() as patch:
        patch.setattr(subscriptions, "modes_of_chat", broken)
        sorry = await reader.say("/sections")
        assert sorry.text == "Something went wrong on our side. Please try again in a minute."
    assert (await reader.say("/sections")).text.startswith("Sections")
