"""The composition root: builds the Application, wires handlers, opens and closes resources.

Nothing imports this module but the command line and the tests.
"""

from __future__ import annotations

import gc
import logging
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from telegram import BotCommandScopeDefault, LinkPreviewOptions, Message, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot import callbacks, jobs, lifecycle, pipeline
from bot.commands import COMMANDS
from bot.config import Config
from bot.context import Context
from bot.delivery.pacer import Pacer
from bot.delivery.replies import PacedReplies
from bot.delivery.sender import Sender
from bot.handlers import (
    browse,
    channels,
    digest,
    editors,
    errors,
    fallback,
    flashes,
    language,
    membership,
    sections,
    sources,
    start,
    stats,
    stop,
)
from bot.i18n import Catalogs
from bot.leading import LEAD_SECONDS, Roles
from bot.lifecycle import Lifecycle
from bot.metrics import Metrics
from bot.reach import Reach
from bot.render import help as help_view
from bot.runtime import Runtime, open_runtime
from bot.throttle import Throttle
from bot.updates import FairUpdates
from storage import editors as stored_editors

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30
PROBE_SECONDS = 30  # Telegram is asked getMe when it has not answered for this long
INGEST_TICK_SECONDS = 30  # feeds fall due one by one (see bot.schedule); the tick polls those due
PRUNE_SECONDS = 24 * 3600
DIGEST_TICK_SECONDS = 60
PROGRESS_SECONDS = 3  # flashes' progress reports are edited this often
STOP_GRACE = 2.0  # seconds updates may still finish at stop (a reply waiting out a limit may not)
HANDLERS_AT_ONCE = 64  # updates of different chats handled concurrently
INLINE_FACTOR = 3  # inline queries a user may send, as a multiple of [throttle] updates
# What the bot handles; Telegram is asked for nothing else (edits, reactions, channel posts…).
ALLOWED_UPDATES = (
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.MY_CHAT_MEMBER,
)


AnyApp = Application[Any, Context, Any, Any, Any, Any]


class VisnykApplication(AnyApp):
    """PTB's Application, told at stop to let updates that are still waiting go."""

    async def stop(self) -> None:
        if isinstance(self.update_processor, FairUpdates):
            self.update_processor.stop(STOP_GRACE)
        await super().stop()


VisnykApp = VisnykApplication


class _AddressedToMe(filters.MessageFilter):
    """A command written as /name@thisbot: in groups only those are surely ours."""

    def filter(self, message: Message) -> bool:
        text = message.text or ""
        first = text.split(maxsplit=1)[0] if text else ""
        username = message.get_bot().username or ""
        return bool(username) and first.lower().endswith("@" + username.lower())


def file_url(api_base_url: str) -> str:
    """PTB's file URL beside the API's: `…/bot` becomes `…/file/bot`."""
    base = api_base_url.rstrip("/")
    return base[: -len("/bot")] + "/file/bot" if base.endswith("/bot") else base + "/file/bot"


def settle_memory() -> None:
    """Once started: move what start-up made (modules, catalogs, sections) out of the garbage
    collector's sight, so that its full passes stay short and do not stall sending."""
    gc.collect()
    gc.freeze()


