"""What the operator reads: text or JSON lines at the configured level, chatty libraries quiet,
and Telegram's outages told once, not a traceback a retry."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest

from bot import logs
from bot.reach import Reach
from storage import subscriptions
from tests.fakes.rules import ApiError
from tests.kit import Kit, eventually


@pytest.fixture
def root_stream() -> Iterator[io.StringIO]:
    """The root logger writing to a string, as `visnyk run` sets it up; restored after."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    stream = io.StringIO()
    root.handlers = [logging.StreamHandler(stream)]
    levels = {name: logging.getLogger(name).level for name in logs.QUIET}
    try:
        yield stream
    finally:
        root.handlers, root.level = saved[0], saved[1]
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


def test_json_lines_carry_the_event_and_its_fields(root_stream: io.StringIO) -> None:
    logs.configure("INFO", "json")
    logging.getLogger("bot.delivery").info("delivery stopped sent=%d failed=%d", 12, 0)
    logging.getLogger("bot.ingest").warning(
        "feed failing feed=%s error=%s", "https://x.ua/rss", "timed out after 20 s"
    )
    logging.getLogger("bot").debug("not at INFO")
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("bot.handlers").exception("update failed chat=%s", 5)
    lines = [json.loads(line) for line in root_stream.getvalue().splitlines()]
    assert len(lines) == 3
    first, second, third = lines
    assert first["event"] == "delivery stopped"
    assert (first["sent"], first["failed"]) == ("12", "0")
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.delivery"
    assert first["time"].endswith("+00:00")
    assert second["error"] == "timed out after 20 s"  # a value runs to the next key
    assert second["feed"] == "https://x.ua/rss"
    assert third["event"] == "update failed"
    assert "ValueError: boom" in third["traceback"]


def test_level_and_text_format(root_stream: io.StringIO) -> None:
    logs.configure("WARNING", "text")
    logging.getLogger("bot").info("quiet at WARNING")
    logging.getLogger("bot").warning("feed failing feed=x")
    assert root_stream.getvalue().count("\n") == 1
    assert " WARNING bot: feed failing feed=x" in root_stream.getvalue()


def test_scheduler_chatter_is_off(root_stream: io.StringIO) -> None:
    logs.configure("INFO", "text")
    logging.getLogger("apscheduler.executors.default").info('Running job "ingest"')
    logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot…")
    assert root_stream.getvalue() == ""


def test_an_outage_is_one_line_and_its_end_another(caplog: pytest.LogCaptureFixture) -> None:
    reach = Reach()
    caplog.set_level(logging.INFO, "bot.reach")
    reach.answered(0.0)
    for second in range(1, 40):
        reach.failed("polling", OSError("Connection refused\nmore detail"), float(second))
    assert reach.silent_for(39.0) == 39.0
    reach.answered(41.0)
    reach.answered(42.0)
    assert [r.getMessage() for r in caplog.records] == [
        "Telegram unreachable, retrying what=polling error=OSError: Connection refused",
        "Telegram reachable again after=40s failures=39",
    ]
    assert all(r.exc_info is None for r in caplog.records)


async def test_a_failed_update_is_one_line_and_a_bug_its_traceback(
    kit: Kit, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    reader = kit.reader("Ann", "en")
    await reader.say("/help")
    caplog.set_level(logging.INFO)
    # Telegram fails the reply (and the apology goes through): one line, no traceback.
    kit.tg.script(ApiError(502, "Bad Gateway"), chat_id=reader.chat["id"])
    sorry = await reader.say("/help")
    assert sorry.text == "Something went wrong on our side. Please try again in a minute."
    failed = [r for r in caplog.records if "update failed" in r.getMessage()]
    assert [r.getMessage() for r in failed] == [
        f"update failed chat={reader.chat['id']} cause=NetworkError: Bad Gateway"
    ]
    assert failed[0].exc_info is None
    assert "Traceback" not in caplog.text
    caplog.clear()

    # Our own bug: its traceback, to find it.
    async def broken(*_: object) -> dict[str, object]:
        raise ZeroDivisionError("a bug")

    with monkeypatch.context() as patch:
        patch.setattr(subscriptions, "modes_of_chat", broken)
        await reader.say("/sections")
    failed = [r for r in caplog.records if "update failed" in r.getMessage()]
    assert len(failed) == 1
    assert failed[0].exc_info is not None
    assert failed[0].levelname == "ERROR"


async def test_commands_are_logged_without_their_text(
    kit: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    reader = kit.reader("Оксана Секретна")
    await reader.say("/search таємне слово")

    def ours() -> list[str]:  # the bot's lines (the test's fakes log their own requests)
        return [r.getMessage() for r in caplog.records if r.name.startswith("bot")]

    await eventually(lambda: any(line.startswith("command ") for line in ours()))
    lines = [line for line in ours() if line.startswith("command ")]
    assert len(lines) == 1
    assert lines[0].startswith("command chat=private name=/search latency_ms=")
    everything = "\n".join(ours())
    assert "таємне" not in everything
    assert "Секретна" not in everything
    assert str(reader.user["id"]) not in everything
