"""Articles: one record per story, in one or more sections; storing, reading, pruning.

Also the searches a chat made (their words, so that the result pages can be turned); the
search itself, on FTS5 or PostgreSQL's tsvector, is storage/search.py.

Storing is race-safe on PostgreSQL too: on SQLite one writer at a time makes the read of
what is stored and the insert of what is new one step; on PostgreSQL two transactions (two
replicas, an ingest and `visnyk ingest`) could both find a story new and both insert it (the
second failing on the URL, or storing it twice under another URL with the same title). So a
save there first takes a transaction advisory lock, SAVE_LOCK: saves of articles take turns,
as on SQLite, and nothing else waits.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import Select, and_, delete, exists, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.models import ArticleRow, ArticleSectionRow, SearchRow, SectionRow
from storage.types import Article, NewArticle, Outcome, Page, Saved

TITLE_WINDOW = dt.timedelta(days=3)  # the same title this close in time is the same story
ID_SHIFT = 24  # article id = publication second << ID_SHIFT | a hash of the URL
SEARCHES_KEPT = 20  # per chat: the result pages of older searches say "no longer works"
SAVE_LOCK = 0x7669736E7961  # PostgreSQL advisory lock: one save of articles at a time


def article_id(published: dt.datetime, url: str) -> int:
    """An id that sorts articles by publication: the newest have the largest ids, so the
    full-text index and the primary key both walk newest first."""
    return (int(published.timestamp()) << ID_SHIFT) | (zlib.crc32(url.encode()) & 0xFFFFFF)


async def _section_ids(s: AsyncSession) -> dict[str, int]:
    return {slug: id_ for id_, slug in (await s.execute(select(SectionRow.id, SectionRow.slug)))}


async def _matches(
    s: AsyncSession, stories: Sequence[NewArticle], window: dt.timedelta
) -> list[ArticleRow | None]:
    """The stored article each story is, by canonical URL, then guid, then title and time."""
    urls = {st.url for st in stories}
    guids = {st.guid for st in stories if st.guid}
    keys = {st.title_key for st in stories}
    by_url: dict[str, ArticleRow] = {}
    by_guid: dict[str, ArticleRow] = {}
    by_key: dict[str, list[ArticleRow]] = defaultdict(list)
    earliest = min(st.published for st in stories) - window
    condition = or_(
        ArticleRow.url.in_(urls),
        and_(ArticleRow.title_key.in_(keys), ArticleRow.published >= earliest),
    )
    if guids:
        condition = or_(condition, ArticleRow.guid.in_(guids))
    rows = (await s.execute(select(ArticleRow).where(condition))).scalars().all()
    for row in rows:
        by_url[row.url] = row
        if row.guid:
            by_guid[row.guid] = row
        by_key[row.title_key].append(row)
    found: list[ArticleRow | None] = []
    for st in stories:
        match = by_url.get(st.url) or (by_guid.get(st.guid) if st.guid else None)
        if match is None:
            match = next(
                (r for r in by_key[st.title_key] if abs(r.published - st.published) <= window), None
            )
        found.append(match)
    return found


async def known(db: Database, stories: Sequence[NewArticle]) -> list[bool]:
    """For each story, whether it is stored already with a summary (no page to fetch)."""
    if not stories:
        return []
    async with db.reading() as s:
        return [bool(row and row.summary) for row in await _matches(s, stories, TITLE_WINDOW)]


async def save(
    db: Database,
    stories: Sequence[NewArticle],
    *,
    feed_id: int | None,
    now: dt.datetime,
    window: dt.timedelta = TITLE_WINDOW,
) -> list[Saved]:
    """Store stories: a new story is inserted, a known one updated when its title, summary,
    image or author changed, and linked to any new section. One transaction."""
    if not stories:
        return []
    results: list[Saved] = []
    async with db.transaction() as s:
        if db.dialect == "postgresql":
            await s.execute(text("SELECT pg_advisory_xact_lock(:key)").bindparams(key=SAVE_LOCK))
        section_ids = await _section_ids(s)
        matched = await _matches(s, stories, window)
        linked: dict[int, set[int]] = defaultdict(set)
        ids = [row.id for row in matched if row is not None]
        if ids:
            pairs = await s.execute(
                select(ArticleSectionRow.article_id, ArticleSectionRow.section_id).where(
                    ArticleSectionRow.article_id.in_(ids)
                )
            )
            for article_id, section_id in pairs:
                linked[article_id].add(section_id)
        batch: list[ArticleRow] = []  # the same story twice in one batch is one story too
        outcomes: list[tuple[NewArticle, ArticleRow, Outcome]] = []
        new_rows: list[ArticleRow] = []
        for story, match in zip(stories, matched, strict=True):
            row = match or _same(story, batch, window)
            if row is None:
                row = _new_row(story, feed_id, now)
                new_rows.append(row)
                outcome = Outcome.NEW
            elif row.feed_id in (feed_id, None) and row not in batch:
                outcome = _update(row, story, now)
            else:
                outcome = Outcome.UNCHANGED  # only the story's own feed changes its text
            batch.append(row)
            outcomes.append((story, row, outcome))
        await _assign_ids(s, new_rows)
        s.add_all(new_rows)
        await s.flush()
        links = []
        for story, row, outcome in outcomes:
            wanted = {section_ids[slug] for slug in story.sections if slug in section_ids}
            missing = wanted - linked[row.id]
            links += [{"article_id": row.id, "section_id": sid} for sid in sorted(missing)]
            linked[row.id] |= missing
            changed = bool(missing) and outcome is Outcome.UNCHANGED
            if missing:  # new to a section: its story posts are still to be enqueued
                row.announced = False
            results.append(Saved(row.id, Outcome.UPDATED if changed else outcome, bool(missing)))
        if links:
            await s.execute(insert(ArticleSectionRow), links)
    return results


async def _assign_ids(s: AsyncSession, rows: Sequence[ArticleRow]) -> None:
    """Time-ordered ids, bumped past any taken (same second, same URL hash)."""
    for row in rows:
        row.id = article_id(row.published, row.url)
    pending = list(rows)
    while pending:
        taken = set(
            (
                await s.execute(
                    select(ArticleRow.id).where(ArticleRow.id.in_([r.id for r in pending]))
                )
            ).scalars()
        )
        mine: set[int] = set()
        clashing = []
        for row in rows:
            if row in pending and (row.id in taken or row.id in mine):
                row.id += 1
                clashing.append(row)
            mine.add(row.id)
        pending = clashing


def _new_row(story: NewArticle, feed_id: int | None, now: dt.datetime) -> ArticleRow:
    return ArticleRow(
        url=story.url,
        guid=story.guid,
        title_key=story.title_key,
        title=story.title,
        summary=story.summary,
        image_url=story.image_url,
        author=story.author,
        language=story.language,
        published=story.published,
        first_seen=now,
        updated=now,
        feed_id=feed_id,
    )


def _same(story: NewArticle, rows: Sequence[ArticleRow], window: dt.timedelta) -> ArticleRow | None:
    for row in rows:
        if row.url == story.url or (story.guid and row.guid == story.guid):
            return row
        if row.title_key == story.title_key and abs(row.published - story.published) <= window:
            return row
    return None


def _update(row: ArticleRow, story: NewArticle, now: dt.datetime) -> Outcome:
    changes = {
        "title": story.title,
        "summary": story.summary or row.summary,
        "image_url": story.image_url or row.image_url,
        "author": story.author or row.author,
        "title_key": story.title_key,
    }
    changed = False
    for name, value in changes.items():
        if getattr(row, name) != value:
            setattr(row, name, value)
            changed = True
    if row.guid is None and story.guid:
        row.guid = story.guid
    if not changed:
        return Outcome.UNCHANGED
    row.updated = now
    return Outcome.UPDATED


async def as_articles(s: AsyncSession, rows: Iterable[ArticleRow]) -> list[Article]:
    """The rows as Articles, each with the slugs of its sections (one query for all)."""
    rows = list(rows)
    sections: dict[int, list[str]] = defaultdict(list)
    if rows:
        pairs = await s.execute(
            select(ArticleSectionRow.article_id, SectionRow.slug)
            .join(SectionRow, SectionRow.id == ArticleSectionRow.section_id)
            .where(ArticleSectionRow.article_id.in_([r.id for r in rows]))
            .order_by(SectionRow.position)
        )
        for article_id, slug in pairs:
            sections[article_id].append(slug)
    return [
        Article(
            id=r.id,
            url=r.url,
            title=r.title,
            summary=r.summary,
            image_url=r.image_url,
            author=r.author,
            language=r.language,
            published=r.published,
            first_seen=r.first_seen,
            sections=tuple(sections[r.id]),
        )
        for r in rows
    ]


async def _page(s: AsyncSession, query: Select[ArticleRow], offset: int, limit: int) -> Page:
    """The page at `offset`; past the end, the last page there is (callers bound `offset`:
    the walk to it is what a deep page costs)."""
    rows = list((await s.execute(query.offset(offset).limit(limit + 1))).scalars())
    if not rows and offset > 0:
        there = await s.scalar(select(func.count()).select_from(query.limit(offset).subquery()))
        offset = max(0, (int(there or 0) - 1) // limit * limit)
        rows = list((await s.execute(query.offset(offset).limit(limit + 1))).scalars())
    return Page(tuple(await as_articles(s, rows[:limit])), offset, has_more=len(rows) > limit)


async def get(db: Database, article_id: int) -> Article | None:
    async with db.reading() as s:
        row = await s.get(ArticleRow, article_id)
        return (await as_articles(s, [row]))[0] if row else None


async def latest(
    db: Database, slugs: Sequence[str] | None = None, *, offset: int = 0, limit: int = 10
) -> Page:
    """The newest articles of the sections `slugs` (every visible section when None)."""
    async with db.reading() as s:
        sections = select(SectionRow.id).where(SectionRow.hidden.is_(False))
        if slugs is not None:
            sections = sections.where(SectionRow.slug.in_(slugs))
        section_ids = list((await s.execute(sections)).scalars())
        if len(section_ids) == 1:
            # One section: walk its own (section, article) index, newest first.
            query = (
                select(ArticleRow)
                .join(ArticleSectionRow, ArticleSectionRow.article_id == ArticleRow.id)
                .where(ArticleSectionRow.section_id == section_ids[0])
                .order_by(ArticleSectionRow.article_id.desc())
            )
        else:
            # Several: walk all articles newest first, keeping those in the sections.
            query = (
                select(ArticleRow)
                .where(
                    exists().where(
                        ArticleSectionRow.article_id == ArticleRow.id,
                        ArticleSectionRow.section_id.in_(section_ids),
                    )
                )
                .order_by(ArticleRow.id.desc())
            )
        return await _page(s, query, offset, limit)


async def published_between(
    db: Database, slugs: Sequence[str], since: dt.datetime, until: dt.datetime, *, limit: int
) -> list[Article]:
    """Articles of the sections published in (since, until], newest first."""
    low = (int(since.timestamp()) + 1) << ID_SHIFT
    high = (int(until.timestamp()) + 1) << ID_SHIFT
    async with db.reading() as s:
        query = (
            select(ArticleRow)
            .where(
                ArticleRow.id >= low,
                ArticleRow.id < high,
                exists().where(
                    ArticleSectionRow.article_id == ArticleRow.id,
                    ArticleSectionRow.section_id.in_(
                        select(SectionRow.id).where(SectionRow.slug.in_(list(slugs)))
                    ),
                ),
            )
            .order_by(ArticleRow.id.desc())
            .limit(limit)
        )
        return await as_articles(s, (await s.execute(query)).scalars())


async def count(db: Database) -> int:
    async with db.reading() as s:
        return int(await s.scalar(select(func.count()).select_from(ArticleRow)) or 0)


async def prune(
    db: Database, before: dt.datetime, searches_before: dt.datetime | None = None
) -> int:
    """Forget articles published before `before`, and searches made before `searches_before`
    (default: `before`)."""
    async with db.transaction() as s:
        # Ids begin with the publication second: a range on the primary key.
        oldest_kept = int(before.timestamp()) << ID_SHIFT
        result = await s.execute(delete(ArticleRow).where(ArticleRow.id < oldest_kept))
        await s.execute(delete(SearchRow).where(SearchRow.created < (searches_before or before)))
        return int(result.rowcount)  # type: ignore[attr-defined]


async def announce(db: Database, article_ids: Sequence[int]) -> None:
    """Their story posts are enqueued (or they are too old for any): in the caller's
    transaction, with the enqueue."""
    if article_ids:
        async with db.transaction() as s:
            await s.execute(
                update(ArticleRow).where(ArticleRow.id.in_(article_ids)).values(announced=True)
            )


async def unannounced(db: Database, limit: int = 1000) -> list[int]:
    """Stories stored new to a section whose posts were never enqueued (a kill came between),
    oldest first."""
    async with db.reading() as s:
        rows = await s.scalars(
            select(ArticleRow.id)
            .where(ArticleRow.announced.is_(False))
            .order_by(ArticleRow.id)
            .limit(limit)
        )
        return list(rows)


async def save_search(db: Database, query: str, now: dt.datetime, chat_id: int) -> int:
    """Keep a chat's search so that its result pages can be turned; only from that chat, and
    only its last SEARCHES_KEPT (a chat searching all day keeps a handful of rows, not a
    million)."""
    async with db.transaction() as s:
        row = SearchRow(query=query[:256], created=now, chat_id=chat_id)
        s.add(row)
        await s.flush()
        older = (
            select(SearchRow.id)
            .where(SearchRow.chat_id == chat_id)
            .order_by(SearchRow.id.desc())
            .offset(SEARCHES_KEPT)
        )
        await s.execute(delete(SearchRow).where(SearchRow.id.in_(older)))
        return row.id


async def get_search(db: Database, search_id: int, chat_id: int) -> str | None:
    """The words of a search made in `chat_id` (None for another chat's: ids are guessable)."""
    async with db.reading() as s:
        row = await s.get(SearchRow, search_id)
        return row.query if row is not None and row.chat_id == chat_id else None