def build(
    config: Config,
    *,
    heartbeat: Path | None = None,
    metrics: Metrics | None = None,
    reach: Reach | None = None,
) -> VisnykApp:
    """The bot, ready to run; resources open in post_init and close in post_shutdown."""
    metrics = metrics or Metrics()
    reach = reach or Reach()
    # PTB 23 gives durations (a 429's retry_after…) as timedeltas; 22 warns on every 429 unless
    # a bot opts in. We read both forms (bot.delivery.replies).
    os.environ.setdefault("PTB_TIMEDELTA", "1")

    async def post_init(app: AnyApp) -> None:
        sender = Sender(
            config.telegram.api_base_url,
            config.telegram.token,
            connections=config.delivery.concurrency,
            metrics=metrics,
            reach=reach,
        )
        await sender.start()
        try:
            runtime = await open_runtime(config, sender=sender, pacer=pacer, metrics=metrics)
        except BaseException:
            await sender.close()
            raise
        app.bot_data["runtime"] = runtime
        try:
            settle_memory()  # early: a full collection is a pause of its own
            if runtime.leading:  # stories a kill left stored, never posted
                await pipeline.post_unannounced(runtime)
            await _set_commands(app, runtime.catalogs, config.i18n.default_language)
            await _set_editor_menus(app, runtime)
            app.bot_data["roles"] = roles = Roles(runtime)
            await roles.step()  # this process's share of the rate, before any reply
            _add_jobs(app, config, heartbeat, reach)
        except BaseException:  # PTB runs no post_shutdown after a failed post_init
            del app.bot_data["runtime"]
            await runtime.close()  # the engine stopped, the database closed, before the loop
            raise
        log.info(
            "ready sections=%d bot=@%s role=%s",
            len(runtime.sections),
            app.bot.username,
            "leader" if runtime.leading else "follower",
        )

    async def post_shutdown(app: AnyApp) -> None:
        runtime: Runtime | None = app.bot_data.get("runtime")
        if runtime is not None:
            await runtime.close()

    pacer = Pacer(
        per_second=config.delivery.messages_per_second,
        private_interval=config.delivery.private_chat_interval,
        group_per_minute=config.delivery.group_messages_per_minute,
    )
    throttle = config.throttle

    async def notice(update: Update) -> None:
        await fallback.throttled(
            update, Context.from_update(update, app), minutes=math.ceil(throttle.pause / 60)
        )

    updates = FairUpdates(
        Throttle(throttle.updates, throttle.seconds, throttle.pause),
        notice,
        # Telegram sends an inline query at every pause in typing: a budget of their own, so
        # that searching as one types never mutes a reader's commands.
        inline=Throttle(throttle.updates * INLINE_FACTOR, throttle.seconds, throttle.pause),
        concurrency=HANDLERS_AT_ONCE,
        metrics=metrics,
    )
    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        do_quote=False,
    )
    app = cast(
        "VisnykApp",
        ApplicationBuilder()
        .application_class(VisnykApplication)
        .token(config.telegram.token)
        .base_url(config.telegram.api_base_url)
        .base_file_url(file_url(config.telegram.api_base_url))
        .defaults(defaults)
        .context_types(ContextTypes(context=Context))
        .rate_limiter(PacedReplies(pacer, metrics=metrics))
        .concurrent_updates(updates)
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build(),
    )
    _add_handlers(app)
    return app


def _reads_as(kind: type) -> Callable[[object], bool]:
    return lambda data: isinstance(callbacks.decode(data), kind)


def _add_handlers(app: VisnykApp) -> None:
    # First of all: a tap on a button that is in no chat (an inline message's) is none of ours.
    app.add_handler(TypeHandler(Update, fallback.tap_without_chat), group=-1)
    messages = filters.UpdateType.MESSAGE
    handlers = {
        "start": start.start,
        "help": start.help_command,
        "sections": sections.show,
        "subscribe": sections.subscribe,
        "unsubscribe": sections.unsubscribe,
        "topic": sections.topic,
        "language": language.language,
        "stop": stop.stop,
        "latest": browse.latest,
        "search": browse.search,
        "digest": digest.digest_now,
        "schedule": digest.schedule,
        "timezone": digest.timezone,
        "quiet": digest.quiet,
        "breaking": flashes.breaking,
        "post": flashes.post,
        "recall": flashes.recall,
        "correct": flashes.correct,
        "broadcasts": flashes.broadcasts,
        "audit": editors.audit,
        "editors": editors.editors,
        "editor_add": editors.editor_add,
        "editor_remove": editors.editor_remove,
        "sources": sources.health,
        "stats": stats.stats,
        "channel_add": channels.channel_add,
        "channel_remove": channels.channel_remove,
        "channels": channels.listed,
        "fetch": sources.fetch,
    }
    # Every command of bot.commands has its handler, and no handler is for a command not there.
    assert set(handlers) == {c.name for c in COMMANDS}, set(handlers) ^ {c.name for c in COMMANDS}
    for command in COMMANDS:
        app.add_handler(CommandHandler(command.name, handlers[command.name], filters=messages))
    # Buttons: each handler takes the taps the codec reads as its kind; anything else (forged,
    # from an old version, not ours) reaches fallback.stale_button at the end.
    taps = {
        callbacks.SectionTap: sections.toggle,
        callbacks.ModeTap: sections.toggle_mode,
        callbacks.InstantTap: sections.instant,
        callbacks.LanguageTap: language.choose,
        callbacks.StopTap: stop.confirm,
        callbacks.LatestPage: browse.latest_page,
        callbacks.SearchPage: browse.search_page,
        callbacks.CardTap: browse.open_card,
        callbacks.FlashTap: flashes.tap,
        callbacks.FetchTap: sources.fetch_tap,
    }
    for kind, callback in taps.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=_reads_as(kind)))
    app.add_handler(InlineQueryHandler(browse.inline))
    app.add_handler(ChatMemberHandler(membership.my_chat_member, ChatMemberHandler.MY_CHAT_MEMBER))
    app.add_handler(MessageHandler(filters.StatusUpdate.MIGRATE, membership.migrated))
    # Last, so that they see only what no handler above took: PTB runs the first match per group.
    private = filters.ChatType.PRIVATE
    app.add_handler(
        MessageHandler(
            messages & filters.COMMAND & (private | _AddressedToMe()), fallback.unknown_command
        )
    )
    app.add_handler(MessageHandler(messages & private & ~filters.COMMAND, fallback.plain_text))
    app.add_handler(CallbackQueryHandler(fallback.stale_button))
    app.add_error_handler(errors.on_error)


