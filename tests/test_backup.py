"""Backups of the SQLite database while the bot runs: `visnyk db backup` and storage.backup."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import pipeline
from bot.cli import main
from storage.backup import BackupExists, NotSQLite, backup, sqlite_file
from storage.db import head_revision
from tests.delivery_kit import audience, received, story
from tests.fakes.flood import Flood
from tests.fakes.telegram import FakeTelegram
from tests.kit import Kit, eventually, started

# `visnyk db backup` copies an SQLite file with SQLite's backup API; a PostgreSQL newsroom
# backs up with the server's own tools (README: pg_dump, point-in-time recovery).
pytestmark = pytest.mark.sqlite_only("SQLite's online backup")
READERS = 60
RATE = 20  # messages a second: the broadcast takes ~3 s, the backup is taken in its midst


def deliveries_in(path: Path) -> dict[int, str]:
    with sqlite3.connect(path) as db:
        return dict(db.execute("SELECT id, state FROM deliveries").fetchall())


def revision_in(path: Path) -> str:
    with sqlite3.connect(path) as db:
        [(revision,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    return str(revision)


def sent(deliveries: dict[int, str]) -> int:
    return sum(state == "sent" for state in deliveries.values())


async def recorded(kit: Kit) -> dict[int, str]:
    async with kit.db.reading() as s:
        rows = await s.execute(text("SELECT id, state FROM deliveries"))
        return {row.id: row.state for row in rows}


async def test_a_backup_taken_during_a_broadcast_holds_every_delivery_recorded_before_it(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    tg.flood = Flood(per_second=RATE)
    async with started(tg, tmp_path, delivery={"messages_per_second": RATE}) as kit:
        readers = await audience(kit, READERS)
        await pipeline.post_stories(kit.runtime, [await story(kit, "Новина для всіх", {"world"})])
        await eventually(lambda: sum(received(kit, readers).values()) >= RATE, within=10)

        before = await recorded(kit)
        copy = tmp_path / "backups" / "visnyk.db"
        copy.parent.mkdir()
        # The copy's first step holds it until the engine has sent more: it overlaps the writes.
        copying, go_on = threading.Event(), threading.Event()

        def step(_remaining: int, _total: int) -> None:
            copying.set()
            assert go_on.wait(10)

        taking = asyncio.create_task(
            backup(kit.config.storage.url, copy, step_pages=1, progress=step)
        )
        await eventually(copying.is_set)
        sent_before = sent(before)

        async def more_recorded() -> bool:
            return sent(await recorded(kit)) >= sent_before + 10

        await eventually(more_recorded, within=10)
        go_on.set()
        taken = await taking
        after = await recorded(kit)

        assert "pending" in before.values()  # the broadcast was under way
        assert taken.path == copy
        assert taken.size == copy.stat().st_size
        assert taken.revision == head_revision() == revision_in(copy)
        saved = deliveries_in(copy)
        assert set(before) <= set(saved)  # every delivery recorded before it began
        for delivery, state in before.items():
            assert state == "pending" or saved[delivery] == state  # a sent one stays sent
        assert set(saved) <= set(after)  # and nothing the bot never recorded
        # It is the database as it was when the copy began, not a mix of before and after.
        assert sent(saved) < sent_before + 10 <= sent(after)
        # One self-contained file: no partial copy left beside it, no -wal.
        assert os.listdir(copy.parent) == ["visnyk.db"]

        await eventually(lambda: set(received(kit, readers)) == set(readers), within=15)
    assert tg.flood.rejected == 0


async def test_an_existing_file_is_kept_unless_replacing(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"
    with sqlite3.connect(tmp_path / "v.db") as db:
        db.execute("CREATE TABLE t (x)")
    copy = tmp_path / "copy.db"
    copy.write_bytes(b"an older backup")
    with pytest.raises(BackupExists):
        await backup(url, copy)
    assert copy.read_bytes() == b"an older backup"
    taken = await backup(url, copy, replace=True)
    assert taken.revision is None  # never migrated
    with sqlite3.connect(copy) as db:
        assert db.execute("SELECT count(*) FROM t").fetchone() == (0,)


def test_only_sqlite_files_are_backed_up() -> None:
    assert sqlite_file("sqlite+aiosqlite:///data/visnyk.db") == Path("data/visnyk.db")
    assert sqlite_file("sqlite+aiosqlite:////data/visnyk.db") == Path("/data/visnyk.db")
    for url in ("postgresql+asyncpg://visnyk@db/visnyk", "sqlite+aiosqlite://", "nonsense"):
        with pytest.raises(NotSQLite):
            sqlite_file(url)


def test_db_backup_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "v.db"}"\n')
    assert main(["db", "upgrade", "--config", str(config)]) == 0
    capsys.readouterr()
    copy = tmp_path / "copy.db"

    assert main(["db", "backup", str(copy), "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"backup {copy}: ")
    assert f" kB, revision {head_revision()}, " in out
    assert revision_in(copy) == head_revision()

    assert main(["db", "backup", str(copy), "--config", str(config)]) == 1
    assert capsys.readouterr().err == f"visnyk: {copy} exists: choose a new name, or --replace it\n"
    assert main(["db", "backup", str(copy), "--replace", "--config", str(config)]) == 0
    assert capsys.readouterr().out.startswith(f"backup {copy}: ")

    postgres = tmp_path / "pg.toml"
    postgres.write_text('[storage]\nurl = "postgresql+asyncpg://visnyk@db/visnyk"\n')
    assert main(["db", "backup", str(copy), "--config", str(postgres)]) == 2
    assert capsys.readouterr().err == (
        "visnyk: db backup copies SQLite files only; the database is postgresql: back it up "
        "with its tools\n"
    )
