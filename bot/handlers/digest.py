"""A chat's digests: /digest now, /schedule, /timezone, /quiet."""

from __future__ import annotations

from dataclasses import replace

from telegram import Update

from bot import pipeline, render
from bot.context import Context
from bot.delivery import digests
from bot.handlers.common import chat_and_translator, may_change, reply
from bot.render import settings
from bot.schedule import parse_quiet, parse_times, parse_zone
from storage import chats
from storage.types import Chat

OFF = frozenset({"off", "вимк", "вимкнути", "ні", "no", "stop"})
ON = frozenset({"on", "увімк", "увімкнути", "так", "yes"})
WEEKDAYS = frozenset({"weekdays", "будні", "будні дні", "робочі"})
DAILY = frozenset({"daily", "щодня", "everyday", "every day"})


async def digest_now(update: Update, context: Context) -> None:
    """/digest: this chat's digest now; its schedule stays as it is."""
    chat, t = await chat_and_translator(update, context)
    messages = await pipeline.digest_now(context.runtime, chat)
    if messages is None:
        await reply(update, settings.no_subscriptions(t))
        return
    if not messages:
        await reply(update, settings.no_digest(t))
    for text in messages:
        await reply(update, text)


def _show(context: Context, chat: Chat) -> str:
    config, now = context.runtime.config, context.runtime.now()
    return settings.schedule(
        context.translator(chat.language),
        chat.language,
        enabled=chat.digest_enabled,
        times=chat.digest_times if chat.digest_times is not None else config.digest.times,
        zone=chat.timezone or config.digest.timezone,
        weekdays_only=chat.weekdays_only,
        upcoming=chat.next_digest_at and digests.upcoming(chat, config, now),
        now=now,
    )


async def _save(
    context: Context,
    chat: Chat,
    *,
    times: tuple[str, ...] | None,
    enabled: bool,
    weekdays_only: bool,
    timezone: str | None,
) -> Chat:
    """Store the schedule and move the next digest to match it."""
    wanted = replace(
        chat,
        digest_times=times,
        digest_enabled=enabled,
        weekdays_only=weekdays_only,
        timezone=timezone,
    )
    upcoming = digests.upcoming(wanted, context.runtime.config, context.runtime.now())
    return await chats.set_digest(
        context.db,
        chat.id,
        times=times,
        enabled=enabled,
        weekdays_only=weekdays_only,
        timezone=timezone,
        next_digest_at=upcoming,
    )


async def schedule(update: Update, context: Context) -> None:
    """/schedule [HH:MM…|off|on|weekdays|daily]."""
    chat, t = await chat_and_translator(update, context)
    words = [w.casefold() for w in context.args or []]
    if not words:
        await reply(update, _show(context, chat))
        return
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    text = " ".join(words)
    times, enabled, weekdays = chat.digest_times, chat.digest_enabled, chat.weekdays_only
    if text in OFF:
        enabled = False
    elif text in ON:
        enabled = True
    elif text in WEEKDAYS:
        enabled, weekdays = True, True
    elif text in DAILY:
        enabled, weekdays = True, False
    else:
        parsed = parse_times(words)
        if parsed is None:
            await reply(update, settings.schedule_usage(t))
            return
        times, enabled = parsed, True
    chat = await _save(
        context, chat, times=times, enabled=enabled, weekdays_only=weekdays, timezone=chat.timezone
    )
    await reply(update, "✅ " + _show(context, chat))


async def timezone(update: Update, context: Context) -> None:
    """/timezone [Area/City]."""
    chat, t = await chat_and_translator(update, context)
    now = context.runtime.now()
    typed = " ".join(context.args or [])
    if not typed:
        current = chat.timezone or context.runtime.config.digest.timezone
        await reply(update, settings.timezone(t, current, now))
        return
    zone = parse_zone(typed)
    if zone is None:
        await reply(update, settings.timezone_usage(t, typed))
        return
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    await _save(
        context,
        chat,
        times=chat.digest_times,
        enabled=chat.digest_enabled,
        weekdays_only=chat.weekdays_only,
        timezone=zone,
    )
    await reply(update, settings.timezone_set(t, zone, now))


async def quiet(update: Update, context: Context) -> None:
    """/quiet [HH:MM-HH:MM|off]: story posts in those hours come silently."""
    chat, t = await chat_and_translator(update, context)
    typed = " ".join(context.args or []).casefold()
    if not typed:
        await reply(update, settings.quiet(t, chat.quiet_start, chat.quiet_end))
        return
    hours = None if typed in OFF else parse_quiet(typed)
    if typed not in OFF and hours is None:
        await reply(update, settings.quiet_usage(t))
        return
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    start, end = hours if hours else (None, None)
    chat = await chats.set_quiet(context.db, chat.id, start, end)
    await reply(update, "✅ " + settings.quiet(t, chat.quiet_start, chat.quiet_end))
