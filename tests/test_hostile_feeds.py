"""Feeds are untrusted input: compression bombs, fetches of other hosts, bad items, bad text and
bad XML, each through the real ingester against the fake web."""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import functools
import json
import sys
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Awaitable, Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpcore
import pytest

from bot import pipeline
from bot.ingest import MAX_ITEMS_PER_POLL
from bot.news.fetch import client
from bot.news.hosts import Refusal
from bot.news.network import Resolver, system_resolver
from bot.runtime import Runtime, open_runtime
from storage import articles, feeds
from tests.delivery_kit import audience
from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import DATA, FakeWeb
from tests.kit import eventually, started
from tests.test_ingest import NOW, all_articles, make_config, serve_news

T = TypeVar("T")
MB = 1_000_000
PUBLIC = "93.184.216.34"  # what the tests' resolver says public names are; dialled as loopback
ROOT = Path(__file__).parent.parent


# --- the pieces: bombs, feeds, a resolver and a dialer --------------------------------------------


@functools.cache
def zeros(size: int, wbits: int, level: int = 9) -> bytes:
    """`size` zero bytes compressed (wbits 31: gzip, 15: zlib-wrapped deflate, -15: raw)."""
    packer = zlib.compressobj(level, zlib.DEFLATED, wbits)
    block = bytes(1 << 20)
    return b"".join([*(packer.compress(block) for _ in range(size >> 20)), packer.flush()])


