"""Pure rendering of the newsroom's channels: adding, removing, listing, what can be wrong."""

from __future__ import annotations

from collections.abc import Sequence
from typing import assert_never

from bot.i18n import Translator
from bot.render import cut, esc, split
from storage.codes import AuditOutcome, ChannelProblem
from storage.types import Section


def channel_usage(t: Translator) -> str:
    return t.gettext(
        "Format: /channel_add @channel [#section…] (without sections: all of them); "
        "/channel_remove @channel. Make the bot an administrator of the channel first."
    )


def channel_problem(t: Translator, reason: ChannelProblem, name: str) -> str:
    match reason:
        case AuditOutcome.CHANNEL_NOT_FOUND:
            text = t.gettext("There is no channel {name}, or the bot cannot see it.")
        case AuditOutcome.NOT_A_CHANNEL:
            text = t.gettext("{name} is not a channel.")
        case AuditOutcome.NOT_ADMIN:
            text = t.gettext(
                "The bot is not an administrator of {name} with the right to post: make it one "
                "and try again."
            )
        case AuditOutcome.NOT_OURS:
            text = t.gettext("{name} is not one of the newsroom's channels.")
        case _:
            assert_never(reason)
    return text.format(name=esc(name[:64]))


def channel_added(t: Translator, title: str, sections: Sequence[Section], lang: str) -> str:
    names = ", ".join(esc(s.title(lang)) for s in sections)
    return t.gettext("Channel {title} now gets the stories of: {names}; and flashes.").format(
        title=f"<b>{esc(title)}</b>", names=names
    )


def channel_removed(t: Translator, title: str) -> str:
    return t.gettext("Channel {title} no longer gets anything.").format(
        title=f"<b>{esc(title)}</b>"
    )


def channels_list(
    t: Translator, channels: Sequence[tuple[str, int, Sequence[Section]]], lang: str
) -> list[str]:
    """(title, id, sections) of each channel."""
    if not channels:
        return [t.gettext("No channels yet. Add one: /channel_add @channel #section")]
    heading = t.gettext("Channels")
    lines = [f"<b>{esc(heading)}</b>"]
    for title, chat_id, sections in channels:
        names = ", ".join(esc(s.title(lang)) for s in sections) or "—"
        lines.append(f"{esc(cut(title, 200))} (<code>{chat_id}</code>): {names}")
    return split(lines)
