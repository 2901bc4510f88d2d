"""HTTP for feeds and pages: conditional GET, a size cap on decoded bytes, a deadline,
Retry-After, redirects followed here and checked one by one.

The body is read raw and decoded by `bot.news.decode` as it streams, so `max_bytes` caps what
the body *decodes to*, through any Content-Encoding, and a compression bomb is refused within
a piece of the cap. Redirects are followed in our own loop rather than by httpx (which would
read, and decode, every redirect's body): a redirect's body is never read, each new URL must be
a valid http(s) URL that `allow` accepts, and the connection's address is checked by
`bot.news.network` when it is made.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import httpcore
import httpx

from bot.news.decode import ACCEPT_ENCODING, Decoder, Undecodable
from bot.news.hosts import Hosts, Refusal, Refused
from bot.news.network import GuardedBackend, GuardedTransport, Resolver, system_resolver
from bot.urls import checked

MAX_REDIRECTS = 5
REDIRECTS = frozenset({301, 302, 303, 307, 308})
FEED_ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.8"
# url → why it may not be fetched (None: it may)
Allow = Callable[[str], Refusal | None]


class FetchError(Exception):
    """A fetch that brought nothing; the message says why in plain words. `refusal` is set when
    the fetch was not made on purpose (a private address, a host not trusted…)."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, refusal: Refusal | None = None
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.refusal = refusal


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


def client(
    *,
    timeout: float,
    user_agent: str,
    hosts: Hosts,
    resolver: Resolver = system_resolver,
    dialer: httpcore.AsyncNetworkBackend | None = None,
) -> httpx.AsyncClient:
    """The one HTTP client of the process. Its connections go only where `hosts` allows
    (`bot.news.network`); redirects are left to `fetch`. Tests replace DNS with `resolver`, and
    may make the connections (to the addresses checked) with `dialer`."""
    limits = httpx.Limits(max_connections=32, max_keepalive_connections=16)
    return httpx.AsyncClient(
        transport=GuardedTransport(GuardedBackend(hosts, resolver, dialer), limits),
        follow_redirects=False,
        timeout=httpx.Timeout(timeout),
        headers={"User-Agent": user_agent, "Accept-Encoding": ACCEPT_ENCODING},
        trust_env=False,  # no proxy from the environment: connections are checked, not proxied
    )


def retry_after(value: str | None, now: dt.datetime) -> float | None:
    """Seconds from a Retry-After header: a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    try:
        return max(0.0, (when - now).total_seconds())
    except OverflowError:
        return None


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 1_000_000 else f"{n // 1000} kB"


def _anywhere(url: str) -> Refusal | None:
    return None


async def fetch(
    http: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    deadline: float,
    etag: str | None = None,
    last_modified: str | None = None,
    accept: str = FEED_ACCEPT,
    allow: Allow = _anywhere,
) -> Fetched:
    """GET `url` within `deadline` seconds and `max_bytes` (decoded), or raise FetchError.

    `allow` is asked about `url` and every URL a redirect leads to."""
    headers = {"Accept": accept}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(deadline):
            return await _get(http, url, headers, max_bytes, allow)
    except TimeoutError:
        raise FetchError(f"no complete answer within {deadline:g} s") from None
    except Refused as e:
        raise FetchError(str(e), refusal=e.refusal) from None
    except Undecodable as e:
        raise FetchError(f"cannot decode: {e}") from None
    except httpx.TimeoutException:
        raise FetchError("timed out") from None
    except httpx.InvalidURL as e:
        raise FetchError(f"invalid URL: {e}") from None
    except httpx.UnsupportedProtocol:
        raise FetchError("not an http(s) address", refusal=Refusal.NOT_WEB) from None
    except httpx.HTTPError as e:
        raise FetchError(f"cannot connect: {type(e).__name__} {e}".strip()) from None


def _next(url: str, location: str, allow: Allow) -> str:
    """The URL a redirect from `url` to `location` leads to, if it may be followed."""
    try:
        target = checked(urljoin(url, location.strip()))
    except ValueError:
        target = None
    if target is None:
        raise Refused(Refusal.NOT_WEB, f"the redirect to {location[:200]!r}")
    if refusal := allow(target):
        raise Refused(refusal, target)
    return target


async def _get(
    http: httpx.AsyncClient, url: str, headers: dict[str, str], max_bytes: int, allow: Allow
) -> Fetched:
    if refusal := allow(url):
        raise Refused(refusal, url)
    for _ in range(MAX_REDIRECTS + 1):
        async with http.stream("GET", url, headers=headers) as response:
            location = response.headers.get("Location")
            if response.status_code in REDIRECTS and location:
                url = _next(url, location, allow)
                continue  # leaving the block closes the redirect unread
            return await _answer(response, max_bytes)
    raise FetchError(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)")


async def _answer(response: httpx.Response, max_bytes: int) -> Fetched:
    if response.status_code == 304:
        return Fetched(str(response.url), 304, b"", None, None, None)
    if response.status_code >= 400:
        wait = None
        if response.status_code in (429, 503):
            wait = retry_after(response.headers.get("Retry-After"), dt.datetime.now(dt.UTC))
        reason = response.reason_phrase or ""
        raise FetchError(f"HTTP {response.status_code} {reason}".strip(), retry_after=wait)
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isascii() and declared.isdigit() and int(declared) > max_bytes:
        raise FetchError(f"too large: {_size(int(declared))} (limit {_size(max_bytes)})")
    decoder = Decoder(response.headers.get_list("Content-Encoding", split_commas=True))
    pieces: list[bytes] = []
    raw = size = 0
    async for chunk in response.aiter_raw():
        raw += len(chunk)
        if raw > max_bytes:
            raise FetchError(f"too large: over {_size(max_bytes)}")
        for piece in decoder.feed(chunk):
            size += len(piece)
            if size > max_bytes:
                raise FetchError(f"too large: over {_size(max_bytes)} once decompressed")
            pieces.append(piece)
    decoder.finish()
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        body=b"".join(pieces),
        content_type=response.headers.get("Content-Type"),
        etag=response.headers.get("ETag"),
        last_modified=response.headers.get("Last-Modified"),
    )
