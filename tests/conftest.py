"""Fixtures: the fake Telegram, and Visnyk running against it."""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import os
import subprocess
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from storage.db import Database
from tests import kit as test_kit
from tests import postgresql
from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import BACKENDS, OWNER, TOKEN, Kit, started

TEMPLATE = "visnyk_template"
_databases = itertools.count(1)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests marked `backends` run once on each database; the rest on SQLite only."""
    if metafunc.definition.get_closest_marker("backends") is not None:
        metafunc.parametrize("backend", BACKENDS)


@pytest.fixture
def backend(request: pytest.FixtureRequest) -> str:
    """SQLite, or what VISNYK_TEST_BACKEND names: `VISNYK_TEST_BACKEND=postgresql pytest` runs
    every test on PostgreSQL (the marked ones run on both in any case), but those marked
    `sqlite_only`, which are about SQLite itself."""
    if request.node.get_closest_marker("sqlite_only") is not None:
        return "sqlite"
    return os.environ.get("VISNYK_TEST_BACKEND", "sqlite")


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[postgresql.Cluster]:
    """One PostgreSQL cluster for the session, with a template database at the newest
    migration (a database per test is copied from it: much faster than migrating each)."""
    with postgresql.cluster() as cluster:
        _psql(cluster, f"CREATE DATABASE {TEMPLATE}")

        async def migrate() -> None:
            db = Database.open(cluster.url(TEMPLATE))
            try:
                await db.upgrade()
            finally:
                await db.close()

        # In a thread of its own: the fixture may be first asked for inside a running loop
        # (an async fixture of a module).
        with concurrent.futures.ThreadPoolExecutor(1) as thread:
            thread.submit(lambda: asyncio.run(migrate())).result()
        yield cluster


def _psql(cluster: postgresql.Cluster, statement: str) -> None:
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", cluster.dsn(), "-c", statement],
        check=True,
        stdout=subprocess.DEVNULL,
    )


@pytest.fixture(scope="session")
def new_database(request: pytest.FixtureRequest) -> Callable[[str, Path], str]:
    """A factory of databases for fixtures wider than a test (a module's runs): for a backend
    and a directory, the URL of a new database (SQLite: a file in the directory)."""

    def make(backend: str, directory: Path) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{directory / 'visnyk.db'}"
        cluster: postgresql.Cluster = request.getfixturevalue("postgresql_server")
        name = f"test_{next(_databases)}"
        _psql(cluster, f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
        return cluster.url(name)

    return make


@pytest.fixture(autouse=True)
def database_url(
    backend: str, new_database: Callable[[str, Path], str], tmp_path: Path
) -> Iterator[str]:
    """The test's own database: an SQLite file in its directory, or a new PostgreSQL database.
    `tests.kit.make_config` writes it into every config the test makes."""
    url = new_database(backend, tmp_path)
    test_kit.DATABASE_URL = None if backend == "sqlite" else url
    try:
        yield url
    finally:
        test_kit.DATABASE_URL = None


@pytest.fixture
async def tg() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram(TOKEN)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def web() -> AsyncIterator[FakeWeb]:
    fake = FakeWeb()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def kit(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Kit]:
    async with started(tg, tmp_path) as k:
        yield k


@pytest.fixture
async def room(tg: FakeTelegram, tmp_path: Path) -> AsyncIterator[Kit]:
    """The newsroom: an owner in the config, and a send rate that lets flashes go out at once."""
    async with started(
        tg, tmp_path, telegram={"owners": [OWNER]}, delivery={"messages_per_second": 500}
    ) as k:
        yield k
