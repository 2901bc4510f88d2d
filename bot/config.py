"""Load Visnyk's TOML configuration into frozen, validated objects.

Every problem becomes a `ConfigError` whose message names the key (``delivery.messages_per_second``,
``sections[2].slug``) and says what is wrong, so start-up can stop with one line.
Only the standard library is used: the config is read before anything else is set up.
"""

from __future__ import annotations

import os
import re
import tomllib
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

LANGUAGES = ("uk", "en")
TOKEN_ENV = "VISNYK_TELEGRAM_TOKEN"  # noqa: S105 - a variable name, not a secret
_SLUG = re.compile(r"[a-z0-9_-]{1,32}")
_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_TOKEN = re.compile(r"\d{3,}:[A-Za-z0-9_-]{20,}")
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
_HOST = re.compile(rf"(\*\.)?{_LABEL}(\.{_LABEL})*")

MAX_SECTION_TITLE = 64
T = TypeVar("T")


class ConfigError(Exception):
    """A configuration problem; the message names the key and what is wrong."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(f"{key}: {problem}" if key else problem)
        self.key = key
        self.problem = problem


PAID_BROADCAST = ("off", "breaking", "all")
MAX_PAID_PER_SECOND = 1000  # Telegram's limit for messages with allow_paid_broadcast
FREE_MESSAGES_PER_SECOND = 30  # Telegram's limit for a bot without paid broadcasts
MIN_DELIVERY_DAYS = 2  # recall and correction act on a flash's deliveries for 48 hours


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    api_base_url: str
    owners: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class StorageConfig:
    url: str
    audit_keep_days: int


@dataclass(frozen=True, slots=True)
class DeliveryConfig:
    messages_per_second: float
    private_chat_interval: float
    group_messages_per_minute: int
    max_age_hours: float
    concurrency: int
    give_up_hours: float
    keep_days: int
    paid_broadcast: str  # "off", "breaking" or "all": who may send with allow_paid_broadcast
    paid_messages_per_second: float
    paid_stars_per_message: float = 0.1  # what Telegram charges, for the editors' estimates


@dataclass(frozen=True, slots=True)
class IngestConfig:
    poll_interval: float
    keep_days: int
    timeout: float
    max_bytes: int
    concurrency: int
    timezone: str
    user_agent: str
    feeds: tuple[str, ...]  # feeds whose items reach sections by category only
    page_hosts: tuple[str, ...] = ()  # article pages may come from these too; *.x: subdomains


@dataclass(frozen=True, slots=True)
class ThrottleConfig:
    """A chat or user sending more than `updates` in `seconds` is ignored for `pause` seconds."""

    updates: int = 30
    seconds: float = 60.0
    pause: float = 300.0


@dataclass(frozen=True, slots=True)
class DigestConfig:
    times: tuple[str, ...]
    timezone: str
    max_items: int


@dataclass(frozen=True, slots=True)
class I18nConfig:
    default_language: str


@dataclass(frozen=True, slots=True)
class SectionConfig:
    slug: str
    title: Mapping[str, str]
    feeds: tuple[str, ...]
    categories: tuple[str, ...] = ()  # items of any feed with one of these categories

    def title_in(self, language: str) -> str:
        """The section's title in `language`, else in Ukrainian, else any."""
        return self.title.get(language) or self.title.get("uk") or next(iter(self.title.values()))


@dataclass(frozen=True, slots=True)
class Config:
    telegram: TelegramConfig
    storage: StorageConfig
    delivery: DeliveryConfig
    ingest: IngestConfig
    digest: DigestConfig
    i18n: I18nConfig
    sections: tuple[SectionConfig, ...]
    throttle: ThrottleConfig = ThrottleConfig()

    def feed_urls(self) -> tuple[str, ...]:
        """Every configured feed once, in order of appearance."""
        urls = [url for s in self.sections for url in s.feeds] + list(self.ingest.feeds)
        return tuple(dict.fromkeys(urls))

    def warnings(self) -> list[str]:
        """What is valid but likely wrong on real Telegram (one line each; not errors: the
        fake Telegram in tests and a local Bot API server may allow it)."""
        out = []
        rate = self.delivery.messages_per_second
        if rate > FREE_MESSAGES_PER_SECOND:
            out.append(
                f"delivery.messages_per_second = {rate:g} is above Telegram's free "
                f"{FREE_MESSAGES_PER_SECOND} a second: real Telegram answers 429 beyond it "
                "unless the bot pays for broadcasts (allow_paid_broadcast)"
            )
        return out

    def summary(self) -> str:
        """One line for `visnyk check-config`."""
        feeds = len(self.feed_urls())
        token = "token set" if self.telegram.token else "no token"
        return (
            f"config OK: {len(self.sections)} sections, {feeds} feeds, "
            f"{len(self.telegram.owners)} owners, {token}"
        )


