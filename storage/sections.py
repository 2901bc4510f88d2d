"""Sections of the newsroom: kept in step with the configuration."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select

from storage.db import Database, insert_ignoring
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
        missing = [slug for slug in wanted if slug not in rows]
        if missing:
            # Replicas starting together add the same sections: the second's rows give way.
            await s.execute(
                insert_ignoring(s, SectionRow),
                [
                    {"slug": slug, "titles": dict(wanted[slug][1].titles), "position": 0}
                    for slug in missing
                ],
            )
            added = await s.scalars(select(SectionRow).where(SectionRow.slug.in_(missing)))
            rows.update((row.slug, row) for row in added)
        for slug, row in rows.items():
            if slug in wanted:
                position, spec = wanted[slug]
                row.titles, row.position, row.hidden = dict(spec.titles), position, False
            else:
                row.hidden = True
    return await visible(db)


async def visible(db: Database) -> list[Section]:
    async with db.reading() as s:
        rows = await s.execute(
            select(SectionRow).where(SectionRow.hidden.is_(False)).order_by(SectionRow.position)
        )
        return [_section(row) for row in rows.scalars()]
