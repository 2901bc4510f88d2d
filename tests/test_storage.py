"""Storage on a real SQLite file: chats, sections, subscriptions, errors, PRAGMAs, migrations."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, select, text

from storage import articles, broadcasts, chats, editors, outbox, sections, subscriptions
from storage.db import Database, _alembic_config, head_revision
from storage.errors import ChatNotFound, SectionNotFound, StorageError
from storage.models import Base, DeliveryRow, is_modelled
from storage.search import search as search_articles
from storage.types import (
    BroadcastKind,
    BroadcastState,
    ChatStatus,
    ChatType,
    DeliveryState,
    NewArticle,
    NewSection,
    Payload,
    Priority,
    Result,
)

WORLD = NewSection("world", {"uk": "Світ", "en": "World"})
ECONOMY = NewSection("economy", {"uk": "Економіка", "en": "Economy"})
CULTURE = NewSection("culture", {"uk": "Культура"})


@pytest.fixture
async def db(
    tmp_path: Path, database_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Database]:
    """An SQLite file; for a test marked `backends`, the test's database on each backend (the
    rest stay on SQLite: some are SQLite's own, its PRAGMAs, full-text tables, query plans)."""
    marked = request.node.get_closest_marker("backends") is not None
    database = Database.open(
        database_url if marked else f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    )
    await database.upgrade()
    await sections.sync(database, [WORLD, ECONOMY, CULTURE])
    yield database
    await database.close()


async def reader(db: Database, chat_id: int = 42) -> None:
    await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")


async def test_connection_pragmas(db: Database) -> None:
    async with db.engine.connect() as conn:
        assert (await conn.execute(text("PRAGMA journal_mode"))).scalar() == "wal"
        assert (await conn.execute(text("PRAGMA foreign_keys"))).scalar() == 1
        assert (await conn.execute(text("PRAGMA busy_timeout"))).scalar() == 5000


async def test_migrations_reach_head_and_match_the_models(db: Database) -> None:
    assert await db.revision() == head_revision()
    await db.upgrade()  # a second run is harmless
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_name": is_modelled}), Base.metadata
            )
        )
    assert diff == []


async def test_open_rejects_a_bad_url() -> None:
    with pytest.raises(StorageError, match="cannot open database"):
        Database.open("nosuchdialect://x")


async def test_chat_registration_keeps_language_and_refreshes_title(db: Database) -> None:
    first = await chats.ensure(db, -100, type=ChatType.GROUP, title="Old", language="en")
    again = await chats.ensure(db, -100, type=ChatType.SUPERGROUP, title="New", language="uk")
    assert (again.type, again.title, again.language) == (ChatType.SUPERGROUP, "New", "en")
    assert again.created == first.created
    assert again.updated >= first.updated
    assert again.created.tzinfo is not None
    assert await chats.get(db, -100) == again
    assert await chats.get(db, -101) is None


async def test_chat_status_and_language(db: Database) -> None:
    await reader(db)
    assert (await chats.set_status(db, 42, ChatStatus.BLOCKED)).status is ChatStatus.BLOCKED
    assert (await chats.set_language(db, 42, "en")).language == "en"
    # A chat that talks to the bot is active again.
    again = await chats.ensure(db, 42, type=ChatType.PRIVATE, title="", language="uk")
    assert again.status is ChatStatus.ACTIVE
    assert again.language == "en"
    with pytest.raises(ChatNotFound) as e:
        await chats.set_language(db, 7, "uk")
    assert e.value.chat_id == 7
    counts = await chats.count_by_status(db)
    assert counts[ChatStatus.ACTIVE] == 1
    assert counts[ChatStatus.BLOCKED] == 0


async def test_subscribe_toggle_unsubscribe(db: Database) -> None:
    await reader(db)
    assert await subscriptions.subscribe(db, 42, "world") is True
    assert await subscriptions.subscribe(db, 42, "world") is False
    assert await subscriptions.toggle(db, 42, "economy") is True
    assert await subscriptions.of_chat(db, 42) == {"world", "economy"}
    assert await subscriptions.toggle(db, 42, "economy") is False
    assert await subscriptions.unsubscribe(db, 42, "world") is True
    assert await subscriptions.unsubscribe(db, 42, "world") is False
    assert await subscriptions.of_chat(db, 42) == frozenset()


