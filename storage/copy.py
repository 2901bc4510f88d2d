"""Copying a newsroom from one database to another (`visnyk db copy`): from SQLite to
PostgreSQL when it outgrows one file, and back.

What is copied: every table of storage.models, parents before children (the foreign keys'
order), each row as it is stored: ids included, JSON as its text (SQL NULL and JSON `null`
stay apart: queries ask `IS NULL`), times as the naive UTC both keep. Not copied: Alembic's
version (the target is migrated to head first; the source must be at head) and what each
database derives by itself: SQLite's full-text index is filled by its triggers as each article
is inserted, PostgreSQL's search column is generated.

How: the source is read in one snapshot (one read transaction, so the copy is one consistent
newsroom), a table at a time in primary-key order, a batch at a time by key, each batch written
in a transaction of its own (storage.copy_rows reads and writes the rows, per dialect).

Killed at any line and run again: the target then holds, in each table, the source's rows up
to some key (whole batches). Before writing anything, the copy reads what the target holds and
compares it with the source, table by table: the same rows up to its largest key, and the
copy goes on after that key. Anything else (a row the source does not have, a row that
differs, a gap) is another newsroom, or this one changed since: refused, naming the table and
the row, with nothing written.

After the rows: PostgreSQL's sequences are set past the largest id copied (or the bot's next
insert would take an id that exists), and each table's rows are counted on both sides.

Refused (`CopyRefused`, before any write): the same database on both sides; a source not at
the head migration; a bot running on an SQLite side (storage.runlock's lock, held by `visnyk
run`: the copy holds it meanwhile, so no bot starts on a file being copied) or on a PostgreSQL
target (its replicas' connections, storage.leader); a database in memory. A PostgreSQL source
may stay in use. No password of either URL is in any message (storage.db.masked).
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, quote_plus

from sqlalchemy import Table, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.copy_rows import (
    Key,
    Progress,
    Row,
    TableProgress,
    copy_table,
    copy_tables,
    count,
    key,
    key_columns,
    named,
    read_batch,
    snapshot,
)
from storage.db import Database, database_password, head_revision, masked
from storage.errors import StorageError
from storage.leader import APPLICATION as REPLICA
from storage.runlock import AlreadyRunning, RunLock

__all__ = [
    "BATCH",
    "Copied",
    "CopyRefused",
    "CountsDiffer",
    "Progress",
    "TableProgress",
    "copy",
    "copy_tables",
    "passwords",
]

BATCH = 5000  # rows read, then written in one transaction


class CopyRefused(StorageError):
    """The copy would do harm or make no sense; nothing was written."""

    message = "copy refused"


class CountsDiffer(StorageError):
    """After the copy a table holds a different number of rows on each side."""

    message = "row counts differ"


@dataclass(frozen=True, slots=True)
class Copied:
    """A finished copy: the rows of each table (equal on both sides) and what it took."""

    source: str  # masked
    target: str  # masked
    rows: dict[str, int]
    copied: int  # rows written by this run (fewer when it finished an interrupted one)
    seconds: float

    def line(self) -> str:
        total = sum(self.rows.values())
        rate = self.copied / self.seconds if self.seconds > 0 else 0.0
        resumed = "" if self.copied == total else f", {self.copied:,} of them now"
        return (
            f"copied {self.source} to {self.target}: {len(self.rows)} tables, {total:,} rows"
            f"{resumed}, in {self.seconds:.1f} s ({rate:,.0f} rows/s); row counts match"
        )


def passwords(url: str) -> set[str]:
    """The password in `url` in each form it may be written, for hiding in what is printed."""
    password = database_password(url)
    if not password:
        return set()
    return {password, quote(password, safe=""), quote_plus(password)}


async def copy(
    source: str, target: str, *, batch: int = BATCH, progress: Progress | None = None
) -> Copied:
    """Copy every table of the newsroom at `source` into `target` (migrated to head first),
    resuming a copy that was interrupted; `progress` hears of each batch.

    Raises `CopyRefused` (nothing written), `CountsDiffer` (after copying), or
    `StorageError`; no message holds a password of either URL."""
    secrets = passwords(source) | passwords(target)
    try:
        return await _copy(source, target, max(1, batch), progress)
    except StorageError as e:
        e.args = (_hide(str(e), secrets),)
        raise
    except SQLAlchemyError as e:
        reason = getattr(e, "orig", None) or e
        raise StorageError(_hide(f"database error: {reason}", secrets)) from e
    except OSError as e:  # a lock file, a directory
        raise StorageError(_hide(f"{e.strerror or e}: {e.filename or ''}", secrets)) from e


def _hide(message: str, secrets: set[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):
        message = message.replace(secret, "***")
    return message


async def _copy(source: str, target: str, batch: int, progress: Progress | None) -> Copied:
    started = time.monotonic()
    src_url, dst_url = _parsed(source, "--from"), _parsed(target, "--to")
    _refuse_files(src_url, dst_url)
    locks: list[RunLock] = []
    try:
        for url, side in ((source, "source"), (target, "target")):
            if (lock := _lock(url, side)) is not None:
                locks.append(lock)
        src = Database.open(source)
        try:
            dst = Database.open(target)
            try:
                rows, copied = await _checked_copy(src, dst, batch, progress)
            finally:
                await dst.close()
        finally:
            await src.close()
    finally:
        for lock in locks:
            lock.release()
    return Copied(masked(source), masked(target), rows, copied, time.monotonic() - started)


async def _checked_copy(
    src: Database, dst: Database, batch: int, progress: Progress | None
) -> tuple[dict[str, int], int]:
    await _refuse_same_server(src, dst)
    await _refuse_replicas(dst)
    await _require_head(src)
    await dst.upgrade()
    tables = copy_tables()
    rows, copied = await _copy_tables(src, dst, tables, batch, progress)
    if dst.engine.dialect.name == "postgresql":
        await _move_sequences(dst, tables)
    await _compare_counts(dst, tables, rows)
    return rows, copied


# ---- refusals ---------------------------------------------------------------------------


def _parsed(url: str, option: str) -> URL:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise CopyRefused(f"{option}: not a database URL") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database in {None, "", ":memory:"}:
        raise CopyRefused(f"{option}: a database in memory cannot be copied")
    return parsed


def _refuse_files(source: URL, target: URL) -> None:
    """No source file, or the same file on both sides."""
    if source.get_backend_name() == "sqlite":
        path = Path(source.database or "")
        if not path.is_file():
            raise CopyRefused(f"no database file at {path}")
    if source.get_backend_name() == target.get_backend_name() == "sqlite":
        a, b = Path(source.database or ""), Path(target.database or "")
        if a.resolve() == b.resolve() or (b.exists() and os.path.samefile(a, b)):
            raise CopyRefused(f"the source and the target are the same database ({a})")


async def _refuse_same_server(src: Database, dst: Database) -> None:
    """Two PostgreSQL URLs may name one database in many ways (a host name, an address, a
    socket): the cluster's identifier and the database's name tell."""
    if src.engine.dialect.name != "postgresql" or dst.engine.dialect.name != "postgresql":
        return
    if await _identity(src) == await _identity(dst):
        raise CopyRefused(
            f"the source and the target are the same database ({masked(str(src.engine.url))})"
        )


async def _identity(db: Database) -> tuple[object, ...]:
    async with db.engine.connect() as conn:
        where = (
            await conn.execute(
                text("SELECT current_database(), inet_server_addr()::text, inet_server_port()")
            )
        ).one()
        try:  # executable by anyone since PostgreSQL 10; a managed server may say no
            cluster = await conn.scalar(text("SELECT system_identifier FROM pg_control_system()"))
        except DBAPIError:
            return tuple(where)
        return (where[0], cluster)


async def _refuse_replicas(dst: Database) -> None:
    """No bot may run on a PostgreSQL target: it would write beside the copy (and send from a
    newsroom half there). Each `visnyk run` keeps a connection named for it (storage.leader).
    A PostgreSQL source may stay in use: the copy reads one snapshot."""
    if dst.engine.dialect.name != "postgresql":
        return
    async with dst.engine.connect() as conn:
        running = await conn.scalar(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name = :name"
            ),
            {"name": REPLICA},
        )
    if running:
        raise CopyRefused(
            f"a bot is running on the target database ({running} visnyk run connected): stop "
            "it before copying"
        )


def _lock(url: str, side: str) -> RunLock | None:
    """Hold the run lock of an SQLite side: no bot runs on it while it is copied."""
    lock = RunLock.for_url(url)
    if lock is None:
        return None
    try:
        lock.acquire()
    except AlreadyRunning:
        try:
            holder = lock.path.read_text(encoding="utf-8").strip() or "?"
        except OSError:
            holder = "?"
        raise CopyRefused(
            f"a bot is running on the {side} database (visnyk run, pid {holder}; lock "
            f"{lock.path}): stop it before copying"
        ) from None
    return lock


async def _require_head(src: Database) -> None:
    head = head_revision()
    revision = await src.revision()
    if revision is None:
        raise CopyRefused("the source has no migrations: it is no Visnyk database")
    if revision != head:
        raise CopyRefused(
            f"the source is at migration {revision}, not at the head {head}: run `visnyk db "
            "upgrade` on it first (with the Visnyk that wrote it, if this one does not know "
            f"{revision})"
        )


# ---- resuming, copying ----------------------------------------------------------------


async def _copy_tables(
    src: Database, dst: Database, tables: Sequence[Table], batch: int, progress: Progress | None
) -> tuple[dict[str, int], int]:
    """Each table's rows in the source, and how many rows were written."""
    async with src.engine.connect() as conn:
        reading = await conn.execution_options(**snapshot(src))
        async with reading.begin(), dst.engine.connect() as writing:
            totals = {t.name: await count(reading, t) for t in tables}
            # Everything the target holds is checked before anything is written.
            held = {
                t.name: await _held(
                    reading, writing, t, batch=batch, total=totals[t.name], progress=progress
                )
                for t in tables
            }
            copied = 0
            for table in tables:
                after, done = held[table.name]
                copied += await copy_table(
                    reading,
                    writing,
                    table,
                    after=after,
                    done=done,
                    total=totals[table.name],
                    batch=batch,
                    progress=progress,
                )
    return totals, copied


