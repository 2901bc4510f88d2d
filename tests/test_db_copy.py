"""`visnyk db copy`: a newsroom moved from SQLite to PostgreSQL and back with every table equal;
search on the copy; the bot's next insert on PostgreSQL; a copy killed mid-way and run again;
the refusals, each one line; no password in anything printed."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import itertools
import re
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from alembic import command
from sqlalchemy import JSON, Connection, Table, Text, cast, select

from bot.cli import _CopyProgress
from storage import articles, broadcasts, chats, editors, feeds, outbox, sections, subscriptions
from storage.codes import AuditOutcome, EditorAction
from storage.copy import CopyRefused, CountsDiffer, TableProgress, copy
from storage.db import Database, _alembic_config, head_revision
from storage.models import Base
from storage.runlock import RunLock
from storage.search import search as search_articles
from storage.types import (
    Body,
    BroadcastKind,
    BroadcastState,
    ChatStatus,
    ChatType,
    DeliveryState,
    Mode,
    NewArticle,
    NewSection,
    Payload,
    Priority,
    Result,
)
from tests.postgresql import Cluster

NOW = dt.datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=dt.UTC)
SECTIONS = [
    NewSection("world", {"uk": "Світ", "en": "World"}),
    NewSection("economy", {"uk": "Економіка", "en": "Economy"}),
    NewSection("culture", {"uk": "Культура"}),
]
EDITOR, OWNER = 7001, 7000
PASSWORD = "s3cret-Pw"  # the throw-away cluster trusts everyone: any password logs in
PROGRESS = re.compile(r"^\w+ +[\d,]+ (rows?|of) ")
_databases = itertools.count(1)


# ---- given: a newsroom, filled the way the bot fills it ----------------------------------


async def newsroom(url: str, *, readers: int = 0) -> None:
    """Chats of every kind with their settings, subscriptions in several sections and modes,
    feeds in good and bad health, articles in sections, searches, editors, an audit trail,
    a stranger, a flash sent in part (deliveries pending, sent, paid) and its recall; and
    `readers` more private chats, each following a section, each with a delivery pending."""
    db = Database.open(url)
    try:
        await db.upgrade()
        await sections.sync(db, SECTIONS)
        good, bad = await feeds.ensure(
            db, ["https://news.example/rss", "https://bad.example/"], NOW
        )
        await feeds.record_success(
            db, good.id, now=NOW, next_check=NOW + dt.timedelta(minutes=5), title="Новини",
            etag='W/"abc"', dropped=2,
        )  # fmt: skip
        await feeds.record_failure(
            db, bad.id, now=NOW, error="HTTP 503", next_check=NOW + dt.timedelta(hours=1)
        )

        await chats.ensure(db, 101, type=ChatType.PRIVATE, title="", language="uk")
        await chats.set_digest(
            db, 101, times=("08:00", "19:30"), enabled=True, weekdays_only=True,
            timezone="Europe/Kyiv", next_digest_at=NOW + dt.timedelta(hours=3),
        )  # fmt: skip
        await chats.set_quiet(db, 101, "23:00", "07:00")
        await chats.ensure(db, 102, type=ChatType.PRIVATE, title="", language="en")
        await chats.set_status(db, 102, ChatStatus.BLOCKED)
        await chats.ensure(
            db, -1001, type=ChatType.SUPERGROUP, title="Форум «Вісті»", language="uk"
        )
        await chats.ensure(db, -1002, type=ChatType.CHANNEL, title="Канал", language="uk")
        await subscriptions.subscribe(db, 101, "world")
        await subscriptions.set_mode(db, 101, "economy", Mode.INSTANT)
        await subscriptions.subscribe(db, 102, "culture")
        await subscriptions.set_mode(db, -1001, "world", Mode.INSTANT)
        await subscriptions.set_topic(db, -1001, "world", 77)
        await subscriptions.subscribe(db, -1002, "economy")

        story = NewArticle(
            "https://news.example/kyiv-metro", "guid-1", "kyiv-metro", "Київ відкрив метро",
            "Нова станція на Виноградарі.", "https://news.example/m.jpg", "Оксана", "uk",
            NOW - dt.timedelta(hours=2), frozenset({"world", "economy"}),
        )  # fmt: skip
        other = NewArticle(
            "https://news.example/theatre", None, "theatre", "Прем'єра у театрі", "", None,
            None, "uk", NOW - dt.timedelta(hours=1), frozenset({"culture"}),
        )  # fmt: skip
        await articles.save(db, [story], feed_id=good.id, now=NOW)
        await articles.save(db, [other], feed_id=None, now=NOW)
        await articles.save_search(db, "метро", NOW, chat_id=101)

        await editors.add_editor(db, EDITOR, by=OWNER, now=NOW)
        await editors.audit(
            db, OWNER, EditorAction.EDITOR_ADD, str(EDITOR), AuditOutcome.ADDED, NOW
        )
        await editors.stranger_tried(db, 666, EditorAction.BREAKING, NOW)

        flash = await broadcasts.create(
            db, kind=BroadcastKind.FLASH, editor_id=EDITOR, sections=["world"], of_id=None,
            payload=Payload({"uk": (Body("<b>Терміново</b>"),)}), total=0, now=NOW,
        )  # fmt: skip
        await broadcasts.leave_preview(
            db, flash.id, BroadcastState.SENDING, silent=False, now=NOW, paid=True
        )
        item = await outbox.put_item(
            db, kind="flash", key=f"flash:{flash.id}", priority=Priority.BREAKING,
            payload=Payload({"uk": (Body("<b>Терміново</b>"),)}), now=NOW, paid=True,
        )  # fmt: skip
        await chats.ensure(db, 103, type=ChatType.PRIVATE, title="", language="uk")
        recipients = [(101, False), (103, True), (-1001, False)]
        await outbox.add(db, item, Priority.BREAKING, recipients, NOW, threads={-1001: 77})
        await broadcasts.attach(db, flash.id, item, len(recipients))
        confirmed = AuditOutcome.SENT_PAID
        await editors.audit(db, EDITOR, EditorAction.CONFIRM, str(flash.id), confirmed, NOW, 3)
        first = (await outbox.pending(db, Priority.BREAKING))[0]
        await outbox.record(
            db, [Result(first.id, DeliveryState.SENT, 1, message_ids=(501,), sent_at=NOW, paid=1)]
        )
        await broadcasts.create(
            db, kind=BroadcastKind.RECALL, editor_id=EDITOR, sections=None, of_id=flash.id,
            payload=Payload({}), total=0, now=NOW + dt.timedelta(minutes=1),
        )  # fmt: skip

        if readers:
            for chat_id in range(1_000, 1_000 + readers):
                await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
                await subscriptions.subscribe(db, chat_id, "world")
            story_item = await outbox.put_item(
                db, kind="story", key="story:1", priority=Priority.STORY,
                payload=Payload({"uk": (Body("Новина"),)}), now=NOW,
            )  # fmt: skip
            everyone = [(c, False) for c in range(1_000, 1_000 + readers)]
            await outbox.add(db, story_item, Priority.STORY, everyone, NOW)
    finally:
        await db.close()


# ---- the databases and the command --------------------------------------------------------


def sqlite_url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


EmptyDatabase = Callable[[], Awaitable[str]]


@pytest.fixture
async def empty_database(postgresql_server: Cluster) -> AsyncIterator[EmptyDatabase]:
    """Empty PostgreSQL databases, made on demand (each a URL with a password in it), dropped
    at the end."""
    made: list[str] = []

    async def make() -> str:
        name = f"copy_{next(_databases)}"
        await _psql(postgresql_server, f"CREATE DATABASE {name}")
        made.append(name)
        return postgresql_server.url(name).replace("postgres@", f"postgres:{PASSWORD}@")

    yield make
    for name in made:
        await _psql(postgresql_server, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


async def _psql(cluster: Cluster, statement: str) -> None:
    conn = await asyncpg.connect(cluster.dsn())
    try:
        await conn.execute(statement)
    finally:
        await conn.close()


async def visnyk(*args: str) -> tuple[int, str, str]:
    """Run `visnyk` as a process; its exit status, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def db_copy(source: str, target: str, *more: str) -> tuple[int, str, str]:
    return await visnyk("db", "copy", "--from", source, "--to", target, *more)


