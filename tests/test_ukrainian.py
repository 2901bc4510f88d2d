"""Ukrainian as a newsroom writes it: a reader's and an editor's tour of the bot in Ukrainian
meets no English word (tests/ukrainian.py says what Latin letters may appear), and the catalog
keeps one term for each thing."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from babel.messages.pofile import read_po

from bot.i18n import LOCALES
from storage import editors
from tests.delivery_kit import audience, story
from tests.fakes import rules
from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import OWNER, started
from tests.ukrainian import latin_words

READER_SAYS = [
    "/start", "/sections", "/subscribe світ", "/subscribe світ", "/subscribe", "/subscribe марс",
    "/unsubscribe світ", "/unsubscribe", "/unsubscribe усі", "/subscribe економіка одразу",
    "/help", "/latest", "/latest світ", "/search Київ", "/search", "/search Марс", "/digest",
    "/schedule", "/schedule будні", "/schedule 25:00", "/schedule вимк", "/schedule увімк",
    "/schedule щодня", "/timezone", "/timezone Марс/Олімп", "/timezone Europe/Warsaw", "/quiet",
    "/quiet 23:00–07:00", "/quiet колись", "/quiet вимк", "/language", "/language клінгонська",
    "/topic світ", "/nosuchcommand", "просто текст", "/breaking Фейк",
]  # fmt: skip

EDITOR_SAYS = [
    "/breaking", "/breaking #нідея Текст", "/post", "/post https://127.0.0.1/a", "/recall",
    "/recall 999", "/correct 1", "/broadcasts", "/editors", "/editor_add", "/editor_add 4242",
    "/editor_add 4242", "/editor_remove 4242", "/editor_remove 4242", "/channels",
    "/channel_add", "/channel_add @nosuchchannel", "/channel_remove @nosuchchannel", "/stats",
    "/sources", "/fetch",
]  # fmt: skip


def _said(tg: FakeTelegram, since: int = 0) -> list[str]:
    """Every text the bot showed since call `since`: messages, edits, captions, taps'
    answers, buttons (but the language buttons, each in its own language), menus."""
    texts: list[str] = []
    for call in tg.calls[since:]:
        p: dict[str, Any] = call.params
        if call.method in ("sendMessage", "editMessageText"):
            texts.append(str(p["text"]))
        elif call.method == "sendPhoto":
            texts.append(str(p.get("caption", "")))
        elif call.method == "answerCallbackQuery" and p.get("text"):
            texts.append(str(p["text"]))
        elif call.method == "setMyCommands" and p.get("language_code") != "en":
            texts += [c["description"] for c in rules.commands(p)]
        if call.method in ("sendMessage", "editMessageText", "editMessageReplyMarkup"):
            for row in rules.keyboard(p) or []:
                texts += [
                    str(b["text"])
                    for b in row
                    if not str(b.get("callback_data", "")).startswith("lang:")
                ]
    return texts


def _english(texts: list[str], typed: tuple[str, ...] = ()) -> list[tuple[str, list[str]]]:
    return [(text, words) for text in texts if (words := latin_words(text, typed))]


async def test_a_readers_tour_meets_no_english(tg: FakeTelegram, tmp_path: Path) -> None:
    async with started(tg, tmp_path, throttle={"updates": 200}) as kit:
        await story(kit, "Київ отримав нові автобуси", {"world"})
        await story(kit, "Гривня зміцнилася", {"economy"})
        reader = kit.reader()
        greeting = await reader.say("/start")
        await reader.tap(greeting, "Україна")
        await reader.next_message()  # the section's first look
        for text in READER_SAYS:
            await reader.say(text)
        stop = await reader.say("/stop")
        await reader.tap(stop, "Скасувати")
        group_admin = kit.people.person("Адмін")
        group = kit.people.group("Читачі", admins=(group_admin,))
        await kit.people.add_bot(group, group_admin)
        await kit.people.talk(group, group_admin).say("/help")
        help_ = await reader.say("/help")  # after everything above, in this chat's order
        # Help shows the Ukrainian words the commands take (both languages' words work).
        for usage in ("/schedule будні", "/schedule вимк", "/quiet вимк", "/language англійська"):
            assert usage in help_.text
        assert _english(_said(kit.tg)) == []


async def test_an_editors_tour_meets_no_english(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path
) -> None:
    good = web.serve("ukrinform.xml", "ukrinform.xml")
    broken = web.url("gone.xml")  # 404
    sections = [
        {"slug": "world", "title": {"uk": "Світ", "en": "World"}, "feeds": [good, broken]},
        {"slug": "science", "title": {"uk": "Наука і техніка", "en": "Science & Tech"}},
    ]
    async with started(
        tg, tmp_path, sections=sections, telegram={"owners": [OWNER]},
        ingest={"poll_interval": 3600}, delivery={"messages_per_second": 500},
        throttle={"updates": 200},
    ) as kit:  # fmt: skip
        editor = kit.owner()
        await audience(kit, 3)
        for text in EDITOR_SAYS:
            await editor.say(text)
        sources = await editor.say("/sources")
        await editor.tap(sources, "Оновити зараз")
        await editor.next_message()
        await editor.next_message()
        # A flash: preview, send, progress, the list, a correction, a recall, the audit log.
        await editor.say("/breaking #світ #наука_і_техніка Уряд подав у відставку")
        controls = await editor.next_message()
        await editor.tap(controls, "Надіслати без звуку")
        await editor.edited(controls)
        found = re.search(r"#(\d+)", controls.text)
        assert found is not None
        flash = int(found.group(1))
        await editor.say("/broadcasts")
        ask = await editor.say(f"/correct {flash} Уряд не подавав у відставку")
        ask = await editor.next_message()
        await editor.tap(ask, "Скасувати")
        ask = await editor.say(f"/recall {flash}")
        await editor.tap(ask, "Видалити всюди")
        stranger = kit.reader("Незнайомка")
        await stranger.say("/audit")
        await editors.add_editor(kit.db, 4343, OWNER, kit.runtime.now())
        await editor.say("/audit")
        await editor.say("/help")
        typed = ("nosuchchannel", "gone.xml", "ukrinform.xml")
        assert _english(_said(kit.tg), typed) == []


# One term for each thing: a word the catalog must not use, and the one it uses instead.
BANNED = {
    r"тривог": "блискавка (an editor's flash), never «тривога» (an air-raid alert)",
    r"\bопит": "оновити/оновлення (feeds), one verb with the button «Оновити зараз»",
    r"нових новин": "нових матеріалів",
    r"^Як:": "Формат:",
    r"Надіслати тихо|тихо\b": "без звуку (Telegram's own words)",
    r"заблоковано": "заблокували бота: {n} (who blocked whom)",
    r"приносить|приношу": "надсилає",
    r"гляньте|Гляньте": "дивіться (one register)",
    r"\bid\b": "ID",
    r"\bвін\b|\bвона\b|додав\b|додала\b|\bбув\b|\bбула\b": "no gender assumed of an editor",
    r"\d-\d\d:\d\d|ГГ:ХХ-": "an en dash in time ranges: 23:00–07:00",
    r"Українськ|Англійськ": "language names in lower case mid-sentence",
}


def _catalog() -> list[tuple[str, str]]:
    with (LOCALES / "uk" / "LC_MESSAGES" / "visnyk.po").open("rb") as f:
        catalog = read_po(f, locale="uk")
    pairs = []
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        pairs += [(str(ids[0]), str(s)) for s in strings]
    return pairs


@pytest.mark.parametrize(("pattern", "instead"), BANNED.items())
def test_the_catalog_keeps_one_term_for_each_thing(pattern: str, instead: str) -> None:
    found = [
        (i, s)
        for i, s in _catalog()
        if re.search(pattern, re.sub(r"\{\w+\}", " ", s), re.MULTILINE)
    ]
    assert found == [], f"use {instead}"


def test_the_catalog_holds_no_english() -> None:
    english = [
        (i, words) for i, s in _catalog() if (words := latin_words(re.sub(r"\{\w+\}", " ", s)))
    ]
    assert english == []
