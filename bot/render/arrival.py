"""Pure rendering of a reader's first minutes: what a section brings, and when.

Right after a chat subscribes to a section it sees the section's latest headlines and when its
news will come: the next digest («сьогодні о 20:00», «завтра о 08:00», «у понеділок о 08:00»,
or a date, in the chat's zone), with a button to get the section's stories as they are
published instead. A reader who comes back to /start sees the sections the chat follows, in
which mode, and the next digest. Titles and headlines are escaped here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from babel.dates import format_date
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import InstantTap, encode
from bot.i18n import Translator, names
from bot.render import MAX_TEXT, Markup, View, cut, esc, quoted, split, visible_length
from bot.render.news import HEADLINE, link, when
from storage.types import Article, Mode, Section

FIRST_LOOK = 3  # headlines of a section shown right after subscribing
# A first look leaves half a message free: each tap on its buttons adds a line to it.
FIRST_LOOK_TEXT = MAX_TEXT // 2


@dataclass(frozen=True, slots=True)
class FirstLook:
    """A section the chat has just subscribed to: its mode and its newest articles."""

    section: Section
    mode: Mode
    articles: tuple[Article, ...]


def next_digest(
    t: Translator, lang: str, moment: dt.datetime, now: dt.datetime, zone: ZoneInfo
) -> str:
    """When `moment` is, seen from `now` in `zone`: «сьогодні о 20:00», «завтра о 08:00»,
    «у понеділок о 08:00» within the week, «7 грудня о 08:00» after it."""
    local, today = moment.astimezone(zone), now.astimezone(zone).date()
    clock = f"{local:%H:%M}"
    # Ukrainian says «об 11:00» (об одинадцятій) but «о 08:00»: the hour picks the words.
    at = (
        t.gettext("at {time} (eleven o'clock)") if local.hour == 11 else t.gettext("at {time}")
    ).format(time=clock)
    days = (local.date() - today).days
    if days <= 0:
        return t.gettext("today {at}").format(at=at)
    if days == 1:
        return t.gettext("tomorrow {at}").format(at=at)
    if days < 7:
        weekdays = (
            t.gettext("on Monday {at}"),
            t.gettext("on Tuesday {at}"),
            t.gettext("on Wednesday {at}"),
            t.gettext("on Thursday {at}"),
            t.gettext("on Friday {at}"),
            t.gettext("on Saturday {at}"),
            t.gettext("on Sunday {at}"),
        )
        return weekdays[local.weekday()].format(at=at)
    pattern = "d MMMM" if local.year == today.year else "d MMMM y"
    return t.gettext("{date} {at}").format(
        date=format_date(local.date(), pattern, locale=lang), at=at
    )


def next_digest_line(
    t: Translator, lang: str, moment: dt.datetime, now: dt.datetime, zone: ZoneInfo
) -> str:
    """«Наступний дайджест — сьогодні о 20:00.»"""
    return t.gettext("Next digest — {when}.").format(when=next_digest(t, lang, moment, now, zone))


def _headline(t: Translator, lang: str, article: Article, now: dt.datetime, zone: ZoneInfo) -> str:
    """`15:00 · Headline`, the headline a link, as /latest dates it."""
    date = when(article.published, now, zone=zone, lang=lang, t=t)
    return f"{esc(date)} · " + link(article.url, esc(cut(article.title, HEADLINE)))


def first_look(
    t: Translator,
    lang: str,
    looks: Sequence[FirstLook],
    *,
    upcoming: dt.datetime | None,
    now: dt.datetime,
    zone: ZoneInfo,
    head: str = "",
) -> tuple[list[str], Markup]:
    """Each new section's title and latest headlines, when its news comes, and a button per
    section in digests to get its stories as they come instead; `head` goes first (what the
    command answers). Messages that fit, with room for what the buttons add; buttons under
    the last."""
    blocks = [head] if head else []
    for look in looks:
        lines = [f"<b>{esc(look.section.title(lang))}</b>"]
        lines += [_headline(t, lang, a, now, zone) for a in look.articles[:FIRST_LOOK]]
        if not look.articles:
            lines.append(t.gettext("No stories in this section yet."))
        if look.mode is Mode.INSTANT:
            lines.append(t.gettext("⚡ New stories will come here as they are published."))
        blocks.append("\n".join(lines))
    waiting = [look.section for look in looks if look.mode is Mode.DIGEST]
    if waiting and upcoming is not None:
        moment = next_digest(t, lang, upcoming, now, zone)
        names = ", ".join(quoted(s.title(lang)) for s in waiting)
        line = (  # not ngettext: the form for 21 is the one for 1 in Ukrainian
            t.gettext("Stories of the section {names} will come in the digest, {when}.")
            if len(waiting) == 1
            else t.gettext("Stories of the sections {names} will come in the digest, {when}.")
        )
        blocks.append(line.format(names=names, when=moment))
    elif len(waiting) == 1:  # not ngettext: the form for 21 is the one for 1 in Ukrainian
        blocks.append(
            t.gettext(
                "Digests are off in this chat, so this section's stories will come only if you "
                "switch it to instant (the button below) or turn digests on with /schedule on."
            )
        )
    elif waiting:
        blocks.append(
            t.gettext(
                "Digests are off in this chat, so these sections' stories will come only if you "
                "switch them to instant (the buttons below) or turn digests on with /schedule on."
            )
        )
    rows = [
        [
            InlineKeyboardButton(
                t.gettext("⚡ {title}: send stories at once").format(title=s.title(lang)),
                callback_data=encode(InstantTap(s.slug)),
            )
        ]
        for s in waiting
    ]
    messages = split(blocks, separator="\n\n", limit=FIRST_LOOK_TEXT)
    return messages, InlineKeyboardMarkup(rows) if rows else None


def switched(
    t: Translator, lang: str, section: Section, text_html: str | None, *, markup: Markup, data: str
) -> View | None:
    """A first look after a tap on its button `data`: the button gone, a line saying that the
    section's stories now come as they are published (left out if it would not fit). None
    when there is nothing to redraw: a message no longer readable, or without that button."""
    rows = list(markup.inline_keyboard) if markup else []
    if text_html is None or not any(b.callback_data == data for row in rows for b in row):
        return None
    title = f"<b>{esc(section.title(lang))}</b>"
    line = t.gettext("⚡ {title}: new stories now come here as they are published.").format(
        title=title
    )
    text = f"{text_html}\n\n{line}"
    if visible_length(text) > MAX_TEXT:
        text = text_html
    kept = [[b for b in row if b.callback_data != data] for row in rows]
    kept = [row for row in kept if row]
    return text, InlineKeyboardMarkup(kept) if kept else None


def returning(
    t: Translator,
    lang: str,
    sections: Sequence[Section],
    modes: Mapping[str, Mode],
    *,
    first_name: str | None,
    news: str = "",
    upcoming: dt.datetime | None,
    now: dt.datetime,
    zone: ZoneInfo,
) -> str:
    """/start for a chat that follows sections: which, in which mode, the next digest; `news`
    (what its deep link did) under the greeting; the sections' buttons go under it."""
    called = names.address(first_name, lang)  # as the greeting calls a reader: «Оксано»
    greeting = (
        t.gettext("Welcome back, {name}!").format(name=esc(called))
        if called
        else t.gettext("Welcome back!")
    )
    lines = [f"👋 {greeting}", *([news] if news else []), "", t.gettext("Sections you follow:")]
    for s in sections:
        if s.slug not in modes:
            continue
        title = esc(s.title(lang))
        if modes[s.slug] is Mode.INSTANT:
            lines.append(t.gettext("⚡ {title}: each story as it comes").format(title=title))
        else:
            lines.append(t.gettext("🗞 {title}: only in digests").format(title=title))
    if Mode.DIGEST in modes.values():
        lines.append("")
        if upcoming is not None:
            lines.append(next_digest_line(t, lang, upcoming, now, zone))
        else:
            lines.append(
                t.gettext(
                    "Digests are off, so the 🗞 sections bring nothing: turn digests on with "
                    "/schedule on."
                )
            )
    lines += [
        "",
        t.gettext("Tap a section to subscribe or unsubscribe."),
        t.gettext("⚡ each story as it comes, 🗞 only in digests: tap to switch."),
    ]
    return "\n".join(lines)
