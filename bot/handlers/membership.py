"""The bot's own membership: blocked and unblocked by readers, added to and removed from groups."""

from __future__ import annotations

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
    language = pick_language(
        change.from_user.language_code, context.runtime.config.i18n.default_language
    )
    title = "" if chat_type is ChatType.PRIVATE else (change.chat.title or "")
    chat = await chats.ensure(
        context.db, change.chat.id, type=chat_type, title=title, language=language, status=status
    )
    log.info("membership chat=%s type=%s status=%s", chat.id, chat_type.value, status.value)
    if is_in and chat_type in (ChatType.GROUP, ChatType.SUPERGROUP):
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
