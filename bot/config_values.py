"""The checks of single config values: each takes the key (`delivery.concurrency`) and the raw
TOML value, and returns the value checked or raises `ConfigError` naming the key.

Only the standard library: the config is read before anything else is set up (bot.config).
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Callable
from typing import Any, TypeVar

LANGUAGES = ("uk", "en")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")  # Telegram takes 1-256 of these; we want 16+
_LISTEN = re.compile(r"(?P<host>\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):(?P<port>\d{1,5})")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*")
T = TypeVar("T")


class ConfigError(Exception):
    """A configuration problem; the message names the key and what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


class Table:
    """A TOML table being read: every key must be consumed, leftovers are unknown keys."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"expected a table, got {kind(data)}")
        self.data: dict[str, Any] = data
        self.path = path
        self.seen: set[str] = set()

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def get(self, name: str, check: Callable[[str, Any], T], default: T | None = None) -> T:
        self.seen.add(name)
        if name not in self.data:
            if default is None:
                raise ConfigError(self.key(name), "is required")
            return default
        return check(self.key(name), self.data[name])

    def table(self, name: str) -> Table:
        self.seen.add(name)
        return Table(self.data.get(name, {}), self.key(name))

    def finish(self) -> None:
        for name in self.data:
            if name not in self.seen:
                raise ConfigError(self.key(name), "unknown key")


def kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {kind(value)}")
    return value


def positive(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"expected a number, got {kind(value)}")
    if value <= 0:
        raise ConfigError(key, f"must be greater than 0, got {value}")
    return float(value)


def positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"expected an integer, got {kind(value)}")
    if value <= 0:
        raise ConfigError(key, f"must be greater than 0, got {value}")
    return value


def listing(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(key, f"expected an array, got {kind(value)}")
    return value


def url(key: str, value: Any) -> str:
    text = string(key, value)
    if not re.fullmatch(r"https?://[^\s/]+\S*", text):
        raise ConfigError(key, f"expected an http(s) URL, got {text!r}")
    return text


# The databases Visnyk speaks, by the scheme of their URL, and the driver it uses for each.
_DATABASES = {
    "sqlite": "sqlite+aiosqlite",
    "sqlite+aiosqlite": "sqlite+aiosqlite",
    "postgres": "postgresql+asyncpg",
    "postgresql": "postgresql+asyncpg",
    "postgresql+asyncpg": "postgresql+asyncpg",
}


def database_url(key: str, value: Any) -> str:
    """An SQLite or PostgreSQL URL, with the driver Visnyk uses (`postgresql://` is taken as
    `postgresql+asyncpg://`). The message never repeats the URL: it may hold a password."""
    scheme, sep, rest = string(key, value).strip().partition("://")
    if not sep or not rest or scheme.lower() not in _DATABASES:
        raise ConfigError(
            key, "expected sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DATABASE"
        )
    return f"{_DATABASES[scheme.lower()]}://{rest}"


def webhook_url(key: str, value: Any) -> str:
    text = string(key, value).strip()
    if text:
        url(key, text)
        if "?" in text or "#" in text:
            raise ConfigError(key, "expected a URL without a query or fragment")
    return text


def owners(key: str, value: Any) -> tuple[int, ...]:
    owners = []
    for i, item in enumerate(listing(key, value)):
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ConfigError(f"{key}[{i}]", f"expected a numeric Telegram user id, got {item!r}")
        owners.append(item)
    return tuple(owners)


def times(key: str, value: Any) -> tuple[str, ...]:
    times = []
    for i, item in enumerate(listing(key, value)):
        if not isinstance(item, str) or not _TIME.fullmatch(item):
            raise ConfigError(f"{key}[{i}]", f"expected a time as HH:MM, got {item!r}")
        times.append(item)
    if len(set(times)) != len(times):
        raise ConfigError(key, "lists the same time twice")
    return tuple(sorted(times))


def timezone(key: str, value: Any) -> str:
    name = string(key, value)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(key, f"unknown IANA time zone {name!r} (e.g. Europe/Kyiv)") from None
    return name


def language(key: str, value: Any) -> str:
    lang = string(key, value)
    if lang not in LANGUAGES:
        raise ConfigError(key, f"expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def token(key: str, value: Any) -> str:
    token = string(key, value).strip()
    if token and not _TOKEN.fullmatch(token):
        raise ConfigError(key, "does not look like a bot token (expected 123456789:AAE…)")
    return token


def secret(key: str, value: Any) -> str:
    secret = string(key, value).strip()
    if secret and not _SECRET.fullmatch(secret):
        raise ConfigError(key, "expected 16 to 256 of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
    return secret


def listen(key: str, value: Any) -> str:
    listen = string(key, value).strip()
    match = _LISTEN.fullmatch(listen)
    if listen and (match is None or not 0 < int(match["port"]) < 65536):
        raise ConfigError(key, f"expected host:port such as 127.0.0.1:8080, got {listen!r}")
    return listen


def choice(choices: tuple[str, ...]) -> Callable[[str, Any], str]:
    def check(key: str, value: Any) -> str:
        text = string(key, value)
        if text not in choices:
            raise ConfigError(key, f"expected one of {', '.join(choices)}, got {text!r}")
        return text

    return check


def hosts(key: str, value: Any) -> tuple[str, ...]:
    hosts = []
    for i, item in enumerate(listing(key, value)):
        host = string(f"{key}[{i}]", item).strip().lower().rstrip(".")
        if not _HOST.fullmatch(host):
            hint = "expected a host name like news.example.ua or *.example.ua"
            raise ConfigError(f"{key}[{i}]", f"{hint}, got {item!r}")
        hosts.append(host)
    return tuple(hosts)


def urls(key: str, items: list[Any]) -> tuple[str, ...]:
    return tuple(url(f"{key}[{i}]", item) for i, item in enumerate(items))
