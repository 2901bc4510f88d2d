"""Feed XML made harmless before it is parsed: no entity declarations, no character references
to what is not a character.

feedparser keeps "safe" entity declarations (a plain value, no references) for its loose
parser, which expands them without a limit: a 110 kB feed declaring one 10 kB entity and naming
it 20,000 times cost 600 MB and 4 s, and 5 MB would cost more memory than any machine has
(quadratic blow-up; the exponential "billion laughs" is already refused). External entities
(`SYSTEM "file:///etc/passwd"`) are never read by either parser, and are removed here too.
A reference like `&#xD800;` (a surrogate) or `&#x110000;` made feedparser raise, failing the
whole feed; such references are removed, and 128-159 become the Windows-1252 characters HTML
means by them. Works on the UTF-8 feedparser itself would parse (`feedparser.encodings`), so no
declared charset can hide a declaration from it.
"""

from __future__ import annotations

import re

from bot.news.text import charref

# Anywhere, not only before the first element: a value holding "<b" would end a prolog found
# by a pattern, and hide the declarations after it.
_ENTITY = re.compile(rb"<!ENTITY[^<>]*>?")
_CHARREF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")


def _charref(m: re.Match[bytes]) -> bytes:
    hexadecimal, decimal = m.group(1), m.group(2)
    fixed = charref(
        hexadecimal.decode("ascii") if hexadecimal else None,
        decimal.decode("ascii") if decimal else None,
    )
    return fixed.encode("ascii")


def defuse(utf8: bytes) -> bytes:
    """The UTF-8 feed `utf8` without entity declarations and bad character references."""
    return _CHARREF.sub(_charref, _ENTITY.sub(b"", utf8))
