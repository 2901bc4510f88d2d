"""Which chats follow which sections."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database
from storage.errors import ChatNotFound, Conflict, SectionNotFound
from storage.models import ChatRow, SectionRow, SubscriptionRow
from storage.types import ChatStatus, Mode, Recipient


async def _section_id(s: AsyncSession, slug: str) -> int:
    section_id = await s.scalar(
        select(SectionRow.id).where(SectionRow.slug == slug, SectionRow.hidden.is_(False))
    )
    if section_id is None:
        raise SectionNotFound(slug)
    return section_id


async def _chat_must_exist(db: Database, chat_id: int, cause: Exception) -> None:
    async with db.transaction() as s:
        if await s.get(ChatRow, chat_id) is None:
            raise ChatNotFound(chat_id) from cause


async def of_chat(db: Database, chat_id: int) -> frozenset[str]:
    """Slugs of the visible sections the chat follows."""
    async with db.reading() as s:
        rows = await s.execute(
            select(SectionRow.slug)
            .join(SubscriptionRow, SubscriptionRow.section_id == SectionRow.id)
            .where(SubscriptionRow.chat_id == chat_id, SectionRow.hidden.is_(False))
        )
        return frozenset(rows.scalars())


async def _set(db: Database, chat_id: int, slug: str, want: bool | None) -> tuple[bool, bool]:
    """Set a subscription (flip it when `want` is None) in one transaction.
    Returns (whether the chat follows the section now, whether anything changed)."""
    try:
        async with db.transaction() as s:
            section_id = await _section_id(s, slug)
            row = await s.get(SubscriptionRow, (chat_id, section_id))
            follows = row is not None
            target = not follows if want is None else want
            if target == follows:
                return follows, False
            if row is None:
                s.add(SubscriptionRow(chat_id=chat_id, section_id=section_id))
            else:
                await s.delete(row)
            await s.flush()
            return target, True
    except Conflict as e:
        await _chat_must_exist(db, chat_id, e)
        return True, False  # a concurrent request subscribed first


async def subscribe(db: Database, chat_id: int, slug: str) -> bool:
    """Follow a section; False if the chat already did."""
    return (await _set(db, chat_id, slug, True))[1]


async def unsubscribe(db: Database, chat_id: int, slug: str) -> bool:
    """Stop following a section; False if the chat did not follow it."""
    return (await _set(db, chat_id, slug, False))[1]


async def toggle(db: Database, chat_id: int, slug: str) -> bool:
    """Flip a subscription; returns whether the chat follows the section now."""
    return (await _set(db, chat_id, slug, None))[0]


async def unsubscribe_all(db: Database, chat_id: int) -> int:
    """Stop following every visible section; returns how many there were."""
    async with db.transaction() as s:
        visible = select(SectionRow.id).where(SectionRow.hidden.is_(False))
        result = await s.execute(
            delete(SubscriptionRow).where(
                SubscriptionRow.chat_id == chat_id, SubscriptionRow.section_id.in_(visible)
            )
        )
        return int(result.rowcount)  # type: ignore[attr-defined]


async def count_by_section(db: Database) -> dict[str, int]:
    """Active chats per visible section slug."""
    async with db.reading() as s:
        rows = await s.execute(
            select(SectionRow.slug, func.count(SubscriptionRow.chat_id))
            .join(SubscriptionRow, SubscriptionRow.section_id == SectionRow.id)
            .join(ChatRow, ChatRow.id == SubscriptionRow.chat_id)
            .where(SectionRow.hidden.is_(False), ChatRow.status == "active")
            .group_by(SectionRow.slug)
        )
        return {slug: int(n) for slug, n in rows.all()}


async def modes_of_chat(db: Database, chat_id: int) -> dict[str, Mode]:
    """The visible sections the chat follows, each with its mode."""
    async with db.reading() as s:
        rows = await s.execute(
            select(SectionRow.slug, SubscriptionRow.mode)
            .join(SubscriptionRow, SubscriptionRow.section_id == SectionRow.id)
            .where(SubscriptionRow.chat_id == chat_id, SectionRow.hidden.is_(False))
        )
        return {slug: Mode(mode) for slug, mode in rows.all()}


async def set_mode(db: Database, chat_id: int, slug: str, mode: Mode) -> bool:
    """Follow a section in `mode` (subscribing if needed); False if nothing changed."""
    try:
        async with db.transaction() as s:
            section_id = await _section_id(s, slug)
            row = await s.get(SubscriptionRow, (chat_id, section_id))
            if row is None:
                s.add(SubscriptionRow(chat_id=chat_id, section_id=section_id, mode=mode.value))
            elif row.mode == mode.value:
                return False
            else:
                row.mode = mode.value
            await s.flush()
            return True
    except Conflict as e:
        await _chat_must_exist(db, chat_id, e)
        return False


async def instant_recipients(db: Database, slugs: Sequence[str]) -> list[Recipient]:
    """Active chats that follow any of `slugs` in instant mode, each once; in a forum, with
    the topic of the first of `slugs` that the chat routed to one."""
    async with db.transaction() as s:
        rows = await s.execute(
            select(
                ChatRow.id,
                ChatRow.timezone,
                ChatRow.quiet_start,
                ChatRow.quiet_end,
                SubscriptionRow.thread_id,
                SectionRow.slug,
            )
            .join(SubscriptionRow, SubscriptionRow.chat_id == ChatRow.id)
            .join(SectionRow, SectionRow.id == SubscriptionRow.section_id)
            .where(
                SectionRow.slug.in_(list(slugs)),
                SectionRow.hidden.is_(False),
                SubscriptionRow.mode == Mode.INSTANT.value,
                ChatRow.status == "active",
            )
        )
        order = {slug: i for i, slug in enumerate(slugs)}
        chosen: dict[int, tuple[int, Recipient]] = {}
        for chat_id, zone, start, end, thread, slug in rows.all():
            rank = order[slug] if thread is not None else len(order)
            if chat_id not in chosen or rank < chosen[chat_id][0]:
                chosen[chat_id] = (rank, Recipient(chat_id, zone, start, end, thread))
        return [recipient for _, recipient in chosen.values()]


async def set_topic(db: Database, chat_id: int, slug: str, thread_id: int | None) -> None:
    """Post a section's stories, as they come, into a forum topic (None: the general one)."""
    await set_mode(db, chat_id, slug, Mode.INSTANT)
    async with db.transaction() as s:
        section_id = await _section_id(s, slug)
        await s.execute(
            update(SubscriptionRow)
            .where(SubscriptionRow.chat_id == chat_id, SubscriptionRow.section_id == section_id)
            .values(thread_id=thread_id)
        )


