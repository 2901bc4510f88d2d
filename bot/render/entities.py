"""An editor's message as Telegram HTML, built from the message's own entities.

Telegram gives a message as plain text plus entities (bold from 3 to 9, a link from 12 to 20,
offsets in UTF-16 code units). Rebuilding HTML from them, rather than reading HTML with a
regex, keeps a link's `&` a single `&`, and slicing off a command or a trailing link never
leaves a tag open: every tag this module opens, it closes, in order. Formatting a reader
would see (bold, italic, underline, strikethrough, spoiler, code, pre, blockquote, links with
a URL Telegram takes) is kept; the rest (mentions, hashtags, commands, custom emoji) becomes
plain text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass

from bot import urls

_TAGS = {
    "bold": ("<b>", "</b>"),
    "italic": ("<i>", "</i>"),
    "underline": ("<u>", "</u>"),
    "strikethrough": ("<s>", "</s>"),
    "spoiler": ("<tg-spoiler>", "</tg-spoiler>"),
    "code": ("<code>", "</code>"),
    "pre": ("<pre>", "</pre>"),
    "blockquote": ("<blockquote>", "</blockquote>"),
    "expandable_blockquote": ("<blockquote expandable>", "</blockquote>"),
}


@dataclass(frozen=True, slots=True)
class Entity:
    """What this module needs of a `telegram.MessageEntity`."""

    type: str
    offset: int  # UTF-16 code units
    length: int
    url: str | None = None


def utf16_offset(text: str, index: int) -> int:
    """The UTF-16 offset of the Python index `index` in `text`."""
    return len(text[:index].encode("utf-16-le", "surrogatepass")) // 2


def _tag(entity: Entity) -> tuple[str, str] | None:
    if entity.type == "text_link":
        url = urls.checked(entity.url)
        return (f'<a href="{urls.href(url)}">', "</a>") if url else None
    return _TAGS.get(entity.type)


def to_html(text: str, entities: Sequence[Entity], start: int = 0, end: int | None = None) -> str:
    """The part of `text` between UTF-16 offsets `start` and `end`, as HTML with the
    formatting its entities give it (clipped to the part)."""
    units = text.encode("utf-16-le", "surrogatepass")
    end = len(units) // 2 if end is None else end
    spans = []
    for e in entities:
        tag = _tag(e)
        lo, hi = max(e.offset, start), min(e.offset + e.length, end)
        if tag is not None and lo < hi:
            spans.append((lo, hi, tag))
    # Outer spans first: by start, then the longer one.
    spans.sort(key=lambda s: (s[0], -s[1]))
    bounds = sorted({start, end, *(s[0] for s in spans), *(s[1] for s in spans)})
    out: list[str] = []
    stack: list[tuple[int, int, tuple[str, str]]] = []
    pending = list(reversed(spans))
    for i, at in enumerate(bounds):
        # Close what ends here; spans that overlap it are closed and opened again after.
        if any(s[1] == at for s in stack):
            reopen = []
            while stack:
                span = stack.pop()
                out.append(span[2][1])
                if span[1] == at:
                    if not any(s[1] == at for s in stack):
                        break
                else:
                    reopen.append(span)
            for span in reversed(reopen):
                out.append(span[2][0])
                stack.append(span)
        while pending and pending[-1][0] == at:
            span = pending.pop()
            out.append(span[2][0])
            stack.append(span)
        if i + 1 < len(bounds):
            piece = units[at * 2 : bounds[i + 1] * 2].decode("utf-16-le", "replace")
            out.append(html.escape(piece, quote=False))
    while stack:
        out.append(stack.pop()[2][1])
    return "".join(out)


def python_index(text: str, offset: int) -> int:
    """The Python index of the UTF-16 offset `offset` in `text` (the end, past it)."""
    units = 0
    for index, ch in enumerate(text):
        if units >= offset:
            return index
        units += 2 if ord(ch) > 0xFFFF else 1
    return len(text)
