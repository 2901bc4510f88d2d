"""The command line: `visnyk run`, `check-config`, `db upgrade`, `db backup`, `db copy`,
`ingest --once`, `health`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit

from bot import logs, pipeline
from bot.config import TOKEN_ENV, Config, ConfigError, load
from bot.config_values import database_url
from bot.news.report import FeedReport
from storage import copy as db_copy
from storage.backup import BackupExists, NotSQLite, backup
from storage.db import Database, database_password
from storage.errors import StorageError
from storage.runlock import AlreadyRunning, RunLock

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
    redactor.hide(config.telegram.webhook_secret)
    redactor.hide(database_password(config.storage.url))
    logs.configure(config.logging.level, config.logging.format)
    for warning in config.warnings():
        logging.getLogger("bot").warning("%s", warning)
    from telegram.error import TelegramError  # noqa: PLC0415 - PTB loads only for `run`

    from bot import app  # noqa: PLC0415
    from bot.server import ListenError  # noqa: PLC0415

    heartbeat = os.environ.get(HEARTBEAT_ENV)
    lock = RunLock.for_url(config.storage.url)  # one bot per SQLite file
    try:
        if lock is not None:
            lock.acquire()
        asyncio.run(_ask_telegram(config))
        app.run(config, heartbeat=Path(heartbeat) if heartbeat else None)
    except AlreadyRunning as e:
        raise _Fail(str(e), 1) from None
    except TelegramError as e:
        raise _start_failure(e, config, redactor) from None
    except ListenError as e:  # the port taken: one line, the key to change
        raise _Fail(f"{e} (server.listen)", 1) from None
    finally:
        if lock is not None:
            lock.release()


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
    from telegram.error import BadRequest, InvalidToken, NetworkError  # noqa: PLC0415

    where = _api_url(config.telegram.api_base_url)
    reason = " ".join(str(error).split())  # one line, whatever PTB or httpx wrote
    if isinstance(error, InvalidToken):  # PTB's name for a 401 and for a 404
        return _Fail(TOKEN_REJECTED)  # a fault of the config: exit 2, as for a config error
    if isinstance(error, BadRequest) and "webhook" in reason.lower():  # setWebhook refused it
        return _Fail(redactor.redact(f"Telegram refused telegram.webhook_url: {reason}"), 2)
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


def _db_backup(args: argparse.Namespace) -> None:
    config = _config(args.config)
    try:
        taken = asyncio.run(backup(config.storage.url, Path(args.path), replace=args.replace))
    except NotSQLite as e:
        raise _Fail(f"db backup copies SQLite files only; {e}") from None
    except BackupExists as e:
        raise _Fail(f"{e}: choose a new name, or --replace it", 1) from None
    print(
        f"backup {taken.path}: {_size(taken.size)}, revision {taken.revision or 'none'}, "
        f"{taken.seconds:.1f} s"
    )


def _db_copy(args: argparse.Namespace) -> None:
    try:  # `postgresql://` as in [storage] url: with asyncpg
        source, target = database_url("--from", args.source), database_url("--to", args.target)
    except ConfigError as e:
        raise _Fail(str(e)) from None
    secrets = sorted(db_copy.passwords(source) | db_copy.passwords(target))
    if secrets:  # out of every log line and traceback too
        redactor = logs.protect(secrets[0])
        for secret in secrets[1:]:
            redactor.hide(secret)
    progress = _CopyProgress(sys.stderr)
    try:
        copied = asyncio.run(db_copy.copy(source, target, batch=args.batch, progress=progress))
    except (db_copy.CopyRefused, db_copy.CountsDiffer) as e:
        raise _Fail(str(e), 1) from None
    print(copied.line())


class _CopyProgress:
    """A line a table: on a terminal rewritten in place as batches go (five times a second at
    most); in a log or a pipe written when the table is done and, while a long one goes on,
    every `every` seconds."""

    def __init__(self, stream: TextIO, every: float = 10.0) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.every = 0.2 if self.tty else every
        self.shown = time.monotonic()

    def __call__(self, step: db_copy.TableProgress) -> None:
        now = time.monotonic()
        if not step.finished and now - self.shown < self.every:
            return
        self.shown = now
        end = "\n" if step.finished or not self.tty else ""
        self.stream.write(("\r\x1b[K" if self.tty else "") + self.line(step) + end)
        self.stream.flush()

    @staticmethod
    def line(step: db_copy.TableProgress) -> str:
        if step.checking:  # a copy run again: what the first wrote is compared first
            state = "the same as the source's" if step.finished else "being compared"
            return f"{step.table:<16} {step.done:>11,} {_rows(step.done)} there before, {state}"
        earlier = step.done - step.copied
        had = f", {earlier:,} there before" if earlier else ""
        if step.finished:
            return (
                f"{step.table:<16} {step.done:>11,} {_rows(step.done)}  {step.seconds:6.1f} s  "
                f"{step.rate:>9,.0f} rows/s{had}"
            )
        share = step.done / step.total if step.total else 1.0
        return (
            f"{step.table:<16} {step.done:>11,} of {step.total:,} rows  {share:4.0%}  "
            f"{step.rate:>9,.0f} rows/s{had}"
        )


def _positive(value: str) -> int:
    """An argument that counts something: a whole number, at least 1."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {value!r}")
    return number


