"""Search gives the same answers on SQLite (FTS5) and PostgreSQL (a tsvector made to read text
as FTS5 does): the tokenizer code point by code point, the same stories and queries on both,
hostile queries, paging past the end; and storing articles is race-safe on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import asyncpg
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Connection, insert, inspect, text

from bot.news.identity import title_key
from bot.news.stem import search_terms
from storage import articles, sections
from storage.db import Database, _alembic_config
from storage.models import ArticleRow, Base, is_modelled
from storage.search import search as search_articles
from storage.types import NewArticle, NewSection, Outcome, Page
from tests import postgresql
from tests.kit import eventually

NOW = dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.UTC)
WORLD = NewSection("world", {"uk": "Світ"})
Databases = Callable[[str, Path], str]

# (title, summary): Ukrainian inflection, the three apostrophes, hyphens, Latin diacritics,
# letters FTS5 keeps (й ї ґ ё ł), emoji against a word, numbers, addresses, a phrase that
# would span title and summary, a long word.
STORIES = [
    ("Зеленський провів розмову з прем'єром Польщі", "Розмова тривала годину."),
    ("Київ отримав нові автобуси", "Автобуси вийдуть на маршрути у грудні."),
    ("У Львові відкрили виставку", "Про виставку розповів мер Києва."),
    ("Пʼять нових шкіл у Харкові", "Школи відкриють у пʼятницю."),
    ("П'ять мостів відремонтують", "Ремонт мостів у Києві триватиме рік."),
    ("П’ятниця без світла", "Графіки відключень на п’ятницю."),
    ("Північно-західний вітер", "Синоптики попереджають про вітер."),
    ("COVID-19 повертається", "Інфляція 2.5% за місяць, о 10:30 брифінг."),
    ("Emmanuel Macron у Львові", "Президент Франції відвідав Zürich і São Paulo."),
    ("Łódź і Gdańsk", "Польські міста."),
    ("Ґрунт і ґанок", "Їжак, ёлка, Йорданія, Ўладзімір."),
    ("🔴Київ: тривога", "🤝Київ і ⚡️Одеса."),
    ("Пишіть на news@example.com", "Або https://example.com/path?a=1."),
    ("Кінець п", "ять тижнів тому."),
    ("Cafe\u0301 «Троянда»", "Кав'ярня на розі."),
    ("НАТО і ЄС", "Саміт НАТО та ЄС у Брюсселі."),
    ("Довге слово", "Слово " + "ф" * 600 + " закінчилося."),
    ("Αθήνας και Θεσσαλονίκης", "Ελλάς."),
    *[(f"Обстріл Харкова №{i}", "Ворог знову атакував.") for i in range(23)],
]
QUERIES = [
    "Зеленського", "Зеленський", "зеленськ", "Києві", "Київ", "львів виставка", "прем'єр",
    "пʼять", "п'ять", "п’ятниця", "п'ятницю", "північно-західний", "західний", "північно",
    "covid-19", "covid", "19", "2.5", "інфляція", "10:30", "macron", "Макрон", "zurich",
    "zürich", "sao", "são", "lodz", "łódź", "gdansk", "ґрунт", "грунт", "їжак", "іжак", "ёлка",
    "елка", "йорданія", "иорданія", "ўладзімір", "одеса", "news", "example.com", "https",
    "cafe", "café", "кав'ярня", "нато", "ЄС", "єс", "ф" * 550, "αθήνας", "θεσσαλονίκης",
    "обстріл", "Харкова", "харків обстріл", "марс", "ворог атакував", "кінець", "п ять",
]  # fmt: skip
HOSTILE = [
    '"', "\\", "&|!():*", "'", "''", "a'b", "*", "-", "_", "NOT", "AND київ", "OR", "NEAR(a b)",
    "київ' OR '1'='1", "київ:*", "!київ", "київ & марс", "(київ | марс)", "<->", "'київ':*",
    "x" * 5000, "київ " * 50, "", "   ", "\x00", "київ\x00марс", "\ud800київ", "\\'\\\\'",
]  # fmt: skip


def _stories() -> list[NewArticle]:
    return [
        NewArticle(f"https://news.example.ua/{i}", None, title_key(title), title, summary,
                   None, None, "uk", NOW - dt.timedelta(minutes=i), frozenset({"world"}))
        for i, (title, summary) in enumerate(STORIES)
    ]  # fmt: skip


async def _open(url: str) -> Database:
    db = Database.open(url)
    await db.upgrade()
    await sections.sync(db, [WORLD])
    return db


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The test's database (both backends for the tests marked `backends`), with the stories."""
    database = await _open(database_url)
    await articles.save(database, _stories(), feed_id=None, now=NOW)
    yield database
    await database.close()


