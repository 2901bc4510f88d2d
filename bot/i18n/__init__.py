"""Ukrainian and English: gettext catalogs, and picking a chat's language.

Messages are written in English in the code (`t.gettext("...")`); `make messages` extracts them
with Babel into `locales/<lang>/LC_MESSAGES/visnyk.po`. The catalogs are compiled in memory when
the bot starts, so there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import gettext
import io
from pathlib import Path
from typing import Protocol

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LANGUAGES = ("uk", "en")
DOMAIN = "visnyk"
LOCALES = Path(__file__).parent / "locales"
LANGUAGE_NAMES = {"uk": "Українська", "en": "English"}
# Readers whose Telegram speaks these are most likely Ukrainian readers; everyone else who is
# not Ukrainian reads English better than Ukrainian.
_AS_UKRAINIAN = frozenset({"uk", "ru", "be"})


class Translator(Protocol):
    def gettext(self, message: str, /) -> str: ...
    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


def N_(message: str) -> str:
    """Marks a message for the catalog where it is defined; it is translated where it is shown."""
    return message


def pick_language(language_code: str | None, default: str) -> str:
    """The language for a new chat from its user's Telegram `language_code`."""
    if not language_code:
        return default
    base = language_code.lower().split("-")[0]
    if base in LANGUAGES:
        return base
    return "uk" if base in _AS_UKRAINIAN else "en"


def parse_language(text: str) -> str | None:
    """A language the user typed (`uk`, `en`, `українська`, `english`…), or None."""
    word = text.strip().casefold()
    aliases = {
        "uk": ("uk", "ua", "укр", "українська", "ukrainian"),
        "en": ("en", "eng", "англ", "англійська", "english"),
    }
    for lang, names in aliases.items():
        if word in names:
            return lang
    return None


def _load(lang: str) -> gettext.GNUTranslations:
    po = LOCALES / lang / "LC_MESSAGES" / f"{DOMAIN}.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale=lang, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


class Catalogs:
    """The compiled catalogs, one per language; load once at start-up."""

    def __init__(self, default: str = "uk") -> None:
        self.default = default
        self._translations = {lang: _load(lang) for lang in LANGUAGES}

    def get(self, language: str | None) -> Translator:
        return self._translations.get(language or self.default) or self._translations[self.default]
