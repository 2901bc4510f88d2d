"""The bot blocked and unblocked, added to and removed from groups."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from storage import chats, subscriptions
from storage.types import ChatStatus
from tests.kit import Kit, eventually


async def status_of(kit: Kit, chat_id: int) -> ChatStatus | None:
    chat = await chats.get(kit.db, chat_id)
    return chat.status if chat else None


async def wait_status(kit: Kit, chat_id: int, status: ChatStatus | None) -> None:
    """Membership updates have no visible reply; wait for the database to show it."""

    async def reached() -> bool:
        return await status_of(kit, chat_id) == status

    await eventually(reached)


async def test_block_and_unblock_keep_subscriptions(kit: Kit) -> None:
    reader = kit.reader()
    await reader.say("/subscribe світ")
    await kit.people.block(reader.user)
    await wait_status(kit, reader.chat["id"], ChatStatus.BLOCKED)
    await kit.people.unblock(reader.user)
    await wait_status(kit, reader.chat["id"], ChatStatus.ACTIVE)
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == {"world"}
    assert (await reader.say("/sections")).button("Світ")["text"] == "✅ Світ"


async def test_blocking_by_an_unknown_user_records_nothing(kit: Kit) -> None:
    stranger = kit.people.person("Незнайомець")
    await kit.people.block(stranger)
    # The next update is handled after the block: by then nothing was recorded.
    reader = kit.reader()
    await reader.say("/help")
    assert await status_of(kit, stranger["id"]) is None


async def test_added_to_a_group_says_hello_removed_marks_left(kit: Kit) -> None:
    admin = kit.people.person("Ірина", "en")
    group = kit.people.group("Community", admins=(admin,), bot_status="left")
    talk = kit.people.talk(group, admin)
    await kit.people.add_bot(group, admin)
    hello = await talk.next_message()
    assert hello.text == (
        "👋 Hello! I am Visnyk: I send the newsroom's stories to this chat.\n"
        "Administrators: choose sections with /sections."
    )
    assert await status_of(kit, group["id"]) is ChatStatus.ACTIVE
    await talk.say("/subscribe world")
    await kit.people.remove_bot(group, admin)
    await wait_status(kit, group["id"], ChatStatus.LEFT)
    # Added again at once: active, subscriptions kept, no second hello (removing and adding a
    # bot in a loop must not spend the group's messages on greetings).
    await kit.people.add_bot(group, admin)
    await wait_status(kit, group["id"], ChatStatus.ACTIVE)
    assert await subscriptions.of_chat(kit.db, group["id"]) == {"world"}
    await kit.people.remove_bot(group, admin)
    await wait_status(kit, group["id"], ChatStatus.LEFT)
    later = kit.runtime.now() + dt.timedelta(minutes=11)
    kit.runtime.clock = lambda: later
    await kit.people.add_bot(group, admin)
    again = await talk.next_message()
    assert again.text.startswith("👋 Hello!")
    assert len([m for m in kit.sent_to(group["id"]) if m.text.startswith("👋")]) == 2


async def test_promotion_is_not_a_new_arrival(kit: Kit) -> None:
    admin = kit.people.person("Ірина")
    group = kit.people.group(admins=(admin,))
    talk = kit.people.talk(group, admin)
    await talk.say("/help")
    before = len(kit.tg.calls)
    await kit.people.change_bot_status(group, admin, "member", "administrator")
    await talk.say("/help")
    assert len(kit.sent_to(group["id"], after=before)) == 1


async def test_a_channel_is_the_newsrooms_only_by_channel_add(
    room: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    """Anyone can make the bot an administrator of their channel: that alone must not make it
    one of the newsroom's (breaking news would go there)."""
    caplog.set_level(logging.INFO)
    kit = room
    editor = kit.owner()
    channel = kit.people.group("Канал", admins=(editor.user,), kind="channel", bot_status="left",
                               username="kanal_test")  # fmt: skip
    await kit.people.change_bot_status(channel, editor.user, "left", "administrator")
    await eventually(lambda: "added to a channel, not registered" in caplog.text)
    assert await status_of(kit, channel["id"]) is None
    assert "Каналів ще немає" in (await editor.say("/channels")).text
    assert "Канал" in (await editor.say("/channel_add @kanal_test")).text
    await wait_status(kit, channel["id"], ChatStatus.ACTIVE)
    await kit.people.change_bot_status(channel, editor.user, "administrator", "left")
    await wait_status(kit, channel["id"], ChatStatus.LEFT)
    assert kit.sent_to(channel["id"]) == []
