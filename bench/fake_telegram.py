"""The test kit's fake Telegram as a separate process, so that a benchmark's CPU figures are
the bot's alone: `python -m bench.fake_telegram PORT RATE CHATS`."""

from __future__ import annotations

import asyncio
import gc
import sys
from typing import Any

from aiohttp import web

from tests.fakes.flood import Flood
from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN

FREE_RATE = 30  # Telegram's limit for messages without allow_paid_broadcast


async def main(port: int, rate: float, chats: int) -> None:
    tg = FakeTelegram(TOKEN)
    tg.flood = _flood(rate)
    tg.chats = _Readers(chats)
    app = web.Application()
    app.router.add_route("*", "/bot{token}/{method}", tg._handle)
    app.router.add_route("GET", "/__stats", tg._stats)
    app.router.add_route("POST", "/__reset", lambda _r: _reset(tg, rate))
    runner = web.AppRunner(app, handle_signals=True, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=1024).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


class _Readers(dict[int, dict[str, Any]]):
    """Private chats 1 … n, each made when first sent to: a million readers cost the fake
    nothing until the bot reaches them."""

    def __init__(self, n: int) -> None:
        super().__init__()
        self.n = n

    def __missing__(self, chat_id: int) -> dict[str, Any]:
        if not 0 < chat_id <= self.n:
            raise KeyError(chat_id)
        chat = self[chat_id] = {"id": chat_id, "type": "private", "first_name": f"Читач {chat_id}"}
        return chat


async def _reset(tg: FakeTelegram, rate: float) -> web.Response:
    tg.calls.clear()
    tg.messages.clear()
    tg.flood = _flood(rate)
    return web.json_response({"ok": True})


def _flood(rate: float) -> Flood:
    """Telegram's limits as they are: the free 30 a second for messages without
    allow_paid_broadcast, `rate` (up to 1000) for those with it."""
    return Flood(per_second=min(rate, FREE_RATE), paid_per_second=max(rate, FREE_RATE))


if __name__ == "__main__":
    # The instrument must not pause: a full garbage collection in this process (100 ms once a
    # few thousand calls are kept) holds requests back and lets them in as a burst, which a
    # strict window counts against the bot. Nothing here lives long enough to need it.
    gc.disable()
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])))
