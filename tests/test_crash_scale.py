"""kill -9 while an alert to a large audience is being written: a confirmation writes the first
chunk of deliveries and where the rest start, the rest follow a chunk at a time, and a restart
goes on from where the dead bot stopped. No reader is left out and none is written twice.

Each run: 90,000 readers (and the editor), an alert to everyone, the bot killed when its first
message reaches a reader (only the first chunk is written) or when the first of the later
chunks is in; then what the dead bot left is checked (every chunk whole, with how far it
reached), the bot restarted, and the alert's deliveries counted until they are all there."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot.newsroom import flashes
from storage.db import Database
from tests import crash_kit
from tests.fakes.people import People
from tests.fakes.telegram import Call, FakeTelegram
from tests.kit import OWNER, TOKEN

READERS = 90_000
FIRST_READER = 1_000_000  # their chat ids: FIRST_READER, FIRST_READER + 1, …
WITHIN = 30.0  # seconds for an answer from a bot that may be starting, on a busy machine


class Readers(dict[int, dict[str, Any]]):
    """The fake Telegram's chats: the readers' private chats made when first sent to."""

    def __missing__(self, chat_id: int) -> dict[str, Any]:
        if not FIRST_READER <= chat_id < FIRST_READER + READERS:
            raise KeyError(chat_id)
        chat = self[chat_id] = {"id": chat_id, "type": "private", "first_name": "Читач"}
        return chat


def config_text(tg: FakeTelegram, url: str) -> str:
    return f"""
[telegram]
api_base_url = "{tg.base_url}"
owners = [{OWNER}]
[storage]
url = "{url}"
[delivery]
messages_per_second = 50
concurrency = 4
private_chat_interval = 0.02
[[sections]]
slug = "world"
title = {{ uk = "Світ" }}
"""


class Newsroom(crash_kit.Subject):
    def __init__(self, tg: FakeTelegram, tmp_path: Path, url: str) -> None:
        self.tg = tg
        self.people = People(tg)
        user = self.people.person("Редакторка")
        assert user["id"] == OWNER
        self.editor = self.people.talk(self.people.private(user), user)
        self.readers = []  # made in bulk, below
        self.config = tmp_path / "config.toml"
        self.config.write_text(config_text(tg, url), encoding="utf-8")
        self.log = tmp_path / "bot.log"
        self.db = Database.open(url)

    def unhook(self) -> None:
        self.tg.on_call = None

    async def prepare(self, migrating: asyncio.Lock) -> None:
        await super().prepare(migrating)
        when = dt.datetime(2026, 11, 28, tzinfo=dt.UTC).replace(tzinfo=None)  # stored naive
        columns = (
            "INSERT INTO chats (id, type, title, language, status, created, updated, "
            "digest_enabled, weekdays_only) SELECT :first + i, 'private', '', 'uk', "
            "'active', :when, :when, false, false FROM "
        )
        if self.db.dialect == "sqlite":
            numbers = "n"
            columns = (
                "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < :last) "
                + columns
            )
            moment: object = when.strftime("%Y-%m-%d %H:%M:%S.%f")
        else:
            numbers, moment = "generate_series(0, :last) AS n(i)", when
        async with self.db.transaction() as s:  # straight into the table: 90,000 at once
            await s.execute(
                text(columns + numbers),
                {"first": FIRST_READER, "last": READERS - 1, "when": moment},
            )

    async def query(self, sql: str, **params: Any) -> list[Any]:
        async with self.db.reading() as s:
            return list((await s.execute(text(sql), params)).all())

    async def written(self, flash: int) -> tuple[str, int | None, int, int, int, int | None]:
        """The flash's state, how far its deliveries are written (None: all), its total, how
        many deliveries it has, to how many chats, and the highest of those chat ids."""
        [(state, enqueued_to, total, item_id)] = await self.query(
            "SELECT state, enqueued_to, total, item_id FROM broadcasts WHERE id = :id", id=flash
        )
        [(rows, chats, highest)] = await self.query(
            "SELECT count(*), count(DISTINCT chat_id), max(chat_id) FROM deliveries "
            "WHERE item_id = :item",
            item=item_id or 0,
        )
        return str(state), enqueued_to, int(total), int(rows), int(chats), highest

    async def say(self, words: str) -> None:
        await self.editor.send(words)
        await self.editor.next_message(within=WITHIN)


@pytest.mark.backends
@pytest.mark.parametrize("kill", ["first message", "a later chunk"])
async def test_a_kill_while_an_alert_is_written_leaves_no_reader_out(
    tmp_path: Path, kill: str, database_url: str
) -> None:
    tg = FakeTelegram(TOKEN)
    tg.chats = Readers()
    await tg.start()
    room = Newsroom(tg, tmp_path, database_url)
    everyone = READERS + 1  # the editor's chat is an active chat too
    try:
        await room.prepare(asyncio.Lock())
        await room.start()
        await room.editor.send("/breaking Блискавка для всіх")
        await room.editor.next_message(within=WITHIN)
        controls = await room.editor.next_message(within=WITHIN)
        assert "90\u00a0001 чат" in controls.text, controls.text  # counted, not listed
        await room.say("/help")  # the preview and its report's place are stored
        flash = int(controls.keyboard[0][0]["callback_data"].split(":")[1])

        def first_message(call: Call) -> None:
            chat_id = crash_kit.chat_id_of(call) or 0
            if call.method == "sendMessage" and chat_id >= FIRST_READER and call.ok:
                room.unhook()
                room.kill()

        if kill == "first message":
            tg.on_call = first_message
        await room.people.tap(controls, "", room.editor.user, data=f"al:{flash}:send")
        if kill == "a later chunk":

            async def beyond_the_first() -> bool:
                found = await room.query("SELECT count(*) FROM deliveries")
                return int(found[0][0]) > flashes.FIRST_CHUNK

            assert await crash_kit.settles(beyond_the_first, WITHIN)
            room.kill()
        assert room.bot is not None
        await asyncio.wait_for(room.bot.wait(), WITHIN)

        # What the dead bot left: the chunks it wrote whole, and where the next one starts.
        state, enqueued_to, total, rows, chats, highest = await room.written(flash)
        assert state == "sending"
        assert flashes.FIRST_CHUNK <= rows < everyone, (kill, rows)
        assert rows == chats
        assert enqueued_to == highest  # each chunk and how far it reached, together
        assert total == everyone  # the preview's count until all are written

        # The restarted bot writes the rest, each reader once, and sends.
        mark = len(tg.calls)
        await room.start()

        async def all_written() -> bool:
            return (await room.written(flash))[1] is None

        assert await crash_kit.settles(all_written, WITHIN)
        state, enqueued_to, total, rows, chats, highest = await room.written(flash)
        assert (rows, chats, total) == (everyone, everyone, everyone)
        assert highest == FIRST_READER + READERS - 1
        await tg.wait_for(
            lambda c: c.method == "sendMessage" and (crash_kit.chat_id_of(c) or 0) >= FIRST_READER,
            after=mark,
            within=WITHIN,
        )
    finally:
        await room.close()
        await tg.stop()