async def test_subscription_errors(db: Database) -> None:
    await reader(db)
    with pytest.raises(SectionNotFound) as e:
        await subscriptions.subscribe(db, 42, "sport")
    assert e.value.slug == "sport"
    with pytest.raises(ChatNotFound):
        await subscriptions.subscribe(db, 43, "world")
    with pytest.raises(ChatNotFound):
        await subscriptions.toggle(db, 43, "world")


async def test_unsubscribe_all_and_counts(db: Database) -> None:
    await reader(db, 1)
    await reader(db, 2)
    for slug in ("world", "economy", "culture"):
        await subscriptions.subscribe(db, 1, slug)
    await subscriptions.subscribe(db, 2, "world")
    await chats.set_status(db, 2, ChatStatus.BLOCKED)
    assert await subscriptions.count_by_section(db) == {"world": 1, "economy": 1, "culture": 1}
    assert await subscriptions.unsubscribe_all(db, 1) == 3
    assert await subscriptions.unsubscribe_all(db, 1) == 0


async def test_deleting_a_chat_deletes_its_subscriptions(db: Database) -> None:
    await reader(db)
    await subscriptions.subscribe(db, 42, "world")
    assert await chats.delete_chat(db, 42) is True
    assert await chats.delete_chat(db, 42) is False
    await reader(db)
    assert await subscriptions.of_chat(db, 42) == frozenset()


async def test_sync_adds_hides_and_restores_sections_keeping_subscriptions(db: Database) -> None:
    await reader(db)
    await subscriptions.subscribe(db, 42, "culture")
    renamed = NewSection("world", {"uk": "Світ і ми", "en": "World"})
    visible = await sections.sync(db, [NewSection("sport", {"uk": "Спорт"}), renamed])
    assert [s.slug for s in visible] == ["sport", "world"]
    assert visible[1].title("uk") == "Світ і ми"
    assert visible[0].title("en") == "Спорт"  # falls back to Ukrainian
    # A hidden section is not followed as far as readers can see, and cannot be joined...
    assert await subscriptions.of_chat(db, 42) == frozenset()
    with pytest.raises(SectionNotFound):
        await subscriptions.subscribe(db, 42, "culture")
    # ...but the subscription comes back with the section.
    visible = await sections.sync(db, [WORLD, CULTURE])
    assert [s.slug for s in visible] == ["world", "culture"]
    assert await subscriptions.of_chat(db, 42) == {"culture"}


@pytest.mark.backends
async def test_migrate_moves_a_group_to_its_supergroup(db: Database) -> None:
    await chats.ensure(db, -5, type=ChatType.GROUP, title="Громада", language="en")
    await chats.set_status(db, -5, ChatStatus.ACTIVE)
    await subscriptions.subscribe(db, -5, "world")
    await subscriptions.subscribe(db, -5, "economy")
    # The supergroup may already have written to the bot (and follow a section itself).
    await chats.ensure(db, -1005, type=ChatType.SUPERGROUP, title="Громада", language="uk")
    await subscriptions.subscribe(db, -1005, "world")
    moved = await chats.migrate(db, -5, -1005)
    assert moved is not None
    assert (moved.id, moved.type, moved.language) == (-1005, ChatType.SUPERGROUP, "en")
    assert await chats.get(db, -5) is None
    assert await subscriptions.of_chat(db, -1005) == {"world", "economy"}
    assert await chats.migrate(db, -5, -1005) is None  # the second notice changes nothing


@pytest.mark.backends
async def test_migrate_to_a_new_id(db: Database) -> None:
    await chats.ensure(db, -6, type=ChatType.GROUP, title="Мала", language="uk")
    await subscriptions.subscribe(db, -6, "culture")
    moved = await chats.migrate(db, -6, -1006)
    assert moved is not None
    assert moved.title == "Мала"
    assert await subscriptions.of_chat(db, -1006) == {"culture"}


async def test_the_same_story_twice_in_one_batch_is_one_article(db: Database) -> None:
    when = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)

    def story(url: str, guid: str | None, key: str, sections: set[str]) -> NewArticle:
        return NewArticle(url, guid, key, "Заголовок", "Текст.", None, None, "uk", when,
                          frozenset(sections))  # fmt: skip

    saved = await articles.save(
        db,
        [story("https://a/1", None, "k", {"world"}), story("https://b/1", None, "k", {"economy"}),
         story("https://c/1", "g", "x", set()), story("https://d/1", "g", "y", {"culture"})],
        feed_id=None,
        now=when,
    )  # fmt: skip
    assert [s.outcome.value for s in saved] == ["new", "updated", "new", "updated"]
    assert saved[0].article_id == saved[1].article_id
    assert saved[2].article_id == saved[3].article_id
    assert await articles.count(db) == 2
    article = await articles.get(db, saved[0].article_id)
    assert article is not None
    assert set(article.sections) == {"world", "economy"}


