"""Pure rendering of the newsroom's figures (/stats)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from bot.i18n import Translator
from bot.render import esc, number, split
from storage.types import Section

if TYPE_CHECKING:
    from bot.stats import Audience


def stats_text(
    t: Translator,
    audience: Audience,
    sections: Sequence[Section],
    *,
    per_section: Mapping[str, int],
    deliveries: Mapping[str, int],
    lang: str,
    paid: tuple[int, int] | None = None,
) -> list[str]:
    """The newsroom's figures: audience, sections, the week, the last day's deliveries, and
    (`paid`: messages, Stars) what paid broadcasts took over 30 days."""
    heading = t.gettext("Audience")
    lines = [
        f"<b>{esc(heading)}</b>",
        t.gettext(
            "Active: {active} (private chats {private}, groups {groups}, channels {channels})"
        ).format(
            active=audience.active,
            private=audience.private,
            groups=audience.groups,
            channels=audience.channels,
        ),
        t.gettext("Blocked the bot: {blocked}; removed or gone: {left}").format(
            blocked=audience.blocked, left=audience.left
        ),
        t.gettext("Last 7 days: {new} new, {lost} lost").format(
            new=audience.new_week, lost=audience.lost_week
        ),
        "",
    ]
    heading = t.gettext("By section")
    lines.append(f"<b>{esc(heading)}</b>")
    lines += [f"{esc(s.title(lang))}: {per_section.get(s.slug, 0)}" for s in sections]
    heading = t.gettext("Deliveries, last 24 hours")
    lines += ["", f"<b>{esc(heading)}</b>"]
    lines.append(
        t.gettext("sent {sent}, failed {failed}, retried {retried}, pending {pending}").format(
            **deliveries
        )
    )
    if paid is not None:
        messages, stars = paid
        heading = t.gettext("Paid broadcasts, last 30 days")
        lines += ["", f"<b>{esc(heading)}</b>"]
        lines.append(
            t.ngettext(
                "{n} paid message ≈ {stars} ⭐", "{n} paid messages ≈ {stars} ⭐", messages
            ).format(n=number(messages, lang), stars=number(stars, lang))
        )
    return split(lines)


def chart_title(t: Translator) -> str:
    return t.gettext("Active subscribers per day, last 30 days")