def gzip(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    return packer.compress(data) + packer.flush()


def raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


BOMBS = {  # name → Content-Encoding, and a body that decodes to 64 MB
    "gzip in gzip": ("gzip, gzip", lambda: gzip(zeros(64 << 20, 31))),  # 269 bytes
    "gzip": ("gzip", lambda: zeros(64 << 20, 31)),  # 65 kB
    "deflate": ("deflate", lambda: zeros(64 << 20, 15)),
    "raw deflate": ("deflate", lambda: zeros(64 << 20, -15)),  # as some servers send it
    "x-gzip, then deflate": ("x-gzip, deflate", lambda: raw_deflate(zeros(64 << 20, 31))),
}


def bomb(name: str) -> tuple[bytes, dict[str, str]]:
    encoding, body = BOMBS[name]
    return body(), {"Content-Encoding": encoding}


def rss(*items: str, title: str = "Стрічка") -> bytes:
    head = '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
    return f"{head}<title>{title}</title>{''.join(items)}</channel></rss>".encode()


def item(
    title: str,
    link: str,
    *,
    date: str = "Fri, 27 Nov 2026 09:00:00 +0200",
    description: str = "Ціла новина про подію. Друге речення новини.",
    extra: str = "",
) -> str:
    return (
        f"<item><title>{title}</title><link>{link}</link><pubDate>{date}</pubDate>"
        f"<description>{description}</description>{extra}</item>"
    )


class Dialer(httpcore.AsyncNetworkBackend):
    """Makes the connections: PUBLIC goes to 127.0.0.1; notes every address it is asked for."""

    def __init__(self) -> None:
        self.inner = httpcore.AnyIOBackend()
        self.asked: list[str] = []

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        self.asked.append(host)
        address = "127.0.0.1" if host == PUBLIC else host
        return await self.inner.connect_tcp(address, port, timeout=timeout)

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AssertionError("no Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


def resolver(names: dict[str, Sequence[str]]) -> Resolver:
    """DNS as the test says; names it does not know go to the system's resolver."""

    async def resolve(host: str, port: int) -> Sequence[str]:
        if host in names:
            return names[host]
        return await system_resolver(host, port)

    return resolve


async def opened(
    tmp_path: Path, names: dict[str, Sequence[str]] | None = None, **options: Any
) -> tuple[Runtime, Dialer]:
    """Visnyk's runtime with its HTTP client on the tests' resolver and dialer."""
    runtime = await open_runtime(make_config(tmp_path, **options))
    dialer = Dialer()
    await runtime.http.aclose()
    runtime.http = runtime.ingester.http = client(
        timeout=runtime.config.ingest.timeout, user_agent="Visnyk tests",
        hosts=runtime.ingester.hosts, resolver=resolver(names or {}), dialer=dialer,
    )  # fmt: skip
    return runtime, dialer


async def peak(work: Awaitable[T]) -> tuple[T, int]:
    """What `work` returns, and the most memory Python held for it at once (tracemalloc)."""
    tracemalloc.start()
    try:
        result = await work
        _, most = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, most


@pytest.fixture
async def other() -> AsyncIterator[FakeWeb]:
    """Another host, public as far as the tests' resolver says."""
    fake = FakeWeb("www.news.example")
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def local() -> AsyncIterator[FakeWeb]:
    """Another host on this machine, reached by the name `localhost`."""
    fake = FakeWeb("localhost")
    await fake.start()
    yield fake
    await fake.stop()


# --- 1. compression bombs -------------------------------------------------------------------------


@pytest.mark.parametrize("name", list(BOMBS))
async def test_a_compression_bomb_feed_is_refused_within_the_cap(
    web: FakeWeb, tmp_path: Path, name: str
) -> None:
    body, headers = bomb(name)
    bad = web.serve("bomb.xml", body, headers=headers)
    good = serve_news(web)
    runtime, _ = await opened(tmp_path, feeds=[bad, good], max_bytes=MB)
    try:
        reports, most = await peak(runtime.ingester.run(NOW, only_due=False))
        by_url = {r.url: r for r in reports}
        assert by_url[bad].error == "too large: over 1.0 MB once decompressed"
        assert by_url[good].new == 5
        assert most < 4 * MB, f"peak {most / MB:.1f} MB"
    finally:
        await runtime.close()


async def test_a_bomb_as_a_redirect_body_is_never_read(web: FakeWeb, tmp_path: Path) -> None:
    serve_news(web)
    body, headers = bomb("gzip")
    moved = web.serve("moved.xml", body, status=301, redirect_to="news.xml", headers=headers)
    runtime, _ = await opened(tmp_path, feeds=[moved], max_bytes=MB)
    try:
        reports, most = await peak(runtime.ingester.run(NOW, only_due=False))
        assert reports[0].line() == f"{moved}: 5 new, 0 updated, 0 unchanged"
        assert most < 4 * MB, f"peak {most / MB:.1f} MB"
    finally:
        await runtime.close()


async def test_a_bomb_as_an_article_page_leaves_the_story_without_summary(
    web: FakeWeb, tmp_path: Path
) -> None:
    body, headers = bomb("gzip in gzip")
    page = web.serve("bomb.html", body, content_type="text/html", headers=headers)
    feed = web.serve("feed.xml", rss(item("Новина без речень", page, description="")))
    runtime, _ = await opened(tmp_path, feeds=[], regions=[feed], max_bytes=MB)
    try:
        reports, most = await peak(runtime.ingester.run(NOW, only_due=False))
        assert reports[0].new == 1
        assert web.hits["bomb.html"] == 1
        assert (await all_articles(runtime))["Новина без речень"].summary == ""
        assert most < 4 * MB, f"peak {most / MB:.1f} MB"
    finally:
        await runtime.close()


RSS_SCRIPT = """
import asyncio, json, resource, sys
from bot.news.fetch import FetchError, client, fetch
from bot.news.hosts import Hosts

async def main(good, bomb):
    http = client(timeout=10, user_agent="rss", hosts=Hosts([good]))
    await fetch(http, good, max_bytes=1_000_000, deadline=10)  # everything loaded and warm
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        await fetch(http, bomb, max_bytes=1_000_000, deadline=10)
        error = None
    except FetchError as e:
        error = str(e)
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    await http.aclose()
    print(json.dumps({"before_kb": before, "after_kb": after, "error": error}))

asyncio.run(main(*sys.argv[1:]))
"""


async def test_peak_rss_while_a_bomb_is_refused(web: FakeWeb) -> None:
    """Measured in a process of its own: the most resident memory grows by under 16 MB while
    a 3 kB body that inflates to 256 MB is refused (by hundreds of MB when httpx decoded)."""
    good = serve_news(web)
    bad = web.serve(
        "bomb.xml", gzip(zeros(256 << 20, 31, 1)), headers={"Content-Encoding": "gzip, gzip"}
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-c", RSS_SCRIPT, good, bad, cwd=ROOT,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    figures = json.loads(out)
    assert figures["error"] == "too large: over 1.0 MB once decompressed"
    growth_mb = (figures["after_kb"] - figures["before_kb"]) / 1024
    assert growth_mb < 16, f"peak RSS grew by {growth_mb:.1f} MB"


async def test_encodings_we_cannot_decode_are_refused_and_never_asked_for(
    web: FakeWeb, tmp_path: Path
) -> None:
    news = (DATA / "ukrinform.xml").read_bytes()
    zipped = web.serve("zipped.xml", gzip(news), headers={"Content-Encoding": "gzip"})
    brotli = web.serve("br.xml", b"\x0b\x02\x80hi\x03", headers={"Content-Encoding": "br"})
    stacked = web.serve("stacked.xml", news, headers={"Content-Encoding": "gzip, " * 4 + "gzip"})
    broken = web.serve("broken.xml", b"\x1f\x8bnot gzip", headers={"Content-Encoding": "gzip"})
    runtime, _ = await opened(tmp_path, feeds=[zipped, brotli, stacked, broken])
    try:
        reports = {r.url: r for r in await runtime.ingester.run(NOW, only_due=False)}
        assert reports[zipped].new == 5
        assert reports[brotli].error == "cannot decode: unsupported Content-Encoding: br"
        assert reports[stacked].error == "cannot decode: 5 Content-Encodings stacked (at most 3)"
        assert str(reports[broken].error).startswith("cannot decode: broken gzip data")
        assert {h["Accept-Encoding"] for _, h in web.requests} == {"gzip, deflate"}
    finally:
        await runtime.close()


async def test_an_endless_body_is_cut_by_the_deadline(web: FakeWeb, tmp_path: Path) -> None:
    endless = web.serve("endless.xml", b"<!-- still coming -->", endless=True)
    zipped = web.serve(
        "endless-gzip.xml", gzip(b"<!-- still coming -->" * 10), endless=True,
        headers={"Content-Encoding": "gzip"},
    )  # fmt: skip
    runtime, _ = await opened(tmp_path, feeds=[endless, zipped], timeout=0.5)
    try:
        start = time.monotonic()
        reports = await runtime.ingester.run(NOW, only_due=False)
        assert time.monotonic() - start < 3
        assert {r.error for r in reports} == {"no complete answer within 0.5 s"}
    finally:
        await runtime.close()


# --- 2. fetching other hosts ----------------------------------------------------------------------


async def test_story_pages_come_only_from_trusted_hosts(
    web: FakeWeb, other: FakeWeb, tmp_path: Path
) -> None:
    """An item whose feed gave no whole sentence gets its summary from its page only when the
    page is on a host the feeds come from; the story is kept either way."""
    own = web.serve("own.html", "article.html", content_type="text/html; charset=utf-8")
    foreign = other.serve("secret.html", "article.html", content_type="text/html; charset=utf-8")
    feed = web.serve(
        "feed.xml",
        rss(
            item("Своя сторінка", own, description="Без речення"),
            item("Чужа сторінка", foreign, description="Без речення"),
        ),
    )
    runtime, _ = await opened(tmp_path, {"www.news.example": [PUBLIC]}, feeds=[], regions=[feed])
    try:
        reports = await runtime.ingester.run(NOW, only_due=False)
        assert reports[0].new == 2
        stored = await all_articles(runtime)
        assert stored["Своя сторінка"].summary.startswith("Стрічка «Тиша після»")
        assert stored["Чужа сторінка"].summary == ""
        assert stored["Чужа сторінка"].url == foreign
        assert other.hits["secret.html"] == 0  # the other host was reachable, and not asked
        # An editor's /post may read the same page: the host is public.
        read = await runtime.ingester.read_page(foreign)
        assert read.content is not None
        assert read.content.title.startswith("Фільм українського режисера")
        assert other.hits["secret.html"] == 1
    finally:
        await runtime.close()


async def test_hosts_a_feed_is_served_from_are_learned(
    web: FakeWeb, other: FakeWeb, tmp_path: Path
) -> None:
    """http://site/rss → https://www.site/rss: the story pages are on www.site, and trusted."""
    page = other.serve("story.html", "article.html", content_type="text/html; charset=utf-8")
    elsewhere = "http://elsewhere.example/story.html"
    other.serve(
        "rss.xml",
        rss(
            item("Сторінка на новому хості", page, description=""),
            item("Сторінка деінде", elsewhere, description=""),
        ),
    )
    feed = web.serve("rss.xml", status=301, redirect_to=other.url("rss.xml"))
    names = {"www.news.example": [PUBLIC], "elsewhere.example": [PUBLIC]}
    runtime, _ = await opened(tmp_path, names, feeds=[], regions=[feed])
    try:
        reports = await runtime.ingester.run(NOW, only_due=False)
        assert reports[0].new == 2
        stored = await all_articles(runtime)
        assert stored["Сторінка на новому хості"].summary.startswith("Стрічка «Тиша після»")
        assert stored["Сторінка деінде"].summary == ""
        assert runtime.ingester.hosts.trusted("www.news.example")
        assert not runtime.ingester.hosts.trusted("elsewhere.example")
    finally:
        await runtime.close()


async def test_a_feed_may_not_redirect_to_a_private_address(
    web: FakeWeb, local: FakeWeb, tmp_path: Path
) -> None:
    local.serve("news.xml", "ukrinform.xml")
    to_local = web.serve("to-local.xml", redirect_to=local.url("news.xml"))
    to_file = web.serve("to-file.xml", status=302, headers={"Location": "file:///etc/passwd"})
    to_metadata = web.serve("to-metadata.xml", redirect_to="http://169.254.169.254/latest/")
    relative = web.serve("relative.xml", status=302, headers={"Location": "../news.xml"})
    serve_news(web)
    urls = [to_local, to_file, to_metadata, relative]
    runtime, _ = await opened(tmp_path, feeds=urls)
    try:
        reports = {r.url: r for r in await runtime.ingester.run(NOW, only_due=False)}
        error = str(reports[to_local].error)  # localhost is 127.0.0.1 or ::1, in either order
        assert error.startswith("refused: localhost (")
        assert error.endswith(") is a loopback address (this machine)")
        assert reports[to_file].error == (
            "refused: the redirect to 'file:///etc/passwd' is not an http(s) address"
        )
        assert reports[to_metadata].error == (
            "refused: http://169.254.169.254/latest/ is a link-local address"
        )
        assert reports[relative].new == 5
        assert local.hits["news.xml"] == 0
        health = {f.url: f for f in await feeds.listed(runtime.db)}
        assert health[to_local].failures == 1
    finally:
        await runtime.close()


async def test_post_refuses_addresses_that_are_not_public(
    web: FakeWeb, local: FakeWeb, other: FakeWeb, tmp_path: Path
) -> None:
    """/post <url> reads any public page; loopback, private, link-local and non-web addresses
    are refused, with the reason, after DNS and at every redirect."""
    local.serve("page.html", "article.html", content_type="text/html; charset=utf-8")
    other.serve("page.html", "article.html", content_type="text/html; charset=utf-8")
    other.serve("to-local.html", redirect_to=local.url("page.html"))
    names = {
        "www.news.example": [PUBLIC],
        "intranet.example": ["10.0.0.1"],
        "metadata.example": ["169.254.169.254"],
        "mixed.example": [PUBLIC, "192.168.1.1"],
        "shared.example": ["100.64.0.1"],
    }
    runtime, dialer = await opened(tmp_path, names, feeds=[web.url("feed.xml")])
    port = local.port
    try:
        refused = {
            local.url("page.html"): Refusal.LOOPBACK,
            f"http://[::1]:{port}/page.html": Refusal.LOOPBACK,
            f"http://[::ffff:127.0.0.1]:{port}/page.html": Refusal.LOOPBACK,
            f"http://2130706433:{port}/page.html": Refusal.LOOPBACK,  # 127.0.0.1, in decimal
            f"http://intranet.example:{port}/": Refusal.PRIVATE,
            f"http://shared.example:{port}/": Refusal.PRIVATE,
            f"http://mixed.example:{port}/": Refusal.PRIVATE,
            f"http://metadata.example:{port}/latest/meta-data/": Refusal.LINK_LOCAL,
            "http://169.254.169.254/latest/meta-data/": Refusal.LINK_LOCAL,
            "http://0.0.0.0/": Refusal.NOT_PUBLIC,
            "file:///etc/passwd": Refusal.NOT_WEB,
            "javascript:alert(1)": Refusal.NOT_WEB,
            "gopher://www.news.example/": Refusal.NOT_WEB,
            other.url("to-local.html"): Refusal.LOOPBACK,  # public, redirecting to loopback
        }
        for url, refusal in refused.items():
            read = await runtime.ingester.read_page(url)
            assert (read.content, read.refusal) == (None, refusal), url
            assert read.error is not None
            assert read.error.startswith("refused: "), read.error
            assert (await runtime.ingester.read_page(url)).content is None
        assert local.hits["page.html"] == 0
        assert other.hits["to-local.html"] == 2
        read = await runtime.ingester.read_page(other.url("page.html"))
        assert read.content is not None
        assert read.refusal is None
        # Connections go to the addresses that were checked, never to a name.
        assert set(dialer.asked) == {PUBLIC}
    finally:
        await runtime.close()


# --- 3. one bad item is one bad item --------------------------------------------------------------


async def test_bad_items_are_dropped_and_counted_and_the_rest_stored(
    web: FakeWeb, tmp_path: Path
) -> None:
    base = web.url("news")
    guid = "https://news.example.ua/" + "g" * 2000
    feed = web.serve(
        "bad.xml",
        rss(
            item("Добра новина", f"{base}/1"),
            item("Порт за межею", "https://news.example.ua:99999/2"),
            item("Рік перший", f"{base}/3", date="Mon, 01 Jan 0001 00:00:00 +0200"),
            item("Рік останній", f"{base}/4", date="Fri, 31 Dec 9999 23:00:00 -0500"),
            item("Лапки в посиланні", f"{base}/5&quot;onmouseover=&quot;x?a=1"),
            item("Скрипт", "javascript:alert(document.cookie)"),
            item(
                "Сурогати &#xD800; і нуль &#0; та&#x1; контроль",
                f"{base}/7",
                description="Текст &#xDFFF; новини з нулем&#0;. Друге речення.",
                extra=(
                    "<category>Регіони&#xD800;</category><author>Автор&#0;</author>"
                    f"<guid>{guid}</guid>"
                    '<enclosure url="https://img.example.ua:99999/x.jpg" type="image/jpeg"/>'
                ),
            ),
            item("", f"{base}/8"),  # no title: nothing to show
            item("Рік 99999…", f"{base}/9", date="Mon, 01 Jan 99999999999999999999 00:00:00 GMT"),
            title="Стрічка &#xD800;з поганим",
        ),
    )
    runtime, _ = await opened(tmp_path, feeds=[], regions=[feed])
    try:
        report = (await runtime.ingester.run(NOW, only_due=False))[0]
        assert report.error is None
        assert (report.new, report.dropped) == (6, 3)
        assert report.line() == f"{feed}: 6 new, 0 updated, 0 unchanged, 3 dropped"
        stored = await all_articles(runtime)
        assert set(stored) == {
            "Добра новина", "Рік перший", "Рік останній", "Лапки в посиланні",
            "Сурогати і нуль та контроль", "Рік 99999…",
        }  # fmt: skip
        assert stored["Добра новина"].published == dt.datetime(2026, 11, 27, 7, tzinfo=dt.UTC)
        for title in ("Рік перший", "Рік останній", "Рік 99999…"):
            assert stored[title].published == NOW, title  # no date: the time it was first seen
        assert stored["Лапки в посиланні"].url == f"{base}/5%22onmouseover=%22x?a=1"
        odd = stored["Сурогати і нуль та контроль"]
        assert odd.summary == "Текст новини з нулем. Друге речення."
        assert odd.author == "Автор"
        assert odd.image_url is None
        health = (await feeds.listed(runtime.db))[0]
        assert (health.failures, health.dropped) == (0, 3)
        assert health.title == "Стрічка з поганим"
        again = (await runtime.ingester.run(NOW, only_due=False))[0]
        assert (again.new, again.unchanged, again.dropped, again.error) == (0, 6, 3, None)
    finally:
        await runtime.close()


async def test_the_items_of_one_poll_are_capped(web: FakeWeb, tmp_path: Path) -> None:
    many = [item(f"Новина {i}", web.url(f"n/{i}")) for i in range(MAX_ITEMS_PER_POLL + 100)]
    feed = web.serve("many.xml", rss(*many))
    runtime, _ = await opened(tmp_path, feeds=[], regions=[feed])
    try:
        report = (await runtime.ingester.run(NOW, only_due=False))[0]
        assert (report.new, report.dropped) == (MAX_ITEMS_PER_POLL, 100)
        assert await articles.count(runtime.db) == MAX_ITEMS_PER_POLL
        titles = {a.title for a in (await articles.latest(runtime.db, None, limit=1000)).articles}
        assert "Новина 0" in titles
        assert "Новина 500" not in titles
    finally:
        await runtime.close()


# --- 4. bad text and bad XML ----------------------------------------------------------------------


async def test_entity_expansion_is_refused_and_local_files_never_read(
    web: FakeWeb, tmp_path: Path
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-MARKER", encoding="utf-8")
    laughs = "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, 10)
    )  # 10⁹ "lol"s
    billion = web.serve(
        "billion.xml",
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY lol0 "lol">{laughs}]>'.encode()
        + rss(item("Сміх &lol9;", web.url("n/1")), title="&lol9;").split(b"?>", 1)[1],
    )
    quadratic = web.serve(  # one 10 kB entity named 5,000 times: 50 MB from 65 kB
        "quadratic.xml",
        f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY big "{"a" * 10_000}">]>'.encode()
        + rss(item("Квадрат", web.url("n/2"), description="&big;" * 5000)).split(b"?>", 1)[1],
    )
    external = web.serve(
        "external.xml",
        (
            '<?xml version="1.0"?><!DOCTYPE rss ['
            f'<!ENTITY file SYSTEM "file://{secret}">'
            f'<!ENTITY remote SYSTEM "{web.url("entity.txt")}">'
            '<!ENTITY % dtd SYSTEM "' + web.url("evil.dtd") + '"> %dtd;]>'
        ).encode()
        + rss(
            item("Файл &file; і &remote;", web.url("n/3"), description="Це &file;. Ось &remote;.")
        ).split(b"?>", 1)[1],
    )
    web.serve("entity.txt", b"REMOTE-MARKER", content_type="text/plain")
    web.serve("evil.dtd", b'<!ENTITY leak "REMOTE-MARKER">', content_type="text/plain")
    path_body = web.serve("path.xml", str(DATA / "atom.xml").encode())  # feedparser opened it
    runtime, _ = await opened(tmp_path, feeds=[], regions=[billion, quadratic, external, path_body])
    try:
        start = time.monotonic()
        reports, most = await peak(runtime.ingester.run(NOW, only_due=False))
        assert time.monotonic() - start < 5
        assert most < 20 * MB, f"peak {most / MB:.1f} MB"
        by_url = {r.url: r for r in reports}
        assert str(by_url[path_body].error).startswith("not a feed")
        stored = await all_articles(runtime)
        text = json.dumps([[a.title, a.summary, a.url] for a in stored.values()])
        assert "TOP-SECRET" not in text
        assert "REMOTE-MARKER" not in text
        assert "root:" not in text
        assert "lollollol" not in text
        assert len(text) < 100_000
        assert web.hits["entity.txt"] == web.hits["evil.dtd"] == 0
        assert not any(a.url.startswith(web.url("")) and "atom" in a.url for a in stored.values())
        assert "EU agrees new sanctions package against Russia" not in stored  # atom.xml's story
    finally:
        await runtime.close()


async def test_hostile_markup_takes_linear_time(web: FakeWeb, tmp_path: Path) -> None:
    """Markup that took html.parser quadratic time (half a minute for this feed), or made it
    raise, or took a regular expression quadratic time."""
    nasty = [
        "&lt;a " * 20_000,  # unclosed start tags
        "&lt;!--x" * 20_000,  # unclosed comments
        "&lt;img " * 20_000,  # the image pattern's worst case
        "&lt;![x[ y ]]&gt; Речення тут.",  # a marked section html.parser raised on
        "[…] " * 20_000,  # "trailers", removed one by one
        "Речення без кінця, " * 20_000,  # splitting sentences
    ]
    feed = web.serve(
        "nasty.xml", rss(*(item(f"Новина {i}", web.url(f"n/{i}"), description=d)
                          for i, d in enumerate(nasty)))
    )  # fmt: skip
    runtime, _ = await opened(tmp_path, feeds=[], regions=[feed])
    try:
        start = time.monotonic()
        report = (await runtime.ingester.run(NOW, only_due=False))[0]
        assert time.monotonic() - start < 5
        assert (report.new, report.dropped, report.error) == (len(nasty), 0, None)
    finally:
        await runtime.close()


async def test_an_element_with_absurdly_many_attributes_is_refused_at_once(
    web: FakeWeb, tmp_path: Path
) -> None:
    """feedparser's time grows with the square of one element's attributes: 40,000 of them in
    430 kB cost 20 s of CPU. No real feed has a tag of 32 kB."""
    attributes = " ".join(f'a{i}="x"' for i in range(40_000))
    body = rss(item("Новина", "https://news.example.ua/1"))
    body = body.replace(b"<item>", f"<item {attributes}>".encode(), 1)
    url = web.serve("rss", body)
    runtime = await open_runtime(make_config(tmp_path, feeds=[url]))
    try:
        [report] = await runtime.ingester.run(NOW, only_due=False)
    finally:
        await runtime.close()
    assert report.error == "not a feed: a tag of over 32 kB"


async def test_a_slow_feed_holds_back_only_its_own_stories(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path
) -> None:
    now = email.utils.format_datetime(dt.datetime.now(dt.UTC))
    slow = web.serve("slow", rss(item("Повільна новина", "https://a.ua/1", date=now)), delay=3.0)
    quick = web.serve("quick", rss(item("Швидка новина", "https://b.ua/2", date=now)))
    sections = [
        {"slug": "world", "title": {"uk": "Світ"}, "feeds": [quick]},
        {"slug": "war", "title": {"uk": "Війна"}, "feeds": [slow]},
    ]
    async with started(tg, tmp_path, sections=sections, ingest={"timeout": 10}) as kit:
        [reader] = await audience(kit, 1, section="world")
        await pipeline.start_ingest(kit.runtime)
        await eventually(lambda: kit.sent_to(reader), within=2.5)  # while the slow one waits
        assert "Швидка новина" in kit.sent_to(reader)[0].text
        assert kit.runtime.ingester._polling  # the slow feed is still being polled
