"""Every command the bot has, once: who may use it, what the command menus say of it, and the
line /help gives it. Registration (bot.app), the menus and /help all derive from this table,
so a command cannot be in one and missing from another."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.i18n import N_


class Role(StrEnum):
    READER = "reader"  # anyone, in any chat
    EDITOR = "editor"  # editors and owners, in a private chat
    OWNER = "owner"  # owners only


@dataclass(frozen=True, slots=True)
class Command:
    name: str
    role: Role
    menu: str | None = None  # what the command menu says (English msgid); None: not in it
    help: str | None = None  # its line in /help (English msgid, HTML); None: not in it


COMMANDS: tuple[Command, ...] = (
    Command("start", Role.READER),
    Command("latest", Role.READER, N_("The latest news"), N_("/latest [section]: the latest news")),
    Command(
        "search",
        Role.READER,
        N_("Find news"),
        N_("/search &lt;words&gt;: find news, e.g. /search Kyiv"),
    ),
    Command(
        "sections",
        Role.READER,
        N_("Sections and subscriptions"),
        N_("/sections: the sections and your subscriptions"),
    ),
    Command("digest", Role.READER, N_("The digest now"), N_("/digest: the digest now")),
    Command(
        "schedule",
        Role.READER,
        N_("Digest times"),
        N_(
            "/schedule: when digests come, e.g. /schedule 08:00 20:00, /schedule weekdays, "
            "or /schedule off"
        ),
    ),
    Command(
        "subscribe",
        Role.READER,
        N_("Follow a section"),
        N_("/subscribe &lt;section&gt;: follow a section, e.g. /subscribe world"),
    ),
    Command(
        "unsubscribe",
        Role.READER,
        N_("Stop following a section"),
        N_("/unsubscribe &lt;section|all&gt;: stop following a section, or all of them"),
    ),
    Command(
        "timezone",
        Role.READER,
        N_("Time zone"),
        N_("/timezone: the chat's time zone, e.g. /timezone Europe/Kyiv"),
    ),
    Command(
        "quiet",
        Role.READER,
        N_("Quiet hours"),
        N_("/quiet: hours when stories come without sound, e.g. /quiet 23:00–07:00, or /quiet off"),
    ),
    Command("topic", Role.READER),
    Command(
        "language",
        Role.READER,
        N_("The bot's language"),
        N_("/language: the bot's language, e.g. /language english"),
    ),
    Command("help", Role.READER, N_("What the bot does"), N_("/help: this help")),
    Command(
        "stop",
        Role.READER,
        N_("Unsubscribe from everything"),
        N_("/stop: unsubscribe from everything and delete this chat's data"),
    ),
    Command("breaking", Role.EDITOR, N_("Send a flash: breaking news")),
    Command("post", Role.EDITOR, N_("Send an article as a story")),
    Command("recall", Role.EDITOR, N_("Delete a flash everywhere")),
    Command("correct", Role.EDITOR, N_("Edit a flash everywhere")),
    Command("broadcasts", Role.EDITOR, N_("Recent flashes")),
    Command("audit", Role.EDITOR, N_("What editors did")),
    Command("editors", Role.EDITOR, N_("Who edits")),
    Command("stats", Role.EDITOR, N_("Audience and deliveries")),
    Command("channels", Role.EDITOR, N_("The newsroom's channels")),
    Command("sources", Role.EDITOR, N_("Feeds and their health")),
    Command("fetch", Role.EDITOR, N_("Update every feed now")),
    Command("channel_add", Role.EDITOR),
    Command("channel_remove", Role.EDITOR),
    Command("editor_add", Role.OWNER),
    Command("editor_remove", Role.OWNER),
)


def of(role: Role) -> list[Command]:
    return [c for c in COMMANDS if c.role is role]
