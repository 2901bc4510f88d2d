"""Configuration: defaults, the example file, and one clear error per kind of mistake."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.config import ConfigError, load, parse

ROOT = Path(__file__).parent.parent
TOKEN = "123456789:AAEtestTOKENtestTOKENtestTOKEN12345"


def minimal(**tables: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"sections": [{"slug": "world", "title": {"uk": "Світ"}}]}
    data.update(tables)
    return data


def error_of(data: dict[str, Any], environ: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as e:
        parse(data, environ or {})
    return str(e.value)


def test_defaults() -> None:
    config = parse({}, {})
    assert config.telegram.api_base_url == "https://api.telegram.org/bot"
    assert config.telegram.token == ""
    assert config.telegram.owners == ()
    assert config.storage.url == "sqlite+aiosqlite:///visnyk.db"
    assert config.delivery.messages_per_second == 30
    assert config.delivery.private_chat_interval == 1.0
    assert config.delivery.group_messages_per_minute == 20
    assert config.ingest.poll_interval == 300
    assert config.digest.times == ("08:00", "20:00")
    assert config.digest.timezone == "Europe/Kyiv"
    assert config.i18n.default_language == "uk"
    assert config.sections == ()


def test_example_config_is_valid_and_realistic() -> None:
    config = load(ROOT / "config.example.toml", environ={})
    slugs = [s.slug for s in config.sections]
    assert {"ukraine", "world", "economy", "war", "culture"} <= set(slugs)
    assert all(s.title["uk"] and s.title["en"] for s in config.sections)
    assert all(s.feeds for s in config.sections)


def test_environment_token_wins() -> None:
    data = minimal(telegram={"token": "111:" + "x" * 30})
    config = parse(data, {"VISNYK_TELEGRAM_TOKEN": TOKEN})
    assert config.telegram.token == TOKEN


def test_section_titles() -> None:
    config = parse(
        minimal(sections=[{"slug": "world", "title": {"uk": "Світ", "en": "World"}, "feeds": []}]),
        {},
    )
    section = config.sections[0]
    assert section.title_in("en") == "World"
    assert section.title_in("uk") == "Світ"
    only_uk = parse(minimal(), {}).sections[0]
    assert only_uk.title_in("en") == "Світ"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"telegram": {"tokn": "x"}}, "telegram.tokn: unknown key"),
        ({"nonsense": 1}, "nonsense: unknown key"),
        ({"telegram": "x"}, "telegram: expected a table, got a string"),
        ({"telegram": {"token": 5}}, "telegram.token: expected a string, got an integer"),
        ({"telegram": {"token": "abc"}}, "telegram.token: does not look like a bot token"),
        (
            {"telegram": {"api_base_url": "ftp://x"}},
            "telegram.api_base_url: expected an http(s) URL",
        ),
        ({"telegram": {"owners": "1"}}, "telegram.owners: expected an array, got a string"),
        (
            {"telegram": {"owners": [1, "@ed"]}},
            "telegram.owners[1]: expected a numeric Telegram user id",
        ),
        (
            {"telegram": {"owners": [True]}},
            "telegram.owners[0]: expected a numeric Telegram user id",
        ),
        (
            {"storage": {"url": ""}},
            "storage.url: expected sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST/DATABASE",
        ),
        (
            {"storage": {"url": "mysql://root:hunter2@db/news"}},
            "storage.url: expected sqlite+aiosqlite:///PATH or "
            "postgresql+asyncpg://USER@HOST/DATABASE",
        ),
        (
            {"delivery": {"keep_days": 1}},
            "delivery.keep_days: at least 2: recall and correction need Telegram's 48 hours",
        ),
        ({"storage": {"audit_keep_days": 0}}, "storage.audit_keep_days: must be greater than 0"),
        (
            {"delivery": {"paid_broadcast": "sometimes"}},
            "delivery.paid_broadcast: one of off, breaking, all, got 'sometimes'",
        ),
        (
            {"delivery": {"paid_messages_per_second": 5000}},
            "delivery.paid_messages_per_second: at most 1000 (Telegram's limit)",
        ),
        ({"storage": {"url": 1}}, "storage.url: expected a string, got an integer"),
        (
            {"delivery": {"messages_per_second": "30"}},
            "delivery.messages_per_second: expected a number, got a string",
        ),
        (
            {"delivery": {"messages_per_second": 0}},
            "delivery.messages_per_second: must be greater than 0",
        ),
        (
            {"delivery": {"private_chat_interval": -1}},
            "delivery.private_chat_interval: must be greater than 0",
        ),
        (
            {"delivery": {"group_messages_per_minute": 2.5}},
            "delivery.group_messages_per_minute: expected an integer, got a number",
        ),
        (
            {"delivery": {"group_messages_per_minute": True}},
            "delivery.group_messages_per_minute: expected an integer, got a boolean",
        ),
        ({"ingest": {"poll_interval": 0}}, "ingest.poll_interval: must be greater than 0"),
        (
            {"ingest": {"page_hosts": ["https://news.example.ua/"]}},
            "ingest.page_hosts[0]: expected a host name like news.example.ua or *.example.ua",
        ),
        ({"ingest": {"page_hosts": "news.example.ua"}}, "ingest.page_hosts: expected an array"),
        ({"throttle": {"updates": 0}}, "throttle.updates: must be greater than 0"),
        ({"throttle": {"pause": "5m"}}, "throttle.pause: expected a number, got a string"),
        ({"throttle": {"burst": 5}}, "throttle.burst: unknown key"),
        ({"digest": {"times": ["8:00"]}}, "digest.times[0]: expected a time as HH:MM"),
        ({"digest": {"times": ["24:00"]}}, "digest.times[0]: expected a time as HH:MM"),
        ({"digest": {"times": ["08:00", "08:00"]}}, "digest.times: lists the same time twice"),
        ({"digest": {"timezone": "Europe/Kiev-ish"}}, "digest.timezone: unknown IANA time zone"),
        ({"digest": {"timezone": "../etc"}}, "digest.timezone: unknown IANA time zone"),
        ({"i18n": {"default_language": "ru"}}, "i18n.default_language: expected one of uk, en"),
        ({"sections": {"slug": "x"}}, "sections: expected an array, got a table"),
        ({"sections": ["world"]}, "sections[0]: expected a table, got a string"),
        ({"sections": [{"title": {"uk": "Світ"}}]}, "sections[0].slug: is required"),
        (
            {"sections": [{"slug": "World", "title": {"uk": "Світ"}}]},
            "sections[0].slug: expected 1-32 of [a-z0-9_-]",
        ),
        (
            {"sections": [{"slug": "x" * 33, "title": {"uk": "Світ"}}]},
            "sections[0].slug: expected 1-32 of [a-z0-9_-]",
        ),
        ({"sections": [{"slug": "world"}]}, "sections[0].title: is required"),
        (
            {"sections": [{"slug": "world", "title": {"uk": "С" * 65}}]},
            "sections[0].title.uk: at most 64 characters, got 65",
        ),
        (
            {"sections": [{"slug": "world", "title": "Світ"}]},
            "sections[0].title: expected a table, got a string",
        ),
        (
            {"sections": [{"slug": "world", "title": {"en": "World"}}]},
            "sections[0].title.uk: is required",
        ),
        (
            {"sections": [{"slug": "world", "title": {"uk": "Світ", "de": "Welt"}}]},
            "sections[0].title.de: unknown key",
        ),
        (
            {"sections": [{"slug": "world", "title": {"uk": "Світ"}, "feeds": ["not a url"]}]},
            "sections[0].feeds[0]: expected an http(s) URL",
        ),
        (
            {"sections": [{"slug": "world", "title": {"uk": "Світ"}, "colour": "red"}]},
            "sections[0].colour: unknown key",
        ),
        (
            {
                "sections": [
                    {"slug": "world", "title": {"uk": "Світ"}},
                    {"slug": "world", "title": {"uk": "Ще"}},
                ]
            },
            "sections[1].slug: 'world' is used by another section",
        ),
    ],
)
def test_every_mistake_names_its_key(data: dict[str, Any], expected: str) -> None:
    assert error_of(data).startswith(expected)


def test_bad_token_in_environment_is_named() -> None:
    assert error_of({}, {"VISNYK_TELEGRAM_TOKEN": "oops"}).startswith("VISNYK_TELEGRAM_TOKEN: ")


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="config file not found"):
        load(tmp_path / "missing.toml", environ={})
    broken = tmp_path / "broken.toml"
    broken.write_text("[telegram\ntoken = 1\n")
    with pytest.raises(ConfigError, match="is not valid TOML"):
        load(broken, environ={})
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ConfigError, match="cannot read config file"):
        load(binary, environ={})


def test_summary() -> None:
    config = parse(
        minimal(
            telegram={"token": TOKEN, "owners": [1, 2]},
            sections=[
                {"slug": "a", "title": {"uk": "А"}, "feeds": ["https://a.example/rss"]},
                {
                    "slug": "b",
                    "title": {"uk": "Б"},
                    "feeds": ["https://b.example/rss", "http://c.example/"],
                },
            ],
        ),
        {},
    )
    assert config.summary() == "config OK: 2 sections, 3 feeds, 2 owners, token set"


SECRET = "s3cret-webhook_token-0123456789"
WEBHOOK = {"webhook_url": "https://bot.example.ua/telegram", "webhook_secret": SECRET}


def test_operations_defaults_are_off_and_quiet() -> None:
    config = parse({}, {})
    assert config.server.listen == ""
    assert config.telegram.webhook_url == ""
    assert config.logging.level == "INFO"
    assert config.logging.format == "text"


def test_webhook_mode() -> None:
    config = parse({"telegram": WEBHOOK, "server": {"listen": "127.0.0.1:8080"}}, {})
    assert (config.server.host, config.server.port) == ("127.0.0.1", 8080)
    assert config.telegram.webhook_secret == SECRET
    assert config.warnings() == []
    # The environment's secret wins, as the token's does.
    other = "another-secret-from-the-environment"
    env = parse(
        {"telegram": WEBHOOK, "server": {"listen": "[::1]:8443"}}, {"VISNYK_WEBHOOK_SECRET": other}
    )
    assert env.telegram.webhook_secret == other
    assert (env.server.host, env.server.port) == ("::1", 8443)
    plain = parse(
        {
            "telegram": {**WEBHOOK, "webhook_url": "http://bot.example.ua/hook"},
            "server": {"listen": "0.0.0.0:80"},
        },
        {},
    )
    assert "not https" in plain.warnings()[0]


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ({"telegram": WEBHOOK}, "server.listen: is required with telegram.webhook_url"),
        ({"telegram": WEBHOOK, "server": {"listen": ":1"}}, "server.listen: expected host:port"),
        (
            {"telegram": {"webhook_url": WEBHOOK["webhook_url"]}},
            "telegram.webhook_secret: is required with telegram.webhook_url",
        ),
        ({"telegram": {"webhook_secret": "short"}}, "telegram.webhook_secret: expected 16 to 256"),
        (
            {"telegram": {"webhook_secret": "has spaces in it, which Telegram refuses"}},
            "telegram.webhook_secret: expected 16 to 256",
        ),
        ({"telegram": {"webhook_url": "ftp://x/y"}}, "telegram.webhook_url: expected an http(s)"),
        (
            {"telegram": {"webhook_url": "https://x.ua/hook?token=1"}},
            "telegram.webhook_url: expected a URL without a query",
        ),
        (
            {"telegram": {"webhook_max_connections": 101}},
            "telegram.webhook_max_connections: at most 100",
        ),
        ({"server": {"listen": "localhost"}}, "server.listen: expected host:port"),
        ({"server": {"listen": "127.0.0.1:70000"}}, "server.listen: expected host:port"),
        ({"server": {"max_pending_age": 0}}, "server.max_pending_age: must be greater than 0"),
        ({"server": {"port": 80}}, "server.port: unknown key"),
        ({"logging": {"level": "LOUD"}}, "logging.level: expected one of DEBUG, INFO"),
        ({"logging": {"format": "xml"}}, "logging.format: expected one of text, json"),
    ],
)
def test_operations_mistakes_name_their_key(data: dict[str, Any], expected: str) -> None:
    assert error_of(data).startswith(expected)


def test_bad_secret_in_environment_is_named() -> None:
    assert error_of({}, {"VISNYK_WEBHOOK_SECRET": "no"}).startswith("VISNYK_WEBHOOK_SECRET: ")


def test_database_url_from_the_environment_wins_and_names_the_driver() -> None:
    """Credentials can stay out of the file: VISNYK_DATABASE_URL wins over [storage] url, and a
    plain postgresql:// URL gets the driver Visnyk uses."""
    data = {"telegram": {"token": "123456:" + "A" * 30}, "storage": {"url": "sqlite:///a.db"}}
    assert parse(data, environ={}).storage.url == "sqlite+aiosqlite:///a.db"
    env = {"VISNYK_DATABASE_URL": "postgresql://visnyk:s3cret@db.internal:5432/news"}
    assert parse(data, environ=env).storage.url == (
        "postgresql+asyncpg://visnyk:s3cret@db.internal:5432/news"
    )
    with pytest.raises(ConfigError) as caught:
        parse(data, environ={"VISNYK_DATABASE_URL": "oracle://scott:s3cret@db/news"})
    assert str(caught.value).startswith("VISNYK_DATABASE_URL: expected")
    assert "s3cret" not in str(caught.value)
