"""Helpers every handler uses: the chat's record and language, admin checks, safe edits."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TypeVar

from telegram import CallbackQuery, InlineKeyboardMarkup, Update
from telegram.constants import ChatMemberStatus
from telegram.error import BadRequest, TelegramError

from bot import callbacks
from bot.context import Context
from bot.i18n import Translator, pick_language
from storage import chats
from storage.types import Chat, ChatType

log = logging.getLogger(__name__)
ADMIN_STATUSES = frozenset({ChatMemberStatus.OWNER, ChatMemberStatus.ADMINISTRATOR})
T = TypeVar("T")
# An edit that cannot happen because the message is gone or too old: the tap was answered.
_GONE = ("message to edit not found", "message can't be edited")


def tapped(update: Update, kind: type[T]) -> tuple[CallbackQuery, T]:
    """The tap and what its button says, read by the codec (the handler's pattern did it
    first, so here it is always of `kind`)."""
    query = update.callback_query
    assert query is not None
    tap = callbacks.decode(query.data)
    assert isinstance(tap, kind), f"{kind.__name__} expected, got {query.data!r}"
    return query, tap


def chat_title(update: Update) -> str:
    """Groups and channels keep their title; private chats keep no name of the reader."""
    chat = update.effective_chat
    assert chat is not None
    return "" if chat.type == ChatType.PRIVATE else (chat.title or "")


async def chat_for(update: Update, context: Context) -> Chat:
    """The chat's record, registered on first contact and marked active (it is talking to us)."""
    chat = update.effective_chat
    assert chat is not None
    user = update.effective_user
    language = pick_language(
        user.language_code if user else None, context.runtime.config.i18n.default_language
    )
    return await chats.ensure(
        context.db, chat.id, type=ChatType(chat.type), title=chat_title(update), language=language
    )


async def chat_and_translator(update: Update, context: Context) -> tuple[Chat, Translator]:
    chat = await chat_for(update, context)
    return chat, context.translator(chat.language)


async def may_change(update: Update, context: Context, chat: Chat) -> bool:
    """Anyone in a private chat; in a group, its administrators (asked of Telegram)."""
    if chat.is_private:
        return True
    message = update.effective_message
    if message is not None and message.sender_chat is not None and update.callback_query is None:
        # An anonymous administrator writes as the group itself.
        return message.sender_chat.id == chat.id
    user = update.effective_user
    if user is None:
        return False
    try:
        member = await context.bot.get_chat_member(chat.id, user.id)
    except TelegramError as e:
        log.warning("admin check failed chat=%s user=%s error=%s", chat.id, user.id, e)
        return False
    return member.status in ADMIN_STATUSES


async def reply(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Answer the message that the update carries, in its chat (and forum topic)."""
    message = update.effective_message
    assert message is not None
    await message.reply_text(text, reply_markup=markup, do_quote=False)


async def reply_all(
    update: Update, texts: Sequence[str], markup: InlineKeyboardMarkup | None = None
) -> None:
    """Answer with several messages (a long list, split); buttons go under the last."""
    for i, text in enumerate(texts):
        await reply(update, text, markup if i == len(texts) - 1 else None)


async def edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message a button belongs to; an edit that changes nothing is fine, and so is
    one of a message that is gone or too old to edit (the tap has its answer already)."""
    try:
        await query.edit_message_text(text, reply_markup=markup)
    except BadRequest as e:
        problem = str(e).lower()
        if any(gone in problem for gone in _GONE):
            log.info("tapped message not edited error=%s", e)
        elif "not modified" not in problem:
            raise
