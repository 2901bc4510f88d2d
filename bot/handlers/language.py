"""/language: show or set the chat's language."""

from __future__ import annotations

from telegram import BotCommandScopeChat, Update
from telegram.error import TelegramError

from bot import render
from bot.callbacks import LanguageTap
from bot.context import Context
from bot.handlers.common import chat_and_translator, edit, log, may_change, reply, tapped
from bot.i18n import parse_language
from bot.render import help as help_view
from storage import chats
from storage.types import Chat


async def _set(update: Update, context: Context, chat: Chat, language: str) -> Chat:
    chat = await chats.set_language(context.db, chat.id, language)
    if chat.is_private:
        # Telegram picks the command menu by the app's language; this chat chose its own.
        t = context.translator(language)
        try:
            await context.bot.set_my_commands(
                help_view.command_menu(t), scope=BotCommandScopeChat(chat.id)
            )
        except TelegramError as e:
            log.warning("chat menu not set chat=%s error=%s", chat.id, e)
    return chat


async def language(update: Update, context: Context) -> None:
    """/language [uk|en]: buttons without an argument, a change with one."""
    chat, t = await chat_and_translator(update, context)
    if not context.args:
        text, markup = render.language_view(t, chat.language)
        await reply(update, text, markup)
        return
    wanted = parse_language(" ".join(context.args))
    if wanted is None:
        await reply(update, render.language_usage(t))
        return
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    chat = await _set(update, context, chat, wanted)
    await reply(update, render.language_set(context.translator(wanted), wanted))


async def choose(update: Update, context: Context) -> None:
    """A tap on a language button."""
    query, tap = tapped(update, LanguageTap)
    wanted = tap.language
    chat, t = await chat_and_translator(update, context)
    if not await may_change(update, context, chat):
        await query.answer(render.admins_only(t), show_alert=True)
        return
    chat = await _set(update, context, chat, wanted)
    t = context.translator(wanted)
    await query.answer(render.language_set(t, wanted))
    await edit(query, render.language_set(t, wanted))
