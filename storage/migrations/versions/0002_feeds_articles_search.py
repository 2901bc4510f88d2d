"""Feeds and their health, articles in sections, full-text search, saved searches.

Search is per dialect, with the same answers (tests/test_search_backends.py compares them):

- SQLite: FTS5 over title and summary, tokenize='unicode61 remove_diacritics 2'. What that
  tokenizer does, measured code point by code point on SQLite 3.40: a token is a run of letters,
  digits and private-use characters (and of symbols newer than its Unicode 6.1 tables, such as
  emoji from 🤝 on); everything else separates tokens, ' ’ - _ among them: п'ять and п’ять are
  two tokens п, ять, and північно-західний is північно, західний. The modifier apostrophe ʼ
  (U+02BC) is a letter: пʼять is one token. Case folds, and Latin letters lose their diacritics
  (é → e; ł and ø stay); Cyrillic letters keep theirs: й, ї, ё, ў, ґ are not и, і, е, у, г.
- PostgreSQL: its own full-text search, replaying that tokenizer. visnyk_search_fold() splits
  at FTS5's separators (SEPARATORS, as a regular expression), lowers the case and strips the
  same diacritics (translate()); visnyk_search_vector() numbers the tokens of title and summary
  (with a gap between the two, so that a phrase never spans them, as with FTS5's columns); a
  stored generated tsvector column `search_vector` keeps them under a GIN index. storage/
  search.py folds the query terms with the same function and matches each as a word prefix
  ('term':*). PostgreSQL's own parser (to_tsvector) is not used: it reads COVID-19 as covid and
  -19, and keeps 2.5 and example.com whole, tokens FTS5 never makes.

Chosen over pg_trgm (LIKE '% term%' on the folded text, a GIN trigram index: the same answers)
by measuring at 100,000 articles (bench/browse.py's archive, the SQL alone, p50 on a loaded
2-core machine): the tsvector's index is half the size (8.7 MB against 17 MB) and builds 4.5
times faster (1.3 s against 5.9 s); it answers a common word in 0.18 ms (pg_trgm 0.22), two
words in 0.14 (0.33), a deep page of a rarer pair in 18 ms (63); pg_trgm is ahead by one or
two milliseconds for a word that is nowhere (1.0 ms against 1.6) or rare (2.8 against 4.6),
where storage/search.py first walks the newest articles. Inserting costs about the same
(70-110 µs an article, 90-115 with pg_trgm), and the tsvector needs no extension. Where the two databases still differ: a capital letter that
PostgreSQL's lower() knows and SQLite 3.40's tables do not (Cherokee, Georgian Mtavruli and
other Unicode 7+ additions) folds on PostgreSQL only; a token is matched by its first 511
characters; past the 16,383rd token of an article, or 100,000 characters into its summary,
PostgreSQL stops counting. lower() needs a UTF-8 LC_CTYPE: under 'C' the upgrade stops and
says so.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

FTS = [
    # Article ids grow with publication time, so the index yields matches newest first.
    # Title and summary, searchable by word prefixes; case and Latin diacritics fold (é → e).
    """CREATE VIRTUAL TABLE articles_fts USING fts5(
        title, summary, content='articles', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', prefix='2 3 4')""",
    """CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN
        INSERT INTO articles_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);
    END""",
    """CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary)
        VALUES ('delete', old.id, old.title, old.summary);
    END""",
    """CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, summary ON articles BEGIN
        INSERT INTO articles_fts(articles_fts, rowid, title, summary)
        VALUES ('delete', old.id, old.title, old.summary);
        INSERT INTO articles_fts(rowid, title, summary) VALUES (new.id, new.title, new.summary);
    END""",
]

