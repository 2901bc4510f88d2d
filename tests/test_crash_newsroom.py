"""kill -9 right after an editor confirms: a flash, its correction and its recall are never
half-recorded.

Each run kills the bot at one point of one confirmation (some milliseconds after getUpdates
hands it the tap; when it answers the tap; when its first message to a reader, or the one to
half of them, arrives), checks what the dead bot left in the database, restarts it, and
follows the confirmation through. Either it never happened (still a preview, no outbox row,
nothing reached anyone; the editor's next tap on the same preview sends it) or it happened
whole (an outbox item with a delivery per target; after the restart every target gets it
once, save at most `concurrency` messages that were in flight at the kill, and the report
ends). Never a broadcast out of preview without its item and deliveries, a target left out, or
a report that never ends. One run goes flash → correction → recall, killing at the same point
each time.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from sqlalchemy import text

from storage.db import Database
from tests import crash_kit
from tests.fakes.people import Conversation, People
from tests.fakes.telegram import BotMessage, Call, FakeTelegram
from tests.kit import BACKENDS, OWNER, TOKEN

READERS = 40
CONCURRENCY = 4  # [delivery] concurrency: at most this many messages are in flight at a kill
RATE = 50  # [delivery] messages_per_second: a flash takes ~0.8 s, so a kill can land mid-send
WITHIN = 30.0  # seconds for an answer from a bot that may be starting, on a busy machine
SETTLE = 20.0  # seconds for a restarted bot to finish (its report is edited every 3 s)
RUNS_AT_ONCE = 4  # runs side by side: most of a run is waiting for a bot to start
# Where a run kills the bot: this many ms after getUpdates hands it the tap ("0ms": before it
# reads it, so the restarted bot is handed the tap again); denser where confirming happens on
# a 2-core machine (it starts ~4 ms after the handout and is written by ~15-40 ms); "answer":
# when it answers the tap; "first" and "half": when its first message (send, edit, delete) to
# a reader, or the one to half the readers, arrives, before it learns the outcome.
KILLS = [*(f"{ms}ms" for ms in (0, 3, 6, 9, 12, 15, 20, 25, 30, 40, 80)), "answer", "first", "half"]


@dataclass(frozen=True)
class Kind:
    name: str  # broadcasts.kind
    method: str  # what a confirmation does in each reader's chat
    started: str  # the answer to the tap that confirms


FLASH = Kind("flash", "sendMessage", "Надсилаю…")
CORRECT = Kind("correct", "editMessageText", "Виправляю…")
RECALL = Kind("recall", "deleteMessage", "Видаляю…")


def config_text(tg: FakeTelegram, url: str) -> str:
    return f"""
