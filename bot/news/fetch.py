"""HTTP for feeds and pages: conditional GET, a size cap, a deadline, Retry-After."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from dataclasses import dataclass

import httpx

MAX_REDIRECTS = 5


class FetchError(Exception):
    """A fetch that brought nothing; the message says why in plain words."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Fetched:
    url: str  # after redirects
    status: int  # 200, or 304 when unchanged since `etag` / `last_modified`
    body: bytes
    content_type: str | None
    etag: str | None
    last_modified: str | None

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def client(*, timeout: float, user_agent: str) -> httpx.AsyncClient:
    """The one HTTP client of the process, redirects followed within a limit."""
    return httpx.AsyncClient(
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent, "Accept-Encoding": "gzip, deflate"},
        limits=httpx.Limits(max_connections=32, max_keepalive_connections=16),
    )


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n // 1000} kB"


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8",
) -> Fetched:
    """GET `url` within `deadline` seconds and `max_bytes`, or raise FetchError."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(deadline):
            return await _get(http, url, headers, max_bytes)
    except TimeoutError:
        raise FetchError(f"no complete answer within {deadline:g} s") from None
    except httpx.TooManyRedirects:
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)") from None
    except httpx.TimeoutException:
        raise FetchError("timed out") from None
    except httpx.InvalidURL as e:
        raise FetchError(f"invalid URL: {e}") from None
    except httpx.HTTPError as e:
        raise FetchError(f"cannot connect: {type(e).__name__} {e}".strip()) from None


async def _get(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int
) -> Fetched:
    async with http.stream("GET", url, headers=headers) as response:
        if response.status_code == 304:
            return Fetched(str(response.url), 304, b"", None, None, None)
        if response.status_code >= 400:
            wait = None
            if response.status_code in (429, 503):
                wait = retry_after(response.headers.get("Retry-After"), dt.datetime.now(dt.UTC))
            reason = response.reason_phrase or ""
            raise FetchError(f"HTTP {response.status_code} {reason}".strip(), retry_after=wait)
        declared = response.headers.get("Content-Length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchError(f"too large: {_size(int(declared))} (limit {_size(max_bytes)})")
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"too large: over {_size(max_bytes)}")
            chunks.append(chunk)
        return Fetched(
            url=str(response.url),
            status=response.status_code,
            body=b"".join(chunks),
            content_type=response.headers.get("Content-Type"),
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        )
