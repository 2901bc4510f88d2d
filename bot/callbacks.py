"""What the bot's buttons say: one typed codec for every `callback_data`, and strict numbers.

Callback data comes back from Telegram as the client sent it, and a client can send anything:
23 digits, `-1`, `²`, a forged id. `decode` turns data into one of the typed taps below or
None, and nothing else reads the raw string; `encode` is the only way to make data, within
Telegram's 64 bytes. The formats are those the bot has always used, so buttons already in
chats keep working. `number` is the same strictness for numbers users type (`/recall 12`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

MAX_BYTES = 64
MAX_ID = 2**63 - 1  # what storage's integers hold
MAX_OFFSET = 10_000  # deeper pages are clamped by the handlers anyway
LANGUAGES = ("uk", "en")
_DIGITS = re.compile(r"0|[1-9][0-9]{0,18}")  # ASCII only: "²" and "٣" are not our digits
_SLUG = re.compile(r"[a-z0-9_-]{1,32}")


def number(text: str, maximum: int = MAX_ID, *, signed: bool = False) -> int | None:
    """`text` as a whole number in 0..maximum (or -maximum..maximum when `signed`), or None."""
    negative = signed and text.startswith("-")
    digits = text[1:] if negative else text
    if not _DIGITS.fullmatch(digits):
        return None
    value = int(digits)
    if value > maximum:
        return None
    return -value if negative else value


class FlashAction(StrEnum):
    SEND = "send"  # free (or the only way, with paid broadcasts off)
    QUIET = "quiet"
    PAID = "paid"  # with allow_paid_broadcast: fast, for Stars
    PAID_QUIET = "paidq"
    CANCEL = "cancel"


_ACTIONS = frozenset(a.value for a in FlashAction)


@dataclass(frozen=True, slots=True)
class SectionTap:
    """Subscribe or unsubscribe a section; `welcome`: the buttons under the greeting."""

    slug: str
    welcome: bool = False


@dataclass(frozen=True, slots=True)
class ModeTap:
    """Switch a followed section between instant posts and digests: to `instant` (True) or
    to digests (False), as the button showed it; None (buttons made before) flips."""

    slug: str
    welcome: bool = False
    instant: bool | None = None


@dataclass(frozen=True, slots=True)
class InstantTap:
    """Get a followed section's stories as they come: sets instant mode, never flips it."""

    slug: str


@dataclass(frozen=True, slots=True)
class LanguageTap:
    language: str


@dataclass(frozen=True, slots=True)
class StopTap:
    confirmed: bool


@dataclass(frozen=True, slots=True)
class LatestPage:
    """A page of /latest: `scope` is a section's slug, "mine" or "all"."""

    scope: str
    offset: int


@dataclass(frozen=True, slots=True)
class SearchPage:
    search_id: int
    offset: int


@dataclass(frozen=True, slots=True)
class CardTap:
    article_id: int


@dataclass(frozen=True, slots=True)
class FlashTap:
    broadcast_id: int
    action: FlashAction


@dataclass(frozen=True, slots=True)
class FetchTap:
    """ "Fetch now" under /sources."""


Tap = (
    SectionTap
    | ModeTap
    | LanguageTap
    | StopTap
    | LatestPage
    | SearchPage
    | CardTap
    | FlashTap
    | FetchTap
    | InstantTap
)


def _join(*parts: object) -> str:
    data = ":".join(str(p) for p in parts)
    if not 1 <= len(data.encode()) <= MAX_BYTES:
        raise ValueError(f"callback_data out of bounds: {data!r}")
    return data


def encode(tap: Tap) -> str:  # noqa: PLR0911 - one line per kind of tap
    """The callback_data of a button."""
    match tap:
        case SectionTap(slug, welcome):
            return _join("wsec" if welcome else "sec", slug)
        case ModeTap(slug, welcome, instant):
            kind = "wmode" if welcome else "mode"
            return (
                _join(kind, slug) if instant is None else _join(kind, slug, "i" if instant else "d")
            )
        case InstantTap(slug):
            return _join("now", slug)
        case LanguageTap(language):
            return _join("lang", language)
        case StopTap(confirmed):
            return _join("stop", "yes" if confirmed else "no")
        case LatestPage(scope, offset):
            return _join("lt", scope, offset)
        case SearchPage(search_id, offset):
            return _join("sr", search_id, offset)
        case CardTap(article_id):
            return _join("card", article_id)
        case FlashTap(broadcast_id, action):
            return _join("al", broadcast_id, action.value)
        case FetchTap():
            return "fetch"
    raise TypeError(f"not a tap: {tap!r}")


def decode(data: object) -> Tap | None:  # noqa: PLR0911, PLR0912 - one branch per kind
    """The tap `data` stands for, or None for anything this bot never made."""
    if not isinstance(data, str) or not 1 <= len(data.encode()) <= MAX_BYTES:
        return None
    kind, *args = data.split(":")
    if kind in ("sec", "wsec", "mode", "wmode") and len(args) == 1 and _SLUG.fullmatch(args[0]):
        welcome = kind.startswith("w")
        return SectionTap(args[0], welcome) if "sec" in kind else ModeTap(args[0], welcome)
    if kind in ("mode", "wmode") and len(args) == 2 and _SLUG.fullmatch(args[0]):
        if args[1] in ("i", "d"):
            return ModeTap(args[0], kind == "wmode", args[1] == "i")
        return None
    if kind == "now" and len(args) == 1 and _SLUG.fullmatch(args[0]):
        return InstantTap(args[0])
    if kind == "lang" and len(args) == 1 and args[0] in LANGUAGES:
        return LanguageTap(args[0])
    if kind == "stop" and args in (["yes"], ["no"]):
        return StopTap(args[0] == "yes")
    if kind == "fetch" and not args:
        return FetchTap()
    if len(args) == 1 and kind == "card":
        article_id = number(args[0])
        return None if article_id is None else CardTap(article_id)
    if len(args) != 2:
        return None
    first, second = args
    if kind == "lt" and _SLUG.fullmatch(first):
        offset = number(second, MAX_OFFSET)
        return None if offset is None else LatestPage(first, offset)
    if kind == "sr":
        search_id, offset = number(first), number(second, MAX_OFFSET)
        return None if search_id is None or offset is None else SearchPage(search_id, offset)
    if kind == "al" and second in _ACTIONS:
        broadcast_id = number(first)
        return None if broadcast_id is None else FlashTap(broadcast_id, FlashAction(second))
    return None