async def _held(
    reading: AsyncConnection,
    writing: AsyncConnection,
    table: Table,
    *,
    batch: int,
    total: int,
    progress: Progress | None,
) -> tuple[Key | None, int]:
    """The key after which the copy of `table` goes on, and how many rows the target holds:
    they must be the source's rows up to that key, as an interrupted copy leaves them."""
    started = time.monotonic()
    after: Key | None = None
    held = 0
    async with writing.begin():
        while theirs := await read_batch(writing, table, after, batch):
            ours = await read_batch(reading, table, after, batch + 1, up_to=key(table, theirs[-1]))
            if ours != theirs:
                raise CopyRefused(_difference(table, ours, theirs))
            held += len(theirs)
            after = key(table, theirs[-1])
            if progress is not None:
                seconds = time.monotonic() - started
                progress(TableProgress(table.name, held, total, 0, seconds, False, checking=True))
    if held and progress is not None:
        seconds = time.monotonic() - started
        progress(TableProgress(table.name, held, total, 0, seconds, True, checking=True))
    return after, held


def _difference(table: Table, ours: Sequence[Row], theirs: Sequence[Row]) -> str:
    """The first row in which the target (theirs) is not the source (ours), in words."""
    for mine, found in zip(ours, theirs, strict=False):
        if mine == found:
            continue
        if key(table, mine) == key(table, found):
            columns = [c.name for c, a, b in zip(table.c, mine, found, strict=True) if a != b]
            what = f"{named(table, found)} differs ({', '.join(columns)})"
        elif key(table, found) < key(table, mine):
            what = f"{named(table, found)} is not in the source"
        else:
            what = f"{named(table, mine)} is missing, with rows after it there"
        break
    else:
        shorter, longer = (theirs, ours) if len(theirs) < len(ours) else (ours, theirs)
        extra = longer[len(shorter)]
        what = (
            f"{named(table, extra)} is not in the source"
            if longer is theirs
            else f"{named(table, extra)} is missing, with rows after it there"
        )
    return (
        f"the target already holds a different newsroom (or this one changed since a copy "
        f"began): in {table.name}, {what}; copy into an empty database"
    )


async def _move_sequences(dst: Database, tables: Sequence[Table]) -> None:
    """Each serial id's sequence past the largest id copied (ids were copied as they were, so
    the sequences never moved); none where the key is not serial (setval of NULL is NULL)."""
    quote_id = dst.engine.dialect.identifier_preparer.quote
    async with dst.engine.begin() as conn:
        for table in tables:
            keys = key_columns(table)
            if len(keys) != 1 or keys[0].type.python_type is not int:
                continue
            name, column = quote_id(table.name), quote_id(keys[0].name)
            await conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence(:table, :column), "  # noqa: S608
                    f"coalesce(max({column}), 0) + 1, false) FROM {name}"
                ),
                {"table": name, "column": keys[0].name},
            )


async def _compare_counts(dst: Database, tables: Sequence[Table], rows: dict[str, int]) -> None:
    async with dst.engine.connect() as conn:
        for table in tables:
            there = await count(conn, table)
            if there != rows[table.name]:
                raise CountsDiffer(
                    f"row counts differ after the copy: {table.name} has {rows[table.name]:,} "
                    f"rows in the source, {there:,} in the target"
                )
