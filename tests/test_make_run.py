"""`make run` as an operator's supervisor uses it: SIGTERM to make reaches the bot, which shuts
down cleanly before make exits.

GNU make runs a recipe that is one simple command without a shell, as its own child, and on
SIGTERM sends SIGTERM to its children, waits for them, and then dies of the signal itself. A
shell in between (`a; b`, `a && b`, a pipe) would take the signal and leave the bot running.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN, eventually

ROOT = Path(__file__).parent.parent
VENV = Path(sys.prefix)  # the venv running the tests: its visnyk is the one `make run` starts

pytestmark = [
    pytest.mark.skipif(shutil.which("make") is None, reason="GNU make is not installed"),
    pytest.mark.skipif(not (VENV / "bin" / "visnyk").exists(), reason="not run from the venv"),
    pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux's /proc"),
]


def children(pid: int) -> list[int]:
    """The processes `pid` started (Linux's /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def command(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_text().split("\0")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def test_sigterm_to_make_run_stops_the_bot_cleanly(tg: FakeTelegram, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[telegram]\napi_base_url = "{tg.base_url}"\n'
        f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "v.db"}"\n'
        '[[sections]]\nslug = "world"\ntitle = { uk = "Світ", en = "World" }\n',
        encoding="utf-8",
    )
    # Not a make started by `make test`: its jobserver and flags are not this make's.
    env = {k: v for k, v in os.environ.items() if k not in {"MAKEFLAGS", "MFLAGS", "MAKELEVEL"}}
    env["VISNYK_TELEGRAM_TOKEN"] = TOKEN
    # The venv is installed (`make test` did it): -o takes the install as done, whatever its
    # stamp says, so that this test never runs pip.
    process = await asyncio.create_subprocess_exec(
        "make", "-C", str(ROOT), "--no-print-directory", "-o", str(VENV / ".installed-run"),
        "run", f"VENV={VENV}", f"CONFIG={config}",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    lines: list[str] = []

    async def read(stream: asyncio.StreamReader) -> None:
        async for line in stream:
            lines.append(line.decode(errors="replace").rstrip("\n"))

    assert process.stdout is not None
    assert process.stderr is not None
    readers = [asyncio.create_task(read(s)) for s in (process.stdout, process.stderr)]
    bots: list[int] = []
    try:
        await eventually(lambda: any("ready sections=1" in line for line in lines), within=60)
        bots = children(process.pid)
        assert len(bots) == 1  # the bot itself, no shell between make and it
        assert command(bots[0])[1:3] == [str(VENV / "bin" / "visnyk"), "run"]  # python, visnyk

        process.send_signal(signal.SIGTERM)
        status = await asyncio.wait_for(process.wait(), 30)
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
        await asyncio.gather(*readers)
        for bot in bots:
            if alive(bot):
                os.kill(bot, signal.SIGKILL)

    log = "\n".join(lines)
    assert status == -signal.SIGTERM  # make passed the signal on, waited, then died of it
    assert not alive(bots[0])  # the bot is gone, reaped by make: no orphan left running
    assert "pip install" not in log  # nothing was installed
    assert "delivery stopped" in log  # post_shutdown ran: the engine stopped, outcomes stored
    assert "stopped" in lines[-1]  # and the shutdown ran to its last line
    assert "Traceback" not in log
    assert TOKEN not in log