# ---- then: what each side holds -----------------------------------------------------------


async def contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the models as the bot reads it, in key order; JSON as its text, so that
    SQL NULL and JSON null are told apart."""
    db = Database.open(url)
    try:
        async with db.engine.connect() as conn:
            return {
                table.name: [tuple(r) for r in await conn.execute(_everything(table))]
                for table in Base.metadata.sorted_tables
            }
    finally:
        await db.close()


def _everything(table: Table) -> Any:
    columns = [cast(c, Text) if isinstance(c.type, JSON) else c for c in table.c]
    return select(*columns).order_by(*table.primary_key.columns)


def stored(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the models as SQLite stores it, byte for byte."""
    with sqlite3.connect(path) as db:
        return {
            table.name: db.execute(
                f"SELECT * FROM {table.name} ORDER BY "
                + ", ".join(c.name for c in table.primary_key.columns)
            ).fetchall()
            for table in Base.metadata.sorted_tables
        }


async def counts(url: str) -> dict[str, int]:
    return {name: len(rows) for name, rows in (await contents(url)).items()}


# ---- the tests ------------------------------------------------------------------------------


async def test_a_newsroom_goes_to_postgresql_and_back_with_every_table_equal(
    tmp_path: Path, empty_database: EmptyDatabase
) -> None:
    source = tmp_path / "visnyk.db"
    await newsroom(sqlite_url(source))
    there = await empty_database()
    back = tmp_path / "back" / "visnyk.db"
    back.parent.mkdir()

    status, out, err = await db_copy(sqlite_url(source), there)
    assert status == 0, err
    assert PASSWORD not in out + err
    assert out.startswith(f"copied {sqlite_url(source)} to postgresql+asyncpg://postgres:***@")
    assert out.endswith("row counts match\n")
    assert [line.split()[0] for line in err.splitlines() if PROGRESS.match(line)] == [
        t.name for t in Base.metadata.sorted_tables
    ]  # one line a table, in foreign-key order, when not on a terminal
    original = await contents(sqlite_url(source))
    assert all(original[name] for name in original)  # the newsroom fills every table
    assert await contents(there) == original
    assert await found(there, "метро") == ["https://news.example/kyiv-metro"]  # generated there

    status, out, err = await db_copy(there, sqlite_url(back))
    assert status == 0, err
    assert PASSWORD not in out + err
    assert stored(back) == stored(source)  # as SQLite keeps it, byte for byte

    # Search finds the copied story: SQLite's full-text index was filled row by row.
    assert await found(sqlite_url(back), "метро") == ["https://news.example/kyiv-metro"]
    with sqlite3.connect(back) as db:
        db.execute("INSERT INTO articles_fts(articles_fts) VALUES ('integrity-check')")


