"""Full-text search of the stored articles: a chat's words → a page of articles, newest first.

Search gives the same answers on both databases (tests/test_search_backends.py compares
them). Every term is a word prefix, every query term must match (by any of its alternates),
newest first, and a page past the end is the last page there is.

- SQLite answers with FTS5 (`articles_fts`): the terms become a MATCH expression of quoted
  prefixes, and FTS5 walks its rowids (the article ids) from the newest.
- PostgreSQL answers with its own full-text search on the `search_vector` column, which
  migration 0002 builds to tokenize and fold as FTS5 does (the differences left are listed
  there). The query's terms are folded by the same function as the stored text
  (visnyk_search_fold) and become a tsquery of prefixes: `'київ':* | 'києв':*` for one term,
  `'п' <-> 'ят':*` for п'ят, which FTS5 too reads as two tokens in a row. The planner's
  estimate for a prefix never drops much below 0.5% of the rows, so a search first walks the
  newest articles (WINDOW), and only then asks the index for all its matches.

Why a tsvector and not pg_trgm, and the figures measured: migration 0002's docstring.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.articles import as_articles
from storage.db import Database
from storage.models import ArticleRow
from storage.types import Page

# FTS5 reads ʼ (U+02BC) as a letter, ' and ’ as separators: stem.search_terms writes every
# apostrophe as ', so a term with one is looked for both ways (пʼять is one token, п'ять two).
APOSTROPHES = ("'", "’", "ʼ")
WORD_CHARS = 511  # PostgreSQL keeps a token's first 511 characters (migration 0002)
_UNSPEAKABLE = re.compile("[\x00\ud800-\udfff]")


def alternatives(terms: Sequence[Sequence[str]]) -> list[list[str]]:
    """The alternates of each term as the index reads them: a term with an apostrophe is
    looked for with ' (a separator) and with ʼ (a letter). NUL and lone surrogates, which
    neither database takes in a query, separate words as any other non-letter does."""
    groups = []
    for group in terms:
        spelled: list[str] = []
        for term in (_UNSPEAKABLE.sub(" ", t) for t in group):
            if any(a in term for a in APOSTROPHES):
                plain = term.replace("’", "'").replace("ʼ", "'")
                spelled += [plain, plain.replace("'", "ʼ")]
            else:
                spelled.append(term)
        groups.append(list(dict.fromkeys(spelled)))
    return groups


def match_expression(terms: Sequence[Sequence[str]]) -> str:
    """FTS5 syntax: every term must match, each by any of its word prefixes."""
    groups = []
    for group in alternatives(terms):
        quoted = [f'"{a.replace(chr(34), chr(34) * 2)}"*' for a in group if a]
        if quoted:
            groups.append("(" + " OR ".join(quoted) + ")")
    return " AND ".join(groups)


def tsquery(folded: Sequence[Sequence[str]]) -> str | None:
    """PostgreSQL's tsquery for terms already folded by visnyk_search_fold (tokens between
    spaces): each alternate a prefix (a phrase of tokens, the last a prefix), any of a term's
    alternates, every term. None when a term has no token at all: as an empty FTS5 phrase,
    it matches nothing."""
    groups = []
    for group in folded:
        phrases = []
        for term in group:
            tokens = [_lexeme(t[:WORD_CHARS]) for t in term.split()]
            if tokens:
                phrases.append("(" + " <-> ".join(tokens) + ":*)")
        if not phrases:
            return None
        groups.append("(" + " | ".join(dict.fromkeys(phrases)) + ")")
    return " & ".join(groups)


def _lexeme(token: str) -> str:
    """A quoted tsquery lexeme (a folded token never has a quote or a backslash: still)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