@pytest.mark.backends
async def test_article_ids_follow_publication(db: Database) -> None:
    when = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    # A backfilled (older) story stored last still sorts by its publication.
    await articles.save(db, [_story("https://a/new", when, "Нове")], feed_id=None, now=when)
    older = when - dt.timedelta(hours=5)
    saved = await articles.save(
        db, [_story("https://a/old", older, "Старе")], feed_id=None, now=when
    )
    assert saved[0].article_id == articles.article_id(older, "https://a/old")
    page = await articles.latest(db, ["world"])
    assert [a.title for a in page.articles] == ["Нове", "Старе"]
    found = await search_articles(db, [["текст"]])
    assert [a.title for a in found.articles] == ["Нове", "Старе"]


@pytest.mark.backends
async def test_clashing_article_ids_are_bumped(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    when = dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC)
    monkeypatch.setattr(articles, "article_id", lambda _published, _url: 42 << 24)
    first = await articles.save(db, [_story("https://a/1", when, "Один")], feed_id=None, now=when)
    more = await articles.save(
        db,
        [_story("https://a/2", when, "Два"), _story("https://a/3", when, "Три")],
        feed_id=None,
        now=when,
    )
    assert [s.article_id for s in first + more] == [42 << 24, (42 << 24) + 1, (42 << 24) + 2]
    assert await articles.count(db) == 3


def _story(url: str, published: dt.datetime, title: str) -> NewArticle:
    return NewArticle(url, None, title, title, "Текст новини.", None, None, "uk", published,
                      frozenset({"world"}))  # fmt: skip


async def test_a_chat_keeps_its_last_searches_and_only_it_reads_them(db: Database) -> None:
    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    mine = [await articles.save_search(db, f"слово {i}", now, chat_id=1) for i in range(25)]
    theirs = await articles.save_search(db, "інше", now, chat_id=2)
    assert [await articles.get_search(db, i, 1) for i in mine[:5]] == [None] * 5
    assert await articles.get_search(db, mine[-1], 1) == "слово 24"
    assert await articles.get_search(db, mine[-1], 2) is None  # another chat's
    assert await articles.get_search(db, theirs, 2) == "інше"
    old = await articles.save_search(db, "давнє", now - dt.timedelta(days=8), chat_id=3)
    await articles.prune(
        db, now - dt.timedelta(days=30), searches_before=now - dt.timedelta(days=7)
    )
    assert await articles.get_search(db, old, 3) is None
    assert await articles.get_search(db, theirs, 2) == "інше"


