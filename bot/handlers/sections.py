"""/sections with its toggle buttons, /subscribe and /unsubscribe."""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Update

from bot import arrival, render
from bot import sections as lookup
from bot.callbacks import InstantTap, ModeTap, SectionTap
from bot.context import Context
from bot.handlers.common import chat_and_translator, edit, may_change, reply, reply_all, tapped
from bot.i18n import Translator
from bot.render import arrival as first_minutes
from storage import subscriptions
from storage.errors import SectionNotFound
from storage.types import Chat, Mode, Section


async def show(update: Update, context: Context) -> None:
    """Every section with this chat's state, toggled by tapping."""
    chat, t = await chat_and_translator(update, context)
    subscribed = await subscriptions.modes_of_chat(context.db, chat.id)
    text, markup = render.sections_view(t, context.runtime.sections, subscribed, chat.language)
    await reply(update, text, markup)


async def _allowed(update: Update, context: Context) -> tuple[Chat, Translator] | None:
    """The chat and translator if the tapper may change the chat's sections; else None, and
    the tap is answered."""
    chat, t = await chat_and_translator(update, context)
    if not await may_change(update, context, chat):
        assert update.callback_query is not None
        await update.callback_query.answer(render.admins_only(t), show_alert=True)
        return None
    return chat, t


async def toggle(update: Update, context: Context) -> None:
    """A tap on a section button: flip the subscription, answer, redraw the list; a new
    subscription brings its first look (latest headlines, next digest) below."""
    query, tap = tapped(update, SectionTap)
    allowed = await _allowed(update, context)
    if allowed is None:
        return
    chat, t = allowed
    slug = tap.slug
    section = lookup.find(context.runtime.sections, slug)
    try:
        if section is None:
            raise SectionNotFound(slug)
        now_on = await subscriptions.toggle(context.db, chat.id, slug)
    except SectionNotFound:
        await query.answer(render.section_gone(t), show_alert=True)
        now_on = False
    else:
        await query.answer(render.toggled(t, section, chat.language, now_on=now_on))
    await _redraw(update, context, welcome=tap.welcome)
    if now_on:
        texts, markup = await arrival.first_look(context.runtime, chat, [slug])
        await _send(context, query, chat, texts, markup)


async def toggle_mode(update: Update, context: Context) -> None:
    """A tap on a section's mode: instant ↔ in digests."""
    query, tap = tapped(update, ModeTap)
    allowed = await _allowed(update, context)
    if allowed is None:
        return
    chat, t = allowed
    slug = tap.slug
    section = lookup.find(context.runtime.sections, slug)
    modes = await subscriptions.modes_of_chat(context.db, chat.id)
    if section is None or slug not in modes:
        await query.answer(render.section_gone(t), show_alert=True)
    else:
        if tap.instant is None:  # a button from before buttons said where they switch to
            mode = Mode.DIGEST if modes[slug] is Mode.INSTANT else Mode.INSTANT
        else:  # a stale button switches to what it offered, never back
            mode = Mode.INSTANT if tap.instant else Mode.DIGEST
        await subscriptions.set_mode(context.db, chat.id, slug, mode)
        await query.answer(render.mode_set(t, section, chat.language, mode))
    await _redraw(update, context, welcome=tap.welcome)


async def instant(update: Update, context: Context) -> None:
    """The button under a first look: the section's stories as they come (set, not flipped);
    the button goes and the message says so."""
    query, tap = tapped(update, InstantTap)
    allowed = await _allowed(update, context)
    if allowed is None:
        return
    chat, t = allowed
    section = lookup.find(context.runtime.sections, tap.slug)
    modes = await subscriptions.modes_of_chat(context.db, chat.id)
    if section is None or tap.slug not in modes:
        await query.answer(render.section_gone(t), show_alert=True)
        return
    await subscriptions.set_mode(context.db, chat.id, tap.slug, Mode.INSTANT)
    await query.answer(render.mode_set(t, section, chat.language, Mode.INSTANT))
    redrawn = first_minutes.switched(
        t,
        chat.language,
        section,
        arrival.message_html(query.message),
        markup=getattr(query.message, "reply_markup", None),
        data=query.data or "",
    )
    if redrawn is not None:
        await edit(query, *redrawn)


