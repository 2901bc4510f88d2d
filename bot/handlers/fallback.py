"""What nothing else handled: unknown commands, plain text, stale buttons; and the one notice
a flooding chat gets before it is ignored for a while."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot import render
from bot.context import Context
from bot.handlers.common import chat_and_translator, reply
from bot.i18n import pick_language

log = logging.getLogger(__name__)


async def unknown_command(update: Update, context: Context) -> None:
    """A command the bot does not have, in a private chat or addressed to it in a group."""
    _, t = await chat_and_translator(update, context)
    await reply(update, render.unknown_command(t))


async def plain_text(update: Update, context: Context) -> None:
    """Text that is not a command, in a private chat."""
    _, t = await chat_and_translator(update, context)
    await reply(update, render.not_a_command(t))


async def stale_button(update: Update, context: Context) -> None:
    """A button whose data the bot no longer understands (or forged)."""
    query = update.callback_query
    assert query is not None
    _, t = await chat_and_translator(update, context)
    await query.answer(render.stale_button(t), show_alert=True)


async def tap_without_chat(update: Update, context: Context) -> None:
    """Runs before every handler: a tap whose message is in no chat (the bot's buttons are
    all in chats) gets the stale-button answer and goes no further."""
    query = update.callback_query
    if query is None or update.effective_chat is not None:
        return
    default = context.runtime.config.i18n.default_language
    t = context.translator(pick_language(query.from_user.language_code, default))
    await query.answer(render.stale_button(t), show_alert=True)
    raise ApplicationHandlerStop


async def throttled(update: Update, context: Context, *, minutes: int) -> None:
    """The chat or user went past the throttle: say once that they will be ignored a while.
    (No database: the language is the sender's; the bot must do as little as it can here.)"""
    user = update.effective_user
    default = context.runtime.config.i18n.default_language
    t = context.translator(pick_language(user.language_code if user else None, default))
    text = render.throttled(t, minutes)
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(render.esc(text), do_quote=False)
    except TelegramError as e:
        log.info("throttle notice not sent error=%s", e)