async def found(url: str, word: str) -> list[str]:
    """What the bot's search finds: the articles' addresses."""
    db = Database.open(url)
    try:
        return [a.url for a in (await search_articles(db, [[word]])).articles]
    finally:
        await db.close()


async def test_the_bot_inserts_after_a_copy_to_postgresql(
    tmp_path: Path, empty_database: EmptyDatabase
) -> None:
    source = tmp_path / "visnyk.db"
    await newsroom(sqlite_url(source))
    there = await empty_database()
    status, _, err = await db_copy(sqlite_url(source), there)
    assert status == 0, err

    # Every table with a serial id gets a new row: its sequence was moved past the copied ids.
    db = Database.open(there)
    try:
        await sections.sync(db, [*SECTIONS, NewSection("science", {"uk": "Наука"})])
        [feed] = await feeds.ensure(db, ["https://new.example/rss"], NOW)
        search = await articles.save_search(db, "театр", NOW, chat_id=101)
        await editors.audit(db, EDITOR, EditorAction.AUDIT, "", AuditOutcome.SENT, NOW)
        flash = await broadcasts.create(
            db, kind=BroadcastKind.FLASH, editor_id=EDITOR, sections=None, of_id=None,
            payload=Payload({}), total=0, now=NOW,
        )  # fmt: skip
        item = await outbox.put_item(
            db, kind="flash", key="flash:new", priority=Priority.BREAKING, payload=Payload({}),
            now=NOW,
        )  # fmt: skip
        assert await outbox.add(db, item, Priority.BREAKING, [(101, False)], NOW) == 1
    finally:
        await db.close()
    before = await contents(sqlite_url(source))
    assert feed.id > max(r[0] for r in before["feeds"])
    assert search > max(r[0] for r in before["searches"])
    assert flash.id > max(r[0] for r in before["broadcasts"])
    assert item > max(r[0] for r in before["outbox_items"])


