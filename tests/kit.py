"""The end-to-end test kit: a running Visnyk (real PTB Application, real SQLite) wired to the
fake Telegram, with the users that talk to it."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot import app as visnyk_app
from bot.config import Config, parse
from bot.context import Runtime
from storage.db import Database
from tests.fakes.people import Conversation, People
from tests.fakes.telegram import BotMessage, FakeTelegram

TOKEN = "123456789:AAEtestTOKENtestTOKENtestTOKEN12345"
OWNER = 100001  # People hands out user ids from here: the first person made is the owner
SECTIONS: list[dict[str, Any]] = [
    {"slug": "ukraine", "title": {"uk": "Україна", "en": "Ukraine"}},
    {"slug": "world", "title": {"uk": "Світ", "en": "World"}},
    {"slug": "economy", "title": {"uk": "Економіка", "en": "Economy"}},
    {"slug": "war", "title": {"uk": "Війна", "en": "War"}},
    {"slug": "culture", "title": {"uk": "Культура", "en": "Culture"}},
    {"slug": "science", "title": {"uk": "Наука і техніка", "en": "Science & Tech"}},
]


BACKENDS = ("sqlite", "postgresql")  # the databases tests marked `backends` run on
# The database of the test running now, when it is not an SQLite file in the test's directory
# (set by conftest's `database_url` fixture: a PostgreSQL database of the test's own).
DATABASE_URL: str | None = None


def make_config(
    tmp_path: Path, base_url: str, *, sections: list[dict[str, Any]] | None = None, **tables: Any
) -> Config:
    data: dict[str, Any] = {
        "telegram": {"token": TOKEN, "api_base_url": base_url},
        "storage": {"url": DATABASE_URL or f"sqlite+aiosqlite:///{tmp_path / 'visnyk.db'}"},
        "sections": SECTIONS if sections is None else sections,
        # A reader in a test types faster than anyone: their answers need not wait Telegram's
        # second. Tests of pacing set the real interval (and turn the fake's limits on).
        "delivery": {"private_chat_interval": 0.02},
    }
    for name, values in tables.items():
        data[name] = data.get(name, {}) | values
    return parse(data, environ={})


async def eventually(
    condition: Callable[[], bool | Awaitable[bool]], *, within: float = 5.0
) -> None:
    """Poll `condition` until it holds, failing after `within` seconds: for effects that no
    message shows (a status in the database, a file)."""
    async with asyncio.timeout(within):
        while True:
            result = condition()
            if await result if inspect.isawaitable(result) else result:
                return
            await asyncio.sleep(0.01)  # a poll with a deadline, on purpose


def free_port() -> int:
    """A loopback port nobody listens on (for a server whose address goes into its config)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def running(config: Config) -> AsyncIterator[visnyk_app.VisnykApp]:
    """Run the bot as `run_polling` does (initialize, post_init, poll, start), then stop it."""
    app = visnyk_app.build(config)
    await app.initialize()
    try:
        assert app.post_init is not None
        await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(timeout=1, allowed_updates=list(visnyk_app.ALLOWED_UPDATES))
        await app.start()
        try:
            yield app
        finally:
            await app.updater.stop()
            await app.stop()
    finally:
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


@contextlib.asynccontextmanager
async def started(tg: FakeTelegram, tmp_path: Path, **config: Any) -> AsyncIterator[Kit]:
    """Visnyk running against `tg` with the test config (overridden by `config`)."""
    cfg = make_config(tmp_path, tg.base_url, **config)
    async with running(cfg) as app:
        yield Kit(tg, People(tg), app, cfg)


@dataclass
class Kit:
    tg: FakeTelegram
    people: People
    app: visnyk_app.VisnykApp
    config: Config

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.bot_data["runtime"]
        return runtime

    @property
    def db(self) -> Database:
        return self.runtime.db

    def reader(self, first_name: str = "Оксана", language_code: str | None = "uk") -> Conversation:
        """A new user in a private chat with the bot."""
        user = self.people.person(first_name, language_code)
        return self.people.talk(self.people.private(user), user)

    def owner(self) -> Conversation:
        """The bot's owner (`OWNER`, when the test's config names it), in a private chat; the
        first person a test makes."""
        owner = self.reader("Редакторка")
        assert owner.user["id"] == OWNER
        return owner

    def sent_to(self, chat_id: int, after: int = 0) -> list[BotMessage]:
        """Messages the bot sent to a chat (calls from index `after` on)."""
        return [
            self.tg.messages[(chat_id, c.result["message_id"])]
            for c in self.tg.calls[after:]
            if c.method == "sendMessage" and c.ok and c.result["chat"]["id"] == chat_id
        ]
