"""What handlers reach through `context`: the runtime (config, database, catalogs, sections)."""

from __future__ import annotations

from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.i18n import Translator
from bot.newsroom import Desk
from bot.runtime import Runtime
from storage.db import Database


class Context(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[str, Any]]):
    """PTB's context with typed access to the runtime."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.bot_data["runtime"]
        return runtime

    @property
    def db(self) -> Database:
        return self.runtime.db

    @property
    def desk(self) -> Desk:
        """What the newsroom's services need of the runtime."""
        return Desk.of(self.runtime)

    def translator(self, language: str) -> Translator:
        return self.runtime.catalogs.get(language)
