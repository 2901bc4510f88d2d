"""Who may edit: the owners (numeric ids in the config) and the editors they added; and the
language a chat chose, for the editors' menus and reports."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.newsroom import Desk
from storage import chats
from storage import editors as stored_editors
from storage.codes import AuditOutcome, EditorAction
from storage.types import AuditEntry, Stranger


async def is_editor(desk: Desk, user_id: int) -> bool:
    """Owners (from the config) and the editors they added; by numeric id only."""
    return is_owner(desk, user_id) or await stored_editors.is_editor(desk.db, user_id)


def is_owner(desk: Desk, user_id: int) -> bool:
    return user_id in desk.owners


async def language_of(desk: Desk, chat_id: int) -> str:
    """The language a chat chose (the default for a chat the bot has not met)."""
    chat = await chats.get(desk.db, chat_id)
    return chat.language if chat else desk.default_language


async def add_editor(desk: Desk, by: int, user_id: int) -> bool:
    """An owner makes `user_id` an editor: the change and its audit entry in one transaction.
    False if they were one already."""
    async with desk.db.transaction():
        added = await stored_editors.add_editor(desk.db, user_id, by, desk.now())
        outcome = AuditOutcome.ADDED if added else AuditOutcome.ALREADY
        await stored_editors.audit(
            desk.db, by, EditorAction.EDITOR_ADD, str(user_id), outcome, desk.now()
        )
    return added


async def remove_editor(desk: Desk, by: int, user_id: int) -> bool:
    """An owner takes the rights away: the change and its audit entry in one transaction.
    False if they were no editor."""
    async with desk.db.transaction():
        removed = await stored_editors.remove_editor(desk.db, user_id)
        outcome = AuditOutcome.REMOVED if removed else AuditOutcome.ABSENT
        await stored_editors.audit(
            desk.db, by, EditorAction.EDITOR_REMOVE, str(user_id), outcome, desk.now()
        )
    return removed


async def record(  # noqa: PLR0917 - an audit entry's fields
    desk: Desk,
    user_id: int,
    action: EditorAction,
    target: str,
    outcome: AuditOutcome,
    count: int | None = None,
) -> None:
    """What an editor did, or why it did nothing, in the audit log."""
    await stored_editors.audit(desk.db, user_id, action, target, outcome, desk.now(), count)


async def stranger_tried(desk: Desk, user_id: int, action: EditorAction) -> None:
    """Someone who is no editor tried an editors' command: counted apart from the audit log."""
    await stored_editors.stranger_tried(desk.db, user_id, action, desk.now())


@dataclass(frozen=True, slots=True)
class AuditView:
    """The audit log's last entries, and who else tried editors' commands in the last week."""

    entries: list[AuditEntry]
    strangers: list[Stranger]
    people: int
    attempts: int


async def audit_view(desk: Desk, limit: int = 20) -> AuditView:
    week_ago = desk.now() - dt.timedelta(days=7)
    async with desk.db.transaction():
        entries = await stored_editors.audit_log(desk.db, limit)
        strangers, people, attempts = await stored_editors.strangers(desk.db, week_ago)
    return AuditView(entries, strangers, people, attempts)


async def editors(desk: Desk) -> list[tuple[int, int, dt.datetime]]:
    """(user id, added by, when) of the editors the owners added, oldest first."""
    return await stored_editors.editors(desk.db)