async def _set_commands(app: AnyApp, catalogs: Catalogs, default_language: str) -> None:
    """The command menu in each language, and in the default language for everyone else."""
    try:
        for lang in ("uk", "en"):
            await app.bot.set_my_commands(
                help_view.command_menu(catalogs.get(lang)), language_code=lang
            )
        await app.bot.set_my_commands(
            help_view.command_menu(catalogs.get(default_language)), scope=BotCommandScopeDefault()
        )
    except TelegramError as e:
        log.warning("command menu not set error=%s", e)


async def _set_editor_menus(app: AnyApp, runtime: Runtime) -> None:
    """Owners and editors see the editors' commands in their private chat's menu."""
    context = Context(app)
    added = [user_id for user_id, _, _ in await stored_editors.editors(runtime.db)]
    for user_id in dict.fromkeys([*runtime.config.telegram.owners, *added]):
        await editors.set_editor_menu(context, user_id, editor=True)


def _add_jobs(app: AnyApp, config: Config, heartbeat: Path | None, reach: Reach) -> None:
    """Background work; each job runs one instance at a time, a late run is coalesced."""
    queue = app.job_queue
    assert queue is not None, "python-telegram-bot[job-queue] is required"
    once = {"max_instances": 1, "coalesce": True}
    tick = min(INGEST_TICK_SECONDS, config.ingest.poll_interval)
    queue.run_repeating(jobs.ingest, interval=tick, first=1, name="ingest", job_kwargs=once)
    queue.run_repeating(
        jobs.digest_tick, interval=DIGEST_TICK_SECONDS, first=2, name="digests", job_kwargs=once
    )
    queue.run_repeating(
        jobs.prune, interval=PRUNE_SECONDS, first=PRUNE_SECONDS / 24, name="prune", job_kwargs=once
    )
    queue.run_repeating(
        jobs.progress,
        interval=PROGRESS_SECONDS,
        first=PROGRESS_SECONDS,
        name="progress",
        job_kwargs=once,
    )
    queue.run_repeating(jobs.probe, interval=PROBE_SECONDS, data=reach, name="probe")
    queue.run_repeating(
        jobs.lead, interval=LEAD_SECONDS, first=LEAD_SECONDS, name="lead", job_kwargs=once
    )
    if heartbeat is not None:
        jobs.write_heartbeat(heartbeat)
        queue.run_repeating(
            jobs.heartbeat, interval=HEARTBEAT_SECONDS, data=heartbeat, name="heartbeat"
        )


def run(config: Config, *, heartbeat: Path | None = None) -> None:
    """Run, by webhook or long polling as configured, until SIGINT or SIGTERM."""
    metrics, reach = Metrics(), Reach()
    app = build(config, heartbeat=heartbeat, metrics=metrics, reach=reach)
    lifecycle.run(
        Lifecycle(app, config, reach=reach, metrics=metrics, allowed_updates=ALLOWED_UPDATES)
    )
