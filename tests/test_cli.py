"""The command line: check-config, db upgrade, health, and `visnyk run` as a real process."""

from __future__ import annotations

import asyncio
import http.server
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
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


def test_health(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISNYK_HEARTBEAT_FILE", raising=False)
    beat = tmp_path / "heartbeat"
    assert main(["health", "--file", str(beat)]) == 1
    assert "no heartbeat file" in capsys.readouterr().err
    beat.write_text("1\n")
    assert main(["health", "--file", str(beat)]) == 0
    os.utime(beat, (1, 1))
    assert main(["health", "--file", str(beat)]) == 1
    assert "last heartbeat" in capsys.readouterr().err


def test_health_with_nothing_to_ask_is_unhealthy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("VISNYK_HEARTBEAT_FILE", raising=False)
    monkeypatch.chdir(tmp_path)  # a directory exists: it was once taken for a fresh heartbeat
    assert main(["health"]) == 1
    assert capsys.readouterr().err == (
        "visnyk: unhealthy: no heartbeat file configured (--file or $VISNYK_HEARTBEAT_FILE) "
        "and no [server] listen in a --config to ask /healthz\n"
    )
    config = write_config(tmp_path / "c.toml", "")  # the server off
    assert main(["health", "--config", str(config)]) == 1
    assert "unhealthy: no heartbeat file configured" in capsys.readouterr().err
    monkeypatch.setenv("VISNYK_HEARTBEAT_FILE", str(tmp_path / "heartbeat"))
    assert main(["health", "--config", str(config)]) == 1
    assert capsys.readouterr().err == (
        f"visnyk: unhealthy: no heartbeat file at {tmp_path / 'heartbeat'}\n"
    )
    (tmp_path / "heartbeat").write_text("1\n")
    assert main(["health", "--config", str(config)]) == 0


class Healthz(http.server.BaseHTTPRequestHandler):
    """/healthz as the bot's server answers it: `status` and `body`, set by the test."""

    status = 200
    body = b"ok"

    def do_GET(self) -> None:
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def healthz() -> Iterator[http.server.ThreadingHTTPServer]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join()


def test_health_asks_healthz_when_the_server_is_on(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    healthz: http.server.ThreadingHTTPServer,
) -> None:
    monkeypatch.setenv("VISNYK_HEARTBEAT_FILE", str(tmp_path / "no-heartbeat"))  # not asked
    port = healthz.server_address[1]
    config = write_config(tmp_path / "c.toml", f'[server]\nlisten = "127.0.0.1:{port}"\n')
    url = f"http://127.0.0.1:{port}/healthz"
    assert main(["health", "--config", str(config)]) == 0
    assert capsys.readouterr().out == f"healthy: {url} answered 200\n"

    monkeypatch.setattr(Healthz, "status", 503)
    monkeypatch.setattr(Healthz, "body", b"database:\n  locked")
    assert main(["health", "--config", str(config)]) == 1
    assert capsys.readouterr().err == f"visnyk: unhealthy: {url} answered 503: database: locked\n"

    # Every interface: asked on loopback.
    everywhere = write_config(tmp_path / "all.toml", f'[server]\nlisten = "0.0.0.0:{port}"\n')
    monkeypatch.setattr(Healthz, "status", 200)
    assert main(["health", "--config", str(everywhere)]) == 0
    assert capsys.readouterr().out == f"healthy: {url} answered 200\n"

    # --file still asks the heartbeat.
    assert main(["health", "--config", str(config), "--file", str(tmp_path / "beat")]) == 1
    assert "no heartbeat file at" in capsys.readouterr().err


def test_health_fails_when_healthz_is_out_of_reach(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    port = unused_port()
    config = write_config(tmp_path / "c.toml", f'[server]\nlisten = "127.0.0.1:{port}"\n')
    assert main(["health", "--config", str(config), "--timeout", "2"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"visnyk: unhealthy: cannot reach http://127.0.0.1:{port}/healthz: ")
    assert err.count("\n") == 1


def unused_port() -> int:
    """A loopback port nothing listens on (bound, then closed: free for this test)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


async def visnyk(*argv: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    """`python -m bot …` as a process of its own: exit status, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", *argv, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_ingest_once_fails_when_every_feed_failed_and_says_each_failure_once(
    tmp_path: Path,
) -> None:
    port = unused_port()
    feeds = [f"http://127.0.0.1:{port}/news.xml", f"http://127.0.0.1:{port}/world.xml"]
    config = write_config(
        tmp_path / "c.toml",
        f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "v.db"}"\n'
        f'[ingest]\nfeeds = ["{feeds[0]}", "{feeds[1]}"]\ntimeout = 2\n',
    )
    status, out, err = await visnyk("ingest", "--once", "--config", str(config))
    assert status == 1, err
    assert [line.split(": error: ")[0] for line in out.splitlines()] == feeds
    assert all(": error: cannot connect" in line for line in out.splitlines())
    for feed in feeds:
        assert (out + err).count(feed) == 1  # the report line, not the ingester's log too
    assert err.endswith("visnyk: every feed failed (2 of 2)\n")


async def test_ingest_once_without_feeds_succeeds(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml", f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "v.db"}"\n'
    )
    status, out, err = await visnyk("ingest", "--once", "--config", str(config))
    assert (status, out) == (0, "no feeds configured\n"), err


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


async def run_until_it_stops(config: Path, **environ: str) -> tuple[int | None, str]:
    """`visnyk run` with `config` that is expected to stop by itself: its status and stderr."""
    env = os.environ | {"VISNYK_TELEGRAM_TOKEN": TOKEN} | environ
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config), env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, err = await asyncio.wait_for(process.communicate(), 30)
    return process.returncode, err.decode()


