"""Who edits and what editors did: the editors the owners added, the audit log of their
actions and refused attempts, and the tally of strangers who tried editors' commands."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update

from storage.codes import AuditOutcome, EditorAction
from storage.db import Database, insert_ignoring
from storage.models import AuditRow, EditorRow, StrangerRow
from storage.types import AuditEntry, Stranger

AUDIT_TARGET = 256


async def add_editor(db: Database, user_id: int, by: int, now: dt.datetime) -> bool:
    """Make `user_id` an editor; False if they were one already."""
    async with db.transaction() as s:
        result = await s.execute(
            insert_ignoring(s, EditorRow).values(user_id=user_id, added_by=by, added=now)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def remove_editor(db: Database, user_id: int) -> bool:
    async with db.transaction() as s:
        result = await s.execute(delete(EditorRow).where(EditorRow.user_id == user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]


async def editors(db: Database) -> list[tuple[int, int, dt.datetime]]:
    """(user id, added by, when), oldest first."""
    async with db.reading() as s:
        rows = await s.execute(
            select(EditorRow.user_id, EditorRow.added_by, EditorRow.added).order_by(EditorRow.added)
        )
        return [(r.user_id, r.added_by, r.added) for r in rows.all()]


async def is_editor(db: Database, user_id: int) -> bool:
    async with db.reading() as s:
        return await s.get(EditorRow, user_id) is not None


# ---- audit -------------------------------------------------------------------------------


async def audit(  # noqa: PLR0917 - the columns of one entry, in their order
    db: Database,
    user_id: int,
    action: EditorAction,
    target: str,
    outcome: AuditOutcome,
    now: dt.datetime,
    count: int | None = None,
) -> None:
    async with db.transaction() as s:
        s.add(
            AuditRow(
                at=now,
                user_id=user_id,
                action=action.value,
                target=target[:AUDIT_TARGET],
                outcome=outcome.value,
                count=count,
            )
        )


async def audit_log(db: Database, limit: int = 20) -> list[AuditEntry]:
    """The newest entries first."""
    async with db.reading() as s:
        rows = await s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(limit))
        return [AuditEntry(r.at, r.user_id, r.action, r.target, r.outcome, r.count) for r in rows]


async def stranger_tried(
    db: Database, user_id: int, action: EditorAction, now: dt.datetime
) -> None:
    """Someone who is no editor tried an editors' command: one row a person, counted, so that
    a stranger's flood never pushes the editors' own entries out of the audit log."""
    async with db.transaction() as s:
        added = await s.execute(
            insert_ignoring(s, StrangerRow).values(
                user_id=user_id, attempts=1, first_at=now, last_at=now, last_action=action.value
            )
        )
        if not added.rowcount:  # type: ignore[attr-defined]
            await s.execute(
                update(StrangerRow)
                .where(StrangerRow.user_id == user_id)
                .values(attempts=StrangerRow.attempts + 1, last_at=now, last_action=action.value)
            )


async def strangers(
    db: Database, since: dt.datetime, limit: int = 5
) -> tuple[list[Stranger], int, int]:
    """Those who tried since `since`, the latest first (at most `limit`); and how many people
    and attempts that is in all."""
    async with db.reading() as s:
        recent = StrangerRow.last_at >= since
        rows = await s.scalars(
            select(StrangerRow).where(recent).order_by(StrangerRow.last_at.desc()).limit(limit)
        )
        listed = [
            Stranger(r.user_id, r.attempts, r.first_at, r.last_at, r.last_action) for r in rows
        ]
        people, attempts = (
            await s.execute(
                select(func.count(), func.coalesce(func.sum(StrangerRow.attempts), 0)).where(recent)
            )
        ).one()
        return listed, int(people), int(attempts)


async def forget_strangers(db: Database, before: dt.datetime) -> int:
    """Drop strangers not seen since `before` (the table stays as small as the recent past)."""
    async with db.transaction() as s:
        result = await s.execute(delete(StrangerRow).where(StrangerRow.last_at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def forget_audit(db: Database, before: dt.datetime) -> int:
    """Drop audit entries older than `before` (`[storage] audit_keep_days`)."""
    async with db.transaction() as s:
        result = await s.execute(delete(AuditRow).where(AuditRow.at < before))
        return int(result.rowcount)  # type: ignore[attr-defined]
