"""/start (with a deep-link payload that subscribes) and /help."""

from __future__ import annotations

from telegram import Update

from bot import render
from bot.context import Context
from bot.handlers.common import chat_and_translator, may_change, reply
from storage import subscriptions

DEEP_LINK_PREFIX = "s_"


async def start(update: Update, context: Context) -> None:
    """Greet, register the chat and show the sections; `s_<slug>` subscribes at once."""
    chat, t = await chat_and_translator(update, context)
    sections = context.runtime.sections
    user = update.effective_user
    intro = render.welcome_intro(t, user.first_name if user and chat.is_private else None)
    payload = context.args[0] if context.args else ""
    if payload.startswith(DEEP_LINK_PREFIX):
        slug = payload.removeprefix(DEEP_LINK_PREFIX)
        section = next((s for s in sections if s.slug == slug), None)
        if section is None:
            intro += "\n\n" + render.deep_link_unknown(t)
        elif await may_change(update, context, chat):
            added = await subscriptions.subscribe(context.db, chat.id, slug)
            found, already = ([section], []) if added else ([], [section])
            intro += "\n\n" + render.subscribed(t, found, already, chat.language)
        else:
            intro += "\n\n" + render.admins_only(t)
    subscribed = await subscriptions.modes_of_chat(context.db, chat.id)
    text, markup = render.sections_view(t, sections, subscribed, chat.language, intro=intro)
    await reply(update, text, markup)


async def help_command(update: Update, context: Context) -> None:
    """What the bot does and every command."""
    chat, t = await chat_and_translator(update, context)
    bot = context.bot.username or ""
    await reply(update, render.help_text(t, group=not chat.is_private, bot=bot))