# PostgreSQL: FTS5's separators (unicode61 in SQLite 3.40), as ranges of code points in hex;
# every other character belongs to a token.
SEPARATORS = (
    "1-2f 3a-40 5b-60 7b-a9 ab-b1 b4 b6-b8 bb bf d7 f7 2c2-2c5 2d2-2df 2e5-2eb 2ed 2ef-2ff "
    "305 30d-30e 310 312-31a 31c-322 329-32c 32f 332-36f 375 37e 384-385 387 3f6 482-489 "
    "55a-55f 589-58a 58f 591-5c7 5f3-5f4 600-604 606-61b 61e-61f 64b-65f 66a-66d 670 6d4 "
    "6d6-6e4 6e7-6ed 6fd-6fe 700-70d 70f 711 730-74a 7a6-7b0 7eb-7f3 7f6-7f9 816-819 81b-823 "
    "825-827 829-82d 830-83e 859-85b 85e 8e4-8fe 900-903 93a-93c 93e-94f 951-957 962-965 970 "
    "981-983 9bc 9be-9c4 9c7-9c8 9cb-9cd 9d7 9e2-9e3 9f2-9f3 9fa-9fb a01-a03 a3c a3e-a42 "
    "a47-a48 a4b-a4d a51 a70-a71 a75 a81-a83 abc abe-ac5 ac7-ac9 acb-acd ae2-ae3 af0-af1 "
    "b01-b03 b3c b3e-b44 b47-b48 b4b-b4d b56-b57 b62-b63 b70 b82 bbe-bc2 bc6-bc8 bca-bcd bd7 "
    "bf3-bfa c01-c03 c3e-c44 c46-c48 c4a-c4d c55-c56 c62-c63 c7f c82-c83 cbc cbe-cc4 cc6-cc8 "
    "cca-ccd cd5-cd6 ce2-ce3 d02-d03 d3e-d44 d46-d48 d4a-d4d d57 d62-d63 d79 d82-d83 dca "
    "dcf-dd4 dd6 dd8-ddf df2-df4 e31 e34-e3a e3f e47-e4f e5a-e5b eb1 eb4-eb9 ebb-ebc ec8-ecd "
    "f01-f1f f34-f3f f71-f87 f8d-f97 f99-fbc fbe-fcc fce-fda 102b-103e 104a-104f 1056-1059 "
    "105e-1060 1062-1064 1067-106d 1071-1074 1082-108d 108f 109a-109f 10fb 135d-1368 "
    "1390-1399 1400 166d-166e 1680 169b-169c 16eb-16ed 1712-1714 1732-1736 1752-1753 "
    "1772-1773 17b4-17d6 17d8-17db 17dd 1800-180e 18a9 1920-192b 1930-193b 1940 1944-1945 "
    "19b0-19c0 19c8-19c9 19de-19ff 1a17-1a1b 1a1e-1a1f 1a55-1a5e 1a60-1a7c 1a7f 1aa0-1aa6 "
    "1aa8-1aad 1b00-1b04 1b34-1b44 1b5a-1b7c 1b80-1b82 1ba1-1bad 1be6-1bf3 1bfc-1bff "
    "1c24-1c37 1c3b-1c3f 1c7e-1c7f 1cc0-1cc7 1cd0-1ce8 1ced 1cf2-1cf4 1dc0-1de6 1dfc-1dff "
    "1fbd 1fbf-1fc1 1fcd-1fcf 1fdd-1fdf 1fed-1fef 1ffd-1ffe 2000-2064 206a-206f 207a-207e "
    "208a-208e 20a0-20b9 20d0-20f0 2100-2101 2103-2106 2108-2109 2114 2116-2118 211e-2123 "
    "2125 2127 2129 212e 213a-213b 2140-2144 214a-214d 214f 2190-23f3 2400-2426 2440-244a "
    "249c-24e9 2500-26ff 2701-2775 2794-2b4c 2b50-2b59 2ce5-2cea 2cef-2cf1 2cf9-2cfc "
    "2cfe-2cff 2d70 2d7f 2de0-2e2e 2e30-2e3b 2e80-2e99 2e9b-2ef3 2f00-2fd5 2ff0-2ffb "
    "3000-3004 3008-3020 302a-3030 3036-3037 303d-303f 3099-309c 30a0 30fb 3190-3191 "
    "3196-319f 31c0-31e3 3200-321e 322a-3247 3250 3260-327f 328a-32b0 32c0-32fe 3300-33ff "
    "4dc0-4dff a490-a4c6 a4fe-a4ff a60d-a60f a66f-a67e a69f a6f0-a6f7 a700-a716 a720-a721 "
    "a789-a78a a802 a806 a80b a823-a82b a836-a839 a874-a877 a880-a881 a8b4-a8c4 a8ce-a8cf "
    "a8e0-a8f1 a8f8-a8fa a926-a92f a947-a953 a95f a980-a983 a9b3-a9cd a9de-a9df aa29-aa36 "
    "aa43 aa4c-aa4d aa5c-aa5f aa77-aa79 aa7b aab0 aab2-aab4 aab7-aab8 aabe-aabf aac1 "
    "aade-aadf aaeb-aaf1 aaf5-aaf6 abe3-abed fb1e fb29 fbb2-fbc1 fd3e-fd3f fdfc-fdfd "
    "fe00-fe19 fe20-fe26 fe30-fe52 fe54-fe66 fe68-fe6b feff ff01-ff0f ff1a-ff20 ff3b-ff40 "
    "ff5b-ff65 ffe0-ffe6 ffe8-ffee fff9-ffff 10100-10102 10137-1013f 10179-10189 10190-1019b "
    "101d0-101fd 1039f 103d0 10857 1091f 1093f 10a01-10a03 10a05-10a06 10a0c-10a0f "
    "10a38-10a3a 10a3f 10a50-10a58 10a7f 10b39-10b3f 11000-11002 11038-1104d 11080-11082 "
    "110b0-110c1 11100-11102 11127-11134 11140-11143 11180-11182 111b3-111c0 111c5-111c8 "
    "116ab-116b7 12470-12473 16f51-16f7e 16f8f-16f92 1d000-1d0f5 1d100-1d126 1d129-1d1dd "
    "1d200-1d245 1d300-1d356 1d6c1 1d6db 1d6fb 1d715 1d735 1d74f 1d76f 1d789 1d7a9 1d7c3 "
    "1eef0-1eef1 1f000-1f02b 1f030-1f093 1f0a0-1f0ae 1f0b1-1f0be 1f0c1-1f0cf 1f0d1-1f0df "
    "1f110-1f12e 1f130-1f16b 1f170-1f19a 1f1e6-1f202 1f210-1f23a 1f240-1f248 1f250-1f251 "
    "1f300-1f320 1f330-1f335 1f337-1f37c 1f380-1f393 1f3a0-1f3c4 1f3c6-1f3ca 1f3e0-1f3f0 "
    "1f400-1f43e 1f440 1f442-1f4f7 1f4f9-1f4fc 1f500-1f53d 1f540-1f543 1f550-1f567 "
    "1f5fb-1f640 1f645-1f64f 1f680-1f6c5 1f700-1f773 e0001 e0020-e007f e0100-e01ef "
)
# Combining diacritics FTS5 drops from inside a token (e + U+0301 is e); other marks separate.
DROPPED = "300-304 306-30c 30f 311 31b 323-328 32d-32e 330-331"
# What remove_diacritics 2 folds, after lower(): each letter to its base.
FOLDS = [
    ("µàáâãäåçèéêëìíîïñòóôõöùúûüýÿ", "μaaaaaaceeeeiiiinooooouuuuyy"),
    (
        "āăąćĉċčďēĕėęěĝğġģĥĩīĭįĵķĺļľńņňōŏőŕŗřśŝşšţťũūŭůűųŵŷźżžſ",
        "aaaccccdeeeeegggghiiiijklllnnnooorrrssssttuuuuuuwyzzzs",
    ),
    ("ơưǎǐǒǔǖǘǚǜǟǧǩǫǭǰǵǹǻȁȃȅȇȉȋȍȏȑȓȕȗșțȟȧȩȫȭȯȱȳ", "ouaiouuuuuagkoojgnaaaeeiioorruusthaeooooy"),
    ("ςϐϑϕϖϰϱϵ\u1fbe", "σβθφπκρει"),
    (
        "ḁḃḅḇḉḋḍḏḑḓḕḗḙḛḝḟḡḣḥḧḩḫḭḯḱḳḵḷḹḻḽḿṁṃṅṇṉṋṍṏṑṓṕṗṙṛṝṟṡṣṥṧṩṫṭṯṱṳṵṷṹṻṽṿ",
        "abbbcdddddeeeeefghhhhhiikkkllllmmmnnnnoooopprrrrsssssttttuuuuuvv",
    ),
    (
        "ẁẃẅẇẉẋẍẏẑẓẕẖẗẘẙẛạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ",
        "wwwwwxxyzzzhtwysaaaaaaaaaaaaeeeeeeeeiioooooooooooouuuuuuuyyyy",
    ),
]