@pytest.fixture
async def both(new_database: Databases, tmp_path: Path) -> AsyncIterator[list[Database]]:
    """An SQLite and a PostgreSQL database side by side, with the same stories."""
    dbs = [await _open(new_database(name, tmp_path)) for name in ("sqlite", "postgresql")]
    for database in dbs:
        await articles.save(database, _stories(), feed_id=None, now=NOW)
    yield dbs
    for database in dbs:
        await database.close()


async def _ids(db: Database, query: str | list[list[str]], offset: int = 0) -> tuple[object, ...]:
    terms = search_terms(query) if isinstance(query, str) else query
    page = await search_articles(db, terms, offset=offset, limit=10)
    return tuple(a.id for a in page.articles), page.offset, page.has_more


async def _titles(db: Database, query: str) -> list[str]:
    page = await search_articles(db, search_terms(query), limit=50)
    return [a.title for a in page.articles]


async def test_both_databases_give_the_same_answers(both: list[Database]) -> None:
    lite, pg = both
    found = 0
    for query in [*QUERIES, *HOSTILE]:
        for offset in (0, 10, 20, 30, 1000):
            answer = await _ids(lite, query, offset)
            assert await _ids(pg, query, offset) == answer, (query, offset)
            found += bool(answer[0])
    assert found > 60  # most queries find something: equal answers are not empty ones
    # Terms given straight to storage (no stemmer between): the same too.
    raw = [[["п'ят"]], [["пʼят"]], [["п’ят", "марс"]], [["_"]], [["київ"], ["_"]],
           [["_", "київ"]], [["\x00"]], [["північно-зах"]], [["ф" * 520]]]  # fmt: skip
    for terms in raw:
        assert await _ids(pg, terms) == await _ids(lite, terms), terms


@pytest.mark.backends
async def test_search_reads_ukrainian_as_fts5_does(db: Database) -> None:
    assert await _titles(db, "Зеленського") == ["Зеленський провів розмову з прем'єром Польщі"]
    assert await _titles(db, "Києві") == [
        "Київ отримав нові автобуси",
        "У Львові відкрили виставку",
        "П'ять мостів відремонтують",
        "🔴Київ: тривога",
    ]
    # Any apostrophe finds all three spellings (ʼ is a letter to FTS5, ' and ’ are not).
    apostrophes = ["Пʼять нових шкіл у Харкові", "П'ять мостів відремонтують",
                   "П’ятниця без світла"]  # fmt: skip
    for query in ("п'ять", "пʼять", "п’ять"):
        assert await _titles(db, query) == apostrophes
    # A hyphen separates words; a phrase never spans title and summary.
    assert await _titles(db, "західний") == ["Північно-західний вітер"]
    assert await _titles(db, "кінець п'ять") == []
    # Latin letters lose their accents (not ł); й ї ґ stay letters of their own.
    assert await _titles(db, "zurich") == ["Emmanuel Macron у Львові"]
    assert await _titles(db, "cafe") == ["Cafe\u0301 «Троянда»"]
    assert await _titles(db, "gdansk") == ["Łódź і Gdańsk"]
    assert await _titles(db, "łodz") == ["Łódź і Gdańsk"]
    assert await _titles(db, "lodz") == []
    assert await _titles(db, "грунт") == []
    assert await _titles(db, "ґрунт") == ["Ґрунт і ґанок"]
    assert await _titles(db, "иорданія") == []
    # A newer emoji is a letter to FTS5 (🤝київ is one word), an older one separates.
    assert await _titles(db, "одеса") == ["🔴Київ: тривога"]


