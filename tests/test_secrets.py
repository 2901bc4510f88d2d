"""The bot token appears in no output, and start-up failures are one line naming the cause."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import logs
from bot.delivery.sender import Sender
from bot.delivery.verdict import Verdict
from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN

SECRET = TOKEN.partition(":")[2]
WRONG = "123456789:AAEwrongTOKENwrongTOKENwrongT54321"  # well-formed, not the fake's
REJECTED = (
    "visnyk: Telegram rejected the token: check VISNYK_TELEGRAM_TOKEN (or telegram.token) "
    "and telegram.api_base_url\n"
)


def assert_no_secret(text: str, token: str = TOKEN) -> None:
    secret = token.partition(":")[2]
    assert secret[: logs.SECRET_HEAD] not in text, text  # nor the secret, nor the token


async def visnyk_run(tmp_path: Path, api_base_url: str, token: str, **env: str) -> tuple[int, str]:
    """`visnyk run` as a real process until it exits; its status and all it wrote."""
    config = tmp_path / "c.toml"
    config.write_text(
        f'[telegram]\napi_base_url = "{api_base_url}"\n'
        f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "v.db"}"\n',
        encoding="utf-8",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "run", "--config", str(config),
        env=os.environ | {"VISNYK_TELEGRAM_TOKEN": token} | env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(process.communicate(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode is not None
    return process.returncode, out.decode() + err.decode()


# ---- start-up, as a real process -----------------------------------------------------------


async def test_a_wrong_token_is_one_line_and_never_shown(tg: FakeTelegram, tmp_path: Path) -> None:
    status, output = await visnyk_run(tmp_path, tg.base_url, WRONG)
    assert status == 2
    assert output == REJECTED
    assert_no_secret(output, WRONG)


async def test_a_wrong_api_path_answering_404_is_the_same_line(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    wrong_path = tg.base_url.removesuffix("/bot") + "/api/bot"  # a plain-text 404 from aiohttp
    status, output = await visnyk_run(tmp_path, wrong_path, TOKEN)
    assert status == 2
    assert output == REJECTED
    assert_no_secret(output)


async def test_an_api_out_of_reach_is_one_line_with_the_url_but_not_the_token(
    tmp_path: Path,
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    status, output = await visnyk_run(tmp_path, f"http://127.0.0.1:{port}/bot", TOKEN)
    assert status == 1
    assert output.startswith(f"visnyk: cannot reach the Bot API at http://127.0.0.1:{port}/bot…: ")
    assert output.count("\n") == 1
    assert_no_secret(output)


async def test_an_unexpected_crash_is_logged_once_and_exits_1(
    tg: FakeTelegram, tmp_path: Path
) -> None:
    # The heartbeat file's folder is missing: writing it fails while the bot starts.
    heartbeat = str(tmp_path / "missing" / "heartbeat")
    status, output = await visnyk_run(tmp_path, tg.base_url, TOKEN, VISNYK_HEARTBEAT_FILE=heartbeat)
    assert status == 1
    assert output.count("CRITICAL") + output.count("ERROR") == 1, output
    assert "ERROR bot.cli: visnyk stopped by an unexpected error" in output
    assert output.count("FileNotFoundError: ") == 1
    assert_no_secret(output)


# ---- the filter ------------------------------------------------------------------------------


def record(msg: object, *args: object) -> logging.LogRecord:
    return logging.LogRecord("telegram.ext", logging.ERROR, __file__, 1, msg, args or None, None)


def formatted(redactor: logs.Redactor, rec: logging.LogRecord) -> str:
    assert redactor.filter(rec)
    return logging.Formatter(logs.FORMAT).format(rec)


def test_the_filter_redacts_the_message_and_its_arguments() -> None:
    redactor = logs.Redactor(TOKEN)
    rec = record(f"The token `{TOKEN}` was rejected by the server.")
    assert redactor.filter(rec)
    assert rec.getMessage() == "The token `<token>` was rejected by the server."
    rec = record("HTTP Request: POST %s %r", f"http://x/bot{TOKEN}/getMe", {"url": TOKEN})
    assert redactor.filter(rec)
    assert rec.getMessage() == "HTTP Request: POST http://x/bot<token>/getMe {'url': '<token>'}"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"/bot{TOKEN.replace(':', '%3A')}/getMe", "/bot<token>/getMe"),  # URL-encoded
        (f"/bot{TOKEN.replace(':', '%3a')}/getMe", "/bot<token>/getMe"),
        (f"?u=/bot{TOKEN.replace(':', '%253A')}/x", "?u=/bot<token>/x"),  # encoded twice
        (f"url=/bot{TOKEN[:15]}", "url=/bot<token>"),  # cut short after the id
        (f"secret={SECRET[:12]}…", "secret=<token>…"),  # the secret part alone, cut short
        (f"{SECRET}", "<token>"),
        ("chat=1123456789:AAE is another chat", "chat=1123456789:AAE is another chat"),
    ],
)
def test_every_form_of_the_token_is_hidden_whole(text: str, expected: str) -> None:
    assert logs.Redactor(TOKEN).redact(text) == expected


def raise_rejected() -> None:
    try:
        raise ConnectionError(f"POST http://127.0.0.1/bot{TOKEN}/getMe failed")
    except ConnectionError as e:
        raise RuntimeError(f"The token `{TOKEN}` was rejected") from e


def test_the_filter_redacts_the_traceback_and_the_stack() -> None:
    redactor = logs.Redactor(TOKEN)
    try:
        raise_rejected()
    except RuntimeError:
        rec = record("start-up failed")
        rec.exc_info = sys.exc_info()
    rec.stack_info = f'Stack (most recent call last):\n  File "x.py", line 1, in <{TOKEN}>'
    text = formatted(redactor, rec)
    assert rec.exc_info is None  # no formatter can print the raw exception again
    assert "ConnectionError: POST http://127.0.0.1/bot<token>/getMe failed" in text
    assert "RuntimeError: The token `<token>` was rejected" in text
    assert "in <<token>>" in text
    assert_no_secret(text)


def test_the_filter_leaves_other_records_as_they_are() -> None:
    redactor = logs.Redactor(TOKEN)
    try:
        raise ValueError("nothing secret")
    except ValueError:
        error = sys.exc_info()
    rec = record("feed failed feed=%s error=%r", "https://example.com/rss", "HTTP 404")
    rec.exc_info = error
    before = dict(rec.__dict__)
    assert redactor.filter(rec)
    assert rec.msg == before["msg"]
    assert rec.args is before["args"]
    assert rec.exc_info is error
    assert rec.getMessage() == "feed failed feed=https://example.com/rss error='HTTP 404'"


# ---- what Python and asyncio would print by themselves go through logging ------------------


@pytest.fixture
def written() -> Iterator[io.StringIO]:
    """What the root logger's handlers write, through a redacting filter as `protect` adds."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.Redactor(TOKEN))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