async def _send(
    context: Context,
    query: CallbackQuery,
    chat: Chat,
    texts: list[str],
    markup: InlineKeyboardMarkup | None,
) -> None:
    """New messages after the tapped one, in its chat and forum topic; buttons under the last."""
    thread = getattr(query.message, "message_thread_id", None)
    for i, text in enumerate(texts):
        last = i == len(texts) - 1
        await context.bot.send_message(
            chat.id, text, reply_markup=markup if last else None, message_thread_id=thread
        )


async def _redraw(update: Update, context: Context, *, welcome: bool) -> None:
    query = update.callback_query
    assert query is not None
    chat, t = await chat_and_translator(update, context)
    subscribed = await subscriptions.modes_of_chat(context.db, chat.id)
    intro = None
    if welcome:
        name = query.from_user.first_name if chat.is_private else None
        intro = render.welcome_intro(t, name, lang=chat.language)
    text, markup = render.sections_view(
        t, context.runtime.sections, subscribed, chat.language, intro=intro
    )
    await edit(query, text, markup)


async def subscribe(update: Update, context: Context) -> None:
    """/subscribe <section…>: by slug or title in either language."""
    await _change(update, context, follow=True)


async def unsubscribe(update: Update, context: Context) -> None:
    """/unsubscribe <section…|all>."""
    await _change(update, context, follow=False)


async def topic(update: Update, context: Context) -> None:
    """/topic <section>, sent inside a forum topic: that section's stories go there, as they
    come. Group admins only."""
    chat, t = await chat_and_translator(update, context)
    message = update.effective_message
    assert message is not None
    if update.effective_chat is None or not update.effective_chat.is_forum:
        await reply(update, render.topic_not_forum(t))
        return
    sections = context.runtime.sections
    section = lookup.find(sections, " ".join(context.args or []))
    if section is None:
        await reply(update, render.topic_usage(t, sections, chat.language))
        return
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    thread = message.message_thread_id if message.is_topic_message else None
    await subscriptions.set_topic(context.db, chat.id, section.slug, thread)
    await reply(update, render.topic_set(t, section, chat.language, in_topic=thread is not None))


MODE_WORDS = {
    "instant": Mode.INSTANT,
    "instantly": Mode.INSTANT,
    "одразу": Mode.INSTANT,
    "миттєво": Mode.INSTANT,
    "digest": Mode.DIGEST,
    "дайджест": Mode.DIGEST,
}


async def _change(update: Update, context: Context, *, follow: bool) -> None:
    chat, t = await chat_and_translator(update, context)
    sections = context.runtime.sections
    words = list(context.args or [])
    mode = MODE_WORDS.get(words[-1].casefold()) if follow and len(words) > 1 else None
    if mode is not None:
        words = words[:-1]
    text = " ".join(words)
    if not text:
        command = "subscribe" if follow else "unsubscribe"
        await reply(update, render.usage(t, command, sections, chat.language))
        return
    if not await may_change(update, context, chat):
        await reply(update, render.admins_only(t))
        return
    if not follow and lookup.is_all(text):
        count = await subscriptions.unsubscribe_all(context.db, chat.id)
        await reply(update, render.unsubscribed_all(t, count))
        return
    found, unknown = lookup.resolve(sections, text)
    if unknown:
        await reply(update, render.unknown_sections(t, unknown, sections, chat.language))
        return
    change = subscriptions.subscribe if follow else subscriptions.unsubscribe
    before = await subscriptions.of_chat(context.db, chat.id)
    changed: list[Section] = []
    unchanged: list[Section] = []
    for section in found:
        if mode is not None:
            done = await subscriptions.set_mode(context.db, chat.id, section.slug, mode)
        else:
            done = await change(context.db, chat.id, section.slug)
        (changed if done else unchanged).append(section)
    summary = render.subscribed if follow else render.unsubscribed
    text = summary(t, changed, unchanged, chat.language)
    new = [s.slug for s in changed if follow and s.slug not in before]
    if mode is not None:  # a new section's first look says how its stories come
        switched = [s for s in found if s.slug not in new]
        text = "\n".join([text, *(render.mode_set(t, s, chat.language, mode) for s in switched)])
    if not new:
        await reply(update, text)
        return
    texts, markup = await arrival.first_look(context.runtime, chat, new, head=text)
    await reply_all(update, texts, markup)