async def test_a_copy_killed_mid_way_and_run_again_completes_without_duplicates(
    tmp_path: Path, empty_database: EmptyDatabase
) -> None:
    source = tmp_path / "visnyk.db"
    await newsroom(sqlite_url(source), readers=300)
    there = await empty_database()

    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "db", "copy", "--from", sqlite_url(source), "--to", there,
        "--batch", "1", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert process.stderr is not None
    while not PROGRESS.match(line := (await process.stderr.readline()).decode()):
        assert line, "the copy ended before its first progress line"
    process.send_signal(signal.SIGKILL)  # one table done, the next a row at a time
    await process.wait()

    original = await contents(sqlite_url(source))
    left = await counts(there)
    assert sum(left.values()) < sum(len(rows) for rows in original.values())

    status, out, err = await db_copy(sqlite_url(source), there)
    assert status == 0, err
    # It compared what the first wrote with the source, then went on where the first stopped.
    assert "there before, the same as the source's" in err
    assert await contents(there) == original  # each row once: counts and contents equal

    status, out, err = await db_copy(sqlite_url(source), there)  # a third time: nothing to do
    assert status == 0, err
    assert ", 0 of them now" in out


async def test_a_target_holding_another_newsroom_is_refused(
    tmp_path: Path, empty_database: EmptyDatabase
) -> None:
    ours, theirs = tmp_path / "ours.db", tmp_path / "theirs.db"
    await newsroom(sqlite_url(ours))
    db = Database.open(sqlite_url(theirs))
    try:
        await db.upgrade()
        await sections.sync(db, [NewSection("sport", {"uk": "Спорт"})])
    finally:
        await db.close()
    there = await empty_database()
    status, _, err = await db_copy(sqlite_url(theirs), there)
    assert status == 0, err

    status, out, err = await db_copy(sqlite_url(ours), there)
    assert status == 1
    assert out == ""
    assert err.splitlines()[-1] == (
        "visnyk: the target already holds a different newsroom (or this one changed since a "
        "copy began): in sections, the row id=1 differs (slug, titles); copy into an empty "
        "database"
    )
    assert await counts(there) == await counts(sqlite_url(theirs))  # nothing written


async def test_refusals_are_one_line_without_the_password(
    tmp_path: Path, empty_database: EmptyDatabase
) -> None:
    source = tmp_path / "visnyk.db"
    await newsroom(sqlite_url(source))
    there = await empty_database()

    same_file = f"sqlite+aiosqlite:///{tmp_path}/./visnyk.db"
    assert await db_copy(sqlite_url(source), same_file) == (
        1, "", f"visnyk: the source and the target are the same database ({source})\n"
    )  # fmt: skip
    # One PostgreSQL database by another name: localhost for 127.0.0.1.
    status, out, err = await db_copy(there, there.replace("127.0.0.1", "localhost"))
    masked = there.replace(PASSWORD, "***")
    assert (status, out, err) == (
        1, "", f"visnyk: the source and the target are the same database ({masked})\n"
    )  # fmt: skip

    old = tmp_path / "old.db"
    await migrated_to(sqlite_url(old), "0011")
    assert await db_copy(sqlite_url(old), there) == (
        1, "", f"visnyk: the source is at migration 0011, not at the head {head_revision()}: run "
        "`visnyk db upgrade` on it first (with the Visnyk that wrote it, if this one does not "
        "know 0011)\n",
    )  # fmt: skip

    lock = RunLock.for_url(sqlite_url(source))
    assert lock is not None
    lock.acquire()  # as `visnyk run` does
    try:
        status, out, err = await db_copy(sqlite_url(source), there)
    finally:
        lock.release()
    assert (status, out) == (1, "")
    assert err.startswith("visnyk: a bot is running on the source database (visnyk run, pid ")
    assert err.endswith(": stop it before copying\n")

    replica = await asyncpg.connect(
        there.replace("+asyncpg", ""), server_settings={"application_name": "visnyk-replica"}
    )  # as each `visnyk run` on PostgreSQL keeps one (storage.leader)
    try:
        assert await db_copy(sqlite_url(source), there) == (
            1, "", "visnyk: a bot is running on the target database (1 visnyk run connected): "
            "stop it before copying\n",
        )  # fmt: skip
    finally:
        await replica.close()

    target = Database.open(there)
    try:
        assert await target.revision() is None  # refused before anything was written
    finally:
        await target.close()


