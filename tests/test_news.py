"""The pure parts of news in: identity, dates, text, summaries, search terms, schedules; and
how each takes hostile input (URLs, dates, text, XML, addresses, encodings)."""

from __future__ import annotations

import datetime as dt
import gzip
import re
import time
import zlib
from zoneinfo import ZoneInfo

import pytest

from bot.news.dates import from_struct, parse_date
from bot.news.decode import PIECE, Decoder, Undecodable
from bot.news.defuse import defuse
from bot.news.fetch import retry_after
from bot.news.hosts import Hosts, Refusal, address_refusal
from bot.news.identity import canonical_url, title_key
from bot.news.stem import search_terms, stem
from bot.news.story import sections_for
from bot.news.summary import language_of, sentences, summarise
from bot.news.text import clean, html_to_text, strip_trailers
from bot.schedule import MAX_BACKOFF, next_feed_check
from bot.urls import checked

KYIV = ZoneInfo("Europe/Kyiv")
UTC = dt.UTC


@pytest.mark.parametrize(
    ("url", "canonical"),
    [
        (
            "HTTPS://WWW.Example.UA/News/1?utm_source=tg&utm_medium=x",
            "https://www.example.ua/News/1",
        ),
        ("https://example.ua:443/a?id=5&fbclid=abc&gclid=d#comments", "https://example.ua/a?id=5"),
        ("http://example.ua:8080/a?b=1&a=2", "http://example.ua:8080/a?b=1&a=2"),
        ("https://example.ua", "https://example.ua/"),
        ("https://example.ua./a?yclid=1&mc_cid=2", "https://example.ua/a"),
    ],
)
def test_canonical_url(url: str, canonical: str) -> None:
    assert canonical_url(url) == canonical


def test_title_key_ignores_case_quotes_punctuation() -> None:
    assert title_key("«Зеленський» заявив: ЄС — з нами!") == title_key(
        '"зеленський"  заявив єс з нами'
    )
    assert title_key("Прем’єр") == title_key("прем'єр") == title_key("ПРЕМʼЄР")
    assert title_key("Зеленський заявив") != title_key("Зеленський не заявив")


@pytest.mark.parametrize(
    ("raw", "utc"),
    [
        ("29 квітня 2024 18:00", (2024, 4, 29, 15, 0)),
        ("29 квітня 2024 р., 18:00", (2024, 4, 29, 15, 0)),
        ("29 квітня 2024 року о 18:00", (2024, 4, 29, 15, 0)),
        ("1 січня 2025", (2024, 12, 31, 22, 0)),
        ("Пн, 29 кві 2024 18:00:00 +0300", (2024, 4, 29, 15, 0)),
        ("Mon, 29 Apr 2024 15:00:00 GMT", (2024, 4, 29, 15, 0)),
        ("Mon, 29 Apr 2024 15:00:00 -0000", (2024, 4, 29, 15, 0)),
        ("Mon, 29 Apr 2024 18:00:00", (2024, 4, 29, 15, 0)),
        ("2024-04-29T18:00:00+03:00", (2024, 4, 29, 15, 0)),
        ("2024-04-29 18:00", (2024, 4, 29, 15, 0)),
        ("29.04.2024 18:00", (2024, 4, 29, 15, 0)),
        # Winter time: Kyiv is UTC+2.
        ("15 грудня 2026 09:00", (2026, 12, 15, 7, 0)),
    ],
)
def test_dates(raw: str, utc: tuple[int, ...]) -> None:
    assert parse_date(raw, KYIV) == dt.datetime(*utc, tzinfo=UTC)


@pytest.mark.parametrize("raw", ["", None, "вчора", "31 лютого 2024 10:00", "29 брудня 2024"])
def test_bad_dates(raw: str | None) -> None:
    assert parse_date(raw, KYIV) is None


def test_html_to_text() -> None:
    assert html_to_text("&laquo;Слово&raquo;&nbsp;і&#8217;так &amp; ще") == "«Слово» і’так & ще"
    assert html_to_text("<p>Один.</p><script>alert(1)</script><p>Два<br>три</p>") == "Один. Два три"
    assert html_to_text("a < b &amp; c") == "a < b & c"
    assert strip_trailers("Текст новини. Читати далі »") == "Текст новини."
    assert strip_trailers("Text. The post Text appeared first on Site.") == "Text."
    assert strip_trailers("Текст [...]") == "Текст"