@pytest.mark.backends
async def test_hostile_queries_are_words_and_nothing_else(db: Database) -> None:
    """Quotes, backslashes and either database's operators are no syntax: a query that has
    the word київ finds what київ finds, any other finds nothing (and no error)."""
    kyiv = await search_articles(db, search_terms("київ"))
    assert len(kyiv.articles) == 4
    for query in HOSTILE:
        page = await search_articles(db, search_terms(query))
        words = {w for w in re.split(r"[^\w]+", query.casefold()) if w}
        nothing = Page((), 0, has_more=False)
        assert page == (kyiv if words in ({"київ"}, {"and", "київ"}) else nothing), query


@pytest.mark.backends
async def test_a_page_past_the_end_is_the_last_page(db: Database) -> None:
    terms = search_terms("обстріл")
    first = await search_articles(db, terms, limit=10)
    assert (len(first.articles), first.offset, first.has_more) == (10, 0, True)
    assert first.articles[0].title == "Обстріл Харкова №0"
    last = await search_articles(db, terms, offset=20, limit=10)
    assert ([a.title for a in last.articles], last.offset, last.has_more) == (
        ["Обстріл Харкова №20", "Обстріл Харкова №21", "Обстріл Харкова №22"], 20, False
    )  # fmt: skip
    for offset in (23, 30, 10_000):
        past = await search_articles(db, terms, offset=offset, limit=10)
        assert (past.articles, past.offset, past.has_more) == (last.articles, 20, False)
    nothing = await search_articles(db, search_terms("марс"), offset=30)
    assert (nothing.articles, nothing.offset, nothing.has_more) == ((), 0, False)
    empty = await search_articles(db, [], offset=30)
    assert (empty.articles, empty.offset, empty.has_more) == ((), 30, False)


@pytest.mark.backends
async def test_search_follows_edits_and_pruning(db: Database) -> None:
    story = _stories()[0]
    edited = dataclasses.replace(story, title="Зеленський зустрівся з Макроном")
    [saved] = await articles.save(db, [edited], feed_id=None, now=NOW)
    assert saved.outcome is Outcome.UPDATED
    assert await _titles(db, "Макрона") == ["Зеленський зустрівся з Макроном"]
    assert await _titles(db, "Польщі") == []
    await articles.prune(db, NOW + dt.timedelta(days=1))
    assert await _titles(db, "Макрона") == []


@pytest.mark.backends
async def test_the_search_index_is_no_model_and_migrates_down_and_up(db: Database) -> None:
    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"include_name": is_modelled}), Base.metadata
            )
        )
    assert diff == []

    def down_and_up(c: Connection) -> list[str]:
        cfg = _alembic_config()
        cfg.attributes["connection"] = c
        command.downgrade(cfg, "0001")
        tables = inspect(c).get_table_names()
        command.upgrade(cfg, "head")
        return tables

    async with db.engine.begin() as conn:
        assert "articles" not in await conn.run_sync(down_and_up)
    await articles.save(db, _stories()[:1], feed_id=None, now=NOW)
    assert await _titles(db, "зеленського") == [STORIES[0][0]]


