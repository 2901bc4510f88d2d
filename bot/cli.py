"""The command line: `visnyk run`, `check-config`, `db upgrade`, `ingest --once`, `health`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlsplit

from bot import logs, pipeline
from bot.config import TOKEN_ENV, Config, ConfigError, load
from storage.db import Database
from storage.errors import StorageError

DEFAULT_CONFIG = "config.toml"
HEARTBEAT_ENV = "VISNYK_HEARTBEAT_FILE"
EXIT_USAGE = 2
NO_TOKEN = (
    f"no Telegram bot token: set {TOKEN_ENV} or telegram.token in the config. "
    "To get one, open @BotFather in Telegram (https://t.me/BotFather), send /newbot and "
    "follow its questions; it answers with the token."
)
TOKEN_REJECTED = (
    f"Telegram rejected the token: check {TOKEN_ENV} (or telegram.token) and telegram.api_base_url"
)

log = logging.getLogger(__name__)


class _Fail(Exception):
    def __init__(self, message: str, status: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.status = status


def _config(path: str) -> Config:
    try:
        return load(path)
    except ConfigError as e:
        raise _Fail(f"config error: {e}") from None


def _run(args: argparse.Namespace) -> None:
    config = _config(args.config)
    if not config.telegram.token:
        raise _Fail(NO_TOKEN)
    redactor = logs.protect(config.telegram.token)
    for warning in config.warnings():
        logging.getLogger("bot").warning("%s", warning)
    from telegram.error import TelegramError  # noqa: PLC0415 - PTB loads only for `run`

    from bot import app  # noqa: PLC0415

    heartbeat = os.environ.get(HEARTBEAT_ENV)
    try:
        asyncio.run(_ask_telegram(config))
        app.run(config, heartbeat=Path(heartbeat) if heartbeat else None)
    except TelegramError as e:
        raise _start_failure(e, config, redactor) from None


async def _ask_telegram(config: Config) -> None:
    """getMe before starting. PTB's start-up makes the same call, but when it fails PTB logs a
    traceback of its own before raising; asked here first, a wrong token or an API out of
    reach is one line (PTB's own logs about this call are that line too)."""
    from telegram import Bot  # noqa: PLC0415

    ptb_log = logging.getLogger("telegram")
    level = ptb_log.level
    ptb_log.setLevel(logging.CRITICAL)
    try:
        async with Bot(config.telegram.token, base_url=config.telegram.api_base_url):
            pass
    finally:
        ptb_log.setLevel(level)


def _start_failure(error: Exception, config: Config, redactor: logs.Redactor) -> _Fail:
    """One line on why the bot could not start; PTB's messages may carry the token."""
    from telegram.error import InvalidToken, NetworkError  # noqa: PLC0415

    where = _api_url(config.telegram.api_base_url)
    reason = " ".join(str(error).split())  # one line, whatever PTB or httpx wrote
    if isinstance(error, InvalidToken):  # PTB's name for a 401 and for a 404
        return _Fail(TOKEN_REJECTED)  # a fault of the config: exit 2, as for a config error
    if isinstance(error, NetworkError):  # also TimedOut, and 5xx answers
        return _Fail(redactor.redact(f"cannot reach the Bot API at {where}: {reason}"), 1)
    return _Fail(redactor.redact(f"the Bot API at {where} refused to start the bot: {reason}"), 1)


def _api_url(api_base_url: str) -> str:
    """The Bot API's URL without its secrets: `…` for the token, no user or password."""
    parts = urlsplit(api_base_url)
    netloc = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=netloc).geturl() + "…"


def _check_config(args: argparse.Namespace) -> None:
    config = _config(args.path)
    print(config.summary())
    for warning in config.warnings():
        print(f"visnyk: warning: {warning}", file=sys.stderr)


def _db_upgrade(args: argparse.Namespace) -> None:
    config = _config(args.config)

    async def upgrade() -> str | None:
        db = Database.open(config.storage.url)
        try:
            await db.upgrade()
            return await db.revision()
        finally:
            await db.close()

    revision = asyncio.run(upgrade())
    print(f"database at revision {revision}")


def _ingest(args: argparse.Namespace) -> None:
    config = _config(args.config)
    from bot.runtime import open_runtime  # noqa: PLC0415 - loads the news stack only here

    async def once() -> list[str]:
        runtime = await open_runtime(config)
        try:
            # Posts wait in the outbox until the bot runs: nothing is lost, nothing floods.
            reports = await pipeline.ingest(runtime, only_due=False)
        finally:
            await runtime.close()
        return [r.line() for r in reports]

    lines = asyncio.run(once())
    for line in lines:
        print(line)
    if not lines:
        print("no feeds configured")


def _health(args: argparse.Namespace) -> None:
    path = Path(args.file or os.environ.get(HEARTBEAT_ENV, ""))
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        raise _Fail(f"unhealthy: no heartbeat file at {path}", 1) from None
    if age > args.max_age:
        raise _Fail(f"unhealthy: last heartbeat {age:.0f} s ago", 1)
    print(f"healthy: last heartbeat {age:.0f} s ago")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="visnyk", description="Visnyk, the newsroom's Telegram bot")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="migrate the database and run the bot")
    run.add_argument("--config", default=DEFAULT_CONFIG, help="config file (./config.toml)")
    run.set_defaults(func=_run)

    check = sub.add_parser("check-config", help="validate a config file")
    check.add_argument("path", help="config file")
    check.set_defaults(func=_check_config)

    db = sub.add_parser("db", help="database maintenance")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    upgrade = db_sub.add_parser("upgrade", help="apply database migrations")
    upgrade.add_argument("--config", default=DEFAULT_CONFIG, help="config file (./config.toml)")
    upgrade.set_defaults(func=_db_upgrade)

    ingest = sub.add_parser("ingest", help="fetch every feed once and store what is new")
    ingest.add_argument("--once", action="store_true", required=True, help="one pass, then exit")
    ingest.add_argument("--config", default=DEFAULT_CONFIG, help="config file (./config.toml)")
    ingest.set_defaults(func=_ingest)

    health = sub.add_parser("health", help="exit 0 if the running bot's heartbeat is fresh")
    health.add_argument("--file", help=f"heartbeat file (${HEARTBEAT_ENV})")
    health.add_argument("--max-age", type=float, default=120.0, help="seconds (120)")
    health.set_defaults(func=_health)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logs.setup()
    try:
        args.func(args)
    except _Fail as e:
        print(f"visnyk: {e}", file=sys.stderr)
        return e.status
    except StorageError as e:
        print(f"visnyk: storage error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # Ctrl-C before the bot took over the signals
        return 130
    except Exception:
        log.exception("visnyk stopped by an unexpected error")  # through logging: redacted
        return 1
    return 0
