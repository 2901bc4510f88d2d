"""The rows of `visnyk db copy` (storage.copy plans it): each table as the copy sees it, read
a batch at a time by its key, and written into SQLite or PostgreSQL as fast as each takes it.

Reading: a table at a time in primary-key order, a batch at a time by keyset (`WHERE key >
last ORDER BY key LIMIT n`: one index seek a batch, never OFFSET); the next batch is read while
the last is written, so two batches are in memory at most, whatever the newsroom's size.

Writing: each batch in a transaction of its own with INSERT … ON CONFLICT (key) DO NOTHING,
made once a table and handed to the driver as it is: SQLite takes the rows one by one
(executemany), PostgreSQL a batch in one statement, an array a column (unnest).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    ColumnElement,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    cast,
    func,
    select,
    tuple_,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.types import NullType, TypeEngine

from storage.db import READ_ONLY, Database
from storage.errors import StorageError
from storage.models import Base

Key = tuple[Any, ...]  # a row's primary key
Row = tuple[Any, ...]  # a row: its key's columns first


@dataclass(frozen=True, slots=True)
class TableProgress:
    """Where the copy of one table is, after each batch and once when it is done."""

    table: str
    done: int  # rows the target holds (those an earlier, interrupted copy wrote included)
    total: int  # rows in the source
    copied: int  # rows this copy wrote
    seconds: float  # since this table began
    finished: bool
    checking: bool = False  # comparing what the target holds with the source, not copying

    @property
    def rate(self) -> float:
        """Rows written a second."""
        return self.copied / self.seconds if self.seconds > 0 else 0.0


Progress = Callable[[TableProgress], object]


# ---- the tables -------------------------------------------------------------------------


def copy_tables() -> list[Table]:
    """The models' tables in foreign-key order, as the copy reads and writes them: the key's
    columns first; JSON untyped (its text as it is); times as the naive UTC stored; no
    generated column (each database computes its own)."""
    metadata = MetaData()
    tables = []
    for model in Base.metadata.sorted_tables:
        keys = [c for c in model.columns if c.primary_key]
        rest = [c for c in model.columns if not c.primary_key and c.computed is None]
        tables.append(
            Table(
                model.name,
                metadata,
                *(Column(c.name, _stored_type(c.type), primary_key=c.primary_key) for c in keys),
                *(Column(c.name, _stored_type(c.type)) for c in rest),
            )
        )
    return tables


def _stored_type(type_: TypeEngine[Any]) -> TypeEngine[Any]:
    if isinstance(type_, JSON):
        return NullType()
    if isinstance(type_, TypeDecorator):
        return type_.impl_instance
    return type_


def key_columns(table: Table) -> list[Column[Any]]:
    return list(table.primary_key.columns)


def key(table: Table, row: Row) -> Key:
    """The key of `row`, a row of `table` as `read_batch` returns it."""
    return tuple(row[: len(table.primary_key.columns)])


def named(table: Table, row: Row) -> str:
    """`row` by its key, in words: "the row id=7"."""
    names = [c.name for c in key_columns(table)]
    return "the row " + ", ".join(f"{n}={v}" for n, v in zip(names, row, strict=False))


def _after(table: Table, key: Key) -> ColumnElement[bool]:
    after: ColumnElement[bool] = _key_of(table) > _literal_key(key)
    return after


def _up_to(table: Table, key: Key) -> ColumnElement[bool]:
    up_to: ColumnElement[bool] = _key_of(table) <= _literal_key(key)
    return up_to


def _key_of(table: Table) -> ColumnElement[Any]:
    """The key as one expression: its column, or a row value `(a, b)` of a composite key."""
    columns = key_columns(table)
    return columns[0] if len(columns) == 1 else tuple_(*columns)


def _literal_key(key: Key) -> Any:
    return key[0] if len(key) == 1 else tuple_(*key)


# ---- reading ----------------------------------------------------------------------------


def snapshot(db: Database) -> dict[str, Any]:
    """The execution options of one transaction that reads a consistent newsroom."""
    if db.engine.dialect.name == "postgresql":
        return {"isolation_level": "REPEATABLE READ", "postgresql_readonly": True}
    return {READ_ONLY: True}  # SQLite: a deferred transaction reads one snapshot in WAL


async def read_batch(
    conn: AsyncConnection, table: Table, after: Key | None, limit: int, up_to: Key | None = None
) -> list[Row]:
    """Up to `limit` rows after the key `after` (and not past `up_to`), in key order."""
    columns = [cast(c, Text).label(c.name) if isinstance(c.type, NullType) else c for c in table.c]
    query = select(*columns).order_by(*key_columns(table)).limit(limit)
    if after is not None:
        query = query.where(_after(table, after))
    if up_to is not None:
        query = query.where(_up_to(table, up_to))
    return [tuple(row) for row in (await conn.execute(query)).all()]


async def count(conn: AsyncConnection, table: Table) -> int:
    return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


# ---- writing ----------------------------------------------------------------------------


async def copy_table(
    reading: AsyncConnection,
    writing: AsyncConnection,
    table: Table,
    *,
    after: Key | None,
    done: int,
    total: int,
    batch: int,
    progress: Progress | None,
) -> int:
    """Copy the rows after the key `after`, a transaction a batch; the next batch is read
    while one is written. `done` rows were there before (an interrupted copy's)."""
    started = time.monotonic()
    insert = _Insert.of(table, writing.dialect)
    copied = 0
    rows = await read_batch(reading, table, after, batch)
    while rows:
        following = asyncio.ensure_future(read_batch(reading, table, key(table, rows[-1]), batch))
        try:
            async with writing.begin():
                await insert.run(writing, rows)
        except DBAPIError as e:
            await asyncio.gather(following, return_exceptions=True)
            first, last = named(table, rows[0]), named(table, rows[-1])
            raise StorageError(
                f"the target refused a row of {table.name} ({first} to {last}): {e.orig}"
            ) from e
        except BaseException:
            await asyncio.gather(following, return_exceptions=True)
            raise
        copied += len(rows)
        if progress is not None:
            progress(
                TableProgress(
                    table.name, done + copied, total, copied, time.monotonic() - started, False
                )
            )
        rows = await following
    if progress is not None:
        progress(
            TableProgress(
                table.name, done + copied, total, copied, time.monotonic() - started, True
            )
        )
    return copied


@dataclass(frozen=True, slots=True)
class _Insert:
    """INSERT … ON CONFLICT (the key) DO NOTHING for one table, made once and given to the
    driver as it is (SQLAlchemy's compiling and parameter handling a row cost more than the
    database's work): SQLite takes the rows one by one (executemany), PostgreSQL a batch in
    one statement, an array a column (unnest). The values are converted as SQLAlchemy's types
    would (times to SQLite's text, …). A row that is there already stays as it is; any other
    constraint that says no is an error."""

    sql: str
    converters: tuple[Callable[[Any], Any] | None, ...]
    by_column: bool

    @classmethod
    def of(cls, table: Table, dialect: Dialect) -> _Insert:
        quote_id = dialect.identifier_preparer.quote
        names = [quote_id(c.name) for c in table.c]
        keys = ", ".join(quote_id(c.name) for c in key_columns(table))
        head = f"INSERT INTO {quote_id(table.name)} ({', '.join(names)})"
        converters = tuple(c.type.dialect_impl(dialect).bind_processor(dialect) for c in table.c)
        if dialect.name != "postgresql":
            marks = ", ".join("?" for _ in names)
            return cls(
                f"{head} VALUES ({marks}) ON CONFLICT ({keys}) DO NOTHING", converters, False
            )
        arrays, picked = [], []
        for i, (column, name) in enumerate(zip(table.c, names, strict=True), 1):
            raw = isinstance(column.type, NullType)  # JSON, as its text
            # Text without a length: a cast to VARCHAR(n) would cut a longer value without a
            # word, where the INSERT's own conversion refuses it.
            text_ = raw or isinstance(column.type, String)
            arrays.append(f"${i}::{'TEXT' if text_ else column.type.compile(dialect)}[]")
            picked.append(f"CAST(u.{name} AS JSON)" if raw else f"u.{name}")
        return cls(
            f"{head} SELECT {', '.join(picked)} FROM unnest({', '.join(arrays)}) "  # noqa: S608 - the models' names
            f"AS u({', '.join(names)}) ON CONFLICT ({keys}) DO NOTHING",
            converters,
            True,
        )

    async def run(self, conn: AsyncConnection, rows: Sequence[Row]) -> None:
        columns = [
            list(values) if convert is None else [convert(v) for v in values]
            for values, convert in zip(zip(*rows, strict=True), self.converters, strict=True)
        ]
        if self.by_column:
            await conn.exec_driver_sql(self.sql, tuple(columns))
        else:
            await conn.exec_driver_sql(self.sql, list(zip(*columns, strict=True)))