async def test_the_fold_is_fts5s_code_point_by_code_point(both: list[Database]) -> None:
    """Every character of the Basic Multilingual Plane and of the emoji planes, between two
    letters: FTS5's tokens (read from its vocabulary) and visnyk_search_fold's are the same.
    The only difference allowed: a capital letter FTS5's Unicode 6.1 tables do not know
    (Cherokee, Georgian Mtavruli, …), which PostgreSQL lowers and FTS5 leaves as it is."""
    lite, pg = both
    codes = [c for c in [*range(1, 0x10000), *range(0x1F000, 0x1FB00)] if not 0xD800 <= c < 0xE000]
    async with lite.transaction() as s:
        await s.execute(text("DELETE FROM articles"))
        await s.execute(
            insert(ArticleRow),
            [
                {"id": c, "url": str(c), "title_key": "", "title": f"q{chr(c)}q", "summary": "",
                 "published": NOW, "first_seen": NOW, "updated": NOW}
                for c in codes
            ],
        )  # fmt: skip
        await s.execute(
            text("CREATE VIRTUAL TABLE temp.words USING fts5vocab(main, articles_fts, instance)")
        )
        fts5: dict[int, list[str]] = {c: [] for c in codes}
        rows = await s.execute(text("SELECT doc, term FROM temp.words ORDER BY doc, offset"))
        for doc, term in rows:
            fts5[doc].append(term)
    async with pg.reading() as s:
        rows = await s.execute(
            text(
                "SELECT c, visnyk_search_fold('q' || chr(c) || 'q') "
                "FROM unnest(CAST(:codes AS int[])) AS c"
            ),
            {"codes": codes},
        )
        folded = {c: f.split() for c, f in rows}
    differ = [c for c in codes if folded[c] != fts5[c]]
    assert all(
        unicodedata.category(chr(c)) in ("Lu", "Lt")
        and fts5[c] == [f"q{chr(c)}q"]
        and folded[c] == [f"q{chr(c).lower()}q"]
        for c in differ
    ), [(hex(c), fts5[c], folded[c]) for c in differ if unicodedata.category(chr(c)) != "Lu"]
    assert len(differ) < 400


async def test_two_processes_storing_one_story_store_it_once(
    new_database: Databases, tmp_path: Path
) -> None:
    """PostgreSQL only (on SQLite one writer at a time does this): two replicas store the same
    story at once, one by its URL, one under another URL with the same title. The second waits
    for the first to commit, then finds the story stored: no conflict, no second copy."""
    url = new_database("postgresql", tmp_path)
    first, second = await _open(url), await _open(url)
    story = _stories()[0]
    again = dataclasses.replace(story, url="https://other.example.ua/1")
    try:
        async with first.transaction():
            await articles.save(first, [story], feed_id=None, now=NOW)
            racing = asyncio.create_task(
                articles.save(second, [story, again], feed_id=None, now=NOW)
            )

            async def waiting() -> bool:
                async with first.engine.connect() as conn:
                    locked = await conn.scalar(
                        text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                    )
                return bool(locked)

            await eventually(waiting)
        saved = await racing
        assert [s.outcome for s in saved] == [Outcome.UNCHANGED, Outcome.UNCHANGED]
        assert await articles.count(first) == 1
    finally:
        await first.close()
        await second.close()


async def test_a_database_that_cannot_lower_ukrainian_is_refused(
    postgresql_server: postgresql.Cluster,
) -> None:
    """PostgreSQL only: search lowers case with the database's lower(), which under LC_CTYPE
    'C' leaves Київ as it is. The migration stops, saying what to do."""
    name = f"c_ctype_{uuid.uuid4().hex[:8]}"
    server = await asyncpg.connect(postgresql_server.dsn())
    await server.execute(
        f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C' LC_COLLATE 'C'"
    )
    db = Database.open(postgresql_server.url(name))
    try:
        with pytest.raises(RuntimeError, match="LC_CTYPE 'C' does not lower Ukrainian letters"):
            await db.upgrade()
    finally:
        await db.close()
        await server.execute(f"DROP DATABASE {name}")
        await server.close()
