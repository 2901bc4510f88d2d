"""/stop: unsubscribe from everything and delete the chat's data, after confirmation."""

from __future__ import annotations

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError

from bot import render
from bot.callbacks import StopTap
from bot.context import Context
from bot.handlers.common import chat_and_translator, edit, log, may_change, reply, tapped
from storage import chats


async def stop(update: Update, context: Context) -> None:
    """Ask before deleting anything."""
    chat, t = await chat_and_translator(update, context)
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    text, markup = render.stop_confirm(t)
    await reply(update, text, markup)


async def confirm(update: Update, context: Context) -> None:
    """The answer to the confirmation: yes deletes the chat's data, no leaves it be."""
    query, tap = tapped(update, StopTap)
    chat, t = await chat_and_translator(update, context)
    if not await may_change(update, context, chat):
        await query.answer(render.admins_only(t), show_alert=True)
        return
    if not tap.confirmed:
        await query.answer()
        await edit(query, render.stop_cancelled(t))
        return
    await chats.delete_chat(context.db, chat.id)
    log.info("chat data deleted chat=%s", chat.id)
    await query.answer()
    await edit(query, render.stopped(t))
    if chat.is_private:
        try:
            await context.bot.delete_my_commands(scope=BotCommandScopeChat(chat.id))
        except TelegramError as e:
            log.warning("chat menu not removed chat=%s error=%s", chat.id, e)
