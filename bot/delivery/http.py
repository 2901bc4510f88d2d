"""A small HTTP/1.1 client for the Bot API: POST with a body, kept-alive connections in a pool.

Enough HTTP for one server that answers with Content-Length or chunked bodies; nothing else.
At a thousand messages a second, every tenth of a millisecond per request counts
(bench/broadcast.py): a general-purpose client spends several on features we do not use, and
even asyncio's streams cost a future per read. Each connection is a protocol that parses the
answer as its bytes arrive and wakes the caller once.
"""

from __future__ import annotations

import asyncio
import ssl
from urllib.parse import urlsplit

MAX_HEADER = 64 * 1024


class HttpError(Exception):
    """The request got no HTTP answer (connection, protocol, time)."""


class _Connection(asyncio.Protocol):
    """One kept-alive connection; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self.deadline = 0.0  # when the answer being awaited is late (loop time)
        self._buffer = bytearray()
        self._waiter: asyncio.Future[tuple[int, bytes, bool]] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionResetError(str(exc) if exc else "closed by the server"))

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        if self._waiter is None or self._waiter.done():
            return
        try:
            answer = self._parse()
        except ValueError as e:
            self._fail(e)
            self.close()
            return
        if answer is not None:
            self._waiter.set_result(answer)

    def exchange(self, request: bytes) -> asyncio.Future[tuple[int, bytes, bool]]:
        """Send `request`; the future gets (status, body, keep-alive)."""
        assert self.transport is not None
        self._buffer.clear()
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return self._waiter

    def expire(self) -> None:
        self._fail(TimeoutError())
        self.close()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, error: Exception) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(error)

    def _parse(self) -> tuple[int, bytes, bool] | None:
        """The whole answer, or None while bytes are missing."""
        buffer = self._buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEADER:
                raise ValueError("headers too large")
            return None
        head = bytes(buffer[: end + 2]).lower()  # header names are case-insensitive
        status = int(head[9:12])  # "HTTP/1.1 200 OK"
        chunked = _header(head, b"transfer-encoding") == b"chunked"
        start = end + 4
        if chunked:
            chunks = []
            while True:
                eol = buffer.find(b"\r\n", start)
                if eol < 0:
                    return None
                size = int(bytes(buffer[start:eol]).split(b";")[0], 16)
                if len(buffer) < eol + 2 + size + 2:
                    return None
                chunks.append(bytes(buffer[eol + 2 : eol + 2 + size]))
                start = eol + 2 + size + 2
                if size == 0:
                    break
            body = b"".join(chunks)
        else:
            length = int(_header(head, b"content-length") or 0)
            if len(buffer) < start + length:
                return None
            body = bytes(buffer[start : start + length])
        return status, body, _header(head, b"connection") != b"close"


def _header(head: bytes, name: bytes) -> bytes | None:
    """A header's value in a lower-cased head that ends with CRLF."""
    at = head.find(b"\r\n" + name + b":")
    if at < 0:
        return None
    start = at + len(name) + 3
    return head[start : head.index(b"\r\n", start)].strip()


class HttpPool:
    def __init__(self, base_url: str, *, size: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.secure = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.secure else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._busy: set[_Connection] = set()
        self._sweeper: asyncio.Task[None] | None = None
        self._slots = asyncio.Semaphore(size)
        host_header = self.host if parts.port is None else f"{self.host}:{self.port}"
        self._head = f"Host: {host_header}\r\nContent-Type: application/json\r\n".encode()
        self._ssl = ssl.create_default_context() if self.secure else None

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(self.timeout):
            _, connection = await loop.create_connection(
                _Connection,
                self.host,
                self.port,
                ssl=self._ssl,
                server_hostname=self.host if self.secure else None,
            )
        return connection

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST `body` (JSON) to prefix + `path`; the status and the body of the answer."""
        request = (
            b"POST "
            + (self.prefix + path).encode()
            + b" HTTP/1.1\r\n"
            + self._head
            + b"Content-Length: "
            + str(len(body)).encode()
            + b"\r\n\r\n"
            + body
        )
        async with self._slots:
            for attempt in range(2):  # a kept-alive connection the server closed: once more
                connection = None
                while self._idle and connection is None:
                    candidate = self._idle.pop()
                    connection = None if candidate.closed else candidate
                fresh = connection is None
                try:
                    if connection is None:
                        connection = await self._connect()
                    status, answer, keep = await self._exchange(connection, request)
                except TimeoutError as e:
                    if connection is not None:
                        connection.close()
                    raise HttpError(f"no answer within {self.timeout:g} s") from e
                except (OSError, ValueError) as e:
                    if connection is not None:
                        connection.close()
                    if fresh or attempt:
                        raise HttpError(f"{type(e).__name__}: {e}") from e
                    continue
                if keep and not connection.closed:
                    self._idle.append(connection)
                else:
                    connection.close()
                return status, answer
        raise HttpError("unreachable")  # pragma: no cover

    async def _exchange(self, connection: _Connection, request: bytes) -> tuple[int, bytes, bool]:
        answer = connection.exchange(request)
        connection.deadline = asyncio.get_running_loop().time() + self.timeout
        self._busy.add(connection)
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.create_task(self._sweep(), name="http-timeouts")
        try:
            return await answer
        except asyncio.CancelledError:
            connection.close()  # the answer may still come: the connection is not reusable
            raise
        finally:
            self._busy.discard(connection)

    async def _sweep(self) -> None:
        """Fail the requests that are late (one timer for all, not one per request)."""
        loop = asyncio.get_running_loop()
        while self._busy:
            await asyncio.sleep(min(1.0, self.timeout / 4))
            now = loop.time()
            for connection in [c for c in self._busy if c.deadline <= now]:
                connection.expire()
