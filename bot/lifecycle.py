"""Running the built bot: start in order, serve until a signal, stop in order, exactly once.

PTB's `run_polling` stops by raising SystemExit where the loop happens to be; a second Ctrl-C
during shutdown raised it again inside the shutdown, which then skipped `post_shutdown` and
with it the delivery engine's last outcomes. Here a signal only sets an event: the first one
starts the shutdown, later ones are told to wait, and the shutdown always runs to its end.

The order: initialize (getMe) and post_init (database, engine); the HTTP server, if any, so
that /healthz answers early; the application; then updates, by webhook (setWebhook with the
secret) or by long polling (which deletes a webhook left set). Stopping goes backwards: the
webhook answers 503 (Telegram keeps the update and retries), polling stops, the application
finishes its updates, the server closes, post_shutdown stores the engine's outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot import health, logs
from bot.config import Config
from bot.leading import Roles
from bot.metrics import CONTENT_TYPE, Metrics
from bot.reach import Reach
from bot.runtime import Runtime
from bot.server import Routes, Server, Webhook

log = logging.getLogger(__name__)
AnyApp = Application[Any, Any, Any, Any, Any, Any]
SIGNALS = (signal.SIGINT, signal.SIGTERM)
STEP_SECONDS = 10.0  # the most a step of stopping may take (Docker waits 30 s in all)


class Stop:
    """The first SIGINT or SIGTERM asks the bot to stop; later ones only say it is stopping."""

    def __init__(self) -> None:
        self.event = asyncio.Event()
        self.signals = 0

    def __call__(self, signum: int) -> None:
        self.signals += 1
        name = signal.Signals(signum).name
        if self.signals == 1:
            log.info("stopping signal=%s", name)
        else:
            log.warning("already stopping: deliveries' outcomes are being stored signal=%s", name)
        self.event.set()

    @contextlib.contextmanager
    def installed(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for signum in SIGNALS:
            loop.add_signal_handler(signum, self, signum)
        try:
            yield
        finally:
            for signum in SIGNALS:
                loop.remove_signal_handler(signum)


class Lifecycle:
    """One run of a built application: `serve` until `stop` is set."""

    def __init__(
        self,
        app: AnyApp,
        config: Config,
        *,
        reach: Reach,
        metrics: Metrics,
        allowed_updates: Sequence[str],
    ) -> None:
        self.app, self.config, self.reach, self.metrics = app, config, reach, metrics
        logs.tame()
        self.allowed_updates = list(allowed_updates)
        self.server: Server | None = None
        self.accepting = False  # the webhook hands updates to the application
        self.started = asyncio.Event()  # set once updates flow
        self._refresh_failures = logs.Limited(log)

    @property
    def runtime(self) -> Runtime | None:
        runtime: Runtime | None = self.app.bot_data.get("runtime")
        return runtime

    async def serve(self, stop: asyncio.Event) -> None:
        """Start, wait for `stop`, stop. A stop that comes during start-up cancels it."""
        starting = asyncio.ensure_future(self._start())
        stopped = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait({starting, stopped}, return_when=asyncio.FIRST_COMPLETED)
            if not starting.done():
                starting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await starting  # its error, if any, is the run's
            await stopped
        finally:
            stopped.cancel()
            await self._stop()

    async def _start(self) -> None:
        app, config = self.app, self.config
        await app.initialize()
        if app.post_init is not None:
            await app.post_init(app)
        if config.server.listen:
            self.server = Server(self._routes(), config.server.host, config.server.port)
            await self.server.start()
        webhook = config.telegram.webhook_url
        if webhook:
            await app.start()
            self.accepting = True
            await app.bot.set_webhook(
                webhook,
                secret_token=config.telegram.webhook_secret,
                allowed_updates=self.allowed_updates,
                max_connections=config.telegram.webhook_max_connections,
            )
        else:
            # Only the leading process polls (Telegram allows one getUpdates at a time); a
            # follower starts polling when it takes the lead, and stops when it loses it.
            roles: Roles | None = app.bot_data.get("roles")
            if roles is not None:
                roles.on_lead.append(self._start_polling)
                roles.on_follow.append(self._stop_polling)
            if self.runtime is None or self.runtime.leading:
                await self._start_polling()
            await app.start()
        self.reach.answered(time.monotonic())  # setWebhook or deleteWebhook was answered
        log.info("running updates=%s", "webhook" if webhook else "polling")
        self.started.set()

    async def _start_polling(self) -> None:
        updater = self.app.updater
        assert updater is not None
        if not updater.running:
            # Deletes a webhook an earlier run left set: Telegram refuses getUpdates while one is.
            await updater.start_polling(
                allowed_updates=self.allowed_updates, error_callback=self._polling_failed
            )
            self.reach.answered(time.monotonic())

    async def _stop_polling(self) -> None:
        updater = self.app.updater
        if updater is not None and updater.running:
            await asyncio.wait_for(updater.stop(), STEP_SECONDS)

    async def _stop(self) -> None:
        """Every step that applies, in order, each whatever the one before it did; each but
        the last within its time (a hung Telegram, an update stuck), so that post_shutdown,
        which stores the engine's outcomes, always runs."""
        app = self.app
        self.accepting = False
        steps: list[tuple[str, Callable[[], Awaitable[object]], float | None]] = []
        if app.updater is not None and app.updater.running:
            steps.append(("polling", app.updater.stop, STEP_SECONDS))
        if app.running:
            steps.append(("application", app.stop, STEP_SECONDS))
        if self.server is not None:
            steps.append(("server", self.server.stop, STEP_SECONDS))
        if app._initialized:  # PTB offers no public flag
            steps.append(("shutdown", app.shutdown, STEP_SECONDS))
            if app.post_shutdown is not None and self.runtime is not None:
                post_shutdown = app.post_shutdown
                steps.append(("post_shutdown", lambda: post_shutdown(app), None))
        for name, step, seconds in steps:
            try:
                await asyncio.wait_for(step(), seconds)
            except TimeoutError:
                log.warning("stopping went on without step=%s after=%ss", name, seconds)
            except Exception:
                log.exception("stopping failed at step=%s", name)
        log.info("stopped")

    def _polling_failed(self, error: TelegramError) -> None:
        """PTB's polling loop retries with a growing pause; we say it once (bot.reach)."""
        self.reach.failed("polling", error, time.monotonic())

    # ---- the server's parts ------------------------------------------------------------

    def _routes(self) -> Routes:
        config = self.config
        webhook = None
        if config.telegram.webhook_url:
            webhook = Webhook(
                path=urlsplit(config.telegram.webhook_url).path or "/",
                secret=config.telegram.webhook_secret,
                deliver=self._deliver,
                accepting=lambda: self.accepting,
                refused=self.metrics.webhook_refused,
            )
        return Routes(
            liveness=lambda: health.liveness(self.runtime),
            readiness=lambda: health.readiness(self.runtime, self.reach, config.server),
            metrics=self._metrics,
            webhook=webhook,
        )

    async def _deliver(self, data: dict[str, Any]) -> None:
        """Into the application's queue, at once: the server checked, with nothing awaited
        since, that the bot is not stopping (an update queued behind PTB's stop mark would
        never be handled, and the stop would wait for it for ever)."""
        try:
            update = Update.de_json(data, self.app.bot)
        except Exception as e:  # a body that is JSON but no update PTB can read
            raise ValueError(f"not an update: {type(e).__name__}") from e
        self.app.update_queue.put_nowait(update)

    async def _metrics(self) -> tuple[bytes, str]:
        """Everything counted; the gauges read from the database are left as they were when
        it fails (a scrape during a database incident still has every counter)."""
        runtime = self.runtime
        if runtime is not None:
            try:
                await self.metrics.refresh(runtime.db, runtime.now())
            except Exception as e:
                self._refresh_failures.warning("metrics not refreshed error=%s", logs.short(e))
        return self.metrics.render(), CONTENT_TYPE


def run(lifecycle: Lifecycle) -> None:
    """Serve until SIGINT or SIGTERM; whatever signals follow, the shutdown runs to its end."""
    _open_files_limit()

    async def main() -> None:
        stop = Stop()
        with stop.installed():
            await lifecycle.serve(stop.event)

    asyncio.run(main())


def _open_files_limit() -> None:
    """Raise the soft limit of open files to the hard one: a systemd unit or a container
    starts at 1,024, which a few hundred readers' connections and the server's clients share."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as e:
            log.warning("open files limit kept soft=%d error=%s", soft, e)