async def migrated_to(url: str, revision: str) -> None:
    """A database an older Visnyk left: at `revision`, not at head."""

    def upgrade(connection: Connection) -> None:
        config = _alembic_config()
        config.attributes["connection"] = connection
        command.upgrade(config, revision)

    db = Database.open(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(upgrade)
    finally:
        await db.close()


async def test_a_value_postgresql_cannot_hold_stops_the_copy_and_is_not_cut(
    tmp_path: Path, empty_database: EmptyDatabase
) -> None:
    source = tmp_path / "visnyk.db"
    await newsroom(sqlite_url(source))
    with sqlite3.connect(source) as db:  # SQLite keeps any length; chats.title is VARCHAR(256)
        db.execute("UPDATE chats SET title = ? WHERE id = 101", ("я" * 300,))
    there = await empty_database()

    status, out, err = await db_copy(sqlite_url(source), there)

    assert (status, out) == (1, "")
    assert err.splitlines()[-1] == (
        "visnyk: storage error: the target refused a row of chats (the row id=-1002 to the row "
        "id=103): value too long for type character varying(256)"
    )


def test_progress_on_a_terminal_is_one_line_a_table_rewritten_in_place() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    screen = Terminal()
    show = _CopyProgress(screen)
    show.shown = 0.0  # as if the last line was long ago
    show(TableProgress("chats", 5_000, 20_000, 5_000, 0.5, finished=False))
    show(TableProgress("chats", 10_000, 20_000, 10_000, 0.6, finished=False))  # too soon
    show(TableProgress("chats", 20_000, 20_000, 15_000, 1.5, finished=True))
    assert screen.getvalue() == (
        "\r\x1b[Kchats                  5,000 of 20,000 rows   25%     10,000 rows/s"
        "\r\x1b[Kchats                 20,000 rows     1.5 s     10,000 rows/s, 5,000 there "
        "before\n"
    )


async def test_counts_that_differ_at_the_end_name_the_table(tmp_path: Path) -> None:
    source, target = tmp_path / "visnyk.db", tmp_path / "copy.db"
    await newsroom(sqlite_url(source))

    def meanwhile(step: TableProgress) -> None:  # someone writes into the target meanwhile
        if step.table == "chats" and step.finished:
            with sqlite3.connect(target) as db:
                db.execute(
                    "INSERT INTO chats (id, type, title, language, status, created, updated) "
                    "VALUES (5, 'private', '', 'uk', 'active', '2026-11-28 10:00:00.000000', "
                    "'2026-11-28 10:00:00.000000')"
                )

    with pytest.raises(CountsDiffer) as refused:
        await copy(sqlite_url(source), sqlite_url(target), progress=meanwhile)
    assert str(refused.value) == (
        "row counts differ after the copy: chats has 5 rows in the source, 6 in the target"
    )


@pytest.mark.parametrize(
    ("change", "found"),
    [
        ("DELETE FROM chats WHERE id = 101", "the row id=101 is missing, with rows after it there"),
        (
            "INSERT INTO chats (id, type, title, language, status, created, updated) VALUES "
            "(100, 'private', '', 'uk', 'active', '2026-11-28 10:00:00.000000', "
            "'2026-11-28 10:00:00.000000')",
            "the row id=100 is not in the source",
        ),
        ("UPDATE chats SET language = 'en' WHERE id = 101", "the row id=101 differs (language)"),
    ],
)
async def test_a_target_that_is_not_a_part_of_the_source_is_refused_before_any_write(
    tmp_path: Path, change: str, found: str
) -> None:
    source, target = tmp_path / "visnyk.db", tmp_path / "copy.db"
    await newsroom(sqlite_url(source))
    await copy(sqlite_url(source), sqlite_url(target))
    with sqlite3.connect(target) as db:
        db.execute(change)
        db.execute("DELETE FROM deliveries")  # as if the first copy had stopped before them
    before = stored(target)

    with pytest.raises(CopyRefused) as refused:
        await copy(sqlite_url(source), sqlite_url(target))

    assert str(refused.value) == (
        "the target already holds a different newsroom (or this one changed since a copy "
        f"began): in chats, {found}; copy into an empty database"
    )
    assert stored(target) == before