async def test_0006_turns_old_english_audit_sentences_into_codes(tmp_path: Path) -> None:
    """A newsroom upgraded from 0005 keeps its audit log, now as codes /audit shows in the
    editor's language, and its breaking broadcasts become flashes."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
    database = Database.open(url)

    def to_0005(connection: Connection) -> None:
        cfg = _alembic_config()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "0005")

    async with database.engine.begin() as conn:
        await conn.run_sync(to_0005)
    legacy = [
        ("breaking", "chat -100", "refused: not in a private chat"),
        ("breaking", "world,economy", "preview #4 for 120 chats"),
        ("confirm", "#4", "silent to 120 chats"),
        ("post", "https://x.example/a", "refused: private address"),
        ("correct", "#4", "refused: 17 too long"),
        ("recall", "#9", "refused: foreign"),
        ("confirm", "#5", "refused: done"),
        ("channel_add", "@c", "refused: not found"),
        ("editor_remove", "5", "was not one"),
        ("fetch", "all feeds", "3 new"),
        ("breaking", "", "something no version wrote"),
    ]
    async with database.engine.begin() as conn:
        for action, target, outcome in legacy:
            await conn.execute(
                text(
                    "INSERT INTO audit (at, user_id, action, target, outcome) "
                    "VALUES ('2026-11-27 10:00:00', 7, :a, :t, :o)"
                ),
                {"a": action, "t": target, "o": outcome},
            )
        await conn.execute(
            text(
                "INSERT INTO broadcasts (kind, editor_id, created, state, payload, silent, total)"
                " VALUES ('breaking', 7, '2026-11-27 10:00:00', 'done', '{}', 0, 0)"
            )
        )
    await database.upgrade()
    entries = list(reversed(await editors.audit_log(database, 50)))
    assert [(e.target, e.outcome, e.count) for e in entries] == [
        ("-100", "not private", None),
        ("world,economy", "preview", 120),
        ("#4", "sent silently", 120),
        ("https://x.example/a", "address refused", None),
        ("#4", "too long", 17),
        ("#9", "foreign", None),
        ("#5", "already sent", None),
        ("@c", "channel not found", None),
        ("5", "absent", None),
        ("", "fetched", 3),
        ("", "something no version wrote", None),
    ]
    broadcast = await broadcasts.get(database, 1)
    assert broadcast is not None
    assert broadcast.kind is BroadcastKind.FLASH
    await database.close()


async def test_migrations_keep_the_full_text_triggers(db: Database) -> None:
    """A migration that copies `articles` (Alembic's batch mode on SQLite) would drop them
    silently, and search would find nothing new."""
    async with db.transaction() as s:
        names = set(await s.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert names >= {"articles_fts_insert", "articles_fts_delete", "articles_fts_update"}


async def test_a_read_never_waits_for_a_writer(db: Database) -> None:
    """Reads begin deferred: while a writer holds the write lock (a broadcast's enqueue, a
    digest plan), /start's and /latest's reads go on from their snapshot; they used to begin
    IMMEDIATE and wait for the writer, and give up with "database is locked" after 5 s."""
    await reader(db)
    locked, done = asyncio.Event(), asyncio.Event()

    async def writer() -> None:
        async with db.transaction() as s:
            await s.execute(text("SELECT 1"))  # BEGIN IMMEDIATE: the write lock, held
            locked.set()
            await done.wait()

    task = asyncio.create_task(writer())
    await locked.wait()
    try:
        async with asyncio.timeout(1):  # the busy timeout is 5 s: a waiting read would show
            assert await chats.get(db, 42) is not None
            assert [s.slug for s in await sections.visible(db)] == ["world", "economy", "culture"]
            assert (await articles.latest(db, None)).articles == ()
    finally:
        done.set()
        await task


@pytest.mark.parametrize(
    "query",
    [
        "SELECT max(sent_at) FROM deliveries",  # the engine's start-up
        "SELECT count(*) FROM deliveries JOIN outbox_items ON outbox_items.id = "
        "deliveries.item_id WHERE outbox_items.created >= '2026-11-27'",  # /stats' last day
    ],
)
async def test_hot_queries_on_a_long_history_use_an_index(db: Database, query: str) -> None:
    async with db.reading() as s:
        plan = " | ".join(
            str(row[-1]) for row in await s.execute(text("EXPLAIN QUERY PLAN " + query))
        )
    assert "SCAN deliveries" not in plan, plan
    assert "SCAN outbox_items" not in plan, plan


@pytest.mark.backends
async def test_finished_deliveries_are_pruned_in_batches_and_flashes_keep_their_figures(
    db: Database,
) -> None:
    now = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    old, recent = now - dt.timedelta(days=20), now - dt.timedelta(days=1)
    for chat_id in (1, 2, 3):
        await reader(db, chat_id)

    async def item(key: str, created: dt.datetime, pending: int) -> int:
        item_id = await outbox.put_item(
            db, kind="flash", key=key, priority=Priority.BREAKING, payload=Payload({}), now=created
        )
        await outbox.add(db, item_id, Priority.BREAKING, [(c, False) for c in (1, 2, 3)], created)
        async with db.transaction() as s:
            await s.execute(
                text(
                    "UPDATE deliveries SET state = 'sent' WHERE item_id = :i AND id NOT IN "
                    "(SELECT id FROM deliveries WHERE item_id = :i ORDER BY id LIMIT :p)"
                ),
                {"i": item_id, "p": pending},
            )
        return item_id

    done_long_ago = await item("done", old, pending=0)
    still_going = await item("going", old, pending=1)
    yesterday = await item("yesterday", recent, pending=0)
    flash = await broadcasts.create(
        db, kind=BroadcastKind.FLASH, editor_id=7, payload=Payload({}), sections=None,
        of_id=None, total=3, now=old,
    )  # fmt: skip
    await broadcasts.attach(db, flash.id, done_long_ago, 3)
    await broadcasts.finish(db, flash.id, old, await outbox.counts(db, done_long_ago))

    gone = await outbox.prune(db, now - dt.timedelta(days=14), batch=1)  # one row at a time

    assert gone == 5  # the 3 of the finished item, 2 of the one still going
    assert (await outbox.counts(db, still_going))[DeliveryState.PENDING] == 1
    assert (await outbox.counts(db, yesterday))[DeliveryState.SENT] == 3
    assert await outbox.payload(db, done_long_ago) is None  # the item went with them
    assert await outbox.payload(db, still_going) is not None
    kept = await broadcasts.get(db, flash.id)
    assert kept is not None
    assert kept.item_id is None
    assert kept.figures == {
        DeliveryState.SENT: 3, DeliveryState.FAILED: 0, DeliveryState.SKIPPED: 0,
        DeliveryState.PENDING: 0,
    }  # fmt: skip


@pytest.mark.backends
async def test_old_flashes_are_forgotten_but_not_under_a_later_recall_or_while_sending(
    db: Database,
) -> None:
    now = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    year_ago = now - dt.timedelta(days=400)

    async def made(kind: BroadcastKind, when: dt.datetime, of: int | None = None) -> int:
        b = await broadcasts.create(
            db, kind=kind, editor_id=7, payload=Payload({}), sections=None, of_id=of, total=0,
            now=when,
        )  # fmt: skip
        return b.id

    cancelled = await made(BroadcastKind.FLASH, year_ago)
    await broadcasts.leave_preview(db, cancelled, BroadcastState.CANCELLED, silent=False, now=now)
    sent_and_recalled = await made(BroadcastKind.FLASH, year_ago)
    recall = await made(BroadcastKind.RECALL, now, of=sent_and_recalled)
    still_sending = await made(BroadcastKind.FLASH, year_ago)
    await broadcasts.leave_preview(db, still_sending, BroadcastState.SENDING, silent=False, now=now)
    recent = await made(BroadcastKind.FLASH, now)

    assert await broadcasts.forget(db, now - dt.timedelta(days=365)) == 1
    assert await broadcasts.get(db, cancelled) is None
    for kept in (sent_and_recalled, recall, still_sending, recent):
        assert await broadcasts.get(db, kept) is not None


@pytest.mark.backends
async def test_enqueuing_counts_only_the_deliveries_that_are_new(db: Database) -> None:
    now = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    for chat_id in (1, 2, 3, -1001):
        await reader(db, chat_id)

    async def item(key: str) -> int:
        return await outbox.put_item(
            db, kind="flash", key=key, priority=Priority.BREAKING, payload=Payload({}), now=now
        )

    flash, digest_a, digest_b = await item("flash"), await item("a"), await item("b")
    everyone = [(1, False), (2, True), (-1001, False)]
    assert await outbox.add(db, flash, Priority.BREAKING, everyone, now, threads={-1001: 7}) == 3
    assert await outbox.add(db, flash, Priority.BREAKING, [*everyone, (3, True)], now) == 1
    assert await outbox.add_each(db, Priority.DIGEST, {digest_a: [1, 2], digest_b: [3]}, now) == 3
    assert (
        await outbox.add_each(db, Priority.DIGEST, {digest_a: [2, -1001], digest_b: []}, now) == 1
    )
    async with db.reading() as s:
        rows = (
            await s.execute(
                select(
                    DeliveryRow.item_id, DeliveryRow.chat_id, DeliveryRow.silent,
                    DeliveryRow.thread_id, DeliveryRow.state, DeliveryRow.next_attempt,
                ).order_by(DeliveryRow.item_id, DeliveryRow.chat_id)
            )
        ).all()  # fmt: skip
    assert [tuple(r[:4]) for r in rows] == [
        (flash, -1001, False, 7), (flash, 1, False, None), (flash, 2, True, None),
        (flash, 3, True, None), (digest_a, -1001, False, None), (digest_a, 1, False, None),
        (digest_a, 2, False, None), (digest_b, 3, False, None),
    ]  # fmt: skip
    assert {(r.state, r.next_attempt) for r in rows} == {("pending", now)}


@pytest.mark.backends
async def test_outcomes_are_recorded_in_one_go(db: Database) -> None:
    """What an outcome leaves out keeps its value; a delivery twice in a batch ends as the
    later says; the paid messages are counted by their day."""
    now = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    for chat_id in (1, 2, 3, 4):
        await reader(db, chat_id)
    item = await outbox.put_item(
        db, kind="story", key="s", priority=Priority.STORY, payload=Payload({}), now=now
    )
    await outbox.add(db, item, Priority.STORY, [(c, False) for c in (1, 2, 3, 4)], now)
    ids = {p.chat_id: p.id for p in await outbox.pending(db, Priority.STORY)}
    later, sent = now + dt.timedelta(seconds=30), now + dt.timedelta(seconds=1)
    await outbox.record(db, [
        Result(ids[1], DeliveryState.SENT, 1, message_ids=(501, 502), sent_at=sent, paid=2),
        Result(ids[2], DeliveryState.PENDING, 1, next_attempt=later, error="retry after 30"),
        Result(ids[3], DeliveryState.FAILED, 1, error="x" * 600),
        Result(ids[4], DeliveryState.PENDING, 1, next_attempt=later),
        Result(ids[4], DeliveryState.SENT, 2, message_ids=(503,), sent_at=sent),
    ])  # fmt: skip
    async with db.reading() as s:
        rows = {
            r.chat_id: r
            for r in await s.execute(
                select(
                    DeliveryRow.chat_id, DeliveryRow.state, DeliveryRow.attempts,
                    DeliveryRow.next_attempt, DeliveryRow.last_error, DeliveryRow.message_ids,
                    DeliveryRow.sent_at,
                )
            )
        }  # fmt: skip
    assert tuple(rows[1][1:]) == ("sent", 1, now, None, [501, 502], sent)
    assert tuple(rows[2][1:]) == ("pending", 1, later, "retry after 30", None, None)
    assert tuple(rows[3][1:]) == ("failed", 1, now, "x" * 512, None, None)
    assert tuple(rows[4][1:]) == ("sent", 2, later, None, [503], sent)
    assert await outbox.paid_since(db, sent.date()) == 2
    assert await outbox.last_sent_at(db) == sent


@pytest.mark.backends
async def test_a_new_chat_registered_by_many_updates_at_once(db: Database) -> None:
    """Updates of a new chat handled together (a /start, its membership change, a tap): where
    writers do not take turns (PostgreSQL), each finds no row and inserts; none may fail."""
    registered = await asyncio.gather(*(
        chats.ensure(db, 77, type=ChatType.PRIVATE, title=f"{i % 2}", language="uk")
        for i in range(12)
    ))  # fmt: skip
    assert {chat.id for chat in registered} == {77}
    known = await chats.get(db, 77)
    assert known is not None
    assert known.title in {"0", "1"}


@pytest.mark.backends
async def test_a_migration_reported_in_both_chats_at_once(db: Database) -> None:
    """Telegram tells the group and its supergroup, and the supergroup's first update may
    register it meanwhile: handled together, the group moves once and nothing fails."""
    await chats.ensure(db, -8, type=ChatType.GROUP, title="Громада", language="en")
    await subscriptions.subscribe(db, -8, "world")
    moved = await asyncio.gather(
        chats.migrate(db, -8, -1008),
        chats.ensure(db, -1008, type=ChatType.SUPERGROUP, title="Громада", language="uk"),
        chats.migrate(db, -8, -1008),
    )
    assert [m for m in (moved[0], moved[2]) if m is not None] != []
    assert await chats.get(db, -8) is None
    assert await subscriptions.of_chat(db, -1008) == {"world"}


@pytest.mark.backends
async def test_a_recall_goes_where_the_flash_was_sent_once(db: Database) -> None:
    now = dt.datetime(2026, 11, 28, 10, tzinfo=dt.UTC)
    for chat_id in (1, 2, 3):
        await reader(db, chat_id)

    async def item(key: str) -> int:
        return await outbox.put_item(
            db, kind="flash", key=key, priority=Priority.BREAKING, payload=Payload({}), now=now
        )

    flash, recall = await item("flash"), await item("recall")
    await outbox.add(db, flash, Priority.BREAKING, [(c, False) for c in (1, 2, 3)], now)
    ids = {p.chat_id: p.id for p in await outbox.pending(db, Priority.BREAKING)}
    await outbox.record(db, [
        Result(ids[1], DeliveryState.SENT, 1, message_ids=(11,), sent_at=now),
        Result(ids[2], DeliveryState.SENT, 1, message_ids=(21, 22), sent_at=now),
        Result(ids[3], DeliveryState.FAILED, 1, error="no"),
    ])  # fmt: skip
    assert await broadcasts.enqueue_follow_up(db, recall, flash, now) == 2
    assert await broadcasts.enqueue_follow_up(db, recall, flash, now) == 0  # a repeat
    follow_ups = [p for p in await outbox.pending(db, Priority.BREAKING) if p.item_id == recall]
    assert {(p.chat_id, p.target_ids) for p in follow_ups} == {(1, (11,)), (2, (21, 22))}
