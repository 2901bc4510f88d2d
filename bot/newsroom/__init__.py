"""The newsroom's services, by area: each module runs editors' commands, one command in one
transaction, and returns typed results for rendering; handlers (bot/handlers/) only talk.

- drafts: reading what an editor typed (/breaking, /post, /recall, /correct): pure
- flashes: previews that only their editor can confirm, enqueuing flashes, recalls and
  corrections, the live progress reports
- rights: who may edit (owners by config, editors they added), the chats' languages
- channels: the newsroom's channels and the sections they get
- sources: polling every feed at once
- budget: what a flash will take, free or paid (time, Stars): pure

Services take a `Desk` (what they need of the running bot), not the whole runtime.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.i18n import Catalogs
from bot.newsroom.budget import FREE, Rates
from storage.codes import ChangeRefusal, PreviewRefusal
from storage.db import Database
from storage.types import Section

if TYPE_CHECKING:
    from bot.runtime import Runtime


@dataclass(frozen=True)
class Desk:
    """What the newsroom's services need, and nothing more: the database, who owns the bot,
    the clock, the engine's wake-up, the catalogs and sections a message is made with, the
    language of a chat never met, the newsroom's time zone and its send rates. `of` takes
    them from the running bot; a test can make one of a bare database."""

    db: Database
    owners: frozenset[int]
    now: Callable[[], dt.datetime]
    notify: Callable[[], None]
    catalogs: Catalogs
    sections: Sequence[Section]
    default_language: str
    zone: ZoneInfo
    rates: Rates = FREE  # Telegram's free limit, no paid broadcasts

    @classmethod
    def of(cls, runtime: Runtime) -> Desk:
        config = runtime.config
        return cls(
            runtime.db,
            frozenset(config.telegram.owners),
            runtime.now,
            runtime.notify,
            runtime.catalogs,
            runtime.sections,
            config.i18n.default_language,
            ZoneInfo(config.digest.timezone),
            Rates(
                free_per_second=config.delivery.messages_per_second,
                paid_per_second=None
                if config.delivery.paid_broadcast == "off"
                else config.delivery.paid_messages_per_second,
                stars_per_message=config.delivery.paid_stars_per_message,
            ),
        )


class PreviewRefused(Exception):
    """A preview's button that must not act: `reason` says why."""

    def __init__(self, reason: PreviewRefusal) -> None:
        super().__init__(reason.value)
        self.reason: PreviewRefusal = reason


class ChangeRefused(Exception):
    """A /recall or /correct that must not act on the flash it names: `reason` says why."""

    def __init__(self, reason: ChangeRefusal) -> None:
        super().__init__(reason.value)
        self.reason: ChangeRefusal = reason