async def test_asyncio_s_exception_handler_logs_through_the_filter(written: io.StringIO) -> None:
    loop = asyncio.get_running_loop()
    loop.call_exception_handler(
        {"message": f"Task exception was never retrieved: {TOKEN}", "exception": OSError(TOKEN)}
    )
    text = written.getvalue()
    assert "Task exception was never retrieved: <token>" in text
    assert "OSError: <token>" in text
    assert_no_secret(text)


def test_uncaught_exceptions_of_the_process_and_threads_are_logged_redacted(
    written: io.StringIO, monkeypatch: pytest.MonkeyPatch
) -> None:
    try:
        raise_rejected()
    except RuntimeError as e:
        logs.log_uncaught(type(e), e, e.__traceback__)

    monkeypatch.setattr(threading, "excepthook", logs.log_thread_uncaught)
    thread = threading.Thread(target=raise_rejected, name="poller")
    thread.start()
    thread.join()

    class Leaky:
        def __del__(self) -> None:
            raise RuntimeError(TOKEN)

    monkeypatch.setattr(sys, "unraisablehook", logs.log_unraisable)
    Leaky()  # collected at once; its __del__ raises where nobody can catch it

    text = written.getvalue()
    assert "uncaught RuntimeError\n" in text
    assert "uncaught RuntimeError in thread poller" in text
    assert "Exception ignored in" in text
    assert text.count("The token `<token>` was rejected") == 2
    assert "RuntimeError: <token>" in text
    assert_no_secret(text)


async def test_protect_covers_child_loggers_warnings_and_the_excepthook(tmp_path: Path) -> None:
    script = f"""
import logging, warnings
from bot import logs
logs.setup()
logs.protect({TOKEN!r})
logging.getLogger("telegram.ext.Updater").error("polling %s", "/bot{TOKEN}/getUpdates")
warnings.warn("unclosed /bot{TOKEN}/getMe", ResourceWarning, stacklevel=1)
raise SystemError("crash at /bot{TOKEN}/getMe")
"""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-W", "always", "-c", script,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 30)
    text = out.decode() + err.decode()
    assert process.returncode == 1
    # One line (logs.OneLine makes the polling loop's errors a WARNING), the token hidden.
    assert "WARNING telegram.ext.Updater: polling /bot<token>/getUpdates" in text
    assert "WARNING py.warnings:" in text
    assert "unclosed /bot<token>/getMe" in text
    assert "CRITICAL bot.logs: uncaught SystemError" in text
    assert "SystemError: crash at /bot<token>/getMe" in text
    assert_no_secret(text)


# ---- our own HTTP path ------------------------------------------------------------------------


async def test_the_lean_sender_s_errors_carry_no_token() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    sender = Sender(f"http://127.0.0.1:{port}/bot", TOKEN, connections=1)
    try:
        answer = await sender.call("getMe", {})
    finally:
        await sender.close()
    assert answer.verdict is Verdict.TRANSIENT
    assert answer.description.startswith("network: ")
    assert_no_secret(answer.description)
