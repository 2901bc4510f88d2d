"""The small HTTP client: Content-Length and chunked answers, closed connections, no server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bot.delivery.http import HttpError, HttpPool


@pytest.fixture
async def server() -> AsyncIterator[str]:
    async def plain(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "echo": await request.json()})

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=429)
        response.enable_chunked_encoding()
        await response.prepare(request)
        for piece in (b'{"ok": false, ', b'"description": "Too Many Requests: retry after 3"}'):
            await response.write(piece)
        await response.write_eof()
        return response

    async def closing(_request: web.Request) -> web.Response:
        return web.Response(body=b"{}", headers={"Connection": "close"})

    app = web.Application()
    app.router.add_post("/api/plain", plain)
    app.router.add_post("/api/chunked", chunked)
    app.router.add_post("/api/closing", closing)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    yield f"http://127.0.0.1:{port}/api"
    await runner.cleanup()


async def test_answers_of_every_shape(server: str) -> None:
    pool = HttpPool(server, size=2, timeout=5)
    try:
        for _ in range(3):  # the same kept-alive connection, again and again
            status, body = await pool.post("/plain", b'{"text": "\\u0456"}')
            assert (status, body) == (200, b'{"ok": true, "echo": {"text": "\\u0456"}}')
        status, body = await pool.post("/chunked", b"{}")
        assert status == 429
        assert body == b'{"ok": false, "description": "Too Many Requests: retry after 3"}'
        assert (await pool.post("/closing", b"{}"))[0] == 200
        assert (await pool.post("/plain", b"{}"))[0] == 200  # a new connection after close
    finally:
        await pool.close()


async def test_no_server_is_an_error_not_a_crash() -> None:
    pool = HttpPool("http://127.0.0.1:9/api", size=1, timeout=2)
    with pytest.raises(HttpError):
        await pool.post("/x", b"{}")


async def test_a_server_that_never_answers_times_out() -> None:
    took = asyncio.Event()
    writers: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        await reader.read(1)  # takes the request, never answers
        took.set()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    pool = HttpPool(f"http://127.0.0.1:{port}/api", size=1, timeout=0.2)
    try:
        with pytest.raises(HttpError, match=r"no answer within 0\.2 s"):
            await pool.post("/x", b"{}")
        assert took.is_set()
    finally:
        await pool.close()
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()
