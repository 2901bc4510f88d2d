"""Plain text out of the HTML that feeds and pages put in titles and descriptions.

Text from outside is made valid for everything downstream (SQLite, orjson, Telegram): lone
surrogates (as `&#xD800;` makes them) and control characters other than tab and line breaks
are removed by `clean`. HTML is parsed with lxml's HTML parser (libxml2): linear in the input
whatever it holds, where the standard library's html.parser takes quadratic time on some
unclosed markup (`<a <a <a …`: 60 kB, half a minute) and raises on `<![x[`.
"""

from __future__ import annotations

import html as html_entities
import re

import lxml.etree  # type: ignore[import-untyped]

_SKIP = ("script", "style", "noscript", "iframe", "object", "template", "svg", "head")
_BLOCK = (
    "p",
    "br",
    "div",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "blockquote",
    "figure",
    "figcaption",
    "section",
    "article",
    "table",
    "hr",
)
# C0 controls but tab, LF and CR; DEL and the C1 controls; lone surrogates; U+FFFE, U+FFFF.
_INVALID = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_TAG = re.compile(r"<[^<>]*>")
_CHARREF = re.compile(r"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));?")
# What feeds append after the text: "Читати далі", "The post … appeared first on …", "[…]".
_TRAILERS = re.compile(
    r"(?:\s*(?:читати|читайте) (?:далі|повністю|більше)\W*$"
    r"|\s*детальніше\W*$|\s*read (?:more|the full story)\W*$|\s*continue reading\W*$"
    r"|\s*the post .{1,300} appeared first on .{1,200}$|\s*\[(?:…|\.\.\.)\]\s*$)",
    re.IGNORECASE,
)
TRAILER_WINDOW = 2000  # trailers are looked for in the last this many characters
MAX_TRAILERS = 4  # at most this many, one after another
# Words one of the trailers has within the text's last characters: most descriptions have
# none, and are left without running the expression above.
_MARKERS = ("читати", "читайте", "детальніше", "read ", "continue reading", "appeared first", "[")
MARKER_WINDOW = 240


def clean(text: str) -> str:
    """`text` without what SQLite, JSON or Telegram refuse or readers cannot see: lone
    surrogates, control characters (tab and line breaks are kept), U+FFFE and U+FFFF."""
    return _INVALID.sub("", text)


def charref(hexadecimal: str | None, decimal: str | None) -> str:
    """A numeric character reference as it should stand: the same character when XML allows it
    in text (not NUL or other controls but tab and line breaks, not a surrogate, not beyond
    U+10FFFF), the Windows-1252 character HTML means by 128-159, or nothing."""
    digits = (hexadecimal or decimal or "").lstrip("0") or "0"
    if len(digits) > 8:
        return ""
    value = int(digits, 16 if hexadecimal else 10)
    if 0x80 <= value <= 0x9F:
        try:
            value = ord(bytes([value]).decode("cp1252"))
        except UnicodeDecodeError:
            return ""
    allowed = (
        value in (0x9, 0xA, 0xD)
        or 0x20 <= value <= 0x7E
        or 0xA0 <= value <= 0xD7FF
        or 0xE000 <= value <= 0xFFFD
        or 0x10000 <= value <= 0x10FFFF
    )
    return f"&#x{value:X};" if allowed else ""


def _charref(m: re.Match[str]) -> str:
    return charref(m.group(1), m.group(2))


def _markup_text(html: str) -> str:
    parser = lxml.etree.HTMLParser(
        encoding="utf-8", remove_comments=True, remove_pis=True, no_network=True
    )  # one per call: cheap (a microsecond), and nothing shared between ingest's threads
    try:
        root = lxml.etree.HTML(html.encode("utf-8"), parser)
    except (lxml.etree.LxmlError, ValueError):
        root = None
    if root is None:
        return html_entities.unescape(_TAG.sub(" ", html))  # nothing parsed: tags dropped
    lxml.etree.strip_elements(root, *_SKIP, with_tail=False)
    for element in root.iter(*_BLOCK):
        element.text = " " + (element.text or "")
        element.tail = " " + (element.tail or "")
    return "".join(root.itertext())


def html_to_text(html: str) -> str:
    """Tags stripped (script and style with their content), entities decoded, spaces folded;
    paragraphs become single spaces. Always clean text."""
    html = clean(html)
    if "<" in html or "&" in html:
        html = clean(_markup_text(_CHARREF.sub(_charref, html)))
    return " ".join(html.replace("\xa0", " ").replace("\u200b", "").split())


def strip_trailers(text: str) -> str:
    """Drop "Read more"-style endings that feeds append to descriptions."""
    end = text[-MARKER_WINDOW:].casefold()
    if not any(marker in end for marker in _MARKERS):
        return text.rstrip()
    head, tail = text[:-TRAILER_WINDOW], text[-TRAILER_WINDOW:]
    for _ in range(MAX_TRAILERS):
        shorter = _TRAILERS.sub("", tail).rstrip()
        if shorter == tail:
            break
        tail = shorter
    return (head + tail).rstrip() if head else tail
