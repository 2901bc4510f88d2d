"""Pure rendering: what a chat sees (HTML text and inline keyboards), in the chat's language.

This module holds the subscriber views; `bot.render.news` the headlines and cards.

Everything that comes from outside (titles, names, what a user typed) is escaped here.
Callback data is made by `bot.callbacks`, the one codec that also reads it back.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from html.parser import HTMLParser
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import LanguageTap, ModeTap, SectionTap, StopTap, encode
from bot.i18n import LANGUAGE_NAMES, LANGUAGES, Translator, names
from storage.types import Mode, Section

ON, OFF = "✅", "➕"
MAX_TEXT = 4096  # a message's length after entities, in UTF-16 code units

Markup = InlineKeyboardMarkup | None
View = tuple[str, Markup]


def esc(text: str) -> str:
    """Escape outside text for Telegram's HTML parse mode."""
    return html.escape(text, quote=False)


def number(n: int, lang: str) -> str:
    """A count as the language writes it: «25 000», "25,000"."""
    return format_decimal(n, locale=lang)


def utf16_len(text: str) -> int:
    """A text's length as Telegram counts it (UTF-16 code units: an emoji is two)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def cut(text: str, units: int) -> str:
    """`text` within `units` UTF-16 code units, cut at a word where it can be, with "…"."""
    if utf16_len(text) <= units:
        return text
    kept, size = [], 1  # room for the "…"
    for ch in text:
        size += 2 if ord(ch) > 0xFFFF else 1
        if size > units:
            break
        kept.append(ch)
    short = "".join(kept)
    word = short.rsplit(" ", 1)[0]
    return (word if len(word) > len(short) // 2 else short).rstrip() + "…"


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def visible_text(text_html: str) -> str:
    """What a reader sees of our HTML: the text without its tags, entities decoded."""
    parser = _Text()
    parser.feed(text_html)
    parser.close()
    return "".join(parser.parts)


def visible_length(text_html: str) -> int:
    """The length Telegram counts: the text after entities, in UTF-16 code units."""
    return utf16_len(visible_text(text_html))


def split(blocks: Sequence[str], *, separator: str = "\n", limit: int = MAX_TEXT) -> list[str]:
    """Whole blocks (each well-formed HTML) joined into as few messages as fit Telegram's
    limit; a block too long for any message alone is cut as plain text. Every list the bot
    can make long goes through here."""
    messages: list[str] = []
    current: list[str] = []
    size = 0
    gap = utf16_len(separator)
    for whole in blocks:
        block, length = whole, visible_length(whole)
        if length > limit:
            plain = visible_text(whole)
            while utf16_len(plain) > limit - 1:
                plain = plain[: len(plain) - (utf16_len(plain) - limit) - 1]
            block, length = esc(plain) + "…", utf16_len(plain) + 1
        if current and size + gap + length > limit:
            messages.append(separator.join(current))
            current, size = [], 0
        size += (gap if current else 0) + length
        current.append(block)
    if current:
        messages.append(separator.join(current))
    return [m for m in messages if m.strip()]


def stamp(moment: dt.datetime, zone: ZoneInfo) -> str:
    """`28.11 10:46`: when something happened, in the newsroom's lists."""
    return moment.astimezone(zone).strftime("%d.%m %H:%M")


def quoted(title: str, limit: int = 64) -> str:
    """`«title»`, escaped; what a user typed is cut to `limit` characters."""
    if len(title) > limit:
        title = title[: limit - 1] + "…"
    return f"«{esc(title)}»"


def section_list(sections: Sequence[Section], language: str) -> str:
    """`Світ, Економіка, Наука і техніка`: the names a reader can type, in their language."""
    return ", ".join(esc(s.title(language)) for s in sections)


def welcome_intro(t: Translator, first_name: str | None, *, lang: str) -> str:
    """The first-time greeting; by name where the name can be put right (in Ukrainian, in the
    vocative: «Вітаю, Оксано!»), else without one."""
    name = names.address(first_name, lang)
    greeting = t.gettext("Hello, {name}!").format(name=esc(name)) if name else t.gettext("Hello!")
    return "\n".join(
        [
            f"👋 {greeting}",
            t.gettext("I am <b>Visnyk</b>: I send the newsroom's stories to this chat."),
            t.gettext("All commands: /help"),
        ]
    )


