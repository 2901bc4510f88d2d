"""Telegram's HTML parse mode, as strict as the Bot API: text and entities, or the error it gives.

Only the tags Telegram allows, properly nested; `<`, `>` and `&` outside markup must be escaped,
and the only named entities are &lt; &gt; &amp; &quot;. Lengths count UTF-16 code units, as
Telegram's entity offsets do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
ALLOWED = set(SIMPLE) | {"a", "span", "tg-emoji"}
NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_TAG = re.compile(
    r"<(/?)([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[a-zA-Z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>]+))?)*)\s*>"
)
_ATTR = re.compile(r"([a-zA-Z-]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
_ENTITY = re.compile(r"&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|([a-zA-Z]+));")


class HtmlError(ValueError):
    """The description Telegram would answer with, after 'Bad Request: '."""


def _fail(problem: str) -> HtmlError:
    return HtmlError(f"can't parse entities: {problem}")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@dataclass
class _Open:
    tag: str
    offset: int
    attrs: dict[str, str] = field(default_factory=dict)


def _decode(text: str, at: int) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) or m.group(2):
            return chr(int(m.group(1) or m.group(2), 16 if m.group(2) else 10))
        if m.group(3) not in NAMED:
            raise _fail(f"Unsupported character entity &{m.group(3)}; at byte offset {at}")
        return NAMED[m.group(3)]

    return _ENTITY.sub(one, text)


def parse(source: str) -> tuple[str, list[dict[str, object]]]:
    """Plain text and entities of an HTML-formatted message, or HtmlError."""
    out: list[str] = []
    length = 0
    stack: list[_Open] = []
    entities: list[dict[str, object]] = []
    i = 0
    while i < len(source):
        ch = source[i]
        byte_at = len(source[:i].encode())
        if ch == "<":
            m = _TAG.match(source, i)
            if not m:
                raise _fail(f"Unclosed start tag at byte offset {byte_at}")
            closing, tag, attr_text = m.group(1) == "/", m.group(2).lower(), m.group(3)
            if tag not in ALLOWED:
                kind = "end" if closing else "start"
                raise _fail(f'Unsupported {kind} tag "{tag}" at byte offset {byte_at}')
            if closing:
                if not stack or stack[-1].tag != tag:
                    expected = stack[-1].tag if stack else ""
                    raise _fail(
                        f"Unmatched end tag at byte offset {byte_at}, "
                        f'expected "</{expected}>", found "</{tag}>"'
                    )
                opened = stack.pop()
                entity = _entity(opened, length)
                if entity is not None:
                    entities.append(entity)
            else:
                attrs = {}
                for am in _ATTR.finditer(attr_text):
                    value = am.group(2) or am.group(3) or am.group(4) or ""
                    attrs[am.group(1).lower()] = _decode(value, byte_at)
                _check_attrs(tag, attrs, stack, byte_at)
                stack.append(_Open(tag, length, attrs))
            i = m.end()
            continue
        if ch == ">":
            raise _fail(f"Unescaped '>' at byte offset {byte_at}")
        if ch == "&":
            m = _ENTITY.match(source, i)
            if not m:
                raise _fail(f"Character '&' must be escaped at byte offset {byte_at}")
            text = _decode(m.group(0), byte_at)
            i = m.end()
        else:
            text = ch
            i += 1
        out.append(text)
        length += utf16_len(text)
    if stack:
        raise _fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].tag}"')
    return "".join(out), entities


def _check_attrs(tag: str, attrs: dict[str, str], stack: list[_Open], at: int) -> None:
    allowed = {
        "a": {"href"},
        "span": {"class"},
        "code": {"class"},
        "blockquote": {"expandable"},
        "tg-emoji": {"emoji-id"},
    }.get(tag, set())
    for name in attrs:
        if name not in allowed:
            raise _fail(f'Unsupported attribute "{name}" at byte offset {at}')
    if tag == "span" and attrs.get("class") != "tg-spoiler":
        raise _fail(f'Tag "span" must have class "tg-spoiler" at byte offset {at}')
    if tag == "a" and not _valid_href(attrs.get("href", "")):
        raise _fail(f'Invalid URL in "a" tag at byte offset {at}')
    if tag == "code" and "class" in attrs and (not stack or stack[-1].tag != "pre"):
        raise _fail(f"code with a language must be inside pre at byte offset {at}")


def _valid_href(href: str) -> bool:
    """What Telegram takes as a link: http(s) with a host and a port in range, tg:, mailto:;
    after entities are decoded, no spaces, quotes or angle brackets."""
    if href.startswith(("tg://", "mailto:")):
        return bool(re.fullmatch(r"\S+", href))
    if any(c.isspace() or c in '"<>' for c in href):
        return False
    try:
        parts = urlsplit(href)
        port = parts.port
    except ValueError:
        return False
    return parts.scheme in ("http", "https") and bool(parts.hostname) and port != 0


def _entity(opened: _Open, end: int) -> dict[str, object] | None:
    if end == opened.offset:
        return None
    entity: dict[str, object] = {"offset": opened.offset, "length": end - opened.offset}
    if opened.tag == "a":
        entity |= {"type": "text_link", "url": opened.attrs["href"]}
    elif opened.tag == "span":
        entity["type"] = "spoiler"
    elif opened.tag == "tg-emoji":
        entity |= {"type": "custom_emoji", "custom_emoji_id": opened.attrs.get("emoji-id", "")}
    elif opened.tag == "blockquote" and "expandable" in opened.attrs:
        entity["type"] = "expandable_blockquote"
    else:
        entity["type"] = SIMPLE[opened.tag]
    return entity