def test_ukrainian_sentences_respect_abbreviations_and_initials() -> None:
    text = (
        "Про це повідомив В. Зеленський. Згідно зі ст. 5 ч. 2 Закону у 2024 р. бюджет склав "
        "1,5 млн грн. На вул. Хрещатик т. зв. «акція» пройшла. У 2020–2021 рр. було 5 тис. "
        "учасників."
    )
    assert sentences(text) == [
        "Про це повідомив В. Зеленський.",
        "Згідно зі ст. 5 ч. 2 Закону у 2024 р. бюджет склав 1,5 млн грн.",
        "На вул. Хрещатик т. зв. «акція» пройшла.",
        "У 2020–2021 рр. було 5 тис. учасників.",
    ]


def test_english_sentences() -> None:
    text = "Mr. Smith met Dr. J. Doe in Washington D.C. on Jan. 5. It rained. The U.S. agreed."
    assert sentences(text, "en") == [
        "Mr. Smith met Dr. J. Doe in Washington D.C. on Jan. 5.",
        "It rained.",
        "The U.S. agreed.",
    ]
    assert language_of("The U.S. agreed.") == "en"
    assert language_of("Уряд ухвалив (Cabinet) рішення.") == "uk"


def test_summaries_are_whole_sentences_within_the_limit() -> None:
    long = " ".join(f"Речення номер {i} про важливу подію у ст. {i} закону." for i in range(20))
    summary = summarise(long)
    assert summary is not None
    assert summary.count("Речення") == 3
    assert len(summary) <= 400
    assert summary.endswith("закону.")
    # The feed's cut-off last sentence is dropped; a text with no whole sentence gives nothing.
    assert summarise("Перше речення ціле. Друге обрізане на півс…") == "Перше речення ціле."
    assert summarise("Це новина, яку обрізали на півслові, бо стрічка ...") is None
    assert summarise("Фільм українського режисера") is None
    assert summarise("Коротко. Ясно.") == "Коротко. Ясно."
    # Never more than ~400 characters, never a cut inside a sentence.
    sentence = "Це дуже довге речення " + "з багатьма словами " * 18 + "і крапкою."
    two = summarise(sentence + " " + sentence)
    assert two == sentence


@pytest.mark.parametrize(
    ("query", "terms"),
    [
        ("Зеленського", [["зеленськ"]]),
        ("Зеленський", [["зеленськ"]]),
        ("Києві", [["києв", "київ"]]),
        ("Київ", [["київ", "києв"]]),
        ("Львова", [["львов", "львів"]]),
        ("війни", [["війн"]]),
        ("ракетами по Харкову", [["ракет", "ракіт"], ["харков", "харків"]]),
        ("EU sanctions", [["eu"], ["sanction"]]),
        ("по", [["по"]]),
    ],
)
def test_search_terms(query: str, terms: list[list[str]]) -> None:
    assert search_terms(query) == terms


def test_stem_keeps_short_words() -> None:
    assert stem("ЄС") == "єс"
    assert stem("НБУ") == "нбу"


def test_sections_for_feeds_and_categories() -> None:
    by_category = {"world": ["Світ"], "economy": ["Економіка", "Бізнес"]}
    assert sections_for(["світ "], [], by_category) == {"world"}
    assert sections_for(["БІЗНЕС", "Київ"], ["ukraine"], by_category) == {"ukraine", "economy"}
    assert sections_for(["Спорт"], [], by_category) == frozenset()


def test_feed_schedule() -> None:
    now = dt.datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    ok = next_feed_check(now, interval=300, key="https://a")
    assert dt.timedelta(seconds=270) <= ok - now <= dt.timedelta(seconds=330)
    assert next_feed_check(now, interval=300, key="https://a") == ok  # stable jitter
    assert next_feed_check(now, interval=300, key="https://b") != ok
    third = next_feed_check(now, interval=300, failures=3, key="https://a")
    assert dt.timedelta(seconds=2160) <= third - now <= dt.timedelta(seconds=2640)
    capped = next_feed_check(now, interval=300, failures=30, key="https://a")
    assert capped - now <= MAX_BACKOFF * 1.1
    waited = next_feed_check(now, interval=300, failures=1, retry_after=7200, key="https://a")
    assert waited - now == dt.timedelta(seconds=7200)


# --- hostile input: each pure function takes anything and never raises --------------------------

NASTY_URLS = [
    "https://news.example.ua:99999/a", "http://[::1", "http://[::1]:8080/a?utm_source=x#f",
    "https://user:pw@news.example.ua/a", 'https://news.example.ua/a"b<c>', "javascript:alert(1)",
    "https://НОВИНИ.укр/Стаття?q=так&utm_medium=1", "http://news.example.ua:0/", "", " ",
    "https://news.example.ua/%zz%41?a=%ff", "https://[fe80::1%25eth0]/", "http://x..y/",
    "https://news.example.ua/\ud800", "https://news.example.ua/a\x00b",
]  # fmt: skip


