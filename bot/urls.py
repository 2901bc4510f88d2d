"""URLs from outside, made safe to fetch, to put in HTML and to hand to Telegram.

A feed, a page or an editor can put anything in a link: quotes that end an `href`, a port of
99999, a scheme Telegram refuses, spaces, Cyrillic. `checked` returns the URL in a form every
consumer accepts (http or https, a valid host and port, no credentials, everything outside the
characters URLs allow percent-encoded), or None when no such form exists; `href` escapes it for
an HTML attribute. Pure functions, no I/O.
"""

from __future__ import annotations

import html
import ipaddress
import re
import string
from urllib.parse import urlsplit, urlunsplit

MAX_URL = 2048  # what storage keeps, and far more than any real article link
SCHEMES = frozenset({"http", "https"})
# RFC 3986: unreserved and reserved characters stand for themselves; so does "%" before two
# hex digits. Anything else is percent-encoded as UTF-8.
_ALLOWED = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_HEX = frozenset(string.hexdigits)
# Most links need nothing done: lower-case http(s), a plain host, a small port, a path of only
# the characters URLs allow (no "%": an escape must be looked at). Those leave as they came.
_PLAIN = re.compile(
    r"https?://(?P<host>(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)*"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)(?::[1-9][0-9]{0,3})?/[-A-Za-z0-9._~:/?#\[\]@!$&'()*+,;=]*"
)


def _encode(part: str) -> str:
    out = []
    for i, ch in enumerate(part):
        escape = part[i + 1 : i + 3]
        if ch in _ALLOWED or (ch == "%" and len(escape) == 2 and set(escape) <= _HEX):
            out.append(ch)
        else:
            out.append("".join(f"%{b:02X}" for b in ch.encode("utf-8", "surrogatepass")))
    return "".join(out)


def _host(raw: str) -> str | None:
    """The host as it may appear in a URL (IDNA for non-ASCII names), or None."""
    host = raw.rstrip(".").lower()
    if not host:
        return None
    if host.startswith("["):  # urlsplit keeps no brackets in .hostname; this is defensive
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        return f"[{address.compressed}]" if address.version == 6 else address.compressed
    try:
        ascii_host = host.encode("idna").decode("ascii") if not host.isascii() else host
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    if len(ascii_host) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        return None
    return ascii_host


def checked(raw: str | None) -> str | None:
    """`raw` as a safe absolute http(s) URL, or None if it cannot be one."""
    text = (raw or "").strip()
    if len(text) <= MAX_URL and (plain := _PLAIN.fullmatch(text)) and len(plain["host"]) <= 253:
        return text
    return _checked(text)


def _checked(text: str) -> str | None:
    """`checked` the long way: parsed, the host vetted, the rest percent-encoded."""
    if not text or len(text) > MAX_URL or any(ord(c) < 32 or c == "\x7f" for c in text):
        return None
    try:
        parts = urlsplit(text)
        port = parts.port  # raises ValueError for a port out of range or not a number
        hostname = parts.hostname
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = _host(hostname) if hostname else None
    if scheme not in SCHEMES or parts.username is not None or host is None or port == 0:
        return None
    netloc = host if port is None else f"{host}:{port}"
    path, query, fragment = (_encode(p) for p in (parts.path, parts.query, parts.fragment))
    url = urlunsplit((scheme, netloc, path or "/", query, fragment))
    return url if len(url) <= MAX_URL else None


def href(url: str) -> str:
    """A checked URL escaped for an HTML attribute value (`&` becomes `&amp;`, quotes too)."""
    return html.escape(url, quote=True)