def _rows(n: int) -> str:
    return "row" if n == 1 else "rows"


def _size(size: int) -> str:
    if size < 1_000_000:
        return f"{size / 1000:.0f} kB"
    return f"{size / 1_000_000:.1f} MB"


def _ingest(args: argparse.Namespace) -> None:
    config = _config(args.config)
    from bot.ingest import feed_log  # noqa: PLC0415 - loads the news stack only here
    from bot.runtime import open_runtime  # noqa: PLC0415

    async def once() -> list[FeedReport]:
        runtime = await open_runtime(config)
        try:
            # Posts wait in the outbox until the bot runs: nothing is lost, nothing floods.
            return await pipeline.ingest(runtime, only_due=False)
        finally:
            await runtime.close()

    # Each feed's report is printed below: the ingester's own line about it would say it twice.
    feed_log.setLevel(logging.ERROR)
    reports = asyncio.run(once())
    for report in reports:
        print(report.line())
    if not reports:
        print("no feeds configured")
    elif all(r.error for r in reports):  # for cron and CI: nothing could be fetched
        raise _Fail(f"every feed failed ({len(reports)} of {len(reports)})", 1)


def _health(args: argparse.Namespace) -> None:
    """The running bot's health: its /healthz when the config has the HTTP server on, else the
    age of its heartbeat file. Nothing to ask is unhealthy, never healthy."""
    try:
        listen = _config(args.config).server.listen if args.config else ""
    except _Fail as e:  # Docker reserves a HEALTHCHECK's exit 2: unhealthy is 1
        raise _Fail(f"unhealthy: {e}", 1) from None
    if listen and not args.file:
        _health_http(_healthz_url(listen), args.timeout)
        return
    where = args.file or os.environ.get(HEARTBEAT_ENV, "")
    if not where:
        raise _Fail(
            f"unhealthy: no heartbeat file configured (--file or ${HEARTBEAT_ENV}) and no "
            "[server] listen in a --config to ask /healthz",
            1,
        )
    path = Path(where)
    try:
        age = time.time() - path.stat().st_mtime
    except OSError:
        raise _Fail(f"unhealthy: no heartbeat file at {path}", 1) from None
    if age > args.max_age:
        raise _Fail(f"unhealthy: last heartbeat {age:.0f} s ago", 1)
    print(f"healthy: last heartbeat {age:.0f} s ago")


