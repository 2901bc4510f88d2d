"""Find sections by what a reader types: a slug or a title in either language, any case."""

from __future__ import annotations

import re
from collections.abc import Sequence

from storage.types import Section

ALL_WORDS = frozenset({"all", "усі", "все", "всі", "усе"})


def _key(text: str) -> str:
    return " ".join(text.replace("’", "'").replace("ʼ", "'").casefold().lstrip("#").split())


def find(sections: Sequence[Section], name: str) -> Section | None:
    """The section whose slug or any title is `name`, ignoring case and a leading '#'."""
    key = _key(name)
    if not key:
        return None
    for section in sections:
        if key == section.slug or key in {_key(t) for t in section.titles.values()}:
            return section
    return None


def resolve(sections: Sequence[Section], text: str) -> tuple[list[Section], list[str]]:
    """Sections named in `text` and the names that matched none.

    The whole text is tried first (titles may have spaces); failing that, each comma- or
    space-separated word on its own.
    """
    whole = find(sections, text)
    if whole is not None:
        return [whole], []
    found: list[Section] = []
    unknown: list[str] = []
    for word in re.split(r"[,\s]+", text.strip()):
        if not word:
            continue
        section = find(sections, word)
        if section is None:
            unknown.append(word)
        elif section not in found:
            found.append(section)
    return found, unknown


def is_all(text: str) -> bool:
    return _key(text) in ALL_WORDS
