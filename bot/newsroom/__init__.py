"""The newsroom's services, by area: each module runs editors' commands, one command in one
transaction, and returns typed results for rendering; handlers (bot/handlers/) only talk.

- drafts: reading what an editor typed (/breaking, /post, /recall, /correct): pure
- flashes: previews that only their editor can confirm, enqueuing flashes, recalls and
  corrections, the live progress reports
- rights: who may edit (owners by config, editors they added), the chats' languages
- channels: the newsroom's channels and the sections they get
- sources: polling every feed at once
"""

from __future__ import annotations

from storage.codes import ChangeRefusal, PreviewRefusal


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