def _healthz_url(listen: str) -> str:
    """The URL of /healthz on the address the server listens on; a wildcard address (all
    interfaces) is asked on loopback."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    if host in {"", "0.0.0.0", "::"}:  # noqa: S104 - recognised, not bound
        host = "127.0.0.1" if host != "::" else "::1"
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/healthz"


def _health_http(url: str, timeout: float) -> None:
    """Exit 0 only when `url` answers 200 within `timeout` seconds."""
    request = urllib.request.Request(url, headers={"User-Agent": "visnyk-health"})  # noqa: S310
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310 - http only
            status, body = answer.status, answer.read(200)
    except urllib.error.HTTPError as e:  # an answer, but not 2xx
        status, body = e.code, e.read(200)
    except (OSError, ValueError) as e:  # refused, timed out, unreachable, a bad address
        reason = getattr(e, "reason", e)
        raise _Fail(f"unhealthy: cannot reach {url}: {reason}", 1) from None
    said = " ".join(body.decode("utf-8", "replace").split())
    if status != 200:
        raise _Fail(f"unhealthy: {url} answered {status}{f': {said}' if said else ''}", 1)
    print(f"healthy: {url} answered 200")


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

    back = db_sub.add_parser(
        "backup",
        help="copy the SQLite database to a file, safely while the bot runs",
        description="Copy the SQLite database to PATH with SQLite's online backup API: safe "
        "while the bot runs, which goes on writing meanwhile; the copy is the database as it "
        "was when the backup began. An existing PATH is left alone unless --replace is given; "
        "a backup cut short leaves nothing at PATH. To restore, stop the bot and put the file "
        "where [storage] url points.",
    )
    back.add_argument("path", metavar="PATH", help="the backup file to write")
    back.add_argument("--config", default=DEFAULT_CONFIG, help="config file (./config.toml)")
    back.add_argument(
        "--replace", action="store_true", help="replace PATH if it exists (once the copy is done)"
    )
    back.set_defaults(func=_db_backup)

    copy = db_sub.add_parser(
        "copy",
        help="copy the newsroom to another database (SQLite to PostgreSQL, or back)",
        description="Copy every table from the database at --from to the one at --to (migrated "
        "first), in batches, with a progress line a table on stderr; then count each table's "
        "rows on both sides. Stop the bot first. Run again after an interruption, it goes on "
        "where the copy stopped. Refused when both are one database, when the source is not at "
        "the newest migration, and when the target holds another newsroom. URLs as in [storage] "
        "url; a password may come from PGPASSWORD instead of the URL.",
    )
    copy.add_argument("--from", dest="source", required=True, metavar="URL", help="copy from")
    copy.add_argument("--to", dest="target", required=True, metavar="URL", help="copy to")
    copy.add_argument(
        "--batch",
        type=_positive,
        default=db_copy.BATCH,
        metavar="ROWS",
        help=f"rows a transaction ({db_copy.BATCH})",
    )
    copy.set_defaults(func=_db_copy)

    ingest = sub.add_parser("ingest", help="fetch every feed once and store what is new")
    ingest.add_argument("--once", action="store_true", required=True, help="one pass, then exit")
    ingest.add_argument("--config", default=DEFAULT_CONFIG, help="config file (./config.toml)")
    ingest.set_defaults(func=_ingest)

    health = sub.add_parser(
        "health",
        help="exit 0 if the running bot is healthy",
        description="Exit 0 if the running bot is healthy: with --config whose [server] listen "
        "is set, when its /healthz answers 200; otherwise when its heartbeat file (--file or "
        f"${HEARTBEAT_ENV}) is fresh. Exit 1 when neither is there to ask.",
    )
    health.add_argument("--config", help="config file: ask /healthz when [server] listen is set")
    health.add_argument("--file", help=f"heartbeat file (${HEARTBEAT_ENV}); wins over /healthz")
    health.add_argument("--max-age", type=float, default=120.0, help="heartbeat: seconds (120)")
    health.add_argument("--timeout", type=float, default=5.0, help="/healthz: seconds (5)")
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
