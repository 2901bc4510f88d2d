"""Sections of the newsroom: kept in step with the configuration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storage.db import Database
from storage.models import SectionRow
from storage.types import NewSection, Section


def _section(row: SectionRow) -> Section:
    return Section(
        id=row.id, slug=row.slug, titles=dict(row.titles), position=row.position, hidden=row.hidden
    )


async def sync(db: Database, configured: Sequence[NewSection]) -> list[Section]:
    """Make the stored sections match `configured`: add new ones, update titles and order,
    hide the ones no longer configured (their subscriptions are kept for when they return).
    Returns the visible sections in configured order."""
    wanted = {s.slug: (i, s) for i, s in enumerate(configured)}
    async with db.transaction() as s:
        rows = {row.slug: row for row in (await s.execute(select(SectionRow))).scalars()}
        for slug, (position, spec) in wanted.items():
            row = rows.get(slug)
            if row is None:
                s.add(SectionRow(slug=slug, titles=dict(spec.titles), position=position))
            else:
                row.titles, row.position, row.hidden = dict(spec.titles), position, False
        for slug, row in rows.items():
            if slug not in wanted:
                row.hidden = True
    return await visible(db)


async def visible(db: Database) -> list[Section]:
    async with db.reading() as s:
        rows = await s.execute(
            select(SectionRow).where(SectionRow.hidden.is_(False)).order_by(SectionRow.position)
        )
        return [_section(row) for row in rows.scalars()]
