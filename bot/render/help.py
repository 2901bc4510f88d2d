"""Pure rendering of what the bot says about its commands: /help and the command menus, both
made from bot.commands, the one table of commands."""

from __future__ import annotations

from telegram import BotCommand

from bot.commands import COMMANDS, Role
from bot.i18n import Translator
from bot.render import esc


def help_text(t: Translator, *, group: bool, bot: str, editor: bool = False) -> str:
    """What the bot does and every reader's command; an editor (in a private chat) sees the
    editors' commands too."""
    lines = [
        t.gettext("<b>Visnyk</b> sends the newsroom's stories to this chat."),
        t.gettext("Follow the sections you care about and their news will come here."),
        t.gettext(
            "A section's stories come ⚡ as they are published or 🗞 together in digests at the "
            "times of /schedule: switch in /sections."
        ),
        "",
    ]
    lines += [t.gettext(c.help) for c in COMMANDS if c.role is Role.READER and c.help]
    share = t.gettext("In any chat, type @{bot} and a few words to share a story.")
    lines += ["", share.format(bot=esc(bot))]
    if group:
        lines += ["", t.gettext("In groups only administrators can change subscriptions.")]
    if editor:
        heading = t.gettext("For the newsroom")
        lines += ["", f"<b>{esc(heading)}</b>"]
        lines += [
            f"/{c.name} — {esc(t.gettext(c.menu))}"
            for c in COMMANDS
            if c.role is Role.EDITOR and c.menu
        ]
    return "\n".join(lines)


def command_menu(t: Translator) -> list[BotCommand]:
    """The readers' commands for Telegram's command menu."""
    return [
        BotCommand(c.name, t.gettext(c.menu)) for c in COMMANDS if c.role is Role.READER and c.menu
    ]


def editor_menu(t: Translator) -> list[BotCommand]:
    """The commands editors see besides the readers' ones."""
    return [
        BotCommand(c.name, t.gettext(c.menu)) for c in COMMANDS if c.role is Role.EDITOR and c.menu
    ]