def _audience(db: Database, slugs: Collection[str] | None) -> Select[int]:
    """Active chats that follow any of `slugs` in either mode (every active chat for None:
    breaking news without sections), each once, by id."""
    # `status || ''`: SQLite would otherwise walk the status index (every chat is active) and
    # sort a million ids for each chunk; this way it walks the chats in id order and stops.
    # PostgreSQL's planner knows from its statistics that nearly every chat is active and
    # walks the primary key by itself; an expression would hide that (it would guess few
    # rows, then read every chat and sort them, for each chunk).
    active = ChatRow.status if db.dialect == "postgresql" else ChatRow.status.concat("")
    query = select(ChatRow.id).where(active == ChatStatus.ACTIVE.value)
    if slugs is not None:
        follows = (
            select(SubscriptionRow.chat_id)
            .join(SectionRow, SectionRow.id == SubscriptionRow.section_id)
            .where(
                SubscriptionRow.chat_id == ChatRow.id,
                SectionRow.slug.in_(list(slugs)),
                SectionRow.hidden.is_(False),
            )
        )
        query = query.where(follows.exists())
    return query


async def audience_size(db: Database, slugs: Collection[str] | None) -> int:
    """How many chats an alert to `slugs` would reach now (see `recipients_after`)."""
    async with db.reading() as s:
        found = await s.scalar(select(func.count()).select_from(_audience(db, slugs).subquery()))
        return int(found or 0)


async def recipients_after(
    db: Database, slugs: Collection[str] | None, after: int | None, limit: int
) -> list[int]:
    """The next `limit` chats of an alert's audience, by id, after the chat `after` (from the
    first for None): active chats that follow any of `slugs` in either mode, every active chat
    for None. A million readers are read a chunk at a time, each chunk its own short read."""
    query = _audience(db, slugs).order_by(ChatRow.id).limit(limit)
    if after is not None:
        query = query.where(ChatRow.id > after)
    async with db.reading() as s:
        conn = await s.connection()  # Core, not the ORM's loading: a third of the time
        return list((await conn.execute(query)).scalars())
