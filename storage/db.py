"""The database: engine, per-connection PRAGMAs, sessions and migrations."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, event, insert, make_url
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.errors import Conflict, StorageError

log = logging.getLogger(__name__)
MIGRATIONS = Path(__file__).parent / "migrations"
READ_ONLY = "visnyk_read_only"  # an execution option: this transaction only reads
BUSY_TIMEOUT_MS = 5000
MIGRATION_LOCK = 0x7669736E796C  # a PostgreSQL advisory lock key: one migration at a time
POOL_SIZE = 10  # PostgreSQL connections kept open (and as many more at a peak)
POSTGRESQL_SETTINGS = {
    "application_name": "visnyk",
    # A writer waits for another's row lock as long as SQLite's busy timeout, then fails (a
    # StorageError: the command says so, a job step retries), never hangs.
    "lock_timeout": str(BUSY_TIMEOUT_MS),
    # A transaction left open by a process that hangs must not hold locks for ever.
    "idle_in_transaction_session_timeout": "300000",
    # The bot's statements are short; where the planner's estimate is inflated, compiling one
    # with JIT took 230 ms for a 30 ms run (a digest chunk). Managed servers ship with it on.
    "jit": "off",
}


@dataclass(frozen=True)
class _Open:
    """The transaction a task has open: storage calls of the same task join it."""

    db: Database
    session: AsyncSession
    task: asyncio.Task[Any] | None


_open: ContextVar[_Open | None] = ContextVar("storage_transaction", default=None)


class Database:
    """An open database: pass it to the functions in the storage topic modules."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self._sessions = async_sessionmaker(engine, expire_on_commit=False)
        reading: dict[str, Any] = {READ_ONLY: True}
        if engine.dialect.name == "postgresql":
            reading["postgresql_readonly"] = True  # a write in a reading block is an error
        self._readers = async_sessionmaker(
            engine.execution_options(**reading), expire_on_commit=False
        )
        # SQLite has one writer at a time, and a writer that finds the lock taken retries on a
        # backoff (up to 100 ms between tries), with no queue: a bulk job committing chunk
        # after chunk could keep a /start waiting for seconds. This process's writers take
        # their turn here instead, in order: a write waits for those ahead of it, no longer.
        self._writers = asyncio.Lock() if engine.dialect.name == "sqlite" else None

    @classmethod
    def open(cls, url: str) -> Database:
        """Create the engine for `url`; SQLite connections get WAL, foreign keys, busy timeout;
        PostgreSQL ones a pool, time limits on waiting for a lock and on idling in a
        transaction, and the bot's name in pg_stat_activity."""
        try:
            if make_url(url).get_backend_name() == "postgresql":
                engine = create_async_engine(
                    url,
                    pool_size=POOL_SIZE,
                    max_overflow=POOL_SIZE,
                    pool_pre_ping=True,  # a connection the server (or a failover) dropped
                    connect_args={"server_settings": POSTGRESQL_SETTINGS},
                )
            else:
                engine = create_async_engine(url)
        except (SQLAlchemyError, ImportError, ValueError) as e:
            raise StorageError(f"cannot open database {masked(url)}: {e}") from e
        if engine.dialect.name == "sqlite":
            _tune_sqlite(engine)
        return cls(engine)

    @property
    def dialect(self) -> str:
        """ "sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A session inside one transaction, committed when the block ends without error.

        One command is one transaction: inside a block opened by the caller (a service running
        a command), every storage function called by the same task joins that block's
        transaction instead of opening its own, so all the command changes commits together
        or not at all. Driver errors leave as `Conflict` (a constraint said no) or
        `StorageError`."""
        joined = _open.get()
        if joined is not None and joined.db is self and joined.task is asyncio.current_task():
            yield joined.session
            return
        try:
            async with self._turn(), self._sessions() as session, session.begin():
                token = _open.set(_Open(self, session, asyncio.current_task()))
                try:
                    yield session
                finally:
                    _open.reset(token)
        except IntegrityError as e:
            raise Conflict(f"constraint failed: {e.orig}") from e
        except DRIVER_ERRORS as e:
            raise _storage_error(e) from e

    @contextlib.asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """This process's turn to write (SQLite); at once where writers do not exclude each
        other."""
        if self._writers is None:
            yield
            return
        async with self._writers:
            yield

    @contextlib.asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A session for a transaction that only reads: it begins deferred, so it never waits
        for a writer (or makes one wait). Inside a block already open it joins it."""
        joined = _open.get()
        if joined is not None and joined.db is self and joined.task is asyncio.current_task():
            yield joined.session
            return
        try:
            async with self._readers() as session, session.begin():
                yield session
        except DRIVER_ERRORS as e:
            raise _storage_error(e) from e

    async def upgrade(self) -> None:
        """Apply every pending migration."""
        try:
            async with self.engine.begin() as conn:
                await conn.run_sync(_upgrade)
        except DRIVER_ERRORS as e:
            raise _storage_error(e) from e

    async def revision(self) -> str | None:
        """The migration the database is at, or None for an empty one."""
        try:
            async with self.engine.connect() as conn:
                return await conn.run_sync(
                    lambda c: MigrationContext.configure(c).get_current_revision()
                )
        except DRIVER_ERRORS as e:
            raise _storage_error(e) from e

    async def close(self) -> None:
        await self.engine.dispose()


# What the drivers raise: SQLAlchemy's wrapped errors, and a server that cannot be reached
# (asyncpg's connect lets the socket's OSError through unwrapped: a refused port, a bad host).
DRIVER_ERRORS = (SQLAlchemyError, OSError)


def _storage_error(e: BaseException) -> StorageError:
    return StorageError(f"database error: {getattr(e, 'orig', None) or e}")


def masked(url: str) -> str:
    """The URL with its password hidden, for every line that names a database."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (SQLAlchemyError, ValueError):  # unparseable: show none of it
        return "<database URL>"


