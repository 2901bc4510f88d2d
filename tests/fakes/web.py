"""A fake web on loopback for ingest tests: feeds and article pages, with the faults of the
real one (errors, slowness, redirect loops, huge and endless bodies, Retry-After, bodies sent
as they are with any Content-Encoding header) and conditional GET. A second instance with
another `name` (e.g. `localhost`) plays another host."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

DATA = Path(__file__).parent.parent / "data"


@dataclass
class Resource:
    body: bytes = b""
    status: int = 200
    content_type: str = "application/rss+xml; charset=utf-8"
    etag: str | None = None
    last_modified: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before the answer starts
    redirect_to: str | None = None  # a path here, or an absolute URL; `body` goes along
    drip: int = 0  # send the body in this many slow pieces
    size: int = 0  # a generated body of this many bytes instead of `body`
    endless: bool = False  # send `body` (or a comment) again and again until the client leaves


class FakeWeb:
    def __init__(self, name: str = "127.0.0.1") -> None:
        self.name = name  # the host name in this web's URLs; it listens on 127.0.0.1
        self.resources: dict[str, Resource] = {}
        self.hits: Counter[str] = Counter()
        self.requests: list[tuple[str, dict[str, str]]] = []
        self._runner: web.AppRunner | None = None
        self.base = ""
        # A test's hook, for crash tests that kill the bot at a precise moment (None: none): it
        # sees each request's path and status once its answer is written (headers and body),
        # before the handler returns.
        self.on_answer: Callable[[str, int], None] | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("GET", "/{path:.*}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.port = port
        self.base = f"http://{self.name}:{port}"

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    def url(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"

    def serve(self, path: str, body: bytes | str = b"", **options: Any) -> str:
        """Serve `body` (or a file of tests/data, by name) at `path`; returns its URL."""
        if isinstance(body, str):
            body = (DATA / body).read_bytes()
        self.resources[path.lstrip("/")] = Resource(body=body, **options)
        return self.url(path)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await self._answer(request)
        if self.on_answer is not None:
            await response.prepare(request)  # what aiohttp does after the handler; it does it
            await response.write_eof()  # once, so writing the answer here changes nothing else
            self.on_answer(request.match_info["path"], response.status)
        return response

    async def _answer(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        self.hits[path] += 1
        self.requests.append((path, dict(request.headers)))
        res = self.resources.get(path)
        if res is None:
            return web.Response(status=404, text="not found")
        if res.delay:
            await asyncio.sleep(res.delay)  # a slow server, on purpose
        if res.redirect_to:
            target = res.redirect_to if "://" in res.redirect_to else self.url(res.redirect_to)
            status = res.status if 300 <= res.status < 400 else 302
            headers = res.headers | {"Location": target}
            return web.Response(status=status, body=res.body, headers=headers)
        if res.etag and request.headers.get("If-None-Match") == res.etag:
            return web.Response(status=304)
        headers = dict(res.headers)
        if res.etag:
            headers["ETag"] = res.etag
        if res.last_modified:
            headers["Last-Modified"] = res.last_modified
        headers["Content-Type"] = res.content_type
        if res.endless:
            return await self._endless(request, res, headers)
        if res.size or res.drip:
            response = web.StreamResponse(status=res.status, headers=headers)
            await response.prepare(request)
            body = res.body or b"x" * res.size
            pieces = max(res.drip, 1 + len(body) // 65536)
            step = max(1, len(body) // pieces)
            for i in range(0, len(body), step):
                await response.write(body[i : i + step])
                if res.drip:
                    await asyncio.sleep(0.2)
            await response.write_eof()
            return response
        return web.Response(status=res.status, body=res.body, headers=headers)

    async def _endless(
        self, request: web.Request, res: Resource, headers: dict[str, str]
    ) -> web.StreamResponse:
        response = web.StreamResponse(status=res.status, headers=headers)
        await response.prepare(request)
        try:
            while True:
                await response.write(res.body or b"<!-- more -->")
                await asyncio.sleep(0.01)  # a slow server, on purpose
        except (ConnectionError, RuntimeError):
            return response  # the client left
