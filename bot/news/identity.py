"""A story's identity: its canonical URL, and a key of its normalised title."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

# Query parameters that say how a reader arrived, not what they read.
TRACKING = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "_hsenc",
        "_hsmi",
        "_ga",
        "_gl",
        "twclid",
        "ttclid",
        "li_fat_id",
        "ref_src",
        "utm",
        "at_medium",
        "at_campaign",
        "cmpid",
        "ocid",
        "rss",
        "from",
    }
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str) -> str:
    """Scheme and host lower-cased, default port, tracking parameters and fragment removed.

    Meant for URLs that `bot.urls.checked` returned, and the result of one is one too; any
    other string comes back stripped and otherwise as it was. Never raises."""
    try:
        return _canonical(url.strip())
    except ValueError:  # a port out of range, an unclosed "[": no URL to make canonical
        return url.strip()


def _canonical(url: str) -> str:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets
    netloc = host
    port = parts.port
    if port and port != DEFAULT_PORTS.get(scheme):
        netloc = f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    query = [
        (k, v)
        for k, v in parse_qsl(parts.query, keep_blank_values=True)
        if not k.lower().startswith("utm_") and k.lower() not in TRACKING
    ]
    return urlunsplit((scheme, netloc, parts.path or "/", urlencode(query), ""))


def normalise_title(title: str) -> str:
    text = unicodedata.normalize("NFKC", title).casefold()
    text = text.replace("’", "'").replace("ʼ", "'").replace("`", "'")
    text = re.sub(r"[^\w']+", " ", text)
    return " ".join(text.split())


def title_key(title: str) -> str:
    """Equal for titles that differ only in case, punctuation, quotes and spacing."""
    return hashlib.sha1(normalise_title(title).encode(), usedforsecurity=False).hexdigest()[:20]