class _Table:
    """A TOML table being read: every key must be consumed, leftovers are unknown keys."""

    def __init__(self, data: Any, path: str) -> None:
        if not isinstance(data, dict):
            raise ConfigError(path, f"expected a table, got {_kind(data)}")
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

    def table(self, name: str) -> _Table:
        self.seen.add(name)
        return _Table(self.data.get(name, {}), self.key(name))

    def finish(self) -> None:
        for name in self.data:
            if name not in self.seen:
                raise ConfigError(self.key(name), "unknown key")


def _kind(value: Any) -> str:
    names = {bool: "a boolean", int: "an integer", float: "a number", str: "a string"}
    names |= {list: "an array", dict: "a table"}
    return names.get(type(value), type(value).__name__)


def _string(key: str, value: Any) -> str:
    if not isinstance(value, str):
        raise ConfigError(key, f"expected a string, got {_kind(value)}")
    return value


def _positive(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(key, f"expected a number, got {_kind(value)}")
    if value <= 0:
        raise ConfigError(key, f"must be greater than 0, got {value}")
    return float(value)


def _positive_int(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(key, f"expected an integer, got {_kind(value)}")
    if value <= 0:
        raise ConfigError(key, f"must be greater than 0, got {value}")
    return value


def _list(key: str, value: Any) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(key, f"expected an array, got {_kind(value)}")
    return value


def _url(key: str, value: Any) -> str:
    text = _string(key, value)
    if not re.fullmatch(r"https?://[^\s/]+\S*", text):
        raise ConfigError(key, f"expected an http(s) URL, got {text!r}")
    return text


def _owners(key: str, value: Any) -> tuple[int, ...]:
    owners = []
    for i, item in enumerate(_list(key, value)):
        if isinstance(item, bool) or not isinstance(item, int) or item <= 0:
            raise ConfigError(f"{key}[{i}]", f"expected a numeric Telegram user id, got {item!r}")
        owners.append(item)
    return tuple(owners)


def _times(key: str, value: Any) -> tuple[str, ...]:
    times = []
    for i, item in enumerate(_list(key, value)):
        if not isinstance(item, str) or not _TIME.fullmatch(item):
            raise ConfigError(f"{key}[{i}]", f"expected a time as HH:MM, got {item!r}")
        times.append(item)
    if len(set(times)) != len(times):
        raise ConfigError(key, "lists the same time twice")
    return tuple(sorted(times))


def _timezone(key: str, value: Any) -> str:
    name = _string(key, value)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ConfigError(key, f"unknown IANA time zone {name!r} (e.g. Europe/Kyiv)") from None
    return name


def _language(key: str, value: Any) -> str:
    lang = _string(key, value)
    if lang not in LANGUAGES:
        raise ConfigError(key, f"expected one of {', '.join(LANGUAGES)}, got {lang!r}")
    return lang


def _token(key: str, value: Any) -> str:
    token = _string(key, value).strip()
    if token and not _TOKEN.fullmatch(token):
        raise ConfigError(key, "does not look like a bot token (expected 123456789:AAE…)")
    return token


def _hosts(key: str, value: Any) -> tuple[str, ...]:
    hosts = []
    for i, item in enumerate(_list(key, value)):
        host = _string(f"{key}[{i}]", item).strip().lower().rstrip(".")
        if not _HOST.fullmatch(host):
            hint = "expected a host name like news.example.ua or *.example.ua"
            raise ConfigError(f"{key}[{i}]", f"{hint}, got {item!r}")
        hosts.append(host)
    return tuple(hosts)


def _section(key: str, value: Any) -> SectionConfig:
    table = _Table(value, key)
    slug = table.get("slug", _string)
    if not _SLUG.fullmatch(slug):
        raise ConfigError(table.key("slug"), f"expected 1-32 of [a-z0-9_-], got {slug!r}")
    title_table = table.table("title")
    if "title" not in table.data:
        raise ConfigError(table.key("title"), 'is required (e.g. { uk = "Світ", en = "World" })')
    titles = {}
    for lang in LANGUAGES:
        title = title_table.get(lang, _string, "").strip()
        if len(title) > MAX_SECTION_TITLE:  # it goes on buttons and in a tap's 200-character answer
            raise ConfigError(
                title_table.key(lang), f"at most {MAX_SECTION_TITLE} characters, got {len(title)}"
            )
        if title:
            titles[lang] = title
    title_table.finish()
    if "uk" not in titles:
        raise ConfigError(title_table.key("uk"), "is required")
    no_items: list[Any] = []
    feeds = _urls(table.key("feeds"), table.get("feeds", _list, no_items))
    categories = tuple(
        _string(f"{table.key('categories')}[{i}]", item).strip()
        for i, item in enumerate(table.get("categories", _list, no_items))
    )
    table.finish()
    return SectionConfig(slug=slug, title=titles, feeds=feeds, categories=categories)


def _urls(key: str, items: list[Any]) -> tuple[str, ...]:
    return tuple(_url(f"{key}[{i}]", item) for i, item in enumerate(items))


def parse(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    """Validate a parsed TOML document; `environ` may supply the token."""
    root = _Table(dict(data), "")

    tg = root.table("telegram")
    token = tg.get("token", _token, "")
    env_token = (environ or {}).get(TOKEN_ENV, "").strip()
    if env_token:
        token = _token(TOKEN_ENV, env_token)
    telegram = TelegramConfig(
        token=token,
        api_base_url=tg.get("api_base_url", _url, "https://api.telegram.org/bot"),
        owners=tg.get("owners", _owners, ()),
    )
    tg.finish()

    st = root.table("storage")
    storage = StorageConfig(
        url=st.get("url", _string, "sqlite+aiosqlite:///visnyk.db"),
        audit_keep_days=st.get("audit_keep_days", _positive_int, 365),
    )
    if not storage.url.strip():
        raise ConfigError("storage.url", "must not be empty")
    st.finish()

    dl = root.table("delivery")
    delivery = DeliveryConfig(
        messages_per_second=dl.get("messages_per_second", _positive, 30.0),
        private_chat_interval=dl.get("private_chat_interval", _positive, 1.0),
        group_messages_per_minute=dl.get("group_messages_per_minute", _positive_int, 20),
        max_age_hours=dl.get("max_age_hours", _positive, 6.0),
        concurrency=dl.get("concurrency", _positive_int, 32),
        give_up_hours=dl.get("give_up_hours", _positive, 24.0),
        keep_days=dl.get("keep_days", _positive_int, 14),
        paid_broadcast=dl.get("paid_broadcast", _string, "off"),
        paid_messages_per_second=dl.get("paid_messages_per_second", _positive, 1000.0),
        paid_stars_per_message=dl.get("paid_stars_per_message", _positive, 0.1),
    )
    if delivery.paid_broadcast not in PAID_BROADCAST:
        raise ConfigError(
            "delivery.paid_broadcast",
            f"one of {', '.join(PAID_BROADCAST)}, got {delivery.paid_broadcast!r}",
        )
    if delivery.paid_messages_per_second > MAX_PAID_PER_SECOND:
        raise ConfigError(
            "delivery.paid_messages_per_second", f"at most {MAX_PAID_PER_SECOND} (Telegram's limit)"
        )
    if delivery.keep_days < MIN_DELIVERY_DAYS:
        raise ConfigError(
            "delivery.keep_days",
            f"at least {MIN_DELIVERY_DAYS}: recall and correction need Telegram's 48 hours",
        )
    dl.finish()

    ig = root.table("ingest")
    no_feeds: list[Any] = []
    ingest = IngestConfig(
        poll_interval=ig.get("poll_interval", _positive, 300.0),
        keep_days=ig.get("keep_days", _positive_int, 30),
        timeout=ig.get("timeout", _positive, 20.0),
        max_bytes=ig.get("max_bytes", _positive_int, 5_000_000),
        concurrency=ig.get("concurrency", _positive_int, 8),
        timezone=ig.get("timezone", _timezone, "Europe/Kyiv"),
        user_agent=ig.get("user_agent", _string, "Visnyk/0.1 (newsroom Telegram bot)"),
        feeds=_urls(ig.key("feeds"), ig.get("feeds", _list, no_feeds)),
        page_hosts=ig.get("page_hosts", _hosts, ()),
    )
    ig.finish()

    th = root.table("throttle")
    throttle = ThrottleConfig(
        updates=th.get("updates", _positive_int, 30),
        seconds=th.get("seconds", _positive, 60.0),
        pause=th.get("pause", _positive, 300.0),
    )
    th.finish()

    dg = root.table("digest")
    digest = DigestConfig(
        times=dg.get("times", _times, ("08:00", "20:00")),
        timezone=dg.get("timezone", _timezone, "Europe/Kyiv"),
        max_items=dg.get("max_items", _positive_int, 15),
    )
    dg.finish()

    i18n_table = root.table("i18n")
    i18n = I18nConfig(default_language=i18n_table.get("default_language", _language, "uk"))
    i18n_table.finish()

    no_sections: list[Any] = []
    sections = tuple(
        _section(f"sections[{i}]", item)
        for i, item in enumerate(root.get("sections", _list, no_sections))
    )
    slugs = [s.slug for s in sections]
    for i, slug in enumerate(slugs):
        if slug in slugs[:i]:
            raise ConfigError(f"sections[{i}].slug", f"{slug!r} is used by another section")
    root.finish()

    return Config(telegram, storage, delivery, ingest, digest, i18n, sections, throttle)


def load(path: str | Path, environ: Mapping[str, str] | None = None) -> Config:
    """Read and validate the config file at `path`; the environment defaults to `os.environ`."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("", f"config file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError("", f"cannot read config file {path}: {e}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError("", f"{path} is not valid TOML: {e}") from None
    return parse(data, os.environ if environ is None else environ)
