"""Editors' tools end to end: preview → confirm → delivery with a live report → recall and
correction; who may do what; every refusal and the audit log."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from bot import pipeline
from storage import articles, broadcasts, chats, editors, outbox
from storage.codes import AuditOutcome
from storage.errors import StorageError
from storage.types import BroadcastState, ChatStatus
from tests.delivery_kit import audience, story
from tests.fakes.people import Conversation
from tests.fakes.telegram import BotMessage, FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import OWNER, Kit, eventually, started
from tests.ukrainian import assert_ukrainian

pytestmark = pytest.mark.backends


def alive(kit: Kit, chat_id: int) -> list[BotMessage]:
    return [m for (c, _), m in kit.tg.messages.items() if c == chat_id and not m.deleted]


async def preview(kit: Kit, editor: Conversation, text: str) -> BotMessage:
    """Send /breaking; return the controls message (under the preview)."""
    first = await editor.say(text)
    assert "Терміново" in first.text
    return await editor.next_message()


async def another_editor(kit: Kit, name: str) -> Conversation:
    """A user the owner has made an editor."""
    editor = kit.reader(name)
    await editors.add_editor(kit.db, editor.user["id"], OWNER, kit.runtime.now())
    return editor


def controls_id(controls: BotMessage) -> int:
    return int(controls.keyboard[0][0]["callback_data"].split(":")[1])


async def press(who: Conversation, controls: BotMessage, action: str, flash: int = 0) -> str:
    """Press a preview's button by what it does (send, quiet, cancel); with `flash`, press it
    again after it is gone (a replayed press). Returns the text the tap was answered with."""
    data = f"al:{flash or controls_id(controls)}:{action}"
    answer = await who.tap(controls, "", data=data)
    return str(answer.get("text", ""))


async def test_preview_confirm_deliver_report_recall_correct(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 150, section="world")
    others = await audience(kit, 20, section="economy")
    kit.tg.blocked_by.update(readers[:3])
    text = "/breaking #world Уряд подав у відставку & <не HTML> https://news.example.ua/a"
    controls = await preview(kit, editor, text)
    shown = kit.tg.messages[(editor.chat["id"], controls.message_id - 1)]
    assert shown.text.splitlines() == [
        "⚡️ Терміново", "", "Уряд подав у відставку & <не HTML>", "", "Читати далі →",
    ]  # fmt: skip
    assert "150 чатів" in controls.text
    assert not any(alive(kit, r) for r in readers)  # nothing before a confirmation
    assert await press(editor, controls, "send") == "Надсилаю…"
    await eventually(lambda: all(alive(kit, r) for r in readers[3:]), within=10)
    await eventually(lambda: "готово" in controls.text, within=15)
    assert "надіслано: 147" in controls.text
    assert "заблокували бота: 3" in controls.text
    assert not any(alive(kit, o) for o in others)  # #world only
    got = alive(kit, readers[5])[0]
    assert got.text == shown.text
    assert got.params["link_preview_options"]["url"] == "https://news.example.ua/a"
    flash_id = int(controls.text.split("#")[1].split(":")[0].split()[0])

    listing = await editor.say("/broadcasts")
    assert f"#{flash_id}" in listing.text
    assert "надіслано 147" in listing.text

    # Correct it everywhere.
    await editor.say(f"/correct {flash_id} Уряд <b>не</b> подавав у відставку")
    ask = await editor.next_message()
    assert "147 чатах" in ask.text
    await editor.tap(ask, "Виправити всюди")
    # What the editor typed as tags stays text: only Telegram entities become formatting.
    await eventually(lambda: "Уряд <b>не</b> подавав" in alive(kit, readers[5])[0].text, within=10)
    await eventually(lambda: "готово" in ask.text, within=15)
    assert "виправлено: 147" in ask.text

    # Recall it everywhere.
    ask = await editor.say(f"/recall {flash_id}")
    assert "147 чатах" in ask.text
    await editor.tap(ask, "Видалити всюди")
    await eventually(lambda: not any(alive(kit, r) for r in readers), within=10)
    await eventually(lambda: "готово" in ask.text, within=15)
    assert "видалено: 147" in ask.text

    # The audit log reads in the editor's language: commands, and what each came to.
    log = await editor.say("/audit")
    lines = log.text.splitlines()
    assert lines[0] == "Журнал дій"
    assert f"/breaking #{flash_id} #world → перегляд для 150 чатів" in lines[-1]
    assert f"підтвердження #{flash_id} → підтверджено для 150 чатів" in log.text
    assert f"підтвердження #{flash_id} → виправлення підтверджено в 147 чатах" in log.text
    assert f"підтвердження #{flash_id} → видалення підтверджено в 147 чатах" in log.text
    assert f"/correct #{flash_id} → перегляд для 147 чатів" in log.text
    assert f"/recall #{flash_id} → перегляд для 147 чатів" in log.text
    assert log.text.count("підтвердження #") == 3
    assert_ukrainian(log.html)


async def test_only_its_editor_confirms_once_in_time(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 5)
    other = await another_editor(kit, "Інший редактор")
    controls = await preview(kit, editor, "/breaking Вибухи в Києві")
    flash = controls_id(controls)
    # Another editor's tap on this preview sends nothing.
    other_view = kit.people.talk(editor.chat, other.user)
    refused = await press(other_view, controls, "send")
    assert "Надіслати цей перегляд може лише його автор" in refused
    assert not any(alive(kit, r) for r in readers)
    await press(editor, controls, "quiet")
    await eventually(lambda: all(alive(kit, r) for r in readers))
    # The editor's own chat is an active chat too: its copy comes before the next answer.
    assert "Вибухи в Києві" in (await editor.next_message()).text
    assert all(alive(kit, r)[0].silent for r in readers)
    # A second tap (a replayed press) sends nothing more.
    assert "вже надіслано" in await press(editor, controls, "send", flash)
    # A forged press for a preview that never existed sends nothing either.
    assert "Цього перегляду вже немає" in await press(editor, controls, "send", 9999)
    assert all(len(alive(kit, r)) == 1 for r in readers)

    # An expired preview, and one cancelled, send nothing.
    late = await preview(kit, editor, "/breaking Друга новина")
    kit.runtime.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(minutes=11)
    assert "застарів" in await press(editor, late, "send")
    kit.runtime.clock = lambda: dt.datetime.now(dt.UTC)
    third = await preview(kit, editor, "/breaking Третя новина")
    third_id = controls_id(third)
    await press(editor, third, "cancel")
    await eventually(lambda: "скасовано" in third.text)
    assert "скасовано" in await press(editor, third, "send", third_id)
    assert all(len(alive(kit, r)) == 1 for r in readers)
    entries = await editors.audit_log(kit.db, 50)
    assert {e.outcome for e in entries} >= {
        AuditOutcome.NOT_YOURS, AuditOutcome.ALREADY_SENT, AuditOutcome.EXPIRED,
        AuditOutcome.WAS_CANCELLED, AuditOutcome.CANCELLED, AuditOutcome.SENT_SILENTLY,
    }  # fmt: skip
    audit = await editor.say("/audit")
    log = audit.text
    for outcome in (
        "відмовлено: перегляд іншого редактора", "відмовлено: уже надіслано",
        "відмовлено: перегляд застарів", "відмовлено: перегляд уже скасовано",
        "підтверджено без звуку для 6 чатів", "скасування", "скасовано",
    ):  # fmt: skip
        assert outcome in log
    assert_ukrainian(audit.html)


async def test_non_editors_and_groups_are_refused(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 3)
    stranger = kit.reader("Незнайомець")
    for command in ("/breaking Фейк", "/recall 1", "/broadcasts", "/audit", "/editor_add 5"):
        answer = await stranger.say(command)
        assert answer.text == "Ця команда — для редакторів."
    second = await another_editor(kit, "Друга")
    assert "Лише власники" in (await second.say("/editor_add 5")).text
    # In a group an editor and anyone else get the same answer: the group learns nobody's role.
    member = kit.people.person("Учасник")
    group = kit.people.group("Редакція", members=(member,))
    from_editor = await kit.people.talk(group, editor.user).say("/breaking Фейк")
    from_member = await kit.people.talk(group, member).say("/breaking Фейк")
    assert "лише в особистому чаті" in from_editor.text
    assert from_member.text == from_editor.text
    assert not any(alive(kit, r) for r in readers)
    # Strangers' attempts are a tally apart; the audit log keeps the editors' own.
    entries = await editors.audit_log(kit.db, 50)
    assert {e.user_id for e in entries} == {editor.user["id"], second.user["id"]}
    assert any(e.outcome == AuditOutcome.NOT_OWNER for e in entries)
    assert any(e.outcome == AuditOutcome.NOT_PRIVATE for e in entries)
    _, people, attempts = await editors.strangers(kit.db, kit.runtime.now() - dt.timedelta(days=1))
    assert (people, attempts) == (2, 6)


async def test_bad_input_gets_a_clear_answer(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    assert "Формат: /breaking" in (await editor.say("/breaking")).text
    assert "Розділу #nowhere немає" in (await editor.say("/breaking #nowhere Текст")).text
    long = "/breaking " + "я" * 4100
    assert "задовга на" in (await editor.say(long)).text
    assert "Блискавки #999 немає" in (await editor.say("/recall 999")).text
    assert "Формат: /recall" in (await editor.say("/recall")).text
    assert "Формат: /correct" in (await editor.say("/correct abc")).text


async def test_recall_rules_foreign_and_too_old(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 2)
    other = await another_editor(kit, "Інший редактор")
    controls = await preview(kit, other, "/breaking Новина іншого")
    flash = controls_id(controls)
    await press(other, controls, "send")
    await eventually(lambda: all(alive(kit, r) for r in readers))
    # Every active chat gets the flash, its editor's own too (beside the preview): let it
    # arrive before the next answer is awaited there.
    copies = lambda: sum("Новина іншого" in m.text for m in alive(kit, other.chat["id"]))  # noqa: E731
    await eventually(lambda: copies() == 2)
    other.mark = len(kit.tg.calls)
    # An editor may not recall another editor's flash; an owner may.
    third = await another_editor(kit, "Третя редакторка")
    assert "не ваша: змінити її може лише автор" in (await third.say(f"/recall {flash}")).text
    assert "Видалити блискавку" in (await editor.say(f"/recall {flash}")).text
    kit.runtime.clock = lambda: dt.datetime.now(dt.UTC) + dt.timedelta(hours=49)
    assert "понад 48 годин" in (await other.say(f"/recall {flash}")).text


async def test_owners_manage_editors_and_their_menus(room: Kit) -> None:
    kit = room
    owner = kit.owner()
    newcomer = kit.reader("Новенька")
    await newcomer.say("/start")
    assert "для редакторів" in (await newcomer.say("/breaking Спроба")).text
    added = await owner.say(f"/editor_add {newcomer.user['id']}")
    assert "тепер редактор" in added.text
    menu = kit.tg.commands[("chat:" + str(newcomer.user["id"]), "")]
    assert "breaking" in [c["command"] for c in menu]
    assert "Хто редагує" in [c["description"] for c in menu]
    assert str(newcomer.user["id"]) in (await owner.say("/editors")).text
    # An editor is not an owner: they cannot add editors.
    assert "Лише власники" in (await newcomer.say("/editor_add 42")).text
    removed = await owner.say(f"/editor_remove {newcomer.user['id']}")
    assert "більше не редактор" in removed.text
    assert ("chat:" + str(newcomer.user["id"]), "") not in kit.tg.commands
    assert "для редакторів" in (await newcomer.say("/breaking Ще спроба")).text


async def test_sources_fetch_now_and_post(tg: FakeTelegram, web: FakeWeb, tmp_path: Path) -> None:
    good = web.serve("ukrinform.xml", "ukrinform.xml")
    broken = web.url("gone.xml")  # 404
    page = web.serve("culture/berlinale.html", "article.html", content_type="text/html")
    sections = [{"slug": "world", "title": {"uk": "Світ", "en": "World"}, "feeds": [good, broken]}]
    async with started(
        tg, tmp_path, sections=sections, telegram={"owners": [OWNER]},
        ingest={"poll_interval": 3600},
    ) as kit:  # fmt: skip
        editor = kit.owner()
        report = await editor.say("/fetch")
        assert report.text.startswith("Оновлено 1 з 2 стрічок: додано новин — ")
        assert "gone.xml" in report.text
        assert await articles.count(kit.db) > 0
        listing = await editor.say("/sources")
        assert "🔴" in listing.text
        assert "404" in listing.text
        assert "🟢" in listing.text
        before = web.hits["ukrinform.xml"]
        await editor.tap(listing, "Оновити зараз")
        assert "Оновлено 1 з 2 стрічок" in (await editor.next_message()).text
        again = await editor.next_message()  # the feeds' health anew, with the button
        assert "🔴" in again.text
        assert again.button("Оновити зараз")
        assert web.hits["ukrinform.xml"] > before
        stranger = kit.reader("Незнайомець")
        assert "для редакторів" in (await stranger.say("/sources")).text

        # /post: the article as a story card, with the same preview and confirmation.
        readers = await audience(kit, 3, section="world")
        assert "Формат: /post" in (await editor.say("/post не-посилання")).text
        shown = await editor.say(f"/post {page} #world")
        assert shown.text.startswith("Фільм українського режисера отримав приз у Берліні\nСвіт")
        controls = await editor.next_message()
        assert "3 чати" in controls.text
        await press(editor, controls, "send")
        await eventually(lambda: all(alive(kit, r) for r in readers))
        assert alive(kit, readers[0])[0].text == shown.text
        unreadable = await editor.say(f"/post {web.url('nothing.html')}")
        assert "Не вдалося прочитати" in unreadable.text


async def test_stats_figures_and_a_real_png(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 6, section="world")
    await audience(kit, 2, section="economy", kind="supergroup")
    await chats.set_status(kit.db, readers[0], ChatStatus.BLOCKED)
    text = await editor.say("/stats")
    # 5 readers and the editor's own chat, 2 groups; the blocked reader is not counted.
    assert "Активних: 8 (особисті чати: 6, групи: 2, канали: 0)" in text.text
    assert "Заблокували бота: 1" in text.text
    assert "Світ: 5" in text.text
    chart = await kit.tg.wait_for(lambda c: c.method == "sendPhoto" and c.ok)
    png = kit.tg.messages[(editor.chat["id"], chart.result["message_id"])].params["photo"]
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", png[16:24])  # the IHDR chunk
    assert (width, height) == (800, 400)


async def test_channels_get_their_sections_and_breaking_news(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    people = kit.people
    world = people.group("Вісник · Світ", kind="channel", username="visnyk_world",
                         bot_status="administrator")  # fmt: skip
    people.group("Чужий канал", kind="channel", username="not_admin", bot_status="member")
    people.group("Група", kind="supergroup", username="a_group", bot_status="administrator")
    added = await editor.say("/channel_add @visnyk_world #world")
    assert "Вісник · Світ" in added.text
    assert "Світ" in added.text
    assert "прав адміністратора" in (await editor.say("/channel_add @not_admin")).text
    assert "не канал" in (await editor.say("/channel_add @a_group")).text
    assert "Каналу @nowhere немає" in (await editor.say("/channel_add @nowhere")).text
    assert "Вісник · Світ" in (await editor.say("/channels")).text

    await pipeline.post_stories(
        kit.runtime, [await story(kit, "Новина світу для каналу", {"world"})]
    )
    await eventually(
        lambda: any("Новина світу для каналу" in m.text for m in alive(kit, world["id"]))
    )
    await pipeline.post_stories(kit.runtime, [await story(kit, "Новина економіки", {"economy"})])
    controls = await preview(kit, editor, "/breaking Терміново для всіх")
    await press(editor, controls, "send")
    await eventually(lambda: any("Терміново для всіх" in m.text for m in alive(kit, world["id"])))
    assert not any("економіки" in m.text for m in alive(kit, world["id"]))
    # The editor's own chat is an active chat too: the flash reaches it beside the preview,
    # and must have before the next answer is awaited there.
    mine = lambda: [m for m in alive(kit, editor.chat["id"]) if "Терміново для всіх" in m.text]  # noqa: E731
    await eventually(lambda: len(mine()) == 2)
    editor.mark = len(kit.tg.calls)

    removed = await editor.say("/channel_remove @visnyk_world")
    assert "більше нічого не отримує" in removed.text
    assert "Каналів ще немає" in (await editor.say("/channels")).text
    assert "— не канал редакції" in (await editor.say("/channel_remove @visnyk_world")).text


@pytest.mark.parametrize("step", ["leave_preview", "put_item", "add", "attach", "audit"])
async def test_confirming_is_one_transaction(
    room: Kit, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    """A failure at any step of confirming leaves the preview as it was, with nothing of it
    in the outbox; the editor's next tap sends it, to every reader once."""
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 4)
    controls = await preview(kit, editor, "/breaking Уряд подав у відставку")
    flash = controls_id(controls)
    owner = {"leave_preview": broadcasts, "attach": broadcasts, "audit": editors,
             "put_item": outbox, "add": outbox}[step]  # fmt: skip
    real = getattr(owner, step)

    async def broken(*args: Any, **kwargs: Any) -> Any:
        await real(*args, **kwargs)  # it did its part, and then the process "died"
        raise StorageError("simulated crash")

    monkeypatch.setattr(owner, step, broken)
    await press(editor, controls, "send")
    await eventually(lambda: any(c.method == "answerCallbackQuery" for c in kit.tg.calls[-3:]))
    broadcast = await broadcasts.get(kit.db, flash)
    assert broadcast is not None
    assert (broadcast.state, broadcast.item_id) == (BroadcastState.PREVIEW, None)
    assert await outbox.pending_count(kit.db) == 0
    assert not any(alive(kit, r) for r in readers)
    monkeypatch.setattr(owner, step, real)
    await press(editor, controls, "send")
    await eventually(lambda: all(len(alive(kit, r)) == 1 for r in readers))
    broadcast = await broadcasts.get(kit.db, flash)
    assert broadcast is not None
    assert broadcast.state in (BroadcastState.SENDING, BroadcastState.DONE)


