"""The lean path to the Bot API for bulk sends: prebuilt JSON over kept-alive connections.

PTB's own request layer costs a few milliseconds of CPU per call, which caps a process far below
1000 messages a second (bench/broadcast.py); replies to commands still go through PTB.
"""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from bot.delivery.verdict import Answer, Verdict, classify

TIMEOUT = 15.0


class Sender:
    def __init__(self, api_base_url: str, token: str, *, connections: int) -> None:
        self._base = f"{api_base_url}{token}/"
        self._connections = connections
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        connector = aiohttp.TCPConnector(limit=self._connections, ttl_dns_cache=300)
        self._session = aiohttp.ClientSession(
            connector=connector,
            timeout=aiohttp.ClientTimeout(total=TIMEOUT),
            json_serialize=json.dumps,
        )

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, params: dict[str, Any]) -> Answer:
        """One Bot API call; never raises for what Telegram or the network does."""
        assert self._session is not None, "Sender.start() first"
        body = json.dumps(params, ensure_ascii=False).encode()
        try:
            async with self._session.post(
                self._base + method, data=body, headers={"Content-Type": "application/json"}
            ) as response:
                raw = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as e:
            return Answer(Verdict.TRANSIENT, f"network: {type(e).__name__}: {e}".strip())
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        return classify(status, data if isinstance(data, dict) else None)