@pytest.mark.parametrize("url", NASTY_URLS)
def test_canonical_url_never_raises_and_keeps_checked_urls_valid(url: str) -> None:
    assert isinstance(canonical_url(url), str)
    good = checked(url)
    if good is not None:
        canonical = canonical_url(good)
        assert checked(canonical) == canonical, canonical


def test_canonical_url_keeps_ipv6_brackets() -> None:
    assert canonical_url("http://[::1]:8080/a?utm_source=x") == "http://[::1]:8080/a"


@pytest.mark.parametrize(
    "raw",
    [
        "Mon, 01 Jan 0001 00:00:00 +0200", "Fri, 31 Dec 9999 23:00:00 -0500",
        "0001-01-01T00:00:00+02:00", "9999-12-31T23:59:59-05:00", "1 січня 0001 00:00 +02:00",
        "31.12.9999 23:59 -05:00", "29.04.2024 18:00 +99:99", "Mon, 01 Jan 1 00:00:00 +9999",
        "Mon, 01 Jan 99999999999999999999 00:00:00 GMT", "1" * 5000, "1969-07-20T20:17:00Z",
        "Mon, 32 Foo 2024 25:61:61 +0000", "\ud800", "\x00",
    ],
)  # fmt: skip
def test_impossible_dates_are_no_dates(raw: str) -> None:
    assert parse_date(raw, KYIV) is None


def test_from_struct_takes_anything() -> None:
    assert from_struct(time.struct_time((2024, 4, 29, 15, 0, 0, 0, 120, 0))) == dt.datetime(
        2024, 4, 29, 15, 0, tzinfo=UTC
    )
    for bad in [(1, 1, 1, 0, 0, 0, 0, 1, 0), (10**20, 1, 1, 0, 0, 0, 0, 1, 0), (2024, 13)]:
        assert from_struct(bad) is None  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["²", "٣", "9" * 400, "Fri, 31 Dec 99999 23:59:59 GMT", "x"])
def test_retry_after_takes_anything(value: str) -> None:
    seconds = retry_after(value, dt.datetime(2026, 11, 27, tzinfo=UTC))
    assert seconds is None or seconds >= 0


def test_text_is_cleaned_of_what_nothing_downstream_accepts() -> None:
    assert clean("a\x00b\x01c\td\ne\ud800f\udfffg\x7fh\x85i\ufffe") == "abc\td\nefghi"
    assert html_to_text("Ціни &#xD800;зросли&#0; на&#x1; 5%\x00") == "Ціни зросли на 5%"
    assert html_to_text("Тире &#150; і лапки &#8217;") == "Тире – і лапки ’"
    assert html_to_text("<![x[ y ]]>Текст") == "Текст"  # html.parser raised AssertionError


def test_text_takes_linear_time_on_hostile_markup() -> None:
    start = time.perf_counter()
    for nasty in ("<a " * 50_000, "<!--x" * 50_000, '<a title="' * 50_000, "</" * 50_000):
        html_to_text(nasty)
    assert strip_trailers("Текст." + " […]" * 50_000) == "Текст." + " […]" * 49_996
    assert summarise("Речення без кінця, " * 50_000) is None
    assert time.perf_counter() - start < 2


def test_defuse_removes_entity_declarations_and_bad_references() -> None:
    feed = (
        b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "<b">'
        b'<!ENTITY big "aaaa"><!ENTITY % p SYSTEM "http://x/">]>'
        b"<rss><t>&big; &#xD800; &#0; &#65; &#x1F600; &#150; &#99999999999;</t></rss>"
    )
    assert defuse(feed) == (
        b'<?xml version="1.0"?><!DOCTYPE rss [<b">]>'
        b"<rss><t>&big;   &#x41; &#x1F600; &#x2013; </t></rss>"
    )


