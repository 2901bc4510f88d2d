"""/stop: confirmation, then everything about the chat is gone."""

from __future__ import annotations

from storage import chats, subscriptions
from tests.kit import Kit


async def test_cancel_keeps_everything(kit: Kit) -> None:
    reader = kit.reader()
    await reader.say("/subscribe світ")
    question = await reader.say("/stop")
    assert (
        question.text
        == "Відписатися від усього й видалити дані цього чату? Цю дію не можна скасувати."
    )
    await reader.tap(question, "Скасувати")
    await reader.edited(question)
    assert question.text == "Нічого не змінено: підписки лишилися як були."
    assert question.keyboard == []
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == {"world"}


async def test_confirm_deletes_the_chat(kit: Kit) -> None:
    reader = kit.reader("Ann", "en")
    await reader.say("/language en")
    await reader.say("/subscribe world economy")
    question = await reader.say("/stop")
    await reader.tap(question, "Yes, delete")
    await reader.edited(question)
    assert question.text == (
        "Done: no more news here, and this chat's data is deleted. Send /start to come back."
    )
    assert await chats.get(kit.db, reader.chat["id"]) is None
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == frozenset()
    await kit.tg.wait_for(lambda c: c.method == "deleteMyCommands", after=reader.mark)
    assert (f"chat:{reader.chat['id']}", "") not in kit.tg.commands
    # Coming back starts afresh.
    welcome = await reader.say("/start")
    assert "No subscriptions yet." in welcome.text