def sections_view(
    t: Translator,
    sections: Sequence[Section],
    subscribed: Mapping[str, Mode],
    language: str,
    *,
    intro: str | None = None,
) -> View:
    """Each section with a toggle button and, when followed, its mode (instant or in digests);
    `intro` goes above (the welcome)."""
    lines = [intro, ""] if intro else []
    if not sections:
        lines.append(t.gettext("The newsroom has not set up any sections yet."))
        return "\n".join(lines), None
    count = sum(1 for s in sections if s.slug in subscribed)
    heading = t.gettext("Sections")
    lines.append(f"<b>{heading}</b>")
    if count:
        lines.append(
            t.ngettext(
                "Subscribed to {count} section.", "Subscribed to {count} sections.", count
            ).format(count=count)
        )
    else:
        lines.append(t.gettext("No subscriptions yet."))
    lines.append(t.gettext("Tap a section to subscribe or unsubscribe."))
    if count:
        lines.append(t.gettext("⚡ each story as it comes, 🗞 only in digests: tap to switch."))
    welcome = bool(intro)
    rows = []
    for s in sections:
        row = [
            InlineKeyboardButton(
                f"{ON if s.slug in subscribed else OFF} {s.title(language)}",
                callback_data=encode(SectionTap(s.slug, welcome)),
            )
        ]
        if s.slug in subscribed:
            label = (
                t.gettext("⚡ Instantly")
                if subscribed[s.slug] is Mode.INSTANT
                else t.gettext("🗞 In digests")
            )
            to_instant = subscribed[s.slug] is not Mode.INSTANT
            data = encode(ModeTap(s.slug, welcome, to_instant))
            row.append(InlineKeyboardButton(label, callback_data=data))
        rows.append(row)
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def mode_set(t: Translator, section: Section, language: str, mode: Mode) -> str:
    """The short answer to a tap on a mode (a toast, so no HTML)."""
    title = section.title(language)
    if mode is Mode.INSTANT:
        return t.gettext("⚡ {title}: each story as it comes").format(title=title)
    return t.gettext("🗞 {title}: only in digests").format(title=title)


def topic_set(t: Translator, section: Section, language: str, *, in_topic: bool) -> str:
    title = f"<b>{esc(section.title(language))}</b>"
    if in_topic:
        return t.gettext("{title}: each story will be posted into this topic.").format(title=title)
    return t.gettext("{title}: each story will be posted into the general topic.").format(
        title=title
    )


def topic_usage(t: Translator, sections: Sequence[Section], language: str) -> str:
    return t.gettext(
        "Send /topic &lt;section&gt; inside a forum topic, and that section's stories will be "
        "posted there. Sections: {sections}"
    ).format(sections=section_list(sections, language))


def topic_not_forum(t: Translator) -> str:
    return t.gettext("/topic works in groups with topics (forums).")


def toggled(t: Translator, section: Section, language: str, *, now_on: bool) -> str:
    """The short answer to a tap on a section (a toast, so no HTML)."""
    title = section.title(language)
    if now_on:
        return t.gettext("✅ Subscribed: «{title}»").format(title=title)
    return t.gettext("Unsubscribed: «{title}»").format(title=title)


def _titles(sections: Sequence[Section], lang: str) -> str:
    return ", ".join(quoted(s.title(lang)) for s in sections)


def subscribed(
    t: Translator, added: Sequence[Section], already: Sequence[Section], lang: str
) -> str:
    lines = []
    if added:
        lines.append(t.gettext("✅ Subscribed to {titles}.").format(titles=_titles(added, lang)))
    if already:
        lines.append(
            t.gettext("Already subscribed to {titles}.").format(titles=_titles(already, lang))
        )
    return "\n".join(lines)


def unsubscribed(
    t: Translator, removed: Sequence[Section], absent: Sequence[Section], lang: str
) -> str:
    lines = []
    if removed:
        lines.append(t.gettext("Unsubscribed from {titles}.").format(titles=_titles(removed, lang)))
    if absent:
        lines.append(
            t.gettext("You were not subscribed to {titles}.").format(titles=_titles(absent, lang))
        )
    return "\n".join(lines)