@pytest.mark.parametrize(
    ("address", "refusal"),
    [
        ("8.8.8.8", None), ("2001:4860:4860::8888", None), ("64:ff9b::808:808", None),
        ("127.0.0.1", Refusal.LOOPBACK), ("::1", Refusal.LOOPBACK),
        ("::ffff:127.0.0.1", Refusal.LOOPBACK), ("64:ff9b::7f00:1", Refusal.LOOPBACK),
        ("2002:7f00:1::", Refusal.LOOPBACK),  # 6to4 of 127.0.0.1
        ("10.0.0.1", Refusal.PRIVATE), ("172.16.5.4", Refusal.PRIVATE),
        ("192.168.1.1", Refusal.PRIVATE), ("fd00::1", Refusal.PRIVATE),
        ("100.64.0.1", Refusal.PRIVATE), ("::ffff:10.0.0.1", Refusal.PRIVATE),
        ("::ffff:8.8.8.8", Refusal.NOT_PUBLIC),
        ("169.254.169.254", Refusal.LINK_LOCAL), ("fe80::1", Refusal.LINK_LOCAL),
        ("fe80::1%eth0", Refusal.LINK_LOCAL), ("0.0.0.0", Refusal.NOT_PUBLIC),
        ("::", Refusal.NOT_PUBLIC), ("224.0.0.1", Refusal.NOT_PUBLIC),
        ("ff02::1", Refusal.NOT_PUBLIC), ("240.0.0.1", Refusal.NOT_PUBLIC),
        ("255.255.255.255", Refusal.NOT_PUBLIC), ("not an address", Refusal.NOT_PUBLIC),
    ],
)  # fmt: skip
def test_address_refusals(address: str, refusal: Refusal | None) -> None:
    assert address_refusal(address) is refusal


def test_trusted_hosts_configured_and_learned() -> None:
    hosts = Hosts(["http://127.0.0.1:8080/rss", "https://Feeds.Example.UA/x"], ["*.site.ua"])
    assert hosts.configured("127.0.0.1")
    assert hosts.configured("feeds.example.ua.")
    assert hosts.configured("site.ua")
    assert hosts.configured("www.news.site.ua")
    assert not hosts.configured("evilsite.ua")
    assert not hosts.configured("site.ua.evil")
    assert not hosts.trusted("www.example.ua")
    hosts.learn("https://Feeds.Example.UA/x", "https://www.example.ua/rss.xml")
    assert hosts.trusted("www.example.ua")
    assert not hosts.configured("www.example.ua")
    hosts.learn("https://Feeds.Example.UA/x", "https://cdn.example.ua/rss.xml")  # it moved again
    assert not hosts.trusted("www.example.ua")
    assert hosts.trusted("cdn.example.ua")
    assert hosts.page_refusal("https://cdn.example.ua/a") is None
    assert hosts.page_refusal("https://other.example/a") is Refusal.UNTRUSTED
    assert hosts.page_refusal("ftp://cdn.example.ua/a") is Refusal.NOT_WEB
    assert hosts.open_refusal("https://other.example/a") is None  # its addresses: when connecting
    assert hosts.open_refusal("http://10.1.2.3/") is Refusal.PRIVATE
    assert hosts.open_refusal("http://127.0.0.1:8080/page") is None  # configured


def _decoded(encodings: list[str], body: bytes, step: int = 1000) -> bytes:
    decoder, out = Decoder(encodings), []
    for i in range(0, len(body), step):
        for piece in decoder.feed(body[i : i + step]):
            assert len(piece) <= PIECE
            out.append(piece)
    decoder.finish()
    return b"".join(out)


def test_content_decoding() -> None:
    data = bytes(range(256)) * 2000 + "Новина".encode() * 50_000
    gz = gzip.compress(data)
    packer = zlib.compressobj(6, zlib.DEFLATED, -15)
    raw = packer.compress(data) + packer.flush()
    assert _decoded(["gzip"], gz) == data
    assert _decoded(["x-gzip"], gzip.compress(data[:10]) + gzip.compress(data[10:]), 7) == data
    assert _decoded(["gzip"], gz + b"<html>trailing junk") == data
    cut = _decoded(["gzip"], gz[: len(gz) // 2])  # a body cut short: taken as far as it goes
    assert len(cut) > 0
    assert cut == data[: len(cut)]
    assert _decoded(["deflate"], zlib.compress(data), 1) == data
    assert _decoded(["deflate"], raw, 1) == data
    assert _decoded(["gzip", "gzip"], gzip.compress(gz)) == data
    assert _decoded(["deflate", " GZIP "], gzip.compress(zlib.compress(data))) == data
    assert _decoded(["identity"], data) == _decoded([], data) == data
    for encodings, error in [
        (["br"], "unsupported Content-Encoding: br"),
        (["gzip"] * 4, "4 Content-Encodings stacked (at most 3)"),
    ]:
        with pytest.raises(Undecodable, match=re.escape(error)):
            Decoder(encodings)
    with pytest.raises(Undecodable, match="broken gzip data"):
        _decoded(["gzip"], b"\x1f\x8b not gzip")


def test_a_bomb_is_decoded_no_further_than_asked() -> None:
    bomb = gzip.compress(bytes(50 << 20))
    decoder, taken = Decoder(["gzip"]), 0
    for piece in decoder.feed(bomb):
        taken += len(piece)
        if taken > 1 << 20:
            break
    assert taken <= (1 << 20) + PIECE
