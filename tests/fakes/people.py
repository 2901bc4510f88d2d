"""Telegram's users, acting toward the bot through the fake server: they write, tap, block,
add the bot to groups; a `Conversation` is one user in one chat, waiting for what the bot shows.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from tests.fakes.telegram import BOT_ID, BotMessage, Call, FakeTelegram, member_json


class People:
    """Creates users and chats in the fake Telegram and acts as them."""

    def __init__(self, tg: FakeTelegram) -> None:
        self.tg = tg
        self._user_ids = itertools.count(100001)
        self._group_ids = itertools.count(1001)
        self._message_ids = itertools.count(1)

    def person(
        self, first_name: str = "Оксана", language_code: str | None = "uk"
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": next(self._user_ids),
            "is_bot": False,
            "first_name": first_name,
        }
        if language_code:
            user["language_code"] = language_code
        self.tg.users[user["id"]] = user
        return user

    def private(self, user: dict[str, Any]) -> dict[str, Any]:
        chat = {"id": user["id"], "type": "private", "first_name": user["first_name"]}
        self.tg.chats[chat["id"]] = chat
        return chat

    def group(
        self,
        title: str = "Новини громади",
        *,
        admins: tuple[dict[str, Any], ...] = (),
        members: tuple[dict[str, Any], ...] = (),
        kind: str = "supergroup",
        forum: bool = False,
        bot_status: str = "member",
        username: str | None = None,
    ) -> dict[str, Any]:
        n = next(self._group_ids)
        chat_id = -(1000000000000 + n) if kind in ("supergroup", "channel") else -n
        chat: dict[str, Any] = {"id": chat_id, "type": kind, "title": title}
        if username:
            chat["username"] = username
        if forum:
            chat["is_forum"] = True
        self.tg.chats[chat_id] = chat
        self.tg.members[(chat_id, BOT_ID)] = bot_status
        for i, admin in enumerate(admins):
            self.tg.members[(chat_id, admin["id"])] = "creator" if i == 0 else "administrator"
        for member in members:
            self.tg.members[(chat_id, member["id"])] = "member"
        return chat

    def talk(self, chat: dict[str, Any], user: dict[str, Any]) -> Conversation:
        return Conversation(self, chat, user)

    # ---- what users do ---------------------------------------------------------------------

    async def write(
        self, chat: dict[str, Any], user: dict[str, Any] | None, text: str, **extra: Any
    ) -> None:
        message: dict[str, Any] = (
            {"message_id": next(self._message_ids), "date": int(time.time()), "chat": chat}
            | ({"text": text} if text else {})
            | extra
        )
        if user is not None:
            message["from"] = user
        if text.startswith("/"):  # Telegram marks the command, before any formatting given
            command = text.split(maxsplit=1)[0]
            entity = {"type": "bot_command", "offset": 0, "length": len(command)}
            message["entities"] = [entity, *extra.get("entities", [])]
        await self.tg.push_update("message", message)

    async def tap(
        self,
        message: BotMessage,
        button_text: str,
        user: dict[str, Any],
        *,
        data: str | None = None,
    ) -> str:
        """Tap a button of `message` (or, with `data`, forge one); returns the query id."""
        if data is None:
            data = message.button(button_text)["callback_data"]
        query_id = str(next(self.tg._query_ids))
        self.tg.callback_queries[query_id] = {"answered": False}
        chat = self.tg.chats[message.chat_id]
        await self.tg.push_update(
            "callback_query",
            {
                "id": query_id,
                "from": user,
                "message": self.tg._message_json(message) | {"chat": chat},
                "chat_instance": str(message.chat_id),
                "data": data,
            },
        )
        return query_id

    async def inline(self, user: dict[str, Any], query: str, offset: str = "") -> dict[str, Any]:
        """Type `@bot query` in some chat; returns the bot's answer (results, next_offset)."""
        query_id = f"iq{next(self.tg._query_ids)}"
        self.tg.inline_queries[query_id] = {"answered": False}
        mark = len(self.tg.calls)
        await self.tg.push_update(
            "inline_query",
            {"id": query_id, "from": user, "query": query, "offset": offset, "chat_type": "sender"},
        )
        call = await self.tg.wait_for(
            lambda c: (
                c.method == "answerInlineQuery" and str(c.params.get("inline_query_id")) == query_id
            ),
            after=mark,
        )
        assert call.ok, call.error
        return self.tg.inline_queries[query_id]

    async def change_bot_status(
        self, chat: dict[str, Any], by: dict[str, Any], old: str, new: str
    ) -> None:
        """The bot's membership changes: `kicked` in a private chat is a block."""
        if chat["type"] == "private":
            (self.tg.blocked_by.add if new == "kicked" else self.tg.blocked_by.discard)(chat["id"])
        else:
            self.tg.members[(chat["id"], BOT_ID)] = new

        await self.tg.push_update(
            "my_chat_member",
            {
                "chat": chat,
                "from": by,
                "date": int(time.time()),
                "old_chat_member": member_json(self.tg.bot, old),
                "new_chat_member": member_json(self.tg.bot, new),
            },
        )

    async def upgrade_group(self, group: dict[str, Any], by: dict[str, Any]) -> dict[str, Any]:
        """Telegram turns a group into a supergroup with a new id; both chats get a notice."""
        new = {"id": -(1000000000000 - group["id"]), "type": "supergroup", "title": group["title"]}
        self.tg.chats[new["id"]] = new
        for (chat_id, user_id), status in list(self.tg.members.items()):
            if chat_id == group["id"]:
                self.tg.members[(new["id"], user_id)] = status
        self.tg.migrated[group["id"]] = new["id"]
        await self.write(group, by, "", migrate_to_chat_id=new["id"])
        await self.write(new, by, "", migrate_from_chat_id=group["id"])
        return new

    async def block(self, user: dict[str, Any]) -> None:
        await self.change_bot_status(self.private(user), user, "member", "kicked")

    async def unblock(self, user: dict[str, Any]) -> None:
        await self.change_bot_status(self.private(user), user, "kicked", "member")

    async def add_bot(self, chat: dict[str, Any], by: dict[str, Any]) -> None:
        await self.change_bot_status(chat, by, "left", "member")

    async def remove_bot(self, chat: dict[str, Any], by: dict[str, Any]) -> None:
        await self.change_bot_status(chat, by, "member", "left")