def _codes(ranges: str) -> list[int]:
    codes: list[int] = []
    for item in ranges.split():
        first, _, last = item.partition("-")
        codes += range(int(first, 16), int(last or first, 16) + 1)
    return codes


def _bracket(ranges: str) -> str:
    """Ranges of code points as the inside of a regular expression's bracket, escaped."""
    out = []
    for item in ranges.split():
        ends = [int(c, 16) for c in item.split("-")]
        out.append("-".join(f"\\u{c:04x}" if c <= 0xFFFF else f"\\U{c:08x}" for c in ends))
    return "".join(out)


def search_functions() -> list[str]:
    """PostgreSQL's two search functions (storage/search.py folds queries with the first)."""
    folded = "".join(f for f, _ in FOLDS)
    bases = "".join(b for _, b in FOLDS)
    if len(folded) != len(bases):
        raise ValueError("FOLDS: each letter needs its base")
    dropped = "".join(map(chr, _codes(DROPPED)))
    # E'' strings read the same whatever standard_conforming_strings says: backslashes doubled.
    separators = _bracket(SEPARATORS).replace("\\", "\\\\")
    # PL/pgSQL, not SQL: a SQL function with a FROM is run as a query of its own at each call
    # (110 µs an article where this takes 26). translate() looks each character up in its
    # list, 20 times slower than the regular expressions: only a text with a letter to fold
    # goes through it (and a token that was only dropped diacritics leaves no empty token).
    fold = f"""CREATE FUNCTION visnyk_search_fold(words text) RETURNS text
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
        AS $fold$
        DECLARE
            lowered text := lower(regexp_replace(words, E'[{separators}]+', ' ', 'g'));
        BEGIN
            IF lowered ~ '[{folded}{dropped}]' THEN
                RETURN regexp_replace(
                    translate(lowered, '{folded}{dropped}', '{bases}'), ' {{2,}}', ' ', 'g');
            END IF;
            RETURN lowered;
        END
        $fold$"""
    # Tokens numbered from 1, the summary's after a gap (the '|' no token can be), within a
    # tsvector's limits: a lexeme of at most 2,047 bytes (511 characters of up to 4 bytes),
    # positions up to 16,383, 1 MB in all (100,000 characters of summary).
    vector = """CREATE FUNCTION visnyk_search_vector(title text, summary text) RETURNS tsvector
        LANGUAGE sql IMMUTABLE PARALLEL SAFE
        AS $vector$
        SELECT coalesce(string_agg('''' || left(word, 511) || ''':' || least(n, 16383), ' '),
                        '')::tsvector
        FROM unnest(string_to_array(
            visnyk_search_fold(coalesce(title, '')) || ' | '
            || visnyk_search_fold(left(coalesce(summary, ''), 100000)),
            ' ')) WITH ORDINALITY AS t(word, n)
        WHERE word NOT IN ('', '|')
        $vector$"""
    return [fold, vector]


