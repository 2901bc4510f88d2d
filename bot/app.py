"""The composition root: builds the Application, wires handlers, opens and closes resources.

Nothing imports this module but the command line and the tests.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

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
    MessageHandler,
    filters,
)

from bot import render
from bot.config import Config
from bot.context import Context, Runtime
from bot.handlers import errors, fallback, language, membership, sections, start, stop
from bot.i18n import Catalogs
from storage import sections as stored_sections
from storage.db import Database
from storage.types import NewSection

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 30

VisnykApp = Application[Any, Context, Any, Any, Any, Any]


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


def build(config: Config, *, heartbeat: Path | None = None) -> VisnykApp:
    """The bot, ready to run; resources open in post_init and close in post_shutdown."""

    async def post_init(app: VisnykApp) -> None:
        db = Database.open(config.storage.url)
        await db.upgrade()
        configured = [NewSection(s.slug, s.title) for s in config.sections]
        visible = await stored_sections.sync(db, configured)
        catalogs = Catalogs(config.i18n.default_language)
        app.bot_data["runtime"] = Runtime(config, db, catalogs, visible)
        await _set_commands(app, catalogs, config.i18n.default_language)
        if heartbeat is not None and app.job_queue is not None:
            _write_heartbeat(heartbeat)
            app.job_queue.run_repeating(
                _beat, interval=HEARTBEAT_SECONDS, data=heartbeat, name="heartbeat"
            )
        log.info("ready sections=%d bot=@%s", len(visible), app.bot.username)

    async def post_shutdown(app: VisnykApp) -> None:
        runtime: Runtime | None = app.bot_data.get("runtime")
        if runtime is not None:
            await runtime.db.close()

    defaults = Defaults(
        parse_mode=ParseMode.HTML,
        link_preview_options=LinkPreviewOptions(is_disabled=True),
        do_quote=False,
    )
    app: VisnykApp = (
        ApplicationBuilder()
        .token(config.telegram.token)
        .base_url(config.telegram.api_base_url)
        .base_file_url(file_url(config.telegram.api_base_url))
        .defaults(defaults)
        .context_types(ContextTypes(context=Context))
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    _add_handlers(app)
    return app


def _add_handlers(app: VisnykApp) -> None:
    messages = filters.UpdateType.MESSAGE
    commands = {
        "start": start.start,
        "help": start.help_command,
        "sections": sections.show,
        "subscribe": sections.subscribe,
        "unsubscribe": sections.unsubscribe,
        "language": language.language,
        "stop": stop.stop,
    }
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=messages))
    app.add_handler(
        CallbackQueryHandler(
            sections.toggle, pattern=rf"^({render.TOGGLE}|{render.TOGGLE_WELCOME}):([a-z0-9_-]+)$"
        )
    )
    app.add_handler(CallbackQueryHandler(language.choose, pattern=rf"^{render.LANGUAGE}:(uk|en)$"))
    app.add_handler(CallbackQueryHandler(stop.confirm, pattern=rf"^{render.STOP}:(yes|no)$"))
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


async def _set_commands(app: VisnykApp, catalogs: Catalogs, default_language: str) -> None:
    """The command menu in each language, and in the default language for everyone else."""
    try:
        for lang in ("uk", "en"):
            await app.bot.set_my_commands(
                render.command_menu(catalogs.get(lang)), language_code=lang
            )
        await app.bot.set_my_commands(
            render.command_menu(catalogs.get(default_language)), scope=BotCommandScopeDefault()
        )
    except TelegramError as e:
        log.warning("command menu not set error=%s", e)


def _write_heartbeat(path: Path) -> None:
    """Touch the heartbeat file that `visnyk health` (the Docker HEALTHCHECK) reads."""
    path.write_text(f"{time.time():.0f}\n")


async def _beat(context: Context) -> None:
    assert context.job is not None
    path: Path = context.job.data  # type: ignore[assignment]
    _write_heartbeat(path)


def run(config: Config, *, heartbeat: Path | None = None) -> None:
    """Run by long polling until SIGINT or SIGTERM."""
    build(config, heartbeat=heartbeat).run_polling(allowed_updates=Update.ALL_TYPES)
