"""The lean path to the Bot API for bulk sends: prebuilt JSON over kept-alive connections.

PTB's own request layer costs a few milliseconds of CPU per call, which caps a process far below
1000 messages a second (bench/broadcast.py); replies to commands still go through PTB.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from bot.delivery.http import HttpError, HttpPool
from bot.delivery.verdict import Answer, Verdict, classify
from bot.metrics import Metrics
from bot.reach import Reach

TIMEOUT = 15.0


class Sender:
    def __init__(
        self,
        api_base_url: str,
        token: str,
        *,
        connections: int,
        metrics: Metrics | None = None,
        reach: Reach | None = None,
    ) -> None:
        self._pool = HttpPool(api_base_url + token, size=connections, timeout=TIMEOUT)
        self.metrics = metrics or Metrics()
        self.reach = reach  # told whenever Telegram answers (/readyz)

    async def start(self) -> None:
        pass  # connections open on first use

    async def close(self) -> None:
        await self._pool.close()

    async def call(self, method: str, params: dict[str, Any]) -> Answer:
        """One Bot API call; never raises for what Telegram or the network does."""
        return await self.post(method, orjson.dumps(params))

    async def post(self, method: str, body: bytes) -> Answer:
        """One Bot API call with its parameters already encoded as JSON; counted (latency,
        messages sent, 429s) in `metrics`, and any answer of Telegram's told to `reach`."""
        metrics = self.metrics
        began = time.monotonic()
        try:
            status, raw = await self._pool.post("/" + method, body)
        except HttpError as e:
            return Answer(Verdict.TRANSIENT, f"network: {e}")
        finally:
            ended = time.monotonic()
            metrics.call_timer("delivery", method).observe(ended - began)
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            data = None
        if not isinstance(data, dict) or "ok" not in data:
            return classify(status, None)  # a proxy's page, not Telegram
        if self.reach is not None and status < 500:  # a 5xx is Telegram failing, not answering
            self.reach.answered(ended)
        answer = classify(status, data)
        if answer.verdict is Verdict.SENT:
            metrics.sent()
        elif answer.verdict is Verdict.RETRY_AFTER:
            metrics.rate_limited("delivery", answer.retry_after or 0.0)
        return answer
