"""What a Ukrainian message may hold in Latin letters, and the check that it holds no more.

A Ukrainian reader or editor should never meet an English word: only commands (`/schedule`),
links, @usernames, #tags, time zones they type (`Europe/Kyiv`), product names (Telegram),
«ID», technical detail quoted as code (`<code>HTTP 404</code>`), and what they typed
themselves. Tests pass a message's HTML and what the user typed; the check names the rest."""

from __future__ import annotations

import re
from collections.abc import Iterable

_CODE = re.compile(r"<code>.*?</code>|<pre>.*?</pre>", re.S)
_TAG = re.compile(r"<[^>]+>")
_ALLOWED = [
    re.compile(r"https?://\S+"),  # links
    re.compile(r"(?<![\w/])/[a-z_]+(?:@\w+)?"),  # commands
    re.compile(r"@\w+"),  # usernames, channels
    re.compile(r"#[\w-]+"),  # sections' tags, as an editor types them
    re.compile(r"\b[A-Z][a-z]+(?:/[A-Za-z_]+)+\b"),  # time zones: Europe/Kyiv
    re.compile(r"&[a-z]+;"),  # HTML entities
    re.compile(r"\b(?:Telegram|UTC|ID)\b"),
]
_LATIN = re.compile(r"[A-Za-z]+")


def latin_words(text_html: str, typed: Iterable[str] = ()) -> list[str]:
    """The Latin-letter words in a message that none of the allowed kinds explains."""
    text = _CODE.sub(" ", text_html)
    text = _TAG.sub(" ", text)
    for own in sorted(typed, key=len, reverse=True):
        text = text.replace(own, " ")
    for pattern in _ALLOWED:
        text = pattern.sub(" ", text)
    return _LATIN.findall(text)


def assert_ukrainian(text_html: str, typed: Iterable[str] = ()) -> None:
    words = latin_words(text_html, typed)
    assert not words, f"English in a Ukrainian message: {words} in {text_html!r}"
