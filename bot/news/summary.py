"""Summaries of 1-3 whole sentences, split the Ukrainian or the English way."""

from __future__ import annotations

import re

import pysbd
import tokenize_uk

LIMIT = 400  # characters a summary aims to stay within
HARD_LIMIT = 700  # one sentence longer than this is no summary at all
# Only the start of a text is split into sentences: a summary never reaches past LIMIT after a
# first sentence of at most HARD_LIMIT, and splitting is far from linear (a megabyte of text
# took minutes), so whatever lies beyond this cannot change the summary and is not looked at.
SOURCE_LIMIT = 4 * HARD_LIMIT
_WORD = re.compile(r"\S+")
_END = re.compile(r"[.!?]['\"»”’)\]]*$")
_TRUNCATED = re.compile(r"(?:\.\.\.|…|\[\s*(?:…|\.\.\.)\s*\])['\"»”’)\]]*$")
# Anything that might end a sentence; an over-count, since abbreviations match too.
_CANDIDATE = re.compile(r"[.!?…]['\"»”’)\]]*\s+(?=[\"«“'(]?[A-ZА-ЯІЇЄҐ0-9])")
# tokenize-uk's 2016 engine leaves these inside one sentence: "Тут! А там?"
_EXCLAIM = re.compile(r"(?<=[!?…])(?<!\.\.\.)['\"»”’)\]]*\s+(?=[\"«“'(]?[A-ZА-ЯІЇЄҐ])")
_CYRILLIC = re.compile(r"[а-яіїєґё]", re.IGNORECASE)
_LATIN = re.compile(r"[a-z]", re.IGNORECASE)


def language_of(text: str) -> str:
    """`uk` when the letters are mostly Cyrillic, else `en`."""
    cyrillic = len(_CYRILLIC.findall(text))
    return "uk" if cyrillic >= len(_LATIN.findall(text)) else "en"


def sentences(text: str, language: str | None = None) -> list[str]:
    """The text's sentences; Ukrainian abbreviations and initials (ст., р., млн, В. Зеленський)
    do not end one."""
    language = language or language_of(text)
    if language == "uk":
        # The 2016 engine: the same splits on news text as the default (LanguageTool) one, at a
        # tenth of the time (bench/ingest.py), once "!", "?" and "…" are taken care of.
        found = [
            part
            for sentence in tokenize_uk.tokenize_sents(text, legacy=True)
            for part in _EXCLAIM.split(sentence)
        ]
    else:
        # A new segmenter per call: pysbd keeps state while it works, and ingest runs in threads.
        found = pysbd.Segmenter(language="en", clean=False).segment(text)
    return [s.strip() for s in found if s.strip()]


def is_complete(sentence: str) -> bool:
    """Ends as a sentence does, and not with the ellipsis of a cut-off text."""
    return bool(_END.search(sentence)) and not _TRUNCATED.search(sentence)


def _start(text: str) -> str:
    """The text's first SOURCE_LIMIT characters or so, whitespace folded, whole words."""
    if len(text) <= SOURCE_LIMIT:
        return " ".join(text.split())
    words: list[str] = []
    size = 0
    for m in _WORD.finditer(text):
        words.append(m.group())
        size += len(words[-1]) + 1
        if size > SOURCE_LIMIT:
            break
    return " ".join(words)[:SOURCE_LIMIT]


def summarise(text: str, *, limit: int = LIMIT) -> str | None:
    """1-3 whole sentences from the start of `text`, within about `limit` characters; None when
    the text has no whole sentence (then the article page is the better source)."""
    text = _start(text)
    if not text:
        return None
    if len(text) <= limit and len(_CANDIDATE.findall(text)) <= 2 and is_complete(text):
        return text  # at most three sentences already: no need to split
    parts = sentences(text)
    while parts and not is_complete(parts[-1]):
        parts.pop()  # a feed's cut-off last sentence
    if not parts or len(parts[0]) > HARD_LIMIT:
        return None
    chosen = [parts[0]]
    for part in parts[1:3]:
        if len(" ".join([*chosen, part])) > limit:
            break
        chosen.append(part)
    return " ".join(chosen)
