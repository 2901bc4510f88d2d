"""Logging: its set-up ([logging]'s level, text or JSON lines, the chatty libraries quiet),
the filter that keeps the bot token out of every line, and the helpers that keep what outsiders
can cause to one short line (`short`, `Limited`, `OneLine`).

PTB puts the token in its messages (`InvalidToken: The token `…` was rejected`), httpx in the
URLs of its errors and requests (`…/bot<token>/getMe`); both end up in tracebacks. `protect`
puts a `Redactor` on every handler (a filter on a logger would miss the records its children
propagate) and sends what Python would print by itself through logging too: uncaught
exceptions, those of threads, unraisable ones (`Exception ignored in …`) and warnings. asyncio's
default exception handler already logs to the `asyncio` logger, so the filter covers it.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import threading
import time
from collections.abc import Callable
from types import TracebackType

import orjson

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
REDACTED = "<token>"
# Alone, the part after the colon is found by its first 8 characters, and hidden with all the
# token's characters that follow them (a shorter piece could be any word); after the bot's id
# and a colon, any piece of it is hidden.
SECRET_HEAD = 8
_TOKEN_CHARS = "[A-Za-z0-9_-]"  # noqa: S105 - a character class, not a secret
_COLON = "(?::|%3A|%253A)"  # as typed, URL-encoded, encoded twice (a URL inside a query)

log = logging.getLogger(__name__)


# Libraries whose INFO lines are chatter: httpx's request lines (URLs), APScheduler's line for
# every job run ("Running job…", "…executed successfully"), aiohttp's access log, PTB's lines
# on starting and stopping (bot.lifecycle writes its own), Alembic's about its context and each
# step (storage.db says in one line when a migration ran).
QUIET = ("httpx", "apscheduler", "aiohttp.access", "telegram.ext.Application", "alembic")
_FIELD = re.compile(r" (\w+)=")


# Where a library writes a traceback for what is no bug of ours: a malformed HTTP request to
# the bot's server (anyone can send one), the polling loop's last call failing at stop, the
# process out of file descriptors (a flood of connections). One line each, once a minute.
ONE_LINE = {
    "aiohttp.server": "",
    "telegram.ext.Updater": "",
    "asyncio": "socket.accept() out of system resource",
}
ONE_LINE_EVERY = 60.0


def setup() -> None:
    """Every command logs to stderr at INFO, as text; the chatty libraries stay quiet."""
    logging.basicConfig(level=logging.INFO, format=FORMAT)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
    # APScheduler warns at every tick a job is still running ("maximum number of running
    # instances reached"): by design here (one instance a job), so chatter.
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    tame()


def tame() -> None:
    """The libraries' tracebacks for what is no bug of ours become one line (ONE_LINE); the
    running bot calls it whatever logging it was given (bot.lifecycle). Idempotent."""
    for name, prefix in ONE_LINE.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, OneLine) for f in logger.filters):
            logger.addFilter(OneLine(prefix))


def short(error: object) -> str:
    """An error as one short line: its kind and its message's first line, never a traceback."""
    text = str(error).strip()
    first = text.splitlines()[0][:200] if text else ""
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


