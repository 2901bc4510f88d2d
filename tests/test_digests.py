"""Digests: the schedule across DST, what a digest holds, how it looks, the commands."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest

from bot import pipeline
from bot.delivery import digests
from bot.i18n import Catalogs
from bot.render.digest import digest
from bot.schedule import in_quiet_hours, next_digest
from storage import chats, sections, subscriptions
from storage.db import Database
from storage.types import Article, ChatStatus, ChatType, Mode, NewSection, Section
from tests.delivery_kit import story
from tests.fakes import tg_html
from tests.kit import Kit

pytestmark = pytest.mark.backends  # digest planning has a form for each database

KYIV = ZoneInfo("Europe/Kyiv")
UTC = dt.UTC


def kyiv(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=KYIV).astimezone(UTC)  # type: ignore[misc]


def slots(start: dt.datetime, count: int, times: list[str]) -> list[str]:
    found, now = [], start
    for _ in range(count):
        nxt = next_digest(now, times, KYIV)
        assert nxt is not None
        found.append(nxt.astimezone(KYIV).strftime("%m-%d %H:%M %Z"))
        now = nxt
    return found


def test_spring_forward_skips_nothing() -> None:
    # 29 March 2026: 03:00 EET becomes 04:00 EEST; 03:30 does not exist that night.
    assert slots(kyiv(2026, 3, 28, 12, 0), 6, ["03:30", "08:00", "20:00"]) == [
        "03-28 20:00 EET", "03-29 04:30 EEST", "03-29 08:00 EEST", "03-29 20:00 EEST",
        "03-30 03:30 EEST", "03-30 08:00 EEST",
    ]  # fmt: skip


def test_fall_back_doubles_nothing() -> None:
    # 25 October 2026: 04:00 EEST becomes 03:00 EET; 03:30 happens twice that night.
    assert slots(kyiv(2026, 10, 24, 12, 0), 6, ["03:30", "08:00", "20:00"]) == [
        "10-24 20:00 EEST", "10-25 03:30 EEST", "10-25 08:00 EET", "10-25 20:00 EET",
        "10-26 03:30 EET", "10-26 08:00 EET",
    ]  # fmt: skip


def test_the_usual_times_keep_their_local_hour_across_both_changes() -> None:
    for start in (kyiv(2026, 3, 27, 9, 0), kyiv(2026, 10, 23, 9, 0)):
        assert {s[6:] for s in slots(start, 8, ["08:00", "20:00"])} <= {
            "08:00 EET", "20:00 EET", "08:00 EEST", "20:00 EEST",
        }  # fmt: skip


def test_weekdays_only_and_no_times() -> None:
    friday_evening = kyiv(2026, 11, 27, 21, 0)
    nxt = next_digest(friday_evening, ["08:00"], KYIV, weekdays_only=True)
    assert nxt is not None
    assert nxt.astimezone(KYIV) == dt.datetime(2026, 11, 30, 8, 0, tzinfo=KYIV)
    assert next_digest(friday_evening, [], KYIV) is None


@pytest.mark.parametrize(
    ("local", "start", "end", "quiet"),
    [((23, 30), "23:00", "07:00", True), ((6, 59), "23:00", "07:00", True),
     ((7, 0), "23:00", "07:00", False), ((12, 0), "13:00", "14:00", False),
     ((13, 30), "13:00", "14:00", True), ((3, 0), None, None, False)],
)  # fmt: skip
def test_quiet_hours(
    local: tuple[int, int], start: str | None, end: str | None, quiet: bool
) -> None:
    now = kyiv(2026, 11, 27, *local)
    assert in_quiet_hours(now, KYIV, start, end) is quiet


def article(i: int, title: str, sections: tuple[str, ...]) -> Article:
    when = dt.datetime(2026, 11, 27, 6, 0, tzinfo=UTC) - dt.timedelta(minutes=i)
    return Article(1000 - i, f"https://n.example.ua/{i}", title, "", None, None, "uk", when, when,
                   sections)  # fmt: skip


def test_digest_groups_by_section_and_counts_the_rest() -> None:
    sections = [Section(1, "world", {"uk": "Світ"}, 0, False),
                Section(2, "economy", {"uk": "Економіка"}, 1, False)]  # fmt: skip
    found = [article(i, f"Новина <{i}> & ко", ("economy",) if i % 2 else ("world",))
             for i in range(20)]  # fmt: skip
    [text] = digest(Catalogs().get("uk"), "uk", found, sections,
                    now=kyiv(2026, 11, 27, 8, 0), zone=KYIV, max_items=15)  # fmt: skip
    plain, _ = tg_html.parse(text)
    lines = plain.splitlines()
    assert lines[0] == "🗞 Дайджест · 27 листопада, 08:00"
    assert lines[2] == "Світ"
    assert lines[3] == "• Новина <0> & ко"
    assert lines.index("Економіка") == 2 + 1 + 8 + 1
    assert lines[-1] == "…і ще 5 новин: /latest"


def test_a_long_digest_is_split_between_headlines() -> None:
    sections = [Section(1, "world", {"uk": "Світ"}, 0, False)]
    found = [article(i, f"{i} " + "дуже довгий заголовок " * 12, ("world",)) for i in range(30)]
    messages = digest(Catalogs().get("uk"), "uk", found, sections,
                      now=kyiv(2026, 11, 27, 8, 0), zone=KYIV, max_items=30)  # fmt: skip
    assert len(messages) == 2
    for text in messages:
        plain, _ = tg_html.parse(text)
        assert len(plain) <= 4096
        assert all(line.startswith(("•", "🗞", "Світ")) for line in plain.splitlines() if line)
    assert sum(m.count("<a href") for m in messages) == 30


async def test_digests_go_out_at_local_times(kit: Kit) -> None:
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 7, 0)
    reader = kit.reader()
    await reader.say("/subscribe світ")
    await reader.say("/subscribe економіка")
    await story(kit, "Новина світу", {"world"}, published=kyiv(2026, 11, 27, 6, 30))
    await story(kit, "Новина економіки", {"economy"}, published=kyiv(2026, 11, 27, 6, 0))
    await story(kit, "Новина культури", {"culture"}, published=kyiv(2026, 11, 27, 6, 0))
    runtime = kit.runtime

    async def plan(*when: int) -> digests.DigestPlan:
        runtime.clock = lambda: kyiv(*when)
        return await pipeline.plan_digests(runtime)

    assert (await plan(2026, 11, 27, 7, 0)).deliveries == 0  # scheduled for 08:00
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert chat.next_digest_at == kyiv(2026, 11, 27, 8, 0)
    assert (await plan(2026, 11, 27, 8, 0)).deliveries == 1
    message = await reader.next_message()
    assert message.text.splitlines() == [
        "🗞 Дайджест · 27 листопада, 08:00", "", "Світ", "• Новина світу", "",
        "Економіка", "• Новина економіки",
    ]  # fmt: skip
    assert (await plan(2026, 11, 27, 8, 0)).deliveries == 0  # planned once
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert chat.next_digest_at == kyiv(2026, 11, 27, 20, 0)
    # Nothing new by 20:00: no digest, and the schedule moves on.
    assert (await plan(2026, 11, 27, 20, 0)).digests == 0
    # After three days down, one catch-up digest, not six.
    await story(kit, "Нова новина світу", {"world"}, published=kyiv(2026, 11, 28, 9, 0))
    assert (await plan(2026, 11, 30, 12, 0)).deliveries == 1
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert chat.next_digest_at == kyiv(2026, 11, 30, 20, 0)
    catch_up = await reader.next_message()
    assert "• Нова новина світу" in catch_up.text
    assert "Новина світу\n" not in catch_up.text  # already in the last digest


async def test_instant_sections_leave_only_stale_stories_to_digests(kit: Kit) -> None:
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 7, 59)
    reader = kit.reader()
    await reader.say("/subscribe світ одразу")
    await story(kit, "Свіжа, вже надіслана", {"world"}, published=kyiv(2026, 11, 27, 7, 0))
    await story(kit, "Давня, знайдена пізно", {"world"}, published=kyiv(2026, 11, 26, 9, 0))
    runtime = kit.runtime
    messages = await digests.compose(
        runtime.db, runtime.catalogs, runtime.config, runtime.sections,
        modes={"world": Mode.INSTANT},
        language="uk", zone="Europe/Kyiv", since=kyiv(2026, 11, 26, 8, 0), now=runtime.now(),
    )  # fmt: skip
    assert len(messages) == 1
    assert "Давня, знайдена пізно" in messages[0]
    assert "Свіжа" not in messages[0]


async def test_digest_now_leaves_the_schedule(kit: Kit) -> None:
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 10, 0)
    reader = kit.reader()
    assert (await reader.say("/digest")).text.startswith("Цей чат ще не підписаний")
    await reader.say("/subscribe війна")
    assert (
        await reader.say("/digest")
    ).text == "Після останнього дайджесту нічого нового не надійшло. Дивіться /latest."
    await story(kit, "Новина з фронту", {"war"}, published=kyiv(2026, 11, 27, 9, 0))
    before = await chats.get(kit.db, reader.chat["id"])
    message = await reader.say("/digest")
    assert "• Новина з фронту" in message.text
    after = await chats.get(kit.db, reader.chat["id"])
    assert before is not None
    assert after is not None
    assert (after.next_digest_at, after.digest_since) == (
        before.next_digest_at,
        before.digest_since,
    )


async def test_schedule_and_timezone_commands(kit: Kit) -> None:
    kit.runtime.clock = lambda: kyiv(2026, 11, 27, 10, 0)
    reader = kit.reader()
    shown = await reader.say("/schedule")
    assert shown.text.startswith("Дайджести: 08:00, 20:00 (Europe/Kyiv), щодня.")
    changed = await reader.say("/schedule 7:30 19.00")
    assert changed.text.startswith(
        "✅ Дайджести: 07:30, 19:00 (Europe/Kyiv), щодня.\nНаступний дайджест — сьогодні о 19:00."
    )
    weekdays = await reader.say("/schedule будні")
    assert "у будні" in weekdays.text
    assert (await reader.say("/schedule 25:00")).text.startswith(
        "Вкажіть час у форматі ГГ:ХХ — від одного до шести разів на день"
    )
    off = await reader.say("/schedule off")
    assert off.text.startswith("✅ Дайджести вимкнено.")
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert chat.next_digest_at is None
    await reader.say("/schedule on")
    zone = await reader.say("/timezone europe/warsaw")
    assert zone.text == "✅ Часовий пояс: Europe/Warsaw (зараз 09:00)."
    chat = await chats.get(kit.db, reader.chat["id"])
    assert chat is not None
    assert chat.next_digest_at == dt.datetime(2026, 11, 27, 18, 0, tzinfo=UTC)  # 19:00 in Warsaw
    bad = await reader.say("/timezone Марс/База")
    assert bad.text.startswith("Не знаю часового поясу «Марс/База». Приклади: Europe/Kyiv")
    assert (await reader.say("/timezone")).text.startswith("Часовий пояс: Europe/Warsaw")


async def test_group_digest_settings_are_for_admins(kit: Kit) -> None:
    admin, member = kit.people.person("Ірина"), kit.people.person("Петро")
    group = kit.people.group(admins=(admin,), members=(member,))
    talk = kit.people.talk(group, member)
    for command in ("/schedule 09:00", "/timezone Europe/Kyiv", "/quiet 22:00-08:00"):
        assert (await talk.say(command)).text.startswith("Змінювати налаштування групи")
    assert (await kit.people.talk(group, admin).say("/schedule 09:00")).text.startswith("✅")


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database.open(database_url)
    await database.upgrade()
    await sections.sync(
        database, [NewSection("world", {"uk": "Світ"}), NewSection("economy", {"uk": "Економіка"})]
    )
    yield database
    await database.close()


async def test_chats_due_alike_are_read_as_one_group_a_chunk_at_a_time(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Readers, groups (their ids below zero) and a channel due at 08:00 with the same choices
    come together, hidden sections left out; another language, sections or times come apart;
    a chat due later, or blocked, does not come; the slot at 07:00 comes first; once moved on,
    nothing is due."""
    monkeypatch.setattr(chats, "DUE_CHUNK", 3)
    seven, eight, nine = kyiv(2026, 11, 27, 7, 0), kyiv(2026, 11, 27, 8, 0), kyiv(2026, 11, 27, 9)
    since = kyiv(2026, 11, 26, 20, 0)

    async def chat(
        chat_id: int,
        *,
        due: dt.datetime | None = eight,
        language: str = "uk",
        follows: tuple[str, ...] = ("world", "economy"),
        times: tuple[str, ...] | None = None,
        kind: ChatType = ChatType.PRIVATE,
    ) -> None:
        await chats.ensure(db, chat_id, type=kind, title="", language=language)
        for slug in follows:
            await subscriptions.subscribe(db, chat_id, slug)
        await chats.set_digest(db, chat_id, times=times, enabled=True, weekdays_only=False,
                               timezone=None, next_digest_at=due)  # fmt: skip
        await chats.move_digests(db, [((chat_id,), due, since)])

    alike = [5, -1001, 7, -4, 9, -1002]
    for chat_id in alike:
        await chat(chat_id, kind=ChatType.PRIVATE if chat_id > 0 else ChatType.SUPERGROUP)
    await chat(-1003, kind=ChatType.CHANNEL)
    alike.append(-1003)
    await chat(11, language="en")
    await chat(12, follows=("world",))
    await chat(13, times=("08:00",))
    await chat(14, due=seven)
    await chat(15, due=nine)
    await chat(16)
    await chats.set_status(db, 16, ChatStatus.BLOCKED)
    world, economy = (NewSection(s.slug, s.titles) for s in await sections.visible(db))
    await sections.sync(db, [world, economy, NewSection("culture", {"uk": "Культура"})])
    await chat(17, follows=("world", "culture", "economy"))
    await sections.sync(db, [world, economy])  # culture hidden: 17 is like the others now
    alike.append(17)

    async with contextlib.aclosing(chats.due_digests(db, eight)) as due:
        first = await anext(due)  # a caller that stops after one chunk (PostgreSQL reads ahead)
    assert first[0].chat_ids == (14,)
    found = [batch async for batch in chats.due_digests(db, eight)]

    assert all(sum(len(g.chat_ids) for g in batch) <= 3 for batch in found)
    groups = [group for batch in found for group in batch]
    assert groups[0].chat_ids == (14,)
    assert groups[0].next_digest_at == seven
    ids = [chat_id for group in groups for chat_id in group.chat_ids]
    assert sorted(ids) == sorted([*alike, 11, 12, 13, 14])  # each once
    together = [g for g in groups if set(g.chat_ids) <= set(alike)]
    assert sorted(c for g in together for c in g.chat_ids) == sorted(alike)
    assert len(together) <= len(found)  # at most one group of them a chunk
    for group in together:
        assert (group.language, group.digest_times, group.digest_since) == ("uk", None, since)
        assert group.next_digest_at == eight
        assert group.modes == {"world": Mode.DIGEST, "economy": Mode.DIGEST}
    by_chat = {c: g for g in groups for c in g.chat_ids}
    assert by_chat[11].language == "en"
    assert by_chat[12].modes == {"world": Mode.DIGEST}
    assert by_chat[13].digest_times == ("08:00",)

    later = kyiv(2026, 11, 27, 20, 0)
    await chats.move_digests(db, [(tuple(ids), later, eight)])
    assert [batch async for batch in chats.due_digests(db, eight)] == []
    moved = await chats.get(db, -1001)
    assert moved is not None
    assert (moved.next_digest_at, moved.digest_since) == (later, eight)
