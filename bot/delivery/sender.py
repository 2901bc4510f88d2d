"""The lean path to the Bot API for bulk sends: prebuilt JSON over kept-alive connections.

PTB's own request layer costs a few milliseconds of CPU per call, which caps a process far below
1000 messages a second (bench/broadcast.py); replies to commands still go through PTB.
"""

from __future__ import annotations

from typing import Any

import orjson

from bot.delivery.http import HttpError, HttpPool
from bot.delivery.verdict import Answer, Verdict, classify

TIMEOUT = 15.0


class Sender:
    def __init__(self, api_base_url: str, token: str, *, connections: int) -> None:
        self._pool = HttpPool(api_base_url + token, size=connections, timeout=TIMEOUT)

    async def start(self) -> None:
        pass  # connections open on first use

    async def close(self) -> None:
        await self._pool.close()

    async def call(self, method: str, params: dict[str, Any]) -> Answer:
        """One Bot API call; never raises for what Telegram or the network does."""
        return await self.post(method, orjson.dumps(params))

    async def post(self, method: str, body: bytes) -> Answer:
        """One Bot API call with its parameters already encoded as JSON."""
        try:
            status, raw = await self._pool.post("/" + method, body)
        except HttpError as e:
            return Answer(Verdict.TRANSIENT, f"network: {e}")
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        return classify(status, data if isinstance(data, dict) else None)
