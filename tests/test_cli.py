"""The command line: check-config, db upgrade, health, and `visnyk run` as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

import pytest

from bot.cli import main
from storage.db import Database, head_revision
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN, eventually

ROOT = Path(__file__).parent.parent


def write_config(path: Path, body: str) -> Path:
    path.write_text(body, encoding="utf-8")
    return path


def test_check_config_prints_a_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-config", str(ROOT / "config.example.toml")]) == 0
    assert capsys.readouterr().out.startswith("config OK: 7 sections, 9 feeds, 0 owners")


def test_bad_config_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", "[delivery]\nmessages_per_second = -5\n")
    for argv in (
        ["check-config", str(config)],
        ["run", "--config", str(config)],
        ["db", "upgrade", "--config", str(config)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == (
            "visnyk: config error: delivery.messages_per_second: must be greater than 0, got -5\n"
        )
    assert main(["check-config", str(tmp_path / "nope.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_run_without_a_token_tells_how_to_get_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISNYK_TELEGRAM_TOKEN", raising=False)
    config = write_config(tmp_path / "c.toml", "")
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "VISNYK_TELEGRAM_TOKEN" in err
    assert "@BotFather" in err
    assert "/newbot" in err


async def test_db_upgrade(tmp_path: Path) -> None:
    db_path = tmp_path / "v.db"
    config = write_config(
        tmp_path / "c.toml", f'[storage]\nurl = "sqlite+aiosqlite:///{db_path}"\n'
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "db",
        "upgrade",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert out.decode() == f"database at revision {head_revision()}\n"
    db = Database.open(f"sqlite+aiosqlite:///{db_path}")
    assert await db.revision() == head_revision()
    await db.close()


def test_health(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    beat = tmp_path / "heartbeat"
    assert main(["health", "--file", str(beat)]) == 1
    assert "no heartbeat file" in capsys.readouterr().err
    beat.write_text("1\n")
    assert main(["health", "--file", str(beat)]) == 0
    os.utime(beat, (1, 1))
    assert main(["health", "--file", str(beat)]) == 1
    assert "last heartbeat" in capsys.readouterr().err


async def test_run_serves_users_and_stops_cleanly_on_sigterm(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "c.toml",
        f"""
[telegram]
api_base_url = "{tg.base_url}"
[storage]
url = "sqlite+aiosqlite:///{tmp_path / "v.db"}"
[[sections]]
slug = "world"
title = {{ uk = "Світ", en = "World" }}
""",
    )
    env = os.environ | {
        "VISNYK_TELEGRAM_TOKEN": TOKEN,
        "VISNYK_HEARTBEAT_FILE": str(tmp_path / "heartbeat"),
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        "--config",
        str(config),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        people = People(tg)
        reader = people.person("Оксана")
        talk = people.talk(people.private(reader), reader)
        await tg.wait_for(lambda c: c.method == "setMyCommands", within=30)
        message = await talk.say("/start s_world")
        assert "✅ Підписано: «Світ»." in message.text
        await eventually((tmp_path / "heartbeat").exists, within=10)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 10)
        assert process.returncode == 0, err.decode()
        log = err.decode()
        assert TOKEN not in log
        assert "ready sections=1" in log
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


def test_a_rate_above_telegrams_free_limit_is_a_warning_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", "[delivery]\nmessages_per_second = 1000\n")
    assert main(["check-config", str(config)]) == 0
    out = capsys.readouterr()
    assert out.out.startswith("config OK")
    assert out.err == (
        "visnyk: warning: delivery.messages_per_second = 1000 is above Telegram's free 30 a "
        "second: real Telegram answers 429 beyond it unless the bot pays for broadcasts "
        "(allow_paid_broadcast)\n"
    )
    quiet = write_config(tmp_path / "q.toml", "[delivery]\nmessages_per_second = 30\n")
    assert main(["check-config", str(quiet)]) == 0
    assert capsys.readouterr().err == ""
