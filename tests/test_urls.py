"""URLs from outside: what a link may be before it goes into HTML or to Telegram."""

from __future__ import annotations

import pytest

from bot.urls import _checked, checked, href
from tests.fakes.rules import valid_url

CASES = [
    ("https://example.com/a?id=1&lang=uk", "https://example.com/a?id=1&lang=uk"),
    ("  https://example.com/a  ", "https://example.com/a"),
    ("HTTPS://Example.COM/A", "https://example.com/A"),
    ("https://example.com", "https://example.com/"),
    ('https://ex.com/a"b', "https://ex.com/a%22b"),
    ("https://ex.com/<script>", "https://ex.com/%3Cscript%3E"),
    ("https://ex.com/%zz%20%4", "https://ex.com/%25zz%20%254"),
    ("https://сайт.укр/новина 1", "https://xn--80aswg.xn--j1amh/%D0%BD%D0%BE%D0%B2%D0%B8%D0%BD%D0%B0%201"),
    ("https://[::1]:8080/x", "https://[::1]:8080/x"),
    ("https://ex.com:8443/x", "https://ex.com:8443/x"),
    ("http://ex.com:99999/", None),
    ("https://ex.com:0/", None),
    ("https://ex.com:x/", None),
    ("javascript:alert(1)", None),
    ("ftp://ex.com/", None),
    ("https:///path", None),
    ("https://u:p@ex.com/", None),
    ("https://ex..com/", None),
    ("https://-ex.com/", None),
    ('http://exa"mple.com/', None),
    ("https://ex.com/\x00", None),
    ("https://ex.com/" + "a" * 2100, None),
    ("https://" + "a" * 63 + (".b" * 100) + "/", None),  # a host over 253 characters
    ("", None),
    (None, None),
]  # fmt: skip


@pytest.mark.parametrize(("raw", "expected"), CASES)
def test_what_a_link_becomes(raw: str | None, expected: str | None) -> None:
    assert checked(raw) == expected


@pytest.mark.parametrize(("raw", "expected"), [c for c in CASES if c[0]])
def test_the_quick_path_agrees_with_the_long_one(raw: str, expected: str | None) -> None:
    assert checked(raw) == _checked(raw.strip())


@pytest.mark.parametrize(("raw", "expected"), [c for c in CASES if c[1]])
def test_every_checked_url_is_one_telegram_takes(raw: str, expected: str) -> None:
    assert valid_url(expected)


def test_href_escapes_for_an_attribute() -> None:
    assert href("https://ex.com/a?b=1&c='2'") == "https://ex.com/a?b=1&amp;c=&#x27;2&#x27;"
