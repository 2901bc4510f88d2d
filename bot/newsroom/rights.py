"""Who may edit: the owners (numeric ids in the config) and the editors they added; and the
language a chat chose, for the editors' menus and reports; the newsroom's time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.runtime import Runtime
from storage import chats
from storage import editors as stored_editors


async def is_editor(runtime: Runtime, user_id: int) -> bool:
    """Owners (from the config) and the editors they added; by numeric id only."""
    return is_owner(runtime, user_id) or await stored_editors.is_editor(runtime.db, user_id)


def is_owner(runtime: Runtime, user_id: int) -> bool:
    return user_id in runtime.config.telegram.owners


async def language_of(runtime: Runtime, chat_id: int) -> str:
    """The language a chat chose (the default for a chat the bot has not met)."""
    chat = await chats.get(runtime.db, chat_id)
    return chat.language if chat else runtime.config.i18n.default_language


def zone(runtime: Runtime) -> ZoneInfo:
    """The newsroom's own time zone (`[digest] timezone`): every time an editor's list shows."""
    return ZoneInfo(runtime.config.digest.timezone)