async def test_a_taken_port_is_one_line_naming_the_key(tg: FakeTelegram, tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(
            tmp_path / "c.toml",
            f"""
[telegram]
api_base_url = "{tg.base_url}"
[server]
listen = "127.0.0.1:{port}"
[storage]
url = "sqlite+aiosqlite:///{tmp_path / "v.db"}"
""",
        )
        status, text = await run_until_it_stops(config)
    assert status == 1
    assert f"visnyk: cannot listen on 127.0.0.1:{port}: " in text
    assert "(server.listen)" in text
    assert "Traceback" not in text


def test_health_with_a_bad_config_is_unhealthy_not_usage(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path / "c.toml", "[server]\nlisten = 8080\n")
    assert main(["health", "--config", str(config)]) == 1  # Docker reserves exit 2
    assert "unhealthy: config error: server.listen: expected a string" in capsys.readouterr().err


async def test_a_webhook_telegram_refuses_is_one_line_naming_the_key(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = write_config(
        tmp_path / "c.toml",
        f"""
[telegram]
api_base_url = "{tg.base_url}"
webhook_url = "http://bot.example.ua/hook"
[server]
listen = "127.0.0.1:{port}"
[storage]
url = "sqlite+aiosqlite:///{tmp_path / "v.db"}"
""",
    )
    status, text = await run_until_it_stops(
        config, VISNYK_WEBHOOK_SECRET="a-secret-long-enough-0123"
    )
    assert status == 2
    last = text.splitlines()[-1]
    assert last.startswith("visnyk: Telegram refused telegram.webhook_url: ")
    assert "bad webhook: an https url must be provided" in last.lower()  # PTB's own wording
    assert "is not https" in text  # the config's warning said so first
    assert "Traceback" not in text


@pytest.mark.parametrize("batch", ["0", "-5", "many"])
def test_db_copy_wants_a_batch_of_at_least_one_row(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], batch: str
) -> None:
    source, target = f"sqlite:///{tmp_path / 'a.db'}", f"sqlite:///{tmp_path / 'b.db'}"
    with pytest.raises(SystemExit) as exited:
        main(["db", "copy", "--from", source, "--to", target, "--batch", batch])
    assert exited.value.code == 2
    assert "argument --batch: expected a whole number of at least 1" in capsys.readouterr().err
    assert not (tmp_path / "b.db").exists()


async def test_a_database_out_of_reach_is_one_line_without_the_password(
    tg: FakeTelegram, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A PostgreSQL server nobody listens for (a wrong host or port, a server down): asyncpg
    lets the socket's error through unwrapped; the bot and its commands say it in one line."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        config = write_config(
            tmp_path / "c.toml",
            f"""
[telegram]
api_base_url = "{tg.base_url}"
[storage]
url = "postgresql://visnyk:Hunter2-secret@127.0.0.1:{port}/news"
""",
        )
        # In a thread: the command runs its own event loop.
        assert await asyncio.to_thread(main, ["db", "upgrade", "--config", str(config)]) == 1
        err = capsys.readouterr().err
        assert err.startswith("visnyk: storage error: database error:")
        assert err.count("\n") == 1
        status, text = await run_until_it_stops(config)
    assert status == 1
    assert "Traceback" not in text
    assert "Connect call failed" in text.strip().splitlines()[-1]
    assert "Hunter2-secret" not in err + text
