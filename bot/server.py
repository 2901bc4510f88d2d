"""The bot's own small HTTP server (aiohttp): Telegram's webhook, /metrics, /healthz, /readyz.

It knows nothing of PTB or the database: the composition (bot.lifecycle) hands it what to
call. The webhook answers at once, before the update is handled: an update is checked (the
secret, a JSON object with an update_id, a size cap), given to `deliver`, and answered 200;
handling happens in the application, as it would for a polled update. While the bot stops the
webhook answers 503, so Telegram keeps the update and delivers it again later.
"""

from __future__ import annotations

import collections
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
MAX_UPDATE_BYTES = 1 << 20  # an update is a few kilobytes; Telegram's largest stay far below
RECENT_UPDATES = 4096  # update ids remembered, so that one posted again is handled once
REFUSALS_LOGGED_EVERY = 60.0  # seconds between two lines about refused webhook posts
Checks = Callable[[], Awaitable[list[str]]]  # what is wrong; nothing: all is well


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates, and what it must send with them."""

    path: str
    secret: str
    deliver: Callable[[dict[str, Any]], Awaitable[None]]  # ValueError: not an update
    accepting: Callable[[], bool]  # False while the bot stops: 503, Telegram retries later
    refused: Callable[[str], None] = lambda reason: None  # counts a refusal by its reason


@dataclass(frozen=True)
class Routes:
    """What the server serves; a missing part is a 404."""

    liveness: Checks
    readiness: Checks
    metrics: Callable[[], Awaitable[tuple[bytes, str]]] | None = None  # body, content type
    webhook: Webhook | None = None


def application(routes: Routes) -> web.Application:
    """The aiohttp application serving `routes`."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES)
    app.router.add_get("/healthz", _checked(routes.liveness))
    app.router.add_get("/readyz", _checked(routes.readiness))
    if routes.metrics is not None:
        app.router.add_get("/metrics", _metrics(routes.metrics))
    if routes.webhook is not None:
        app.router.add_post(routes.webhook.path, _webhook(routes.webhook))
    return app


class Server:
    """The application on `host:port`, started and stopped with the bot."""

    def __init__(self, routes: Routes, host: str, port: int) -> None:
        self._runner = web.AppRunner(
            application(routes), handle_signals=False, access_log=None, shutdown_timeout=2.0
        )
        self.host, self.port = host, port

    async def start(self) -> None:
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        if self.port == 0:  # tests: the port the system chose
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("server listening address=%s:%d", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()


def _checked(checks: Checks) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(_request: web.Request) -> web.Response:
        try:
            problems = await checks()
        except Exception as e:  # a check that fails is a failed check, never a 500 page
            log.warning("health check failed error=%r", e)
            problems = [f"check failed: {type(e).__name__}"]
        if problems:
            return web.Response(status=503, text="\n".join(problems) + "\n")
        return web.Response(text="ok\n")

    return handle


def _metrics(
    render: Callable[[], Awaitable[tuple[bytes, str]]],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handle(_request: web.Request) -> web.Response:
        body, content_type = await render()
        response = web.Response(body=body)
        response.headers["Content-Type"] = content_type
        return response

    return handle


class _Refusals:
    """Refused posts, logged at most once a minute with how many there were: a flood of
    forged posts is counted (metrics), not written out one line each."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last: float | None = None
        self.unlogged = 0

    def __call__(self, reason: str, remote: str | None) -> None:
        self.unlogged += 1
        now = self.clock()
        if self.last is None or now - self.last >= REFUSALS_LOGGED_EVERY:
            log.warning(
                "webhook refused reason=%s remote=%s count=%d", reason, remote, self.unlogged
            )
            self.last, self.unlogged = now, 0


class _Recent:
    """The update ids handed on lately: Telegram posts an update again when our answer did not
    reach it (a dropped connection, a proxy's time-out), and it must not be handled twice."""

    def __init__(self, size: int = RECENT_UPDATES) -> None:
        self._order: collections.deque[int] = collections.deque(maxlen=size)
        self._ids: set[int] = set()

    def first_time(self, update_id: int) -> bool:
        if update_id in self._ids:
            return False
        if len(self._order) == self._order.maxlen:
            self._ids.discard(self._order[0])
        self._order.append(update_id)
        self._ids.add(update_id)
        return True


def _webhook(hook: Webhook) -> Callable[[web.Request], Awaitable[web.Response]]:
    refusals = _Refusals()
    recent = _Recent()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        if not hmac.compare_digest(given.encode(), hook.secret.encode()):
            hook.refused("secret")
            refusals("secret", request.remote)
            return web.Response(status=403, text="forbidden\n")
        if not hook.accepting():
            return web.Response(status=503, text="stopping\n")
        try:
            update = orjson.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            hook.refused("size")
            refusals("size", request.remote)
            raise
        except orjson.JSONDecodeError:
            update = None
        try:
            update_id = update.get("update_id") if isinstance(update, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                raise ValueError("not an update")
            if recent.first_time(update_id):
                await hook.deliver(update)
            else:
                log.info("webhook update again update_id=%d", update_id)
        except ValueError:
            hook.refused("body")
            refusals("body", request.remote)
            return web.Response(status=400, text="not an update\n")
        return web.Response(text="ok\n")

    return handle
