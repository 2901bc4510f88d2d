"""The bot's own small HTTP server (aiohttp): Telegram's webhook, /metrics, /healthz, /readyz.

It knows nothing of PTB or the database: the composition (bot.lifecycle) hands it what to
call. The webhook answers at once, before the update is handled: an update is checked (the
secret, a JSON object with an update_id, a size cap), given to `deliver`, and answered 200;
handling happens in the application, as it would for a polled update. While the bot stops the
webhook answers 503, so Telegram keeps the update and delivers it again later.
"""

from __future__ import annotations

import asyncio
import collections
import hmac
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.web_protocol import RequestPayloadError

from bot import logs

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header's name
MAX_UPDATE_BYTES = 1 << 20  # an update is a few kilobytes; Telegram's largest stay far below
RECENT_UPDATES = 4096  # update ids remembered, so that one posted again is handled once
LOGGED_EVERY = 60.0  # seconds between two lines about refused or failed requests
SHARED_FOR = 1.0  # seconds a health check's answer serves every probe
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


class ListenError(Exception):
    """The server could not listen where the config says (the port taken, no such address)."""


def application(routes: Routes) -> web.Application:
    """The aiohttp application serving `routes`."""
    app = web.Application(client_max_size=MAX_UPDATE_BYTES, middlewares=[_one_line_errors])
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
        try:
            await site.start()
        except OSError as e:
            await self._runner.cleanup()
            raise ListenError(f"cannot listen on {self.host}:{self.port}: {e.strerror}") from e
        if self.port == 0:  # tests: the port the system chose
            self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        log.info("server listening address=%s:%d", self.host, self.port)

    async def stop(self) -> None:
        await self._runner.cleanup()


_failures = logs.Limited(log, LOGGED_EVERY)


@web.middleware
async def _one_line_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """What no route expected is a 500 and one line (rate-limited), never a traceback a
    request: anyone who reaches the server could otherwise fill the log."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except Exception as e:
        _failures.warning("request failed path=%s error=%s", request.path, logs.short(e))
        return web.Response(status=500, text="error\n")


class _Shared:
    """A check whose answer is shared: calls while one runs wait for it, and its answer is
    reused for SHARED_FOR seconds, so that a flood of probes costs one database query."""

    def __init__(self, checks: Checks, clock: Callable[[], float] = time.monotonic) -> None:
        self.checks, self.clock = checks, clock
        self._running: asyncio.Future[list[str]] | None = None
        self._answer: tuple[float, list[str]] | None = None

    async def __call__(self) -> list[str]:
        if self._answer is not None and self.clock() - self._answer[0] < SHARED_FOR:
            return self._answer[1]
        if self._running is None:
            self._running = asyncio.ensure_future(self._check())
        running = self._running
        return await asyncio.shield(running)

    async def _check(self) -> list[str]:
        try:
            try:
                problems = await self.checks()
            except Exception as e:  # a check that fails is a failed check, never a 500 page
                _failures.warning("health check failed error=%s", logs.short(e))
                problems = [f"check failed: {type(e).__name__}"]
            self._answer = (self.clock(), problems)
            return problems
        finally:
            self._running = None


def _checked(checks: Checks) -> Callable[[web.Request], Awaitable[web.Response]]:
    shared = _Shared(checks)

    async def handle(_request: web.Request) -> web.Response:
        problems = await shared()
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
    refused = logs.Limited(
        log, LOGGED_EVERY
    )  # a flood of forged posts is counted (metrics), not a line each
    recent = _Recent()

    async def handle(request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "")
        # Header bytes that are not UTF-8 arrive as surrogates: compared, never an error.
        if not hmac.compare_digest(given.encode("utf-8", "surrogateescape"), hook.secret.encode()):
            hook.refused("secret")
            refused.warning("webhook refused reason=secret remote=%s", request.remote)
            return web.Response(status=403, text="forbidden\n")
        if not hook.accepting():
            return web.Response(status=503, text="stopping\n")
        try:
            update = orjson.loads(await request.read())
        except web.HTTPRequestEntityTooLarge:
            hook.refused("size")
            refused.warning("webhook refused reason=size remote=%s", request.remote)
            raise
        except (RequestPayloadError, HttpProcessingError, OSError):  # cut short, or garbled
            hook.refused("body")
            refused.warning("webhook refused reason=body remote=%s", request.remote)
            return web.Response(status=400, text="unreadable body\n")
        except orjson.JSONDecodeError:
            update = None
        if not hook.accepting():  # the stop began while the body came: Telegram retries later
            return web.Response(status=503, text="stopping\n")
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
            refused.warning("webhook refused reason=body remote=%s", request.remote)
            return web.Response(status=400, text="not an update\n")
        return web.Response(text="ok\n")

    return handle
