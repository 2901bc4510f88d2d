"""A small HTTP/1.1 client for the Bot API: POST with a body, kept-alive connections in a pool.

Enough HTTP for one server that answers with Content-Length or chunked bodies; nothing else.
At a thousand messages a second, every tenth of a millisecond per request counts
(bench/broadcast.py), and a general-purpose client spends several on features we do not use.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from urllib.parse import urlsplit

MAX_HEADER = 64 * 1024


class HttpError(Exception):
    """The request got no HTTP answer (connection, protocol, time)."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.writer.close()


class HttpPool:
    def __init__(self, base_url: str, *, size: int, timeout: float) -> None:
        parts = urlsplit(base_url)
        self.secure = parts.scheme == "https"
        self.host = parts.hostname or "localhost"
        self.port = parts.port or (443 if self.secure else 80)
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self._idle: list[_Connection] = []
        self._slots = asyncio.Semaphore(size)
        host_header = self.host if parts.port is None else f"{self.host}:{self.port}"
        self._head = f"Host: {host_header}\r\nContent-Type: application/json\r\n".encode()
        self._ssl = ssl.create_default_context() if self.secure else None

    async def close(self) -> None:
        for connection in self._idle:
            connection.close()
        self._idle.clear()

    async def _connect(self) -> _Connection:
        reader, writer = await asyncio.open_connection(
            self.host, self.port, ssl=self._ssl, server_hostname=self.host if self.secure else None
        )
        return _Connection(reader, writer)

    async def post(self, path: str, body: bytes) -> tuple[int, bytes]:
        """POST `body` (JSON) to prefix + `path`; the status and the body of the answer."""
        request = (
            b"POST " + (self.prefix + path).encode() + b" HTTP/1.1\r\n" + self._head
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        )  # fmt: skip
        async with self._slots:
            for attempt in range(2):  # a kept-alive connection the server closed: once more
                fresh = not self._idle
                connection = self._idle.pop() if self._idle else None
                try:
                    async with asyncio.timeout(self.timeout):
                        if connection is None:
                            connection = await self._connect()
                        status, answer, keep = await self._exchange(connection, request)
                except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        ValueError) as e:  # fmt: skip
                    if connection is not None:
                        connection.close()
                    if fresh or attempt:
                        raise HttpError(f"{type(e).__name__}: {e}") from e
                    continue
                except TimeoutError as e:
                    if connection is not None:
                        connection.close()
                    raise HttpError(f"no answer within {self.timeout:g} s") from e
                if keep:
                    self._idle.append(connection)
                else:
                    connection.close()
                return status, answer
        raise HttpError("unreachable")  # pragma: no cover

    @staticmethod
    async def _exchange(connection: _Connection, request: bytes) -> tuple[int, bytes, bool]:
        reader, writer = connection.reader, connection.writer
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEADER:
            raise ValueError("headers too large")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if sep:
                headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await reader.readexactly(size + 2)
                if size == 0:
                    break
                chunks.append(chunk[:-2])
            body = b"".join(chunks)
        else:
            body = await reader.readexactly(int(headers.get("content-length", "0")))
        keep = headers.get("connection", "").lower() != "close"
        return status, body, keep
