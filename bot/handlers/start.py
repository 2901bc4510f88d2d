"""/start (with a deep-link payload that subscribes) and /help."""

from __future__ import annotations

from telegram import Update

from bot import arrival, render
from bot.context import Context
from bot.handlers.common import chat_and_translator, may_change, reply, reply_all
from bot.newsroom import rights
from bot.render import help as help_view
from storage import subscriptions

DEEP_LINK_PREFIX = "s_"


async def start(update: Update, context: Context) -> None:
    """Greet a new chat and show the sections, or show a returning chat what it follows;
    `s_<slug>` subscribes at once, and a new subscription's first look follows."""
    chat, t = await chat_and_translator(update, context)
    sections = context.runtime.sections
    user = update.effective_user
    name = user.first_name if user and chat.is_private else None
    returning = bool(await subscriptions.of_chat(context.db, chat.id))
    news = ""
    added = None
    payload = context.args[0] if context.args else ""
    if payload.startswith(DEEP_LINK_PREFIX):
        slug = payload.removeprefix(DEEP_LINK_PREFIX)
        section = next((s for s in sections if s.slug == slug), None)
        if section is None:
            news = render.deep_link_unknown(t)
        elif await may_change(update, context, chat):
            added = slug if await subscriptions.subscribe(context.db, chat.id, slug) else None
            found, already = ([section], []) if added else ([], [section])
            news = render.subscribed(t, found, already, chat.language)
        else:
            news = render.admins_only(t)
    subscribed = await subscriptions.modes_of_chat(context.db, chat.id)
    if returning:
        text = await arrival.returning(context.runtime, chat, name, news=news)
        _, markup = render.sections_view(t, sections, subscribed, chat.language)
    else:
        intro = render.welcome_intro(t, name, lang=chat.language) + (f"\n\n{news}" if news else "")
        text, markup = render.sections_view(t, sections, subscribed, chat.language, intro=intro)
    await reply(update, text, markup)
    if added is not None:
        texts, buttons = await arrival.first_look(context.runtime, chat, [added])
        await reply_all(update, texts, buttons)


async def help_command(update: Update, context: Context) -> None:
    """What the bot does and every command."""
    chat, t = await chat_and_translator(update, context)
    bot = context.bot.username or ""
    user = update.effective_user
    editor = chat.is_private and user is not None and await rights.is_editor(context.desk, user.id)
    await reply(update, help_view.help_text(t, group=not chat.is_private, bot=bot, editor=editor))
