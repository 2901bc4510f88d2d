"""Find sections by what a reader types: a slug or a title in either language, any case."""

from __future__ import annotations

import re
from collections.abc import Sequence

from storage.types import Section

ALL_WORDS = frozenset({"all", "усі", "все", "всі", "усе"})


_TAG = re.compile(r"[\w-]+")


def _key(text: str) -> str:
    """What a name is matched by: case, apostrophes, a leading '#', and `_` standing for a
    space (as in a tag, `#наука_і_техніка`) do not matter."""
    text = text.replace("’", "'").replace("ʼ", "'").replace("_", " ").casefold().lstrip("#")
    return " ".join(text.split())


def find(sections: Sequence[Section], name: str) -> Section | None:
    """The section whose slug or any title is `name`, ignoring case and a leading '#'."""
    key = _key(name)
    if not key:
        return None
    for section in sections:
        if key == _key(section.slug) or key in {_key(t) for t in section.titles.values()}:
            return section
    return None


def tag(section: Section, language: str) -> str:
    """How an editor tags the section (`#світ`, `#наука_і_техніка`): its title in `language`,
    or its slug when the title cannot be one word."""
    word = "_".join(section.title(language).casefold().split())
    return word if _TAG.fullmatch(word) else section.slug


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
