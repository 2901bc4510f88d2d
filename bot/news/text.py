"""Plain text out of the HTML that feeds put in titles and descriptions."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "iframe", "object", "template", "svg", "head"})
_BLOCK = frozenset(
    {"p", "br", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote",
     "figure", "figcaption", "section", "article", "table", "hr"}
)  # fmt: skip
# What feeds append after the text: "Читати далі", "The post … appeared first on …", "[…]".
_TRAILERS = re.compile(
    r"(?:\s*(?:читати|читайте) (?:далі|повністю|більше)\W*$"
    r"|\s*детальніше\W*$|\s*read (?:more|the full story)\W*$|\s*continue reading\W*$"
    r"|\s*the post .{1,300} appeared first on .{1,200}$|\s*\[(?:…|\.\.\.)\]\s*$)",
    re.IGNORECASE,
)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in _BLOCK:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """Tags stripped (script and style with their content), entities decoded, spaces folded;
    paragraphs become single spaces."""
    if "<" not in html and "&" not in html:
        return " ".join(html.split())
    parser = _Text()
    parser.feed(html)
    parser.close()
    text = "".join(parser.parts).replace("\xa0", " ").replace("\u200b", "")
    return " ".join(text.split())


def strip_trailers(text: str) -> str:
    """Drop "Read more"-style endings that feeds append to descriptions."""
    previous = None
    while previous != text:
        previous, text = text, _TRAILERS.sub("", text).rstrip()
    return text
