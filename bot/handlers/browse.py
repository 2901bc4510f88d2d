"""Browsing the news: /latest and /search with paging, article cards, inline mode."""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from telegram import Update
from telegram.error import BadRequest

from bot import render
from bot import sections as lookup
from bot.callbacks import CardTap, LatestPage, SearchPage, number
from bot.context import Context
from bot.handlers.common import chat_and_translator, edit, reply, tapped
from bot.i18n import pick_language
from bot.news.stem import search_terms
from bot.render import View, news
from storage import articles, subscriptions
from storage.search import search as search_articles
from storage.types import Chat

log = logging.getLogger(__name__)
INLINE_PAGE = 20
INLINE_DEPTH = 200  # results an inline query pages through (then: search with more words)


def _zone(context: Context, chat: Chat | None) -> ZoneInfo:
    return ZoneInfo((chat and chat.timezone) or context.runtime.config.digest.timezone)


async def _latest_view(context: Context, chat: Chat, scope: str, offset: int) -> View:
    followed = await subscriptions.of_chat(context.db, chat.id)
    if scope == news.MINE:
        slugs = sorted(followed) or None
    elif scope == news.ALL:
        slugs = None
    else:
        slugs = [scope]
    page = await articles.latest(
        context.db, slugs, offset=news.clamp_offset(offset), limit=news.PAGE_SIZE
    )
    return news.latest_view(
        context.translator(chat.language),
        chat.language,
        page,
        scope=scope,
        sections=context.runtime.sections,
        followed=bool(followed),
        now=context.runtime.now(),
        zone=_zone(context, chat),
    )


async def latest(update: Update, context: Context) -> None:
    """/latest [section]: the ten newest headlines of the chat's sections, or of one."""
    chat, t = await chat_and_translator(update, context)
    sections = context.runtime.sections
    scope = news.MINE
    if context.args:
        section = lookup.find(sections, " ".join(context.args))
        if section is None:
            names = [" ".join(context.args)]
            await reply(update, render.unknown_sections(t, names, sections, chat.language))
            return
        scope = section.slug
    text, markup = await _latest_view(context, chat, scope, 0)
    await reply(update, text, markup)


async def latest_page(update: Update, context: Context) -> None:
    """◀ ▶ and the section row under /latest: the message edits in place."""
    query, tap = tapped(update, LatestPage)
    scope = tap.scope
    chat, t = await chat_and_translator(update, context)
    if scope not in (news.MINE, news.ALL) and not lookup.find(context.runtime.sections, scope):
        await query.answer(render.section_gone(t), show_alert=True)
        return
    await query.answer()
    text, markup = await _latest_view(context, chat, scope, tap.offset)
    await edit(query, text, markup)


async def _search_view(
    context: Context, chat: Chat, words: str, search_id: int, offset: int
) -> View:
    terms = search_terms(words)
    page = await search_articles(
        context.db, terms, offset=news.clamp_offset(offset), limit=news.PAGE_SIZE
    )
    t = context.translator(chat.language)
    now, zone = context.runtime.now(), _zone(context, chat)
    return news.search_view(t, chat.language, words, search_id, page, now=now, zone=zone)


async def search(update: Update, context: Context) -> None:
    """/search <words>: stored articles with those words, inflected forms too, newest first."""
    chat, t = await chat_and_translator(update, context)
    words = " ".join(context.args or []).strip()
    terms = search_terms(words)
    if not terms:
        await reply(update, render.search_usage(t))
        return
    search_id = await articles.save_search(context.db, words, context.runtime.now(), chat.id)
    text, markup = await _search_view(context, chat, words, search_id, 0)
    await reply(update, text, markup)


async def search_page(update: Update, context: Context) -> None:
    """◀ ▶ under search results."""
    query, tap = tapped(update, SearchPage)
    chat, t = await chat_and_translator(update, context)
    words = await articles.get_search(context.db, tap.search_id, chat.id)
    if words is None:  # forgotten, or another chat's (its words are that chat's business)
        await query.answer(render.stale_button(t), show_alert=True)
        return
    await query.answer()
    text, markup = await _search_view(context, chat, words, tap.search_id, tap.offset)
    await edit(query, text, markup)


async def open_card(update: Update, context: Context) -> None:
    """A headline's number: the article as a card, in a new message."""
    query, tap = tapped(update, CardTap)
    chat, t = await chat_and_translator(update, context)
    article = await articles.get(context.db, tap.article_id)
    if article is None:
        await query.answer(render.article_gone(t), show_alert=True)
        return
    await query.answer()
    sections = {s.slug: s for s in context.runtime.sections}
    text, preview = news.card(
        t, chat.language, article, sections, now=context.runtime.now(), zone=_zone(context, chat)
    )
    assert query.message is not None
    await context.bot.send_message(
        chat.id,
        text,
        link_preview_options=preview,
        message_thread_id=getattr(query.message, "message_thread_id", None),
    )


async def inline(update: Update, context: Context) -> None:
    """`@bot words` in any chat: matching articles (the latest for no words) to share as cards."""
    inline_query = update.inline_query
    assert inline_query is not None
    runtime = context.runtime
    lang = pick_language(inline_query.from_user.language_code, runtime.config.i18n.default_language)
    t = context.translator(lang)
    offset = number(inline_query.offset, INLINE_DEPTH) or 0
    terms = search_terms(inline_query.query)
    if terms:
        page = await search_articles(runtime.db, terms, offset=offset, limit=INLINE_PAGE)
    else:
        page = await articles.latest(runtime.db, None, offset=offset, limit=INLINE_PAGE)
    sections = {s.slug: s for s in runtime.sections}
    zone, now = _zone(context, None), runtime.now()
    results = [news.inline_result(t, lang, a, sections, now=now, zone=zone) for a in page.articles]
    try:
        await inline_query.answer(
            results,
            cache_time=30,
            is_personal=False,
            # None, not "": PTB 22.8's ExtBot with Defaults sends "" as "[]".
            next_offset=(
                str(offset + len(results))
                if page.has_more and offset + len(results) <= INLINE_DEPTH
                else None
            ),
        )
    except BadRequest as e:  # the reader typed on: Telegram no longer wants this answer
        if "query is too old" not in str(e).lower():
            raise
        log.info("inline answer too late user=%s", inline_query.from_user.id)
