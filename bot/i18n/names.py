"""How the bot addresses a reader by name: in Ukrainian, a first name takes the vocative
(«Вітаю, Оксано!», never «Вітаю, Оксана!»). The vocative comes from pymorphy3's Ukrainian
dictionary; where it cannot be had reliably (a name the dictionary does not know as a first
name, one it reads two ways, Latin letters, two words, an emoji), the greeting goes without a
name rather than with a wrong form."""

from __future__ import annotations

import re
from functools import cache, lru_cache
from typing import Any

_CYRILLIC_NAME = re.compile(r"[А-ЩЬЮЯЄІЇҐа-щьюяєіїґ]+(?:['’ʼ][А-ЩЬЮЯЄІЇҐа-щьюяєіїґ]+)?")
MAX_NAME = 40


@cache
def _analyzer() -> Any:
    import pymorphy3  # noqa: PLC0415 - loaded on the first greeting, not at import

    return pymorphy3.MorphAnalyzer(lang="uk")


@lru_cache(maxsize=4096)
def vocative(name: str) -> str | None:
    """`name` (a first name as Telegram gives it) in the vocative, or None when that cannot
    be had reliably: every reading of it as a first name in the nominative must agree."""
    name = name.strip()
    if len(name) > MAX_NAME or not _CYRILLIC_NAME.fullmatch(name):
        return None
    forms = set()
    for parse in _analyzer().parse(name):
        grammemes = parse.tag.grammemes
        if {"Name", "nomn"} <= grammemes and "Fixd" not in grammemes:
            inflected = parse.inflect({"voct"})
            if inflected is not None:
                forms.add(inflected.word)
    if len(forms) != 1:
        return None
    word: str = forms.pop()
    return word[:1].upper() + word[1:] if name[:1].isupper() else word


def address(first_name: str | None, language: str) -> str | None:
    """The name to greet a reader by in `language`, or None to greet without one."""
    if not first_name or not first_name.strip():
        return None
    if language == "uk":
        return vocative(first_name)
    name = first_name.strip()
    return name if len(name) <= MAX_NAME else None