SEARCH_COLUMN = [
    """ALTER TABLE articles ADD COLUMN search_vector tsvector
    GENERATED ALWAYS AS (visnyk_search_vector(title, summary)) STORED""",
    "CREATE INDEX ix_articles_search_vector ON articles USING gin (search_vector)",
]


def upgrade() -> None:
    op.create_table(
        "feeds",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("etag", sa.String(512), nullable=True),
        sa.Column("last_modified", sa.String(128), nullable=True),
        sa.Column("last_attempt", sa.DateTime(), nullable=True),
        sa.Column("last_success", sa.DateTime(), nullable=True),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(1024), nullable=True),
        sa.Column("warning", sa.String(1024), nullable=True),
        sa.Column("next_check", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_feeds_next_check", "feeds", ["next_check"])
    op.create_table(
        "articles",
        sa.Column("id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("url", sa.String(2048), nullable=False, unique=True),
        sa.Column("guid", sa.String(2048), nullable=True),
        sa.Column("title_key", sa.String(40), nullable=False),
        sa.Column("title", sa.String(1024), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("image_url", sa.String(2048), nullable=True),
        sa.Column("author", sa.String(256), nullable=True),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("published", sa.DateTime(), nullable=False),
        sa.Column("first_seen", sa.DateTime(), nullable=False),
        sa.Column("updated", sa.DateTime(), nullable=False),
        sa.Column(
            "feed_id", sa.Integer(), sa.ForeignKey("feeds.id", ondelete="SET NULL"), nullable=True
        ),
    )
    op.create_index("ix_articles_guid", "articles", ["guid"])
    op.create_index("ix_articles_title_key", "articles", ["title_key"])
    op.create_table(
        "article_sections",
        sa.Column(
            "article_id",
            sa.BigInteger(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "section_id",
            sa.Integer(),
            sa.ForeignKey("sections.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_article_sections_latest", "article_sections", ["section_id", "article_id"])
    op.create_table(
        "searches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("query", sa.String(256), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for statement in FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        _check_case_folding()
        for statement in search_functions() + SEARCH_COLUMN:
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS articles_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS articles_fts")
    elif dialect == "postgresql":
        op.execute("DROP INDEX IF EXISTS ix_articles_search_vector")
        op.execute("ALTER TABLE articles DROP COLUMN IF EXISTS search_vector")
        op.execute("DROP FUNCTION IF EXISTS visnyk_search_vector(text, text)")
        op.execute("DROP FUNCTION IF EXISTS visnyk_search_fold(text)")
    op.drop_table("searches")
    op.drop_table("article_sections")
    op.drop_table("articles")
    op.drop_table("feeds")


def _check_case_folding() -> None:
    """Search lowers the case with the database's own lower(): under LC_CTYPE 'C' it would
    leave Київ as it is, and no search would find it. Better to stop here, saying why."""
    ctype = op.get_bind().exec_driver_sql("SHOW lc_ctype").scalar()
    lowered = op.get_bind().exec_driver_sql("SELECT lower('КИЇВ ÉCOLE')").scalar()
    if lowered != "київ école":
        raise RuntimeError(
            f"the database's LC_CTYPE {ctype!r} does not lower Ukrainian letters, which search "
            "needs: create the database with a UTF-8 locale, e.g. "
            "CREATE DATABASE visnyk TEMPLATE template0 ENCODING 'UTF8' LC_CTYPE 'C.UTF-8' "
            "LC_COLLATE 'C.UTF-8'"
        )
