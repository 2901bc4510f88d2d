"""The last resort: log what went wrong and tell the user, never crash the bot."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError

from bot import render
from bot.context import Context
from bot.logs import short
from storage import chats
from storage.errors import StorageError

log = logging.getLogger(__name__)


async def on_error(update: object, context: Context) -> None:
    """Log the error with its context; apologise in the chat when there is one."""
    error = context.error
    chat_id = (
        update.effective_chat.id if isinstance(update, Update) and update.effective_chat else None
    )
    if isinstance(error, RetryAfter):  # Telegram holds this chat back: an apology would wait too
        log.warning("reply given up chat=%s error=%s", chat_id, error)
        return
    if isinstance(error, BadRequest) and "query is too old" in str(error).lower():
        # A tap answered after Telegram's deadline (its chat's earlier updates took that long):
        # nothing to answer any more, and nobody to apologise to.
        log.info("tap answered too late chat=%s", chat_id)
        return
    if isinstance(error, TelegramError | StorageError):
        # Telegram or the database failed, not our code: one line naming the cause (an outage
        # is told once more by bot.reach); a traceback would only repeat PTB's call stack.
        log.warning("update failed chat=%s cause=%s", chat_id, short(error))
    else:  # a bug: its traceback
        log.error("update failed chat=%s error=%r", chat_id, error, exc_info=error)
    if not isinstance(update, Update) or chat_id is None or isinstance(error, Forbidden):
        return
    try:
        t = context.translator(await _language(context, chat_id))
        if update.callback_query is not None:
            await update.callback_query.answer(render.failure(t), show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(render.failure(t), do_quote=False)
    except TelegramError as e:
        log.warning("could not report the failure chat=%s error=%s", chat_id, e)


async def _language(context: Context, chat_id: int) -> str:
    """The chat's language if the database still answers, else the default."""
    try:
        chat = await chats.get(context.db, chat_id)
    except StorageError:
        chat = None
    return chat.language if chat else context.runtime.config.i18n.default_language
