"""The bot's own membership: blocked and unblocked by readers, added to and removed from groups."""

from __future__ import annotations

import datetime as dt
import logging

from telegram import Update
from telegram.constants import ChatMemberStatus
from telegram.error import TelegramError

from bot import render
from bot.context import Context
from bot.i18n import pick_language
from storage import chats
from storage.types import ChatStatus, ChatType

log = logging.getLogger(__name__)
GONE = frozenset({ChatMemberStatus.LEFT, ChatMemberStatus.BANNED})
# A group that adds the bot again within this long gets no second hello (adding and removing a
# bot in a loop would otherwise spend the group's 20 messages a minute on greetings).
HELLO_AGAIN = dt.timedelta(minutes=10)


async def my_chat_member(update: Update, context: Context) -> None:
    """Keep the chat's status in step with what Telegram reports."""
    change = update.my_chat_member
    assert change is not None
    old, new = change.old_chat_member, change.new_chat_member
    chat_type = ChatType(change.chat.type)
    was_in = old.status not in GONE and not (
        old.status == ChatMemberStatus.RESTRICTED and not getattr(old, "is_member", True)
    )
    is_in = new.status not in GONE and not (
        new.status == ChatMemberStatus.RESTRICTED and not getattr(new, "is_member", True)
    )
    if was_in == is_in:
        return
    if chat_type is ChatType.PRIVATE:
        status = ChatStatus.ACTIVE if is_in else ChatStatus.BLOCKED
    else:
        status = ChatStatus.ACTIVE if is_in else ChatStatus.LEFT
    known = await chats.get(context.db, change.chat.id)
    if known is None and not is_in:
        return  # never registered: nothing to mark
    if chat_type is ChatType.CHANNEL and is_in:
        # Anyone can make the bot an administrator of their channel; it becomes one of the
        # newsroom's only by an editor's /channel_add (which checks the same rights).
        log.info("added to a channel, not registered chat=%s", change.chat.id)
        return
    language = pick_language(
        change.from_user.language_code, context.runtime.config.i18n.default_language
    )
    title = "" if chat_type is ChatType.PRIVATE else (change.chat.title or "")
    chat = await chats.ensure(
        context.db, change.chat.id, type=chat_type, title=title, language=language, status=status
    )
    log.info("membership chat=%s type=%s status=%s", chat.id, chat_type.value, status.value)
    recently = known is not None and context.runtime.now() - known.updated < HELLO_AGAIN
    if is_in and chat_type in (ChatType.GROUP, ChatType.SUPERGROUP) and not recently:
        try:
            await context.bot.send_message(
                chat.id, render.group_hello(context.translator(chat.language))
            )
        except TelegramError as e:
            log.warning("hello not sent chat=%s error=%s", chat.id, e)


async def migrated(update: Update, context: Context) -> None:
    """A group became a supergroup with a new id: its subscriptions and settings move along."""
    message = update.effective_message
    assert message is not None
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    chat = await chats.migrate(context.db, old, new)
    if chat is not None:
        log.info("chat migrated old=%s new=%s", old, new)
