"""Load Visnyk's TOML configuration into frozen, validated objects.

Every problem becomes a `ConfigError` whose message names the key (``delivery.messages_per_second``,
``sections[2].slug``) and says what is wrong, so start-up can stop with one line.
Only the standard library is used: the config is read before anything else is set up.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import config_values as values
from bot.config_values import LANGUAGES, ConfigError

__all__ = ["LANGUAGES", "SECRET_ENV", "TOKEN_ENV", "Config", "ConfigError", "load", "parse"]

TOKEN_ENV = "VISNYK_TELEGRAM_TOKEN"  # noqa: S105 - a variable name, not a secret
SECRET_ENV = "VISNYK_WEBHOOK_SECRET"  # noqa: S105 - a variable name, not a secret
DATABASE_ENV = "VISNYK_DATABASE_URL"  # wins over [storage] url: credentials stay out of the file
_SLUG = re.compile(r"[a-z0-9_-]{1,32}")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
LOG_FORMATS = ("text", "json")
MAX_SECTION_TITLE = 64
MAX_WEBHOOK_CONNECTIONS = 100  # Telegram's limit for setWebhook's max_connections


PAID_BROADCAST = ("off", "breaking", "all")
MAX_PAID_PER_SECOND = 1000  # Telegram's limit for messages with allow_paid_broadcast
FREE_MESSAGES_PER_SECOND = 30  # Telegram's limit for a bot without paid broadcasts
MIN_DELIVERY_DAYS = 2  # recall and correction act on a flash's deliveries for 48 hours


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    api_base_url: str
    owners: tuple[int, ...]
    webhook_url: str = ""  # the public https URL Telegram posts updates to; "": long polling
    webhook_secret: str = ""  # Telegram sends it in X-Telegram-Bot-Api-Secret-Token
    webhook_max_connections: int = 40


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The bot's own HTTP server (bot.server): off while `listen` is empty."""

    listen: str = ""  # "127.0.0.1:8080"
    max_pending_age: float = 900.0  # /readyz fails when a delivery has waited longer (seconds)
    telegram_silence: float = 300.0  # /readyz fails when Telegram has not answered for longer

    @property
    def host(self) -> str:
        return self.listen.rpartition(":")[0].strip("[]")

    @property
    def port(self) -> int:
        return int(self.listen.rpartition(":")[2])


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "INFO"
    format: str = "text"  # "json": one object a line, for Loki or ELK


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
    server: ServerConfig = ServerConfig()
    logging: LoggingConfig = LoggingConfig()

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
        webhook = self.telegram.webhook_url
        if webhook and not webhook.startswith("https://"):
            out.append(
                f"telegram.webhook_url = {webhook!r} is not https: real Telegram posts "
                "updates only to https URLs (ports 443, 80, 88 or 8443)"
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


def _section(key: str, value: Any) -> SectionConfig:
    table = values.Table(value, key)
    slug = table.get("slug", values.string)
    if not _SLUG.fullmatch(slug):
        raise ConfigError(table.key("slug"), f"expected 1-32 of [a-z0-9_-], got {slug!r}")
    title_table = table.table("title")
    if "title" not in table.data:
        raise ConfigError(table.key("title"), 'is required (e.g. { uk = "Світ", en = "World" })')
    titles = {}
    for lang in LANGUAGES:
        title = title_table.get(lang, values.string, "").strip()
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
    feeds = values.urls(table.key("feeds"), table.get("feeds", values.listing, no_items))
    categories = tuple(
        values.string(f"{table.key('categories')}[{i}]", item).strip()
        for i, item in enumerate(table.get("categories", values.listing, no_items))
    )
    table.finish()
    return SectionConfig(slug=slug, title=titles, feeds=feeds, categories=categories)


def _telegram(tg: values.Table, environ: Mapping[str, str]) -> TelegramConfig:
    """[telegram]; the token and the webhook's secret may come from the environment."""
    token = tg.get("token", values.token, "")
    if env_token := environ.get(TOKEN_ENV, "").strip():
        token = values.token(TOKEN_ENV, env_token)
    secret = tg.get("webhook_secret", values.secret, "")
    if env_secret := environ.get(SECRET_ENV, "").strip():
        secret = values.secret(SECRET_ENV, env_secret)
    telegram = TelegramConfig(
        token=token,
        api_base_url=tg.get("api_base_url", values.url, "https://api.telegram.org/bot"),
        owners=tg.get("owners", values.owners, ()),
        webhook_url=tg.get("webhook_url", values.webhook_url, ""),
        webhook_secret=secret,
        webhook_max_connections=tg.get("webhook_max_connections", values.positive_int, 40),
    )
    if telegram.webhook_max_connections > MAX_WEBHOOK_CONNECTIONS:
        raise ConfigError(
            tg.key("webhook_max_connections"),
            f"at most {MAX_WEBHOOK_CONNECTIONS} (Telegram's limit)",
        )
    if telegram.webhook_url and not telegram.webhook_secret:
        raise ConfigError(
            tg.key("webhook_secret"),
            f"is required with telegram.webhook_url (or set {SECRET_ENV}): 16+ random letters",
        )
    tg.finish()
    return telegram


def _server(sv: values.Table, telegram: TelegramConfig) -> ServerConfig:
    """[server]: the webhook needs it."""
    server = ServerConfig(
        listen=sv.get("listen", values.listen, ""),
        max_pending_age=sv.get("max_pending_age", values.positive, 900.0),
        telegram_silence=sv.get("telegram_silence", values.positive, 300.0),
    )
    if telegram.webhook_url and not server.listen:
        raise ConfigError(
            sv.key("listen"), "is required with telegram.webhook_url (e.g. 127.0.0.1:8080)"
        )
    sv.finish()
    return server


def parse(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> Config:
    """Validate a parsed TOML document; `environ` may supply the token, the secret and the
    database URL."""
    root = values.Table(dict(data), "")

    telegram = _telegram(root.table("telegram"), environ or {})
    server = _server(root.table("server"), telegram)
    lg = root.table("logging")
    logging_config = LoggingConfig(
        level=lg.get("level", values.choice(LOG_LEVELS), "INFO"),
        format=lg.get("format", values.choice(LOG_FORMATS), "text"),
    )
    lg.finish()

    st = root.table("storage")
    url = st.get("url", values.database_url, "sqlite+aiosqlite:///visnyk.db")
    if env_url := (environ or {}).get(DATABASE_ENV, "").strip():
        url = values.database_url(DATABASE_ENV, env_url)
    storage = StorageConfig(
        url=url, audit_keep_days=st.get("audit_keep_days", values.positive_int, 365)
    )
    st.finish()

    dl = root.table("delivery")
    delivery = DeliveryConfig(
        messages_per_second=dl.get("messages_per_second", values.positive, 30.0),
        private_chat_interval=dl.get("private_chat_interval", values.positive, 1.0),
        group_messages_per_minute=dl.get("group_messages_per_minute", values.positive_int, 20),
        max_age_hours=dl.get("max_age_hours", values.positive, 6.0),
        concurrency=dl.get("concurrency", values.positive_int, 32),
        give_up_hours=dl.get("give_up_hours", values.positive, 24.0),
        keep_days=dl.get("keep_days", values.positive_int, 14),
        paid_broadcast=dl.get("paid_broadcast", values.string, "off"),
        paid_messages_per_second=dl.get("paid_messages_per_second", values.positive, 1000.0),
        paid_stars_per_message=dl.get("paid_stars_per_message", values.positive, 0.1),
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
        poll_interval=ig.get("poll_interval", values.positive, 300.0),
        keep_days=ig.get("keep_days", values.positive_int, 30),
        timeout=ig.get("timeout", values.positive, 20.0),
        max_bytes=ig.get("max_bytes", values.positive_int, 5_000_000),
        concurrency=ig.get("concurrency", values.positive_int, 8),
        timezone=ig.get("timezone", values.timezone, "Europe/Kyiv"),
        user_agent=ig.get("user_agent", values.string, "Visnyk/0.1 (newsroom Telegram bot)"),
        feeds=values.urls(ig.key("feeds"), ig.get("feeds", values.listing, no_feeds)),
        page_hosts=ig.get("page_hosts", values.hosts, ()),
    )
    ig.finish()

    th = root.table("throttle")
    throttle = ThrottleConfig(
        updates=th.get("updates", values.positive_int, 30),
        seconds=th.get("seconds", values.positive, 60.0),
        pause=th.get("pause", values.positive, 300.0),
    )
    th.finish()

    dg = root.table("digest")
    digest = DigestConfig(
        times=dg.get("times", values.times, ("08:00", "20:00")),
        timezone=dg.get("timezone", values.timezone, "Europe/Kyiv"),
        max_items=dg.get("max_items", values.positive_int, 15),
    )
    dg.finish()

    i18n_table = root.table("i18n")
    i18n = I18nConfig(default_language=i18n_table.get("default_language", values.language, "uk"))
    i18n_table.finish()

    no_sections: list[Any] = []
    sections = tuple(
        _section(f"sections[{i}]", item)
        for i, item in enumerate(root.get("sections", values.listing, no_sections))
    )
    slugs = [s.slug for s in sections]
    for i, slug in enumerate(slugs):
        if slug in slugs[:i]:
            raise ConfigError(f"sections[{i}].slug", f"{slug!r} is used by another section")
    root.finish()

    return Config(
        telegram,
        storage,
        delivery,
        ingest,
        digest,
        i18n,
        sections,
        throttle,
        server=server,
        logging=logging_config,
    )


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
