"""Pure rendering of a digest: headlines grouped by section, within Telegram's length limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from babel.dates import format_date

from bot.i18n import Translator
from bot.render import MAX_TEXT, cut, esc, utf16_len
from bot.render.news import HEADLINE, link
from storage.types import Article, Section

BULLET = "• "


def digest(
    t: Translator,
    lang: str,
    articles: Sequence[Article],
    sections: Sequence[Section],
    *,
    now: dt.datetime,
    zone: ZoneInfo,
    max_items: int,
    limit: int = MAX_TEXT,
) -> list[str]:
    """The digest's messages (usually one): a heading, then each section's headlines, newest
    first, at most `max_items`; "…and N more" for the rest. Split at headline boundaries."""
    local = now.astimezone(zone)
    day = format_date(local.date(), "d MMMM", locale=lang)
    title = t.gettext("Digest")
    heading = f"🗞 <b>{title}</b> · {esc(day)}, {local:%H:%M}"
    heading_len = utf16_len(f"🗞 {title} · {day}, {local:%H:%M}")
    order = {s.slug: i for i, s in enumerate(sections)}
    shown = sorted(articles, key=lambda a: -a.id)[:max_items]
    by_section: dict[str, list[Article]] = {s.slug: [] for s in sections}
    for article in shown:
        home = min((s for s in article.sections if s in order), key=order.__getitem__, default=None)
        if home is not None:
            by_section[home].append(article)
    # (html, visible length) per line; blocks start with a section's name.
    lines: list[tuple[str, int]] = []
    for section in sections:
        if not by_section[section.slug]:
            continue
        name = section.title(lang)
        lines.append(("", 0))
        lines.append((f"<b>{esc(name)}</b>", utf16_len(name)))
        for a in by_section[section.slug]:
            title = cut(a.title, HEADLINE)
            lines.append((BULLET + link(a.url, esc(title)), utf16_len(BULLET + title)))
    rest = len(articles) - len(shown)
    if rest > 0:
        more = t.ngettext("…and {count} more: /latest", "…and {count} more: /latest", rest)
        lines += [("", 0), (more.format(count=rest), utf16_len(more.format(count=rest)))]
    messages: list[str] = []
    current, size = [heading], heading_len
    for html, visible in lines:
        if size + 1 + visible > limit and len(current) > 1:
            messages.append("\n".join(current).rstrip())
            current, size = [], 0
            if not html:
                continue
        current.append(html)
        size += 1 + visible
    messages.append("\n".join(current).rstrip())
    return [m for m in messages if m.strip()]
