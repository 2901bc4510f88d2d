"""Online backups of the SQLite database with SQLite's backup API, safe while the bot runs.

The copy is read from one snapshot: a read transaction is held on the source while the pages
are copied, a step of STEP_PAGES at a time. In WAL mode (the bot always opens its database so)
a reader never blocks a writer, so the bot goes on writing throughout; what it commits after
the snapshot began is simply not in the backup. Without the held snapshot, SQLite restarts a
stepwise backup whenever another connection writes, and a bot in the middle of a broadcast
writes every few milliseconds: the backup would never end.

The copy is written to a hidden file beside the target and renamed into place once complete,
as a single file (journal mode DELETE, no -wal beside it): a backup cut short leaves nothing
at the target, and the file can be copied elsewhere as it is. Restoring is stopping the bot
and putting the file where the storage URL points.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from storage.errors import NotFound, StorageError

Progress = Callable[[int, int], object]  # (pages remaining, pages in all), after each step
STEP_PAGES = 1024  # pages copied in one step (4 MB at SQLite's default page size)
BUSY_TIMEOUT_S = 5.0  # waiting for a lock to open the snapshot (a WAL recovery, a checkpoint)


class NotSQLite(StorageError):
    """The database is not an SQLite file: its own tools back it up (pg_dump, …)."""

    message = "not an SQLite database"


class BackupExists(StorageError):
    """The target file exists and replacing it was not asked for."""

    message = "the backup file exists"


@dataclass(frozen=True, slots=True)
class Backup:
    """A backup taken: where, how large, of which migration, and how long it took."""

    path: Path
    size: int  # bytes
    revision: str | None  # the migration the copy is at; None for a database never migrated
    seconds: float


def sqlite_file(url: str) -> Path:
    """The file an SQLAlchemy URL points at, or `NotSQLite` (another database, or memory)."""
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise NotSQLite(f"not a database URL: {url!r}") from e
    if parsed.get_backend_name() != "sqlite":
        raise NotSQLite(f"the database is {parsed.get_backend_name()}: back it up with its tools")
    if not parsed.database or parsed.database == ":memory:":
        raise NotSQLite("the database is in memory")
    return Path(parsed.database)


async def backup(
    url: str,
    target: Path,
    *,
    replace: bool = False,
    step_pages: int = STEP_PAGES,
    progress: Progress | None = None,
) -> Backup:
    """Copy the database at `url` to the file `target`, in a thread, while it may be in use;
    `progress(remaining, total)` is called in that thread after each step, in pages.

    Raises `NotSQLite`, `NotFound` (no database file), `BackupExists` (unless `replace`), or
    `StorageError` for anything SQLite or the file system refused."""
    source = sqlite_file(url)
    return await asyncio.to_thread(_backup, source, target, replace, step_pages, progress)


def _backup(
    source: Path, target: Path, replace: bool, step_pages: int, progress: Progress | None
) -> Backup:
    if not source.is_file():
        raise NotFound(f"no database file at {source}")
    if target.exists():
        if not replace:
            raise BackupExists(f"{target} exists")
        if target.resolve() == source.resolve():
            raise StorageError(f"{target} is the database itself")
    return _copy(source, target, step_pages, progress)


def _copy(source: Path, target: Path, step_pages: int, progress: Progress | None) -> Backup:
    started = time.monotonic()
    directory = target.parent
    try:
        fd, partial_name = tempfile.mkstemp(
            dir=directory, prefix=f".{target.name}.", suffix=".partial"
        )
    except OSError as e:
        raise StorageError(f"cannot write in {directory}: {e.strerror or e}") from e
    os.close(fd)
    partial = Path(partial_name)
    try:
        revision = _copy_pages(source, partial, step_pages, progress)
        os.replace(partial, target)
    except sqlite3.Error as e:
        raise StorageError(f"backup failed: {e}") from e
    except OSError as e:
        raise StorageError(f"backup failed: {e.strerror or e}: {e.filename or target}") from e
    finally:
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
    _sync_directory(directory)
    return Backup(target, target.stat().st_size, revision, time.monotonic() - started)


def _copy_pages(
    source: Path, partial: Path, step_pages: int, progress: Progress | None
) -> str | None:
    """Copy `source` into `partial` from one snapshot; the migration the snapshot is at."""
    src = sqlite3.connect(source, timeout=BUSY_TIMEOUT_S, isolation_level=None)
    try:
        src.execute("BEGIN")  # deferred: the snapshot starts with the first read below
        revision = _revision(src)
        dst = sqlite3.connect(partial, isolation_level=None)
        try:
            src.backup(
                dst,
                pages=step_pages,
                progress=None if progress is None else lambda _, left, total: progress(left, total),
            )
            # One self-contained file: the copy carries the source's WAL mode in its header.
            dst.execute("PRAGMA journal_mode=DELETE")
        finally:
            dst.close()
        src.execute("COMMIT")
    finally:
        src.close()
    return revision


def _revision(connection: sqlite3.Connection) -> str | None:
    """Alembic's revision, read in the open transaction (which this first read begins)."""
    connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    try:
        row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.OperationalError:  # no such table: never migrated
        return None
    return str(row[0]) if row else None


def _sync_directory(directory: Path) -> None:
    """Make the rename durable (POSIX; where directories cannot be opened, nothing to do)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