class Limited:
    """A warning written to `logger` at most once every `every` seconds, with how many were
    not written since (`count=`): for what anyone outside can make happen at will."""

    def __init__(
        self,
        logger: logging.Logger,
        every: float = ONE_LINE_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.logger, self.every, self.clock = logger, every, clock
        self.last: float | None = None
        self.unlogged = 0

    def warning(self, message: str, *args: object) -> None:
        self.unlogged += 1
        now = self.clock()
        if self.last is None or now - self.last >= self.every:
            self.logger.warning("%s count=%d", message % args, self.unlogged)
            self.last, self.unlogged = now, 0


class OneLine(logging.Filter):
    """Records (those whose message starts with `prefix`) become one WARNING line without a
    traceback, each kind at most once every ONE_LINE_EVERY seconds, with how many were left
    out. Other records pass as they are."""

    def __init__(self, prefix: str = "", clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self.prefix, self.clock = prefix, clock
        self._last: dict[str, float] = {}
        self._left_out: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        try:
            message = record.getMessage()
        except Exception:
            message = str(record.msg)
        if not message.startswith(self.prefix):
            return True
        error = record.exc_info[1] if record.exc_info else None
        cause = short(error) if error else ""
        kind = f"{message.splitlines()[0][:120]} {type(error).__name__ if error else ''}"
        now = self.clock()
        last = self._last.get(kind)
        if last is not None and now - last < ONE_LINE_EVERY:
            self._left_out[kind] = self._left_out.get(kind, 0) + 1
            return False
        left_out = self._left_out.pop(kind, 0)
        self._last[kind] = now
        record.msg = "%s%s%s"
        record.args = (
            message.splitlines()[0][:300],
            f" error={cause}" if cause else "",
            f" left_out={left_out}" if left_out else "",
        )
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def configure(level: str, fmt: str) -> None:
    """The running bot's logging, as `[logging]` says: the level, and text or JSON lines. The
    handlers keep their filters (the token's `Redactor`)."""
    root = logging.getLogger()
    root.setLevel(level)
    for handler in root.handlers:
        handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(FORMAT))
    for name in QUIET:  # DEBUG asks for everything, these included
        logging.getLogger(name).setLevel(logging.WARNING if level != "DEBUG" else logging.DEBUG)
    scheduler = logging.ERROR if level != "DEBUG" else logging.DEBUG
    logging.getLogger("apscheduler").setLevel(scheduler)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, the event and its `key=value` fields as
    keys of their own (`delivery stopped sent=12` gives "event": "delivery stopped",
    "sent": "12"), and the traceback, if any, as one string."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        line: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
        }
        line |= fields(message)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["traceback"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return orjson.dumps(line).decode()


def fields(message: str) -> dict[str, object]:
    """`event key=value key=value…` as {"event": …, key: value…}; a value runs to the next
    ` key=` (an error's text may hold spaces). A message without fields is all event."""
    found = list(_FIELD.finditer(message))
    out: dict[str, object] = {"event": message[: found[0].start()] if found else message}
    for i, match in enumerate(found):
        end = found[i + 1].start() if i + 1 < len(found) else len(message)
        key = match.group(1)
        if key not in {"time", "level", "logger", "event", "traceback", "stack"}:
            out[key] = message[match.end() : end]
    return out


class Redactor(logging.Filter):
    """Rewrites a record so that no secret is left in its message, arguments, traceback or
    stack: each becomes `<token>`, with any URL-encoded colon and any prefix of its part after
    the colon. Lets every record through."""

    def __init__(self, *secrets: str) -> None:
        super().__init__()
        self._forms: list[str] = []
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.hide(secret)

    def hide(self, secret: str) -> None:
        """Also hide `secret` (a bot token `123456789:AAE…`, or any string)."""
        if not secret:
            return
        bot_id, colon, part = secret.rpartition(":")
        if not colon:
            part = secret
        elif bot_id:
            # The id and a colon, then anything that could be the token: every prefix too.
            self._forms.append(f"(?<![0-9]){re.escape(bot_id)}{_COLON}{_TOKEN_CHARS}+")
        head = re.escape(part[:SECRET_HEAD])
        self._forms.append(head + f"{_TOKEN_CHARS}*" if len(part) > SECRET_HEAD else head)
        self._forms.append(re.escape(secret))
        self._pattern = re.compile("|".join(self._forms), re.IGNORECASE)

    def redact(self, text: str) -> str:
        return self._pattern.sub(REDACTED, text) if self._pattern is not None else text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite what holds a secret; a record without one keeps its message, arguments and
        exception."""
        if self._pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, hidden
            message = f"{record.msg} {_describe(record.args)}"
        if (hidden := self.redact(message)) != message:
            record.msg, record.args = hidden, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and (hidden := self.redact(record.exc_text)) != record.exc_text:
            # Formatters print exc_text when it is set; without exc_info none formats it anew.
            record.exc_text, record.exc_info = hidden, None
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def _describe(value: object) -> str:
    try:
        return repr(value)
    except Exception:
        return f"<{type(value).__name__} whose repr fails>"


def protect(secret: str) -> Redactor:
    """From now on `secret` appears in nothing this process writes through logging, and what
    Python would write to stderr by itself goes through logging."""
    redactor = Redactor(secret)
    loggers = [logging.getLogger()] + [
        lg for lg in logging.Logger.manager.loggerDict.values() if isinstance(lg, logging.Logger)
    ]
    handlers = {id(h): h for lg in loggers for h in lg.handlers}
    if logging.lastResort is not None:  # used when a record finds no handler at all
        handlers[id(logging.lastResort)] = logging.lastResort
    for handler in handlers.values():
        handler.addFilter(redactor)
    logging.captureWarnings(True)
    sys.excepthook = log_uncaught
    threading.excepthook = log_thread_uncaught
    sys.unraisablehook = log_unraisable
    return redactor


def log_uncaught(kind: type[BaseException], error: BaseException, tb: TracebackType | None) -> None:
    """sys.excepthook: the traceback through logging."""
    log.critical("uncaught %s", kind.__name__, exc_info=(kind, error, tb))


def log_thread_uncaught(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: the traceback through logging (a thread's SystemExit is quiet)."""
    if args.exc_type is SystemExit:
        return
    name = args.thread.name if args.thread is not None else "?"
    exc_info = (args.exc_type, args.exc_value or args.exc_type(), args.exc_traceback)
    log.critical("uncaught %s in thread %s", args.exc_type.__name__, name, exc_info=exc_info)


def log_unraisable(unraisable: sys.UnraisableHookArgs) -> None:
    """sys.unraisablehook: `Exception ignored in …` through logging."""
    where = unraisable.err_msg or "Exception ignored in"
    error = unraisable.exc_value
    exc_info = (unraisable.exc_type, error, unraisable.exc_traceback) if error else None
    log.error("%s: %s", where, _describe(unraisable.object), exc_info=exc_info)
