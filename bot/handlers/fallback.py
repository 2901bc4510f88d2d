"""What nothing else handled: unknown commands, plain text, stale buttons."""

from __future__ import annotations

from telegram import Update

from bot import render
from bot.context import Context
from bot.handlers.common import chat_and_translator, reply


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