def database_password(url: str) -> str:
    """The password in the URL ("" when none), for the logs to hide."""
    try:
        return make_url(url).password or ""
    except (SQLAlchemyError, ValueError):
        return ""


def insert_ignoring(s: AsyncSession, model: Any) -> Any:
    """INSERT … ON CONFLICT DO NOTHING, as the database speaks it."""
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite_insert(model).on_conflict_do_nothing()
    if dialect == "postgresql":
        return pg_insert(model).on_conflict_do_nothing()
    return insert(model)  # pragma: no cover - other databases are not supported yet


def upsert(s: AsyncSession, model: Any) -> Any:
    """An INSERT that can say what to do ON CONFLICT (`on_conflict_do_update`), as the
    database speaks it: SQLite's and PostgreSQL's forms have the same interface."""
    if s.get_bind().dialect.name == "postgresql":
        return pg_insert(model)
    return sqlite_insert(model)


def head_revision() -> str | None:
    """The newest migration this code knows."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


def _alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection) -> None:
    """Migrate to the head revision: one line when a migration ran, none otherwise (Alembic's
    own lines about its context are chatter, quiet in bot.logs)."""
    if connection.dialect.name == "postgresql":
        # Replicas starting together migrate one after the other (the lock ends with the
        # transaction): the later ones find the database at head already.
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
    before = MigrationContext.configure(connection).get_current_revision()
    cfg = _alembic_config()
    cfg.attributes["connection"] = connection
    command.upgrade(cfg, "head")
    after = MigrationContext.configure(connection).get_current_revision()
    if after != before:
        log.info("database migrated from=%s to=%s", before or "empty", after)


def _tune_sqlite(engine: AsyncEngine) -> None:
    # pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs and locking; the
    # SQLAlchemy docs' recipe is to switch it off and emit BEGIN ourselves.
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # A transaction that writes takes the write lock at once (no deadlock on upgrading a
        # read lock); one that only reads begins deferred: in WAL it reads its snapshot beside
        # a writer and never waits for the write lock.
        reading = conn.get_execution_options().get(READ_ONLY, False)
        conn.exec_driver_sql("BEGIN DEFERRED" if reading else "BEGIN IMMEDIATE")
