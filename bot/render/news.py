"""Pure rendering of news: headline lists with paging, article cards, inline results."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    LinkPreviewOptions,
)
from telegram.constants import ParseMode

from bot import urls
from bot.callbacks import CardTap, LatestPage, SearchPage, encode
from bot.i18n import Translator
from bot.render import View, cut, esc
from storage.types import Article, Page, Section

MINE, ALL = "mine", "all"  # the scopes of /latest besides a section's slug
PAGE_SIZE = 10
HEADLINE = 200  # a headline in a list, in UTF-16 code units: ten of them always fit a message
MAX_PAGES = 50  # deeper than this, a reader searches; pages past it are never walked
INLINE_DESCRIPTION = 120


def clamp_offset(offset: int, page_size: int = PAGE_SIZE) -> int:
    """A page's offset as the pager makes them: a multiple of the page size, at most
    MAX_PAGES deep (a forged `lt:all:1000000000` costs what the last page costs)."""
    return min(max(0, offset), (MAX_PAGES - 1) * page_size) // page_size * page_size


def link(url: str, text_html: str) -> str:
    """`text_html` as a link to `url`; only the text when the URL is not one Telegram takes."""
    checked = urls.checked(url)
    return f'<a href="{urls.href(checked)}">{text_html}</a>' if checked else text_html


def when(
    published: dt.datetime, now: dt.datetime, *, zone: ZoneInfo, lang: str, t: Translator
) -> str:
    """`18:05` today, `вчора, 18:05` yesterday, `29 квітня` this year, `29 квітня 2024` before."""
    local, today = published.astimezone(zone), now.astimezone(zone).date()
    clock = local.strftime("%H:%M")
    if local.date() == today:
        return clock
    if local.date() == today - dt.timedelta(days=1):
        return t.gettext("yesterday, {time}").format(time=clock)
    pattern = "d MMMM" if local.year == today.year else "d MMMM y"
    return format_date(local.date(), pattern, locale=lang)


def _headlines(
    articles: Sequence[Article],
    start: int,
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    lang: str,
    t: Translator,
) -> list[str]:
    return [
        f"{start + i}. {esc(when(a.published, now, zone=zone, lang=lang, t=t))} · "
        + link(a.url, esc(cut(a.title, HEADLINE)))
        for i, a in enumerate(articles)
    ]


def _number_buttons(page: Page) -> list[list[InlineKeyboardButton]]:
    buttons = [
        InlineKeyboardButton(str(page.offset + i + 1), callback_data=encode(CardTap(a.id)))
        for i, a in enumerate(page.articles)
    ]
    return [buttons[i : i + 5] for i in range(0, len(buttons), 5)]


def _pager(
    t: Translator, page: Page, to: Callable[[int], LatestPage | SearchPage]
) -> list[InlineKeyboardButton]:
    row = []
    if page.offset > 0:
        newer = encode(to(max(0, page.offset - PAGE_SIZE)))
        row.append(InlineKeyboardButton(t.gettext("◀ Newer"), callback_data=newer))
    if _deeper(page):
        older = encode(to(page.offset + PAGE_SIZE))
        row.append(InlineKeyboardButton(t.gettext("Older ▶"), callback_data=older))
    return row


def _deeper(page: Page) -> bool:
    return page.has_more and page.offset + PAGE_SIZE <= clamp_offset(page.offset + PAGE_SIZE)


def _bottom(t: Translator, page: Page) -> list[str]:
    """At the deepest page, where older news is to be found."""
    if page.has_more and not _deeper(page):
        return ["", t.gettext("Older news: /search and a few words.")]
    return []


def latest_view(
    t: Translator,
    lang: str,
    page: Page,
    *,
    scope: str,
    sections: Sequence[Section],
    followed: bool,
    now: dt.datetime,
    zone: ZoneInfo,
) -> View:
    """The newest headlines of a scope (one section, the chat's sections, or all), numbered;
    numbers open cards, arrows page, a row of sections switches."""
    by_slug = {s.slug: s for s in sections}
    if scope in by_slug:
        heading = t.gettext("Latest news · {section}").format(
            section=esc(by_slug[scope].title(lang))
        )
    elif scope == MINE and followed:
        heading = t.gettext("Latest news · your sections")
    else:
        heading = t.gettext("Latest news · all sections")
    lines = [f"<b>{heading}</b>", ""]
    if page.articles:
        lines += _headlines(page.articles, page.offset + 1, now=now, zone=zone, lang=lang, t=t)
        lines += _bottom(t, page)
    else:
        lines.append(t.gettext("No news here yet."))
    if scope == MINE and not followed:
        lines += ["", t.gettext("Choose your sections with /sections.")]
    rows = _number_buttons(page)
    pager = _pager(t, page, lambda offset: LatestPage(scope, offset))
    if pager:
        rows.append(pager)
    scopes = [
        (MINE if followed else ALL, t.gettext("My sections") if followed else t.gettext("All"))
    ]
    scopes += [(s.slug, s.title(lang)) for s in sections]
    switch = [
        InlineKeyboardButton(
            ("• " if key == scope else "") + label, callback_data=encode(LatestPage(key, 0))
        )
        for key, label in scopes
    ]
    rows += [switch[i : i + 3] for i in range(0, len(switch), 3)]
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def search_view(
    t: Translator,
    lang: str,
    query: str,
    search_id: int,
    page: Page,
    *,
    now: dt.datetime,
    zone: ZoneInfo,
) -> View:
    """Search results, newest first, paged like the latest news."""
    shown = esc(query if len(query) <= 64 else query[:63] + "…")
    if not page.articles:
        text = t.gettext("Nothing found for «{query}». Try other words, or see /latest.")
        return text.format(query=shown), None
    heading = t.gettext("Search: «{query}»").format(query=shown)
    lines = [f"🔎 <b>{heading}</b>", ""]
    lines += _headlines(page.articles, page.offset + 1, now=now, zone=zone, lang=lang, t=t)
    lines += _bottom(t, page)
    rows = _number_buttons(page)
    pager = _pager(t, page, lambda offset: SearchPage(search_id, offset))
    if pager:
        rows.append(pager)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def card(
    t: Translator,
    lang: str,
    article: Article,
    sections: Mapping[str, Section],
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    with_time: bool = True,
) -> tuple[str, LinkPreviewOptions]:
    """An article as a card: bold title, section and time, summary, a link; with its preview.
    A story post (`with_time=False`) leaves the time out: it is now."""
    names = [sections[s].title(lang) for s in article.sections if s in sections]
    if with_time:
        names.append(when(article.published, now, zone=zone, lang=lang, t=t))
    meta = " · ".join(names)
    lines = [f"<b>{esc(article.title)}</b>"] + ([esc(meta)] if meta else [])
    if article.summary:
        lines += ["", esc(article.summary)]
    url = urls.checked(article.url)
    if url is None:  # no link readers could open: the story without one, no preview
        return "\n".join(lines), LinkPreviewOptions(is_disabled=True)
    more = t.gettext("Read more →")
    lines += ["", f'<a href="{urls.href(url)}">{esc(more)}</a>']
    return "\n".join(lines), LinkPreviewOptions(url=url, prefer_large_media=True)


def inline_result(
    t: Translator,
    lang: str,
    article: Article,
    sections: Mapping[str, Section],
    *,
    now: dt.datetime,
    zone: ZoneInfo,
) -> InlineQueryResultArticle:
    """An article offered in inline mode, shared as its card."""
    text, preview = card(t, lang, article, sections, now=now, zone=zone)
    description = article.summary or when(article.published, now, zone=zone, lang=lang, t=t)
    if len(description) > INLINE_DESCRIPTION:
        description = description[: INLINE_DESCRIPTION - 1].rsplit(" ", 1)[0] + "…"
    return InlineQueryResultArticle(
        id=str(article.id),
        title=article.title,
        description=description,
        url=urls.checked(article.url),
        thumbnail_url=urls.checked(article.image_url),
        input_message_content=InputTextMessageContent(
            text, parse_mode=ParseMode.HTML, link_preview_options=preview
        ),
    )
