"""Ingest: poll the feeds, turn their items into stories, store them, record each feed's health.

fetch → parse → story → store; feeds are fetched concurrently under a cap, each within its
deadline and size limit, so one slow or broken feed never holds up another. No Telegram here.

Feeds are outside input. One bad item is one bad item: it is dropped and counted in the feed's
health (`dropped`), and the rest are stored; at most MAX_ITEMS_PER_POLL items of one poll are
used. Article pages for summaries are fetched only from trusted hosts (`bot.news.hosts`), which
learn the hosts the feeds are served from; an editor's page (`read_page`) may come from any
public host. At most PAGE_CONCURRENCY pages are fetched at once, whatever the number of feeds.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import TypeVar
from zoneinfo import ZoneInfo

import httpx

from bot import schedule
from bot.config import Config
from bot.news.extract import PageContent, extract_page, page_summary
from bot.news.fetch import FetchError, fetch
from bot.news.hosts import Hosts, Refusal
from bot.news.parse import NotAFeed, ParsedFeed, parse_feed
from bot.news.report import FeedReport
from bot.news.story import description_summary, sections_for, story
from bot.urls import checked
from storage import articles, feeds
from storage.db import Database
from storage.errors import StorageError
from storage.types import Feed, NewArticle, Outcome

log = logging.getLogger(__name__)
# Each feed's state as the operator follows it: "ingested …" at each poll that brought
# something, one line when a feed starts failing and one when it recovers. A logger of its own,
# so that a command printing the reports itself (`visnyk ingest --once`) can leave them out.
feed_log = logging.getLogger(f"{__name__}.feeds")
T = TypeVar("T")
SEARCHES_KEPT_FOR = dt.timedelta(days=7)  # a search's result pages can be turned this long
MAX_PAGES_PER_FEED = 20  # article pages fetched for summaries in one poll of one feed
MAX_ITEMS_PER_POLL = 500  # items of one poll of one feed that are used; the rest are dropped
PAGE_CONCURRENCY = 8  # article pages fetched at once, all feeds together (each up to max_bytes)
# An article's text is at the start of its page: extraction reads this much of it (trafilatura's
# time grows faster than a page's size: 75 s of CPU on a hostile 4.7 MB page).
PAGE_EXTRACT_BYTES = 512_000
CPU_THREADS = 2  # parsing and extraction, in threads of their own (DNS keeps the default ones)
PAGE_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.5"


@dataclass(frozen=True, slots=True)
class PageRead:
    """An article page as an editor asked for it: its content, or why there is none."""

    content: PageContent | None
    refusal: Refusal | None = None  # not fetched on purpose (a private address, not http…)
    error: str | None = None  # in plain words: refused, HTTP 404, too large, no article…


def _refused(url: str, refusal: Refusal) -> PageRead:
    return PageRead(None, refusal, f"refused: {url[:200]} is {refusal.words}")


class Ingester:
    """Polls the configured feeds into storage."""

    def __init__(
        self, config: Config, db: Database, http: httpx.AsyncClient, hosts: Hosts | None = None
    ) -> None:
        self.config, self.db, self.http = config, db, http
        self.hosts = hosts or Hosts(config.feed_urls(), config.ingest.page_hosts)
        self._pages = asyncio.Semaphore(PAGE_CONCURRENCY)
        self.timezone = ZoneInfo(config.ingest.timezone)
        self.feed_sections: dict[str, set[str]] = {url: set() for url in config.feed_urls()}
        for section in config.sections:
            for url in section.feeds:
                self.feed_sections[url].add(section.slug)
        self.by_category = {s.slug: s.categories for s in config.sections if s.categories}
        self._limit = asyncio.Semaphore(config.ingest.concurrency)
        self._cpu = ThreadPoolExecutor(CPU_THREADS, thread_name_prefix="ingest-cpu")
        self._polling: dict[int, asyncio.Task[FeedReport]] = {}  # feed id -> its poll

    async def close(self) -> None:
        """Stop the polls in flight (each is one feed's step: what it stored stays stored)."""
        tasks = list(self._polling.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._cpu.shutdown(wait=False, cancel_futures=True)

    async def start_due(
        self, now: dt.datetime, on_report: Callable[[FeedReport], Awaitable[object]]
    ) -> int:
        """Start polling the feeds due by `now` that are not being polled already, each in a
        task of its own, and return how many started: a feed that takes long (a slow server, a
        page that is costly to read) delays only itself, never the next tick's other feeds."""
        known = await feeds.ensure(self.db, self.config.feed_urls(), now)
        due = [f for f in known if f.next_check <= now and f.id not in self._polling]
        for feed in due:
            task = asyncio.create_task(self._guarded(feed, now, on_report), name=f"poll {feed.url}")
            self._polling[feed.id] = task
            task.add_done_callback(functools.partial(self._done, feed.id))
        return len(due)

    def _done(self, feed_id: int, _task: asyncio.Task[FeedReport]) -> None:
        self._polling.pop(feed_id, None)

    async def run(
        self,
        now: dt.datetime,
        *,
        only_due: bool = True,
        on_report: Callable[[FeedReport], Awaitable[object]] | None = None,
    ) -> list[FeedReport]:
        """Poll every feed (or only those due by `now`), concurrently under the cap.
        `on_report` is called with each feed's report as soon as that feed is stored, so that
        one slow feed never holds back the story posts of the others."""
        known = await feeds.ensure(self.db, self.config.feed_urls(), now)
        chosen = [f for f in known if not only_due or f.next_check <= now]
        return list(await asyncio.gather(*(self._guarded(f, now, on_report) for f in chosen)))

    async def _guarded(
        self,
        feed: Feed,
        now: dt.datetime,
        on_report: Callable[[FeedReport], Awaitable[object]] | None,
    ) -> FeedReport:
        async with self._limit:
            try:
                report = await self.poll(feed, now)
            except Exception as e:  # one feed's bug must not stop the others
                log.exception("ingest failed feed=%s", feed.url)
                report = await self._failed(feed, now, f"internal error: {type(e).__name__}: {e}")
        if on_report is not None:
            try:
                await on_report(report)
            except Exception:  # posting is the caller's; a failure there is logged, not raised
                log.exception("after ingest failed feed=%s", feed.url)
        return report

    async def _in_thread(self, function: Callable[..., T], *args: object) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._cpu, function, *args)

    async def poll(self, feed: Feed, now: dt.datetime) -> FeedReport:
        """Fetch, parse and store one feed, and record how it went."""
        cfg = self.config.ingest
        try:
            fetched = await fetch(
                self.http,
                feed.url,
                max_bytes=cfg.max_bytes,
                deadline=cfg.timeout,
                etag=feed.etag,
                last_modified=feed.last_modified,
                allow=lambda url: None if url == feed.url else self.hosts.open_refusal(url),
            )
        except FetchError as e:
            return await self._failed(feed, now, str(e), e.retry_after)
        self.hosts.learn(feed.url, fetched.url)
        if fetched.not_modified:
            await feeds.record_success(
                self.db, feed.id, now=now, next_check=self._next(feed, now), not_modified=True
            )
            _recovered(feed)
            return FeedReport(feed.url, not_modified=True)
        try:
            parsed, stories = await self._in_thread(
                self._stories, fetched.body, fetched.url, fetched.content_type, feed.url, now
            )
        except NotAFeed as e:
            return await self._failed(feed, now, f"not a feed: {e}")
        stories = await self._fill_summaries(stories)
        try:
            saved = await articles.save(self.db, stories, feed_id=feed.id, now=now)
        except StorageError as e:
            return await self._failed(feed, now, f"not stored: {e}")
        await feeds.record_success(
            self.db,
            feed.id,
            now=now,
            next_check=self._next(feed, now),
            title=parsed.title,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            warning=parsed.warning,
            dropped=parsed.dropped,
        )
        counts = {o: sum(1 for s in saved if s.outcome is o) for o in Outcome}
        report = FeedReport(
            feed.url,
            new=counts[Outcome.NEW],
            updated=counts[Outcome.UPDATED],
            unchanged=counts[Outcome.UNCHANGED],
            warning=parsed.warning,
            fresh=tuple(s.article_id for s in saved if s.new_sections),
            dropped=parsed.dropped,
        )
        _recovered(feed)
        # A poll that brought nothing is no event: at INFO, only those that did.
        brought = report.new or report.updated or report.dropped or report.warning
        feed_log.log(logging.INFO if brought else logging.DEBUG, "ingested %s", report.line())
        return report

    def _stories(
        self, body: bytes, url: str, content_type: str | None, feed_url: str, now: dt.datetime
    ) -> tuple[ParsedFeed, list[NewArticle]]:
        """The CPU part, run in a thread: parse, route to sections, summarise. The feed's
        `dropped` counts the items parsing could not use and those whose story failed."""
        parsed = parse_feed(
            body,
            url=url,
            content_type=content_type,
            timezone=self.timezone,
            limit=MAX_ITEMS_PER_POLL,
        )
        stories = []
        dropped = parsed.dropped
        own = self.feed_sections.get(feed_url, set())
        for item in parsed.items:
            try:
                sections = sections_for(item.categories, own, self.by_category)
                if sections:
                    summary = description_summary(item)
                    stories.append(story(item, sections, now=now, summary=summary))
            except Exception as e:  # one item's bug must not fail the feed
                log.warning("item dropped feed=%s link=%s error=%r", feed_url, item.link, e)
                dropped += 1
        return replace(parsed, dropped=dropped), stories

    async def _fill_summaries(self, stories: list[NewArticle]) -> list[NewArticle]:
        """Stories whose feed gave no whole sentence get one from their page (new ones only)."""
        missing = [i for i, s in enumerate(stories) if not s.summary]
        if not missing:
            return stories
        known = await articles.known(self.db, [stories[i] for i in missing])
        todo = [i for i, k in zip(missing, known, strict=True) if not k][:MAX_PAGES_PER_FEED]
        summaries = await asyncio.gather(*(self._page_summary(stories[i].url) for i in todo))
        filled = list(stories)
        for i, summary in zip(todo, summaries, strict=True):
            if summary:
                filled[i] = replace(filled[i], summary=summary)
        return filled

    async def _page_summary(self, url: str) -> str | None:
        """A summary from the story's page, if it is on a trusted host and has one."""
        if refusal := self.hosts.page_refusal(url):
            log.info("page not fetched url=%s reason=%s", url, refusal.words)
            return None
        read = await self._read(url, self.hosts.page_refusal)
        return page_summary(read.content) if read.content else None

    async def read_page(self, url: str) -> PageRead:
        """An article page an editor asked for (`/post`), or why not: it may be on any public
        host (or a configured one), never on a loopback, private, link-local or other
        non-public address, checked after DNS and at every redirect."""
        target = checked(url)
        if target is None:
            return _refused(url, Refusal.NOT_WEB)
        if refusal := self.hosts.open_refusal(target):
            return _refused(target, refusal)
        return await self._read(target, self.hosts.open_refusal)

    async def _read(self, url: str, allow: Callable[[str], Refusal | None]) -> PageRead:
        cfg = self.config.ingest
        try:
            async with self._pages:
                page = await fetch(
                    self.http,
                    url,
                    max_bytes=cfg.max_bytes,
                    deadline=cfg.timeout,
                    accept=PAGE_ACCEPT,
                    allow=allow,
                )
        except FetchError as e:
            log.info("page not fetched url=%s error=%s", url, e)
            return PageRead(None, e.refusal, str(e))
        content = await self._in_thread(extract_page, page.body[:PAGE_EXTRACT_BYTES], page.url)
        return PageRead(content, None, None if content else "no article on the page")

    def _next(
        self, feed: Feed, now: dt.datetime, failures: int = 0, wait: float | None = None
    ) -> dt.datetime:
        return schedule.next_feed_check(
            now,
            interval=self.config.ingest.poll_interval,
            failures=failures,
            retry_after=wait,
            key=feed.url,
        )

    async def _failed(
        self, feed: Feed, now: dt.datetime, error: str, retry_after: float | None = None
    ) -> FeedReport:
        failures = feed.failures + 1
        try:
            recorded = await feeds.record_failure(
                self.db,
                feed.id,
                now=now,
                error=error,
                next_check=self._next(feed, now, failures, retry_after),
            )
            failures = recorded.failures
        except StorageError as e:
            log.error("feed health not recorded feed=%s error=%s", feed.url, e)
        # One line when a feed starts failing, not one a poll: the count in storage says
        # whether this failure is the first (a feed failing for a day is polled ~50 times).
        if failures == 1:
            feed_log.warning("feed failing feed=%s error=%s", feed.url, error)
        else:
            feed_log.debug(
                "feed still failing feed=%s failures=%d error=%s", feed.url, failures, error
            )
        return FeedReport(feed.url, error=error)


def _recovered(feed: Feed) -> None:
    """The line that ends a feed's failing spell (`feed` as it was before this poll)."""
    if feed.failures:
        feed_log.info("feed recovered feed=%s after=%d failures", feed.url, feed.failures)


async def prune(db: Database, config: Config, now: dt.datetime) -> int:
    """Forget articles older than `[ingest] keep_days`, and searches older than a week."""
    removed = await articles.prune(
        db,
        now - dt.timedelta(days=config.ingest.keep_days),
        searches_before=now - SEARCHES_KEPT_FOR,
    )
    log.info("pruned articles=%d", removed)
    return removed
