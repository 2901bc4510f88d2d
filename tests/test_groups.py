"""Groups: anyone reads, only administrators change; commands addressed to the bot."""

from __future__ import annotations

from typing import Any

from bot import pipeline
from storage import chats, subscriptions
from tests.delivery_kit import story
from tests.fakes.people import Conversation
from tests.fakes.telegram import BotMessage
from tests.kit import Kit, eventually

ANONYMOUS_ADMIN_BOT = {
    "id": 1087968824,
    "is_bot": True,
    "first_name": "Group",
    "username": "GroupAnonymousBot",
}


def group_with(kit: Kit) -> tuple[dict[str, Any], Conversation, Conversation]:
    admin = kit.people.person("Ірина", "uk")
    member = kit.people.person("Петро", "uk")
    group = kit.people.group("Громада", admins=(admin,), members=(member,))
    return group, kit.people.talk(group, admin), kit.people.talk(group, member)


async def test_members_read_admins_change(kit: Kit) -> None:
    group, admin, member = group_with(kit)
    message = await member.say("/sections")
    assert message.text.startswith("Розділи")
    refused = await member.tap(message, "Світ")
    assert refused == refused | {
        "text": "Змінювати налаштування групи можуть лише її адміністратори.",
        "show_alert": True,
    }
    assert message.edits == 0
    assert await subscriptions.of_chat(kit.db, group["id"]) == frozenset()

    allowed = await admin.tap(message, "Світ")
    assert allowed["text"] == "✅ Підписано: «Світ»"
    await admin.edited(message)
    assert message.button("Світ")["text"] == "✅ Світ"
    assert await subscriptions.of_chat(kit.db, group["id"]) == {"world"}
    chat = await chats.get(kit.db, group["id"])
    assert chat is not None
    assert (chat.type.value, chat.title) == ("supergroup", "Громада")


async def test_commands_that_change_are_for_admins(kit: Kit) -> None:
    group, admin, member = group_with(kit)
    for command in ("/subscribe світ", "/unsubscribe all", "/language en", "/stop"):
        refused = await member.say(command)
        assert refused.text == "Змінювати налаштування групи можуть лише її адміністратори."
    assert await subscriptions.of_chat(kit.db, group["id"]) == frozenset()
    done = await admin.say("/subscribe світ")
    assert done.text.startswith("✅ Підписано: «Світ».\n\nСвіт\n")
    stop = await admin.say("/stop")
    assert member.tg.messages[(group["id"], stop.message_id)].buttons()
    refused = await member.tap(stop, "Так")
    assert refused["show_alert"] is True
    assert await subscriptions.of_chat(kit.db, group["id"]) == {"world"}


async def test_anonymous_admin_writes_as_the_group(kit: Kit) -> None:
    group, _, _ = group_with(kit)
    anonymous = kit.people.talk(group, ANONYMOUS_ADMIN_BOT)
    done = await anonymous.say("/subscribe економіка", sender_chat=group)
    assert done.text.startswith("✅ Підписано: «Економіка».\n\nЕкономіка\n")
    assert await subscriptions.of_chat(kit.db, group["id"]) == {"economy"}


async def test_commands_addressed_to_the_bot(kit: Kit) -> None:
    group, admin, _ = group_with(kit)
    mine = await admin.say("/sections@visnyk_test_bot")
    assert mine.text.startswith("Розділи")
    unknown = await admin.say("/weather@visnyk_test_bot")
    assert unknown.text == "Такої команди я не знаю. Дивіться /help."
    # Other bots' commands, unaddressed unknown commands and chatter get no answer: the next
    # reply is the one to /help.
    before = len(kit.tg.calls)
    for text in ("/sections@other_bot", "/weather", "добрий день"):
        await admin.send(text)
    help_message = await admin.say("/help")
    assert kit.sent_to(group["id"], after=before) == [help_message]
    assert "У групах змінювати підписки можуть лише адміністратори." in help_message.text


async def test_group_upgraded_to_supergroup_keeps_its_subscriptions(kit: Kit) -> None:
    admin_user = kit.people.person("Ірина", "en")
    group = kit.people.group("Small group", admins=(admin_user,), kind="group")
    admin = kit.people.talk(group, admin_user)
    await admin.say("/language en")
    await admin.say("/subscribe world economy")
    supergroup = await kit.people.upgrade_group(group, admin_user)
    moved = kit.people.talk(supergroup, admin_user)
    message = await moved.say("/sections")
    assert message.text.startswith("Sections\nSubscribed to 2 sections.")
    assert await chats.get(kit.db, group["id"]) is None
    assert await subscriptions.of_chat(kit.db, supergroup["id"]) == {"world", "economy"}


async def test_a_forum_routes_each_section_to_its_topic(kit: Kit) -> None:
    admin = kit.people.person("Адміністраторка")
    member = kit.people.person("Учасник")
    forum = kit.people.group("Форум новин", admins=(admin,), members=(member,), forum=True)
    in_topic = {"message_thread_id": 77, "is_topic_message": True}
    talk = kit.people.talk(forum, admin)
    answer = await talk.say("/topic світ", **in_topic)
    assert "в цій темі" in answer.text
    assert answer.thread_id == 77  # the answer comes in the topic it was asked in
    assert "загальній темі" in (await talk.say("/topic економіка")).text
    refused = await kit.people.talk(forum, member).say("/topic культура", **in_topic)
    assert "адміністратор" in refused.text
    plain = kit.people.group("Звичайна група", admins=(admin,))
    assert "форумах" in (await kit.people.talk(plain, admin).say("/topic світ")).text

    await pipeline.post_stories(kit.runtime, [await story(kit, "Новина світу у темі", {"world"})])
    await pipeline.post_stories(kit.runtime, [await story(kit, "Новина економіки", {"economy"})])
    await pipeline.post_stories(kit.runtime, [await story(kit, "Новина культури", {"culture"})])

    def posted(title: str) -> list[BotMessage]:
        return [m for (c, _), m in kit.tg.messages.items() if c == forum["id"] and title in m.text]

    await eventually(lambda: posted("Новина світу у темі") and posted("Новина економіки"))
    assert [m.thread_id for m in posted("Новина світу у темі")] == [77]
    assert [m.thread_id for m in posted("Новина економіки")] == [None]
    assert posted("Новина культури") == []  # the member's /topic changed nothing
