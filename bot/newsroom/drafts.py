"""Reading what an editor typed: `/breaking #section… text link` into a draft built from the
message's own entities, `/post <url> #section…`, the flash number of `/recall 12` and
`/correct #12 …`, and whether a message fits Telegram's limit. Pure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from telegram import Message

from bot import sections as lookup
from bot import urls
from bot.callbacks import number
from bot.render import MAX_TEXT, visible_length
from bot.render.entities import Entity, python_index, to_html, utf16_offset
from storage.types import Payload, Section

_TAG = re.compile(r"#([\w-]+)(?:\s+|$)")


_URL = re.compile(r"(?:^|(?<=\s))(https?://\S+)$")
# /recall 12, /correct #12 text: the flash's id as the first word (ASCII digits only).


_FLASH_ID = re.compile(r"/\S+\s+#?([0-9]+)(?=\s|$)", re.ASCII)


@dataclass(frozen=True)
class Draft:
    """What an editor's /breaking says: the sections it targets (None: all), its text as safe
    HTML, and the link it ends with."""

    sections: tuple[Section, ...] | None
    body_html: str
    url: str | None


class BadDraft(ValueError):
    """Why a /breaking cannot become a flash: `reason` is "empty" or "tag"; `tag` names it."""

    def __init__(self, reason: str, tag: str = "") -> None:
        super().__init__(reason)
        self.reason, self.tag = reason, tag


def read_tags(text: str, sections: Sequence[Section]) -> tuple[tuple[Section, ...] | None, str]:
    """Leading `#section` tags (slug or title) and the text after them; None for no tags."""
    chosen, at = _tags(text, 0, sections)
    return chosen, text[at:].strip()


def _tags(
    text: str, at: int, sections: Sequence[Section]
) -> tuple[tuple[Section, ...] | None, int]:
    """The `#section` tags from index `at` on, and the index after them (and their spaces)."""
    chosen: list[Section] = []
    while at < len(text) and text[at].isspace():
        at += 1
    while match := _TAG.match(text, at):
        tag = match.group(1).lower()
        section = lookup.find(sections, tag)
        if section is None:
            raise BadDraft("tag", tag)
        if section not in chosen:
            chosen.append(section)
        at = match.end()
    return tuple(chosen) or None, at


def read_draft(
    text: str, entities: Sequence[Entity], sections: Sequence[Section], *, start: int = 0
) -> Draft:
    """An editor's `/breaking #world #ukraine text… https://…` from where the text starts
    (`start`: after the command, or after /correct's id): the sections, the text as HTML built
    from the message's entities (so the preview is exactly what readers get), and the link it
    ends with, if that is a link Telegram takes (else it stays in the text)."""
    chosen, begin = _tags(text, start, sections)
    end = len(text.rstrip())
    url = None
    trailing = next(
        (e for e in entities if e.type == "url" and e.offset + e.length == utf16_offset(text, end)),
        None,
    )
    if trailing is not None:
        link_at = python_index(text, trailing.offset)
    else:
        found = _URL.search(text, begin, end)
        link_at = found.start(1) if found else end
    if link_at >= begin and (url := urls.checked(text[link_at:end])) is not None:
        end = link_at
    while end > begin and text[end - 1].isspace():
        end -= 1
    if begin >= end:
        raise BadDraft("empty")
    body = to_html(text, entities, utf16_offset(text, begin), utf16_offset(text, end))
    return Draft(chosen, body, url)


def read_flash_id(text: str) -> tuple[int, int] | None:
    """`/recall 12` or `/correct #12 …`: the flash's id and the index after it; None when there
    is none, or it is no id a flash could have (`²`, 23 digits)."""
    found = _FLASH_ID.match(text)
    flash_id = number(found.group(1)) if found else None
    return None if found is None or flash_id is None else (flash_id, found.end())


def entities_of(message: Message) -> list[Entity]:
    """A message's entities as bot.render.entities reads them."""
    return [Entity(str(e.type), e.offset, e.length, e.url) for e in message.entities]


def read_post(
    args: Sequence[str], sections: Sequence[Section]
) -> tuple[str, tuple[Section, ...] | None]:
    """`/post <url> [#section…]`: the URL and the sections (None: every active chat)."""
    if not args or not args[0].startswith(("http://", "https://")):
        raise BadDraft("empty")
    chosen, rest = read_tags(" ".join(args[1:]), sections)
    if rest:
        raise BadDraft("empty")  # anything but tags after the link
    return args[0], chosen


def overflow(payload: Payload) -> int:
    """How many characters the longest language's message is over Telegram's limit (0: fits)."""
    longest = max(visible_length(b.text) for bs in payload.bodies.values() for b in bs)
    return max(0, longest - MAX_TEXT)