def unsubscribed_all(t: Translator, count: int) -> str:
    if not count:
        return t.gettext("There were no subscriptions to cancel.")
    return t.ngettext(
        "Unsubscribed from {count} section.", "Unsubscribed from {count} sections.", count
    ).format(count=count)


def unknown_sections(
    t: Translator, unknown: Sequence[str], sections: Sequence[Section], lang: str
) -> str:
    names = ", ".join(quoted(n, limit=40) for n in unknown[:5])
    if len(unknown) > 5:
        names += ", …"
    return "\n".join(
        [
            t.gettext("No such section: {names}.").format(names=names),
            t.gettext("Sections: {list}").format(list=section_list(sections, lang)),
        ]
    )


def usage(t: Translator, command: str, sections: Sequence[Section], lang: str) -> str:
    hints = {
        "subscribe": t.gettext("Which section? For example: /subscribe world"),
        "unsubscribe": t.gettext(
            "Which section? For example: /unsubscribe world, or /unsubscribe all"
        ),
    }
    lines = [hints[command]]
    if sections:
        lines.append(t.gettext("Sections: {list}").format(list=section_list(sections, lang)))
    return "\n".join(lines)


def admins_only(t: Translator) -> str:
    return t.gettext("Only the group's administrators can change its settings.")


def language_view(t: Translator, current: str) -> View:
    texts = {
        "uk": t.gettext("The bot speaks Ukrainian. Choose a language:"),
        "en": t.gettext("The bot speaks English. Choose a language:"),
    }
    text = texts[current]
    buttons = [
        InlineKeyboardButton(
            ("✓ " if lang == current else "") + LANGUAGE_NAMES[lang],
            callback_data=encode(LanguageTap(lang)),
        )
        for lang in LANGUAGES
    ]
    return text, InlineKeyboardMarkup([buttons])


def language_set(t: Translator, language: str) -> str:
    texts = {
        "uk": t.gettext("✅ The bot now speaks Ukrainian."),
        "en": t.gettext("✅ The bot now speaks English."),
    }
    return texts[language]


def language_usage(t: Translator) -> str:
    return t.gettext("Unknown language. Use /language ukrainian or /language english.")


def stop_confirm(t: Translator) -> View:
    text = t.gettext(
        "Unsubscribe from everything and delete this chat's data? This cannot be undone."
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(t.gettext("Yes, delete"), callback_data=encode(StopTap(True))),
                InlineKeyboardButton(t.gettext("Cancel"), callback_data=encode(StopTap(False))),
            ]
        ]
    )
    return text, markup


def stopped(t: Translator) -> str:
    return t.gettext(
        "Done: no more news here, and this chat's data is deleted. Send /start to come back."
    )


def stop_cancelled(t: Translator) -> str:
    return t.gettext("Nothing changed: your subscriptions are as they were.")


def group_hello(t: Translator) -> str:
    return "\n".join(
        [
            t.gettext("👋 Hello! I am <b>Visnyk</b>: I send the newsroom's stories to this chat."),
            t.gettext("Administrators: choose sections with /sections."),
        ]
    )


def unknown_command(t: Translator) -> str:
    return t.gettext("I don't know that command. See /help.")


def not_a_command(t: Translator) -> str:
    return t.gettext("I understand commands only. See /help, or choose sections with /sections.")


def stale_button(t: Translator) -> str:
    return t.gettext("This button no longer works. Send the command again.")


def throttled(t: Translator, minutes: int) -> str:
    """Plain text (it is also a tap's alert)."""
    return t.ngettext(
        "⏳ Too many requests in a short time. For the next {n} minute I will not answer them.",
        "⏳ Too many requests in a short time. For the next {n} minutes I will not answer them.",
        minutes,
    ).format(n=minutes)


def section_gone(t: Translator) -> str:
    return t.gettext("This section is no longer available.")


def failure(t: Translator) -> str:
    return t.gettext("Something went wrong on our side. Please try again in a minute.")


def search_usage(t: Translator) -> str:
    return t.gettext("What should I look for? For example: /search Zelensky")


def article_gone(t: Translator) -> str:
    return t.gettext("This story is no longer available.")


def deep_link_unknown(t: Translator) -> str:
    return t.gettext("That link points to a section that no longer exists.")