async def test_an_editors_help_lists_the_newsrooms_commands(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    reader = kit.reader("Читачка")
    help_ = (await editor.say("/help")).text
    assert "Для редакції" in help_
    assert "/breaking — Надіслати блискавку — термінову новину" in help_
    assert "/sources — Стрічки та їхній стан" in help_
    assert "/breaking" not in (await reader.say("/help")).text
    # The menus come from the same table: the editor's has the readers' commands and theirs.
    menu = kit.tg.commands[(f"chat:{editor.chat['id']}", "")]
    assert [c["command"] for c in menu][-11:] == [
        "breaking", "post", "recall", "correct", "broadcasts", "audit", "editors", "stats",
        "channels", "sources", "fetch",
    ]  # fmt: skip


async def test_a_preview_whose_report_was_never_noted_still_reports(room: Kit) -> None:
    """Killed between showing a preview's buttons and noting where they are, the bot still
    knows its report on Send: the tapped message is noted in the confirming transaction."""
    kit = room
    editor = kit.owner()
    await audience(kit, 3)
    controls = await preview(kit, editor, "/breaking #world Уряд подав у відставку")
    flash = controls_id(controls)
    forget = "UPDATE broadcasts SET report_chat_id = NULL, report_message_id = NULL"
    async with kit.db.transaction() as s:
        await s.execute(text(forget + " WHERE id = :id"), {"id": flash})
    await press(editor, controls, "send")
    await eventually(lambda: "готово" in controls.text, within=15)
    broadcast = await broadcasts.get(kit.db, flash)
    assert broadcast is not None
    assert (broadcast.report_chat_id, broadcast.report_message_id) == (
        controls.chat_id,
        controls.message_id,
    )
