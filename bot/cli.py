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
    from bot import app  # noqa: PLC0415 - PTB loads only for the commands that need it

    heartbeat = os.environ.get(HEARTBEAT_ENV)
    app.run(config, heartbeat=Path(heartbeat) if heartbeat else None)


def _check_config(args: argparse.Namespace) -> None:
    print(_config(args.path).summary())


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
            reports = await runtime.ingester.run(runtime.now(), only_due=False)
            # Posts wait in the outbox until the bot runs: nothing is lost, nothing floods.
            await runtime.post_stories([i for r in reports for i in r.fresh])
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
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    # httpx logs every request URL at INFO, and a Bot API URL carries the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    try:
        args.func(args)
    except _Fail as e:
        print(f"visnyk: {e}", file=sys.stderr)
        return e.status
    except StorageError as e:
        print(f"visnyk: storage error: {e}", file=sys.stderr)
        return 1
    return 0