class Conversation:
    """One user in one chat: say something, then see what the bot sends or edits."""

    def __init__(self, people: People, chat: dict[str, Any], user: dict[str, Any]) -> None:
        self.people, self.tg, self.chat, self.user = people, people.tg, chat, user
        self.mark = len(self.tg.calls)

    async def say(self, text: str, **extra: Any) -> BotMessage:
        """Write `text` and return the next message the bot sends to this chat."""
        await self.send(text, **extra)
        return await self.next_message()

    async def send(self, text: str, **extra: Any) -> None:
        self.mark = len(self.tg.calls)
        await self.people.write(self.chat, self.user, text, **extra)

    async def next_message(self, within: float = 5.0) -> BotMessage:
        call = await self.tg.wait_for(
            lambda c: (
                c.method == "sendMessage" and c.ok and c.result["chat"]["id"] == self.chat["id"]
            ),
            after=self.mark,
            within=within,
        )
        self.mark = call.index + 1
        return self.tg.messages[(self.chat["id"], call.result["message_id"])]

    async def tap(
        self, message: BotMessage, button_text: str, *, data: str | None = None
    ) -> dict[str, Any]:
        """Tap a button; returns the bot's answer to the tap (text, show_alert)."""
        self.mark = len(self.tg.calls)
        query_id = await self.people.tap(message, button_text, self.user, data=data)
        call = await self.tg.wait_for(
            lambda c: (
                c.method == "answerCallbackQuery"
                and str(c.params.get("callback_query_id")) == query_id
            ),
            after=self.mark,
        )
        return call.params

    async def edited(self, message: BotMessage) -> BotMessage:
        """Wait for the bot to edit `message` after the last action."""
        await self.tg.wait_for(
            lambda c: (
                c.method.startswith("editMessage")
                and c.ok
                and int(c.params.get("chat_id", 0)) == message.chat_id
                and int(c.params.get("message_id", 0)) == message.message_id
            ),
            after=self.mark,
        )
        return message

    def calls_since(self, method: str) -> list[Call]:
        return [c for c in self.tg.calls[self.mark :] if c.method == method]