[telegram]
api_base_url = "{tg.base_url}"
owners = [{OWNER}]
[storage]
url = "{url}"
[delivery]
messages_per_second = {RATE}
concurrency = {CONCURRENCY}
private_chat_interval = 0.02
[[sections]]
slug = "world"
title = {{ uk = "Світ" }}
"""


class Room(crash_kit.Subject):
    """The bot as a process, its database, an editor (the owner) and the readers of #world."""

    def __init__(self, tg: FakeTelegram, tmp_path: Path, url: str) -> None:
        self.tg = tg
        self.people = People(tg)
        user = self.people.person("Редакторка")
        assert user["id"] == OWNER
        self.editor: Conversation = self.people.talk(self.people.private(user), user)
        self.readers = [self.people.private(self.people.person(f"Читач {i}"))["id"]
                        for i in range(READERS)]  # fmt: skip
        self.config = tmp_path / "config.toml"
        self.config.write_text(config_text(tg, url), encoding="utf-8")
        self.log = tmp_path / "bot.log"
        self.db = Database.open(url)
        self.bot: asyncio.subprocess.Process | None = None
        self.problems: list[str] = []
        self.flashes = 0

    # ---- the process -----------------------------------------------------------------------

    def unhook(self) -> None:
        self.tg.on_call = self.tg.on_handout = None

    async def say(self, words: str) -> BotMessage:
        """The editor writes; the bot's first message back."""
        await self.editor.send(words)
        return await self.editor.next_message(within=WITHIN)

    async def tap(self, controls: BotMessage, data: str) -> dict[str, Any]:
        """The editor taps a button; the bot's answer to the tap (text, show_alert)."""
        mark = len(self.tg.calls)
        query_id = await self.people.tap(controls, "", self.editor.user, data=data)
        call = await self.tg.wait_for(
            lambda c: (
                c.method == "answerCallbackQuery"
                and str(c.params.get("callback_query_id")) == query_id
            ),
            after=mark,
            within=WITHIN,
        )
        return call.params

    async def probe(self) -> None:
        """Wait until the (re)started bot answers the editor: it has handled whatever came
        before in that chat, the tap Telegram handed out again included."""
        await self.say("/help")

    # ---- what the database holds -----------------------------------------------------------

    async def query(self, sql: str, **params: Any) -> list[Any]:
        async with self.db.transaction() as s:
            return list((await s.execute(text(sql), params)).all())

    async def broadcast(self, broadcast_id: int) -> tuple[str, int | None, int]:
        rows = await self.query(
            "SELECT state, item_id, total FROM broadcasts WHERE id = :id", id=broadcast_id
        )
        assert rows, f"no broadcast #{broadcast_id}"
        state, item_id, total = rows[0]
        return str(state), item_id, int(total or 0)

    async def rows(self) -> tuple[int, int]:
        """How many outbox items and deliveries there are in all."""
        [(items,)] = await self.query("SELECT count(*) FROM outbox_items")
        [(deliveries,)] = await self.query("SELECT count(*) FROM deliveries")
        return int(items), int(deliveries)

    async def deliveries(self, item_id: int) -> Counter[str]:
        rows = await self.query(
            "SELECT state, count(*) FROM deliveries WHERE item_id = :i GROUP BY state", i=item_id
        )
        return Counter({str(state): int(n) for state, n in rows})

    async def flash_messages(self, item_id: int) -> dict[int, list[int]]:
        """Each chat's message ids of a sent flash, as its deliveries stored them."""
        rows = await self.query(
            "SELECT chat_id, message_ids FROM deliveries WHERE item_id = :i", i=item_id
        )
        return {
            int(chat_id): list(json.loads(ids) if isinstance(ids, str) else ids or [])
            for chat_id, ids in rows
        }

    async def half_recorded(self, broadcast_id: int, what: str) -> str | None:
        """None when the broadcast is whole: out of preview only with its outbox item, a
        delivery per reader, and that figure as its total. Else what is wrong."""
        state, item_id, total = await self.broadcast(broadcast_id)
        if state == "preview":
            return None
        if state not in ("sending", "done"):
            return f"{what}: state {state!r}"
        if item_id is None:
            return f"{what}: state {state!r} with no outbox item (item_id NULL)"
        if not await self.query("SELECT id FROM outbox_items WHERE id = :i", i=item_id):
            return f"{what}: state {state!r}, item_id {item_id} names no outbox item"
        counted = await self.deliveries(item_id)
        if counted.total() != READERS or total != READERS:
            return (
                f"{what}: state {state!r}, {counted.total()} deliveries "
                f"({dict(counted)}) and total {total}, for {READERS} readers"
            )
        return None

    async def clues(self, broadcast_id: int, kind: Kind, mark: int) -> str:
        """For a failure's message: the outbox item today's code keys by the broadcast (if
        any) with its deliveries, and how many readers it reached."""
        keyed = await self.query(
            "SELECT o.id, count(d.id) FROM outbox_items o "
            "LEFT JOIN deliveries d ON d.item_id = o.id WHERE o.key = :key GROUP BY o.id",
            key=f"flash:{broadcast_id}",
        )
        item = f"outbox item {keyed[0][0]} with {keyed[0][1]} deliveries" if keyed else "no item"
        reached = len({_chat_id(c) for c in self.acted(kind, mark)})
        return f" ['flash:{broadcast_id}': {item}; {reached} of {READERS} readers reached]"

    # ---- what the readers saw --------------------------------------------------------------

    def acted(self, kind: Kind, after: int) -> list[Call]:
        """The bot's successful calls of the kind's method in readers' chats from `after` on."""
        readers = set(self.readers)
        return [
            c
            for c in self.tg.calls[after:]
            if c.method == kind.method and c.ok and _chat_id(c) in readers
        ]

    # ---- one confirmation through a kill ---------------------------------------------------

    def arm(self, kill: str, tap_data: str, kind: Kind) -> None:
        """Kill the bot at `kill` (see KILLS) of the coming tap with `tap_data`."""
        readers = set(self.readers)
        loop = asyncio.get_running_loop()

        def on_handout(updates: list[dict[str, Any]]) -> None:
            if any(u.get("callback_query", {}).get("data") == tap_data for u in updates):
                self.tg.on_handout = None
                delay = int(kill.removesuffix("ms")) / 1000
                if delay:
                    loop.call_later(delay, self.kill)
                else:
                    self.kill()

        hits = {"answer": 1, "first": 1, "half": READERS // 2}.get(kill, 0)

        def on_call(call: Call) -> None:
            nonlocal hits
            if kill == "answer":
                hits -= call.method == "answerCallbackQuery"
            else:
                hits -= call.method == kind.method and _chat_id(call) in readers
            if hits == 0:
                self.tg.on_call = None
                self.kill()

        if kill.endswith("ms"):
            self.tg.on_handout = on_handout
        else:
            self.tg.on_call = on_call

    async def confirm_through_a_kill(
        self, kind: Kind, controls: BotMessage, broadcast_id: int, kill: str
    ) -> bool:
        """Tap the confirming button under `controls`, kill the bot at `kill`, check what it
        left, restart it and see the confirmation through. Records what went wrong in
        `problems`; True when all went right."""
        what = f"{kind.name} #{broadcast_id}, killed at {kill}"
        before = len(self.problems)
        rows_before = await self.rows()
        mark = len(self.tg.calls)
        tap_data = f"al:{broadcast_id}:send"
        self.arm(kill, tap_data, kind)
        await self.people.tap(controls, "", self.editor.user, data=tap_data)
        assert self.bot is not None
        try:
            await asyncio.wait_for(self.bot.wait(), 10)
        except TimeoutError:  # the point never came (no message left): kill it anyway
            self.tg.on_call = self.tg.on_handout = None
            self.kill()
            await self.bot.wait()
            self.problems.append(f"{what}: the kill point never came within 10 s")

        # What the dead bot left.
        state, _, _ = await self.broadcast(broadcast_id)
        if state == "preview":
            if await self.rows() != rows_before:
                self.problems.append(f"{what}: still a preview, yet new outbox rows at the kill")
            if self.acted(kind, mark):
                self.problems.append(f"{what}: still a preview, yet it reached readers")
        elif (wrong := await self.half_recorded(broadcast_id, what + ", at the kill")) is not None:
            self.problems.append(wrong + await self.clues(broadcast_id, kind, mark))

        await self.start()
        await self.probe()
        state, _, _ = await self.broadcast(broadcast_id)
        if state == "preview":  # not confirmed: the editor taps again on the same preview
            if self.acted(kind, mark):
                self.problems.append(f"{what}: a preview after the restart that reached readers")
            answer = await self.tap(controls, tap_data)
            if answer.get("text") != kind.started or answer.get("show_alert"):
                self.problems.append(f"{what}: the second tap was answered {answer!r}")

        async def whole() -> bool:
            _, item_id, _ = await self.broadcast(broadcast_id)
            return item_id is not None and await self.deliveries(item_id) == Counter(
                {"sent": READERS}
            )

        if not await settles(whole):
            state, item_id, total = await self.broadcast(broadcast_id)
            counted = await self.deliveries(item_id) if item_id is not None else Counter()
            self.problems.append(
                f"{what}: {SETTLE:.0f} s after the restart it is {state!r} with item_id "
                f"{item_id}, total {total}, deliveries {dict(counted)}"
                + await self.clues(broadcast_id, kind, mark)
                + f"; its report reads {controls.text!r}"
            )
            return False
        if (wrong := await self.half_recorded(broadcast_id, what + ", once sent")) is not None:
            self.problems.append(wrong)
            return False
        self.problems += await self.reached_once(kind, broadcast_id, mark, what)
        return len(self.problems) == before

    async def reached_once(self, kind: Kind, broadcast_id: int, mark: int, what: str) -> list[str]:
        """Every reader got the flash (edit, deletion) once: a flash at most `concurrency`
        times more in all; an edit or deletion exactly once on the message the flash's
        delivery stored."""
        acted = self.acted(kind, mark)
        per_chat = Counter(_chat_id(c) for c in acted)
        missing = [r for r in self.readers if not per_chat[r]]
        if missing:
            return [f"{what}: {len(missing)} readers never got it"]
        if kind is FLASH:
            twice = per_chat.total() - READERS
            if twice > CONCURRENCY:
                return [f"{what}: {twice} readers got it twice (at most {CONCURRENCY} may)"]
            return []
        if per_chat.total() != READERS:
            return [f"{what}: {per_chat.total()} successful {kind.method} for {READERS} readers"]
        [(of_id,)] = await self.query("SELECT of_id FROM broadcasts WHERE id = :id",
                                      id=broadcast_id)  # fmt: skip
        _, flash_item, _ = await self.broadcast(int(of_id))
        assert flash_item is not None
        wrong = []
        for chat_id, ids in (await self.flash_messages(flash_item)).items():
            message = self.tg.messages[(chat_id, ids[0])]
            if kind is CORRECT and (message.edits != 1 or "виправлено" not in message.text):
                wrong.append((chat_id, message.edits, message.text))
            if kind is RECALL and not message.deleted:
                wrong.append((chat_id, message.edits, message.text))
        return (
            [f"{what}: {len(wrong)} flashes not {kind.name}ed once: {wrong[:3]}"] if wrong else []
        )

    async def reports_end(self, reports: list[tuple[BotMessage, int]]) -> None:
        """Each confirmed broadcast ends `done`, its report saying so (the report job runs
        every 3 s in whichever bot is alive)."""

        async def ended() -> bool:
            states = [(await self.broadcast(b))[0] for _, b in reports]
            return all(s == "done" for s in states) and all("готово" in c.text for c, _ in reports)

        if not await settles(ended):
            for controls, broadcast_id in reports:
                state, _, _ = await self.broadcast(broadcast_id)
                if state != "done" or "готово" not in controls.text:
                    self.problems.append(
                        f"#{broadcast_id} is {state!r}, its report stuck at {controls.text!r}"
                    )

    # ---- the editor's commands -------------------------------------------------------------

    async def preview(self) -> tuple[BotMessage, int]:
        """/breaking #world: the controls under the preview, and the flash's id."""
        self.flashes += 1
        shown = await self.say(f"/breaking #world Блискавка {self.flashes}")
        assert "Терміново" in shown.text
        controls = await self.editor.next_message(within=WITHIN)
        await self.probe()  # the preview is all stored (its report's place too) before a tap
        return controls, _broadcast_id(controls)

    async def sent_flash(self) -> int:
        """A flash sent to every reader without a kill (when the killed one went wrong)."""
        controls, flash_id = await self.preview()
        answer = await self.tap(controls, f"al:{flash_id}:send")
        assert answer.get("text") == FLASH.started, answer
        _, item_id, _ = await self.broadcast(flash_id)
        assert item_id is not None

        async def all_sent() -> bool:
            return (await self.deliveries(item_id)) == Counter({"sent": READERS})

        assert await settles(all_sent), f"flash #{flash_id} not sent to all readers"
        return flash_id

    async def follow_up(self, kind: Kind, flash_id: int) -> tuple[BotMessage, int]:
        """/correct or /recall of a sent flash: the question, and the new broadcast's id."""
        if kind is CORRECT:
            await self.say(f"/correct {flash_id} Блискавку виправлено")
            controls = await self.editor.next_message(within=WITHIN)
        else:
            controls = await self.say(f"/recall {flash_id}")
        assert f"{READERS} чатах" in controls.text, controls.text
        await self.probe()
        return controls, _broadcast_id(controls)


async def settles(condition: Callable[[], Awaitable[bool]], within: float = SETTLE) -> bool:
    return await crash_kit.settles(condition, within)


_chat_id = crash_kit.chat_id_of


def _broadcast_id(controls: BotMessage) -> int:
    return int(controls.keyboard[0][0]["callback_data"].split(":")[1])


async def run(kill: str, tmp_path: Path, migrating: asyncio.Lock, url: str) -> list[str]:
    """One run: a flash, its correction and its recall, each confirmed through a kill at
    `kill`. Returns what went wrong."""
    tg = FakeTelegram(TOKEN)
    await tg.start()
    room = Room(tg, tmp_path, url)
    try:
        await room.prepare(migrating)
        await room.start()
        controls, flash_id = await room.preview()
        confirmed = [(controls, flash_id)]
        if not await room.confirm_through_a_kill(FLASH, controls, flash_id, kill):
            flash_id = await room.sent_flash()  # a whole one, for the correction and recall
            confirmed = []
        for kind in (CORRECT, RECALL):
            controls, broadcast_id = await room.follow_up(kind, flash_id)
            if await room.confirm_through_a_kill(kind, controls, broadcast_id, kill):
                confirmed.append((controls, broadcast_id))
        await room.reports_end(confirmed)
    except Exception as e:  # a run that breaks off fails its own test, not the others'
        room.problems.append(f"the run broke off: {e!r}"[:1000])
    finally:
        await room.close()
        await tg.stop()
    if room.problems:
        room.problems.append(f"(the bot's log: {room.log})")
    return room.problems


@pytest_asyncio.fixture(scope="module", loop_scope="module", params=BACKENDS)
async def outcomes(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    new_database: Callable[[str, Path], str],
) -> dict[str, list[str]]:
    """Every kill point's run, RUNS_AT_ONCE at a time (most of a run is waiting: for a bot
    to start, for its report's next edit)."""
    slots, migrating = asyncio.Semaphore(RUNS_AT_ONCE), asyncio.Lock()

    async def one(kill: str) -> list[str]:
        async with slots:
            directory = tmp_path_factory.mktemp(f"kill-{kill}")
            url = new_database(request.param, directory)
            return await run(kill, directory, migrating, url)

    found = await asyncio.gather(*(one(kill) for kill in KILLS))
    return dict(zip(KILLS, found, strict=True))


@pytest.mark.parametrize("kill", KILLS)
def test_a_kill_while_confirming_leaves_nothing_half_done(
    outcomes: dict[str, list[str]], kill: str
) -> None:
    problems = outcomes[kill]
    assert not problems, "\n".join(problems)
