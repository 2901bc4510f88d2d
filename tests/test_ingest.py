"""Ingest end to end against a fake web: every kind of feed, every kind of failure."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import Config, parse
from bot.ingest import prune
from bot.news.report import FeedReport
from bot.runtime import Runtime, open_runtime
from storage import articles, feeds
from storage.search import search as search_articles
from storage.types import Article
from tests.fakes.web import DATA, FakeWeb
from tests.kit import eventually

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)
SECTIONS = [
    {"slug": "ukraine", "title": {"uk": "Україна"}, "categories": ["Україна"]},
    {"slug": "world", "title": {"uk": "Світ", "en": "World"}, "categories": ["Світ", "World"]},
    {"slug": "economy", "title": {"uk": "Економіка"}, "categories": ["економіка"]},
    {"slug": "war", "title": {"uk": "Війна"}, "categories": ["Війна"]},
    {"slug": "culture", "title": {"uk": "Культура"}, "categories": ["Культура"]},
    {"slug": "science", "title": {"uk": "Наука"}, "categories": ["Наука"]},
    {"slug": "regions", "title": {"uk": "Регіони"}},
]


def make_config(
    tmp_path: Path, *, feeds: list[str], regions: list[str] | None = None, **ingest: Any
) -> Config:
    sections = [dict(s) for s in SECTIONS]
    sections[-1]["feeds"] = regions or []
    return parse(
        {
            "storage": {"url": f"sqlite+aiosqlite:///{tmp_path / 'v.db'}"},
            "ingest": {"feeds": feeds, "timeout": 2} | ingest,
            "sections": sections,
        },
        environ={},
    )


async def ingest(tmp_path: Path, **options: Any) -> tuple[Runtime, dict[str, FeedReport]]:
    runtime = await open_runtime(make_config(tmp_path, **options))
    reports = await runtime.ingester.run(NOW, only_due=False)
    return runtime, {r.url: r for r in reports}


def serve_news(web: FakeWeb, name: str = "news.xml", **options: Any) -> str:
    """The Ukrainian all-news feed, its links pointing at the fake web."""
    body = (
        (DATA / "ukrinform.xml").read_bytes().replace(b"https://news.example.ua", web.base.encode())
    )
    web.serve(
        "culture/3905-berlinale.html", "article.html", content_type="text/html; charset=utf-8"
    )
    return web.serve(name, body, **options)


async def all_articles(runtime: Runtime) -> dict[str, Article]:
    page = await articles.latest(runtime.db, None, limit=100)
    return {a.title: a for a in page.articles}


async def test_ukrainian_feed_by_category(web: FakeWeb, tmp_path: Path) -> None:
    url = serve_news(web)
    runtime, reports = await ingest(tmp_path, feeds=[url])
    try:
        assert reports[url].line() == f"{url}: 5 new, 0 updated, 0 unchanged"
        stored = await all_articles(runtime)
        zelensky = stored["Зеленський провів розмову з прем'єром Польщі щодо ППО"]
        assert zelensky.url == web.url("world/3901-zelenskyi-polshcha.html")  # utm_* removed
        assert zelensky.sections == ("world",)
        assert zelensky.published == dt.datetime(2026, 11, 27, 7, 15, tzinfo=dt.UTC)
        assert zelensky.image_url == "https://img.example.ua/3901.jpg"
        assert zelensky.author == "Олена Коваль"
        assert zelensky.summary == (
            "Президент В. Зеленський провів телефонну розмову з прем'єр-міністром Польщі. "
            "Сторони обговорили посилення ППО та спільне виробництво боєприпасів. "
            "Розмова тривала понад годину, згідно з ч. 2 ст. 5 угоди."
        )
        nbu = stored["НБУ зберіг облікову ставку на рівні 13,5%"]
        assert nbu.published == dt.datetime(2026, 11, 27, 8, 30, tzinfo=dt.UTC)  # Kyiv time
        assert nbu.url == web.url("economy/3902-nbu-stavka.html")  # fbclid removed
        metro = stored["У Києві відкрили нову станцію метро"]
        assert metro.sections == ("ukraine",)
        assert metro.summary == (
            "На вул. Хрещатик т. зв. «нова лінія» запрацювала зранку. "
            "Пасажирів обслуговують з 6:00."
        )
        assert metro.image_url == "https://img.example.ua/3903.jpg"
        war = stored["Сили оборони відбили 12 атак на Покровському напрямку"]
        assert war.summary.endswith("повідомив Генштаб.")  # the cut-off sentence is gone
        # No sentence in the feed: the summary comes from the article page.
        film = stored["Фільм українського режисера отримав приз у Берліні"]
        assert film.summary.startswith("Стрічка «Тиша після» режисерки О. Петренко отримала")
        assert "©" not in film.summary
        health = await feeds.ensure(runtime.db, [url], NOW)
        assert health[0].failures == 0
        assert health[0].title == "Укрінформ — усі новини"
    finally:
        await runtime.close()


async def test_other_formats_and_encodings(web: FakeWeb, tmp_path: Path) -> None:
    cp1251 = web.serve("oblast.xml", "cp1251_undeclared.xml", content_type="text/xml")
    atom = web.serve("atom.xml", "atom.xml", content_type="application/atom+xml")
    rdf = web.serve("rss10.rdf", "rss10.rdf", content_type="application/rdf+xml")
    runtime, reports = await ingest(tmp_path, feeds=[atom, rdf], regions=[cp1251])
    try:
        assert reports[cp1251].new == 2
        assert reports[atom].new == 2
        assert reports[rdf].new == 1
        stored = await all_articles(runtime)
        assert stored["Львівщина отримала нові шкільні автобуси"].sections == ("regions",)
        assert stored["У Харкові відновили подачу тепла"].summary.startswith("Комунальники")
        eu = stored["EU agrees new sanctions package against Russia"]
        assert eu.language == "en"
        assert eu.summary == (
            "The U.S. and EU officials met in Brussels on Nov. 26. Mr. Borrell said the package "
            "targets oil revenue. It is the 20th package since 2022."
        )
        assert eu.author == "Jane Doe"
        assert "Ukraine & Poland sign <border> deal" in stored
        assert stored["Українські вчені створили новий сплав для турбін"].sections == ("science",)
    finally:
        await runtime.close()


async def test_broken_feeds_are_recorded_and_skipped(web: FakeWeb, tmp_path: Path) -> None:
    good = serve_news(web)
    bad = {
        "malformed": web.serve("malformed.xml", "malformed.xml"),
        "html": web.serve("page.html", "not_a_feed.html", content_type="text/html"),
        "missing": web.url("nothing-here.xml"),
        "error": web.serve("500.xml", b"oops", status=500),
        "slow": web.serve("slow.xml", "empty.xml", delay=3),
        "loop": web.serve("loop-a.xml", redirect_to="loop-b.xml"),
        "huge": web.serve("huge.xml", size=6_000_000),
        "busy": web.serve("busy.xml", b"", status=503, headers={"Retry-After": "7200"}),
    }
    web.serve("loop-b.xml", redirect_to="loop-a.xml")
    entities = web.serve("entities.xml", "entities.xml")
    hostile = web.serve("hostile.xml", "hostile.xml")
    empty = web.serve("empty.xml", "empty.xml")
    urls = [good, *bad.values(), entities, hostile, empty]
    runtime, reports = await ingest(
        tmp_path, feeds=[good, *bad.values()], regions=[entities, hostile, empty]
    )
    try:
        errors = {name: reports[url].error for name, url in bad.items()}
        assert str(errors["malformed"]).startswith("not a feed")
        assert str(errors["html"]).startswith("not a feed")
        assert errors["missing"] == "HTTP 404 Not Found"
        assert errors["error"] == "HTTP 500 Internal Server Error"
        assert errors["slow"] == "no complete answer within 2 s"
        assert errors["loop"] == "more than 5 redirects (a redirect loop?)"
        assert str(errors["huge"]).startswith("too large")
        assert errors["busy"] == "HTTP 503 Service Unavailable"
        # Everything else went on.
        assert reports[good].new == 5
        assert reports[empty].line() == f"{empty}: 0 new, 0 updated, 0 unchanged"
        assert reports[entities].new == 1
        assert reports[entities].warning is not None
        assert reports[hostile].new == 1  # the item without a link is no story
        stored = await all_articles(runtime)
        assert "«Укрзалізниця» призначила додаткові потяги" in stored
        hostile_article = stored["Ціни зросли на 5% & <більше>"]
        assert "alert" not in hostile_article.summary
        assert hostile_article.summary.startswith("Ціни на пальне зросли на 5% за тиждень.")
        # Health: failures counted, Retry-After honoured.
        health = {f.url: f for f in await feeds.ensure(runtime.db, urls, NOW)}
        assert health[bad["error"]].failures == 1
        assert health[bad["error"]].last_error == "HTTP 500 Internal Server Error"
        assert health[bad["busy"]].next_check >= NOW + dt.timedelta(seconds=7200)
        assert health[good].failures == 0
        assert health[entities].warning is not None
        again = await runtime.ingester.run(NOW, only_due=False)
        failures = {r.url: r for r in again}
        assert failures[bad["error"]].error
        health = {f.url: f for f in await feeds.ensure(runtime.db, urls, NOW)}
        assert health[bad["error"]].failures == 2
        assert health[bad["error"]].next_check > health[bad["malformed"]].next_check - dt.timedelta(
            hours=1
        )
    finally:
        await runtime.close()


async def test_conditional_get_and_updates(web: FakeWeb, tmp_path: Path) -> None:
    url = serve_news(web, etag='"v1"', last_modified="Wed, 27 Nov 2026 08:00:00 GMT")
    runtime, _ = await ingest(tmp_path, feeds=[url])
    try:
        second = await runtime.ingester.run(NOW, only_due=False)
        assert second[0].not_modified
        assert second[0].line() == f"{url}: not modified"
        headers = [h for path, h in web.requests if path == "news.xml"][-1]
        assert headers["If-None-Match"] == '"v1"'
        assert headers["If-Modified-Since"] == "Wed, 27 Nov 2026 08:00:00 GMT"
        assert "Visnyk" in headers["User-Agent"]
        # The newsroom corrects a headline: same guid, new title → updated, not new.
        body = web.resources["news.xml"].body.replace(
            "НБУ зберіг облікову ставку".encode(), "НБУ залишив облікову ставку".encode()
        )
        serve_news(web, etag='"v2"')
        web.resources["news.xml"].body = body
        third = await runtime.ingester.run(NOW, only_due=False)
        assert (third[0].new, third[0].updated, third[0].unchanged) == (0, 1, 4)
        stored = await all_articles(runtime)
        assert "НБУ залишив облікову ставку на рівні 13,5%" in stored
        assert await articles.count(runtime.db) == 5
        # Only due feeds are polled by the job.
        assert await runtime.ingester.run(NOW) == []
    finally:
        await runtime.close()


async def test_one_story_in_two_feeds_is_one_record_in_two_sections(
    web: FakeWeb, tmp_path: Path
) -> None:
    news = serve_news(web)
    item = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Регіони</title>'
        "<item><title>Зеленський провів розмову з прем’єром Польщі щодо ППО!</title>"
        f"<link>{web.url('world/3901-zelenskyi-polshcha.html')}?utm_source=regions&amp;gclid=1</link>"
        "<pubDate>Wed, 27 Nov 2026 09:20:00 +0200</pubDate>"
        "<description>Коротко: розмова відбулася.</description></item>"
        "<item><title>Зеленський провів розмову з прем’єром Польщі щодо ППО</title>"
        "<link>https://mirror.example.ua/copy/3901</link>"
        "<pubDate>Wed, 27 Nov 2026 09:25:00 +0200</pubDate></item>"
        "</channel></rss>"
    )
    regional = web.serve("regions.xml", item.encode())
    runtime = await open_runtime(make_config(tmp_path, feeds=[news], regions=[regional]))
    try:
        news_feed, regional_feed = await feeds.ensure(runtime.db, [news, regional], NOW)
        assert (await runtime.ingester.poll(news_feed, NOW)).new == 5
        report = await runtime.ingester.poll(regional_feed, NOW)
        assert (report.new, report.updated) == (0, 1)
        assert await articles.count(runtime.db) == 5
        stored = await all_articles(runtime)
        story = stored["Зеленський провів розмову з прем'єром Польщі щодо ППО"]
        assert set(story.sections) == {"world", "regions"}
        assert story.summary.startswith("Президент В. Зеленський")  # its own feed's text
        regions = await articles.latest(runtime.db, ["regions"])
        assert [a.id for a in regions.articles] == [story.id]
    finally:
        await runtime.close()


async def test_a_slow_feed_does_not_hold_up_the_others(web: FakeWeb, tmp_path: Path) -> None:
    slow = web.serve("slow.xml", "empty.xml", delay=3)
    fast = serve_news(web)
    runtime = await open_runtime(make_config(tmp_path, feeds=[slow, fast], timeout=5))
    try:
        run = asyncio.create_task(runtime.ingester.run(NOW, only_due=False))

        async def fast_stored() -> bool:
            return await articles.count(runtime.db) == 5

        await eventually(fast_stored, within=2.5)
        assert not run.done()
        reports = await run
        assert all(r.error is None for r in reports)
    finally:
        await runtime.close()


async def test_prune_forgets_old_articles(web: FakeWeb, tmp_path: Path) -> None:
    url = serve_news(web)
    runtime, _ = await ingest(tmp_path, feeds=[url], keep_days=1)
    try:
        # Published (UTC) at 07:15, 08:30, 06:00, 05:40 and the day before: a day after 07:00
        # the three oldest go.
        later = dt.datetime(2026, 11, 28, 7, 0, tzinfo=dt.UTC)
        assert await prune(runtime.db, runtime.config, later) == 3
        assert await articles.count(runtime.db) == 2
        search = await search_articles(runtime.db, [["берлін"]])
        assert search.articles == ()  # the full-text index forgot them too
    finally:
        await runtime.close()


async def test_ingest_once_command(web: FakeWeb, tmp_path: Path) -> None:
    good = serve_news(web)
    broken = web.serve("500.xml", b"oops", status=500)
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\nurl = "sqlite+aiosqlite:///{tmp_path / "v.db"}"\n'
        f'[ingest]\nfeeds = ["{good}", "{broken}"]\n'
        '[[sections]]\nslug = "world"\ntitle = { uk = "Світ" }\ncategories = ["Світ"]\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "VISNYK_TELEGRAM_TOKEN"}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "ingest", "--once", "--config", str(config),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    assert out.decode().splitlines() == [
        f"{good}: 1 new, 0 updated, 0 unchanged",
        f"{broken}: error: HTTP 500 Internal Server Error",
    ]


async def test_a_failing_feed_is_logged_when_it_starts_failing_and_when_it_recovers(
    web: FakeWeb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = web.serve("news.xml", b"oops", status=500)
    runtime = await open_runtime(make_config(tmp_path, feeds=[url]))
    try:
        with caplog.at_level(logging.DEBUG, logger="bot.ingest"):
            for _ in range(3):
                await runtime.ingester.run(NOW, only_due=False)
            serve_news(web)
            await runtime.ingester.run(NOW, only_due=False)
            await runtime.ingester.run(NOW, only_due=False)
        said = [
            (r.levelname, r.getMessage())
            for r in caplog.records
            if r.name.startswith("bot.ingest") and r.levelno >= logging.INFO
        ]
        assert said == [
            ("WARNING", f"feed failing feed={url} error=HTTP 500 Internal Server Error"),
            ("INFO", f"feed recovered feed={url} after=3 failures"),
            ("INFO", f"ingested {url}: 5 new, 0 updated, 0 unchanged"),
        ]  # the last poll brought nothing new: no line at INFO
        [health] = await feeds.ensure(runtime.db, [url], NOW)
        assert health.failures == 0
    finally:
        await runtime.close()