# SQLite: the ids of the matches, newest first (FTS5 walks its rowids, the article ids, from
# the newest and stops at the page's end), and how many there are up to an offset.
_FTS5_IDS = text(
    "SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q "
    "ORDER BY rowid DESC LIMIT :n OFFSET :o"
)
_FTS5_COUNT = text(
    "SELECT count(*) FROM (SELECT rowid FROM articles_fts WHERE articles_fts MATCH :q LIMIT :o)"
)
# PostgreSQL: a GIN index hands its matches back in no order. Left to the planner, ORDER BY id
# DESC LIMIT walks the primary key backwards testing each article, fast for a common word
# and a walk through the whole archive for a word that is nowhere (its estimate for a prefix
# stays near 0.5% of the rows): 47 ms at 100,000 articles, 10 times that at a million.
# So first the newest WINDOW articles are walked (about 1 ms); only when the page is not
# among them does the index gather all the matches (few, then) to sort them.
WINDOW = 4096
_TS_NEWEST = text(
    "SELECT id FROM (SELECT id, search_vector FROM articles ORDER BY id DESC LIMIT :w) AS newest "
    "WHERE search_vector @@ CAST(:q AS tsquery) ORDER BY id DESC LIMIT :n OFFSET :o"
)
_TS_IDS = text(
    "WITH matches AS MATERIALIZED "
    "(SELECT id FROM articles WHERE search_vector @@ CAST(:q AS tsquery)) "
    "SELECT id FROM matches ORDER BY id DESC LIMIT :n OFFSET :o"
)
_TS_COUNT = text(
    "WITH matches AS MATERIALIZED "
    "(SELECT id FROM articles WHERE search_vector @@ CAST(:q AS tsquery)) "
    "SELECT count(*) FROM (SELECT 1 FROM matches LIMIT :o) AS counted"
)
_FOLD = text(
    "SELECT visnyk_search_fold(term) FROM unnest(CAST(:terms AS text[])) "
    "WITH ORDINALITY AS t(term, n) ORDER BY n"
)


async def search(
    db: Database, terms: Sequence[Sequence[str]], *, offset: int = 0, limit: int = 10
) -> Page:
    """Articles whose title or summary has every term (as a word prefix), newest first."""
    groups = [[a for a in group if a] for group in alternatives(terms)]
    groups = [group for group in groups if group]
    if not groups:
        return Page((), offset, has_more=False)
    async with db.reading() as s:
        postgresql = db.dialect == "postgresql"
        if postgresql:
            folded = tsquery(await _folded(s, groups))
            if folded is None:  # a term of no word at all: nothing matches it
                return Page((), 0, has_more=False)
            query = folded
        else:
            query = match_expression(groups)
        ids = await _matching(s, postgresql, query, limit + 1, offset)
        if not ids and offset > 0:  # past the end: the last page there is
            counting = _TS_COUNT if postgresql else _FTS5_COUNT
            there = await s.scalar(counting.bindparams(q=query, o=offset))
            offset = max(0, (int(there or 0) - 1) // limit * limit)
            ids = await _matching(s, postgresql, query, limit + 1, offset)
        rows = {
            r.id: r
            for r in (await s.execute(select(ArticleRow).where(ArticleRow.id.in_(ids)))).scalars()
        }
        found = [rows[i] for i in ids if i in rows]
        return Page(tuple(await as_articles(s, found[:limit])), offset, has_more=len(ids) > limit)


async def _matching(s: AsyncSession, postgresql: bool, query: str, n: int, o: int) -> list[int]:
    """The ids of `n` matches from the `o`th, newest first."""
    if not postgresql:
        return list((await s.execute(_FTS5_IDS.bindparams(q=query, n=n, o=o))).scalars())
    newest = _TS_NEWEST.bindparams(q=query, n=n, o=o, w=WINDOW)
    ids = list((await s.execute(newest)).scalars())
    if len(ids) == n:  # the matches before them are newer still: in the window too
        return ids
    return list((await s.execute(_TS_IDS.bindparams(q=query, n=n, o=o))).scalars())


async def _folded(s: AsyncSession, groups: Sequence[Sequence[str]]) -> list[list[str]]:
    """The terms folded by the database, as the stored text is (one round trip for all)."""
    flat = [term for group in groups for term in group]
    folded = iter(list((await s.execute(_FOLD.bindparams(terms=flat))).scalars()))
    return [[next(folded) for _ in group] for group in groups]
