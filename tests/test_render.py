"""Rendering is pure: escaped, within Telegram's limits, the same for the same input."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import render
from bot import sections as lookup
from bot.i18n import Catalogs
from bot.render import channels as channels_view
from bot.render import editors as editors_view
from bot.render import flashes as flashes_view
from bot.render import help as help_view
from bot.render import stats as stats_view
from storage.types import Broadcast, BroadcastKind, BroadcastState, DeliveryState, Mode, Section
from tests.fakes import tg_html

UK = Catalogs().get("uk")
EN = Catalogs().get("en")


def section(slug: str, uk: str, en: str | None = None, i: int = 0) -> Section:
    titles = {"uk": uk} | ({"en": en} if en else {})
    return Section(id=i, slug=slug, titles=titles, position=i, hidden=False)


SECTIONS = [
    section("world", "Світ", "World", 1),
    section("tricky", "<Цифра> & «Світ»", "Tricks & <Tech>", 2),
    section("science", "Наука і техніка", None, 3),
]


def test_outside_text_is_escaped() -> None:
    text, markup = render.sections_view(UK, SECTIONS, {"tricky": Mode.DIGEST}, "uk")
    tg_html.parse(text)
    assert markup is not None
    assert [b.text for row in markup.inline_keyboard for b in row] == [
        "➕ Світ",
        "✅ <Цифра> & «Світ»",
        "🗞 У дайджестах",
        "➕ Наука і техніка",
    ]
    listing = render.section_list(SECTIONS, "en")
    assert "Tricks &amp; &lt;Tech&gt;" in listing
    assert "Наука і техніка" in listing  # Ukrainian when no English
    hint = render.unknown_sections(UK, ["<b>", "x" * 500] + ["y"] * 10, SECTIONS, "uk")
    plain, _ = tg_html.parse(hint)
    assert "«<b>»" in plain
    assert len(plain) < 700


def test_welcome_escapes_the_name() -> None:
    intro = render.welcome_intro(EN, "<Jo & Ann>", lang="en")
    assert "Hello, &lt;Jo &amp; Ann&gt;!" in intro
    tg_html.parse(intro)


@pytest.mark.parametrize(
    ("name", "greeting"),
    [
        ("Оксана", "👋 Вітаю, Оксано!"),
        ("Тарас", "👋 Вітаю, Тарасе!"),
        ("Андрій", "👋 Вітаю, Андрію!"),
        ("Петро", "👋 Вітаю, Петре!"),
        ("Мар’яна", "👋 Вітаю, Мар’яно!"),
        ("Марія", "👋 Вітаю, Маріє!"),
        # No reliable vocative: no name rather than a wrong form.
        ("Oksana", "👋 Вітаю!"),
        ("Оксана 🌻", "👋 Вітаю!"),
        ("Анна-Марія", "👋 Вітаю!"),
        ("Київ", "👋 Вітаю!"),
        ("<b>", "👋 Вітаю!"),
        (None, "👋 Вітаю!"),
    ],
)
def test_a_ukrainian_greeting_uses_the_vocative_or_no_name(name: str | None, greeting: str) -> None:
    intro = render.welcome_intro(UK, name, lang="uk")
    assert intro.splitlines()[0] == greeting


def test_an_english_greeting_keeps_the_name_as_written() -> None:
    assert render.welcome_intro(EN, "Оксана", lang="en").startswith("👋 Hello, Оксана!")


def test_callback_data_stays_within_64_bytes() -> None:
    longest = section("x" * 32, "Т" * 100)
    _, markup = render.sections_view(UK, [longest], {}, "uk", intro="hi")
    assert markup is not None
    data = markup.inline_keyboard[0][0].callback_data
    assert isinstance(data, str)
    assert len(data.encode()) <= 64


def test_a_row_per_section_with_its_mode() -> None:
    many = [section(f"s{i}", f"Р{i}", i=i) for i in range(4)]
    followed = {"s1": Mode.INSTANT, "s2": Mode.DIGEST}
    _, markup = render.sections_view(UK, many, followed, "uk")
    assert markup is not None
    assert [[b.text for b in row] for row in markup.inline_keyboard] == [
        ["➕ Р0"],
        ["✅ Р1", "⚡ Одразу"],
        ["✅ Р2", "🗞 У дайджестах"],
        ["➕ Р3"],
    ]
    # A mode button says where it switches to, so a stale one never switches back.
    assert markup.inline_keyboard[1][1].callback_data == "mode:s1:d"
    assert markup.inline_keyboard[2][1].callback_data == "mode:s2:i"


@pytest.mark.parametrize(
    ("typed", "found", "unknown"),
    [
        ("світ", ["world"], []),
        ("  WORLD ", ["world"], []),
        ("наука   і техніка", ["science"], []),
        ("#world, science", ["world", "science"], []),
        ("світ світ", ["world"], []),
        ("світ марс", ["world"], ["марс"]),
        ("", [], []),
    ],
)
def test_resolving_what_readers_type(typed: str, found: list[str], unknown: list[str]) -> None:
    sections, missing = lookup.resolve(SECTIONS, typed)
    assert [s.slug for s in sections] == found
    assert missing == unknown


def test_apostrophes_match_either_way() -> None:
    s = [section("oblast", "Обл’асть")]
    assert lookup.find(s, "обл'асть") is s[0]
    assert lookup.find(s, "ОБЛʼАСТЬ") is s[0]


def test_help_is_valid_html_in_both_languages() -> None:
    for t in (UK, EN):
        for group in (False, True):
            for editor in (False, True):
                text = help_view.help_text(t, group=group, bot="visnyk_bot", editor=editor)
                tg_html.parse(text)


def test_ten_headlines_of_the_longest_titles_fit_one_message() -> None:
    """Telegram counts UTF-16 units: a 300-emoji title is 600 of them."""
    import datetime as dt  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from bot.render import news  # noqa: PLC0415
    from storage.types import Article, Page  # noqa: PLC0415

    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    titles = ["🔥" * 300, "Новина " * 43, "x" * 300]
    page = Page(
        tuple(
            Article(
                i,
                f"https://news.example.ua/{i}",
                titles[i % 3],
                "",
                None,
                None,
                "uk",
                now,
                now,
                ("world",),
            )
            for i in range(10)
        ),
        0,
        has_more=True,
    )
    sections = [section("world", "Світ")]
    zone = ZoneInfo("Europe/Kyiv")
    text, _ = news.latest_view(
        UK, "uk", page, scope="all", sections=sections, followed=False, now=now, zone=zone
    )
    visible, _ = tg_html.parse(text)
    assert tg_html.utf16_len(visible) <= 4096
    assert render.cut("🔥" * 300, 200).endswith("…")
    assert render.utf16_len(render.cut("🔥" * 300, 200)) <= 200


def _fits(messages: list[str]) -> bool:
    """Every message valid HTML within Telegram's 4096 UTF-16 units, and none empty."""
    for message in messages:
        visible, _ = tg_html.parse(message)
        if not visible.strip() or tg_html.utf16_len(visible) > 4096:
            return False
    return True


def test_every_list_the_newsroom_can_make_long_is_split_to_fit() -> None:
    import datetime as dt  # noqa: PLC0415
    from zoneinfo import ZoneInfo  # noqa: PLC0415

    from bot.stats import Audience  # noqa: PLC0415
    from storage.types import (  # noqa: PLC0415
        AuditEntry,
        Broadcast,
        BroadcastKind,
        BroadcastState,
        DeliveryState,
        Stranger,
    )

    now = dt.datetime(2026, 11, 28, 12, 0, tzinfo=dt.UTC)
    zone = ZoneInfo("Europe/Kyiv")
    many = [section(f"s{i}", "Розділ з довгою назвою " * 2 + str(i), i=i) for i in range(300)]
    lists = {
        "editors": editors_view.editors_list(
            UK, [1, 2], [(10**12 + i, 1, now) for i in range(600)]
        ),
        "channels": channels_view.channels_list(
            UK, [("Канал «" + "🔥" * 200 + "»", -(10**12) - i, many[:3]) for i in range(80)], "uk"
        ),
        "audit": editors_view.audit_list(
            UK,
            [AuditEntry(now, 7, "breaking", "т" * 256, "о" * 256) for _ in range(20)],
            zone,
            [Stranger(10**12 + i, 10**6, now, now, "audit") for i in range(5)],
            people=5,
            attempts=5 * 10**6,
        ),
        "broadcasts": flashes_view.broadcasts_list(
            UK,
            [
                (
                    Broadcast(
                        i,
                        BroadcastKind.FLASH,
                        7,
                        now,
                        BroadcastState.DONE,
                        tuple(s.slug for s in many),
                        {},
                        None,
                        False,
                        None,
                        None,
                        i,
                        9,
                        now,
                        now,
                    ),
                    dict.fromkeys(DeliveryState, 10**6),
                )
                for i in range(10)
            ],
            zone,
            many,
            "uk",
        ),
        "stats": stats_view.stats_text(
            UK,
            Audience(1, 2, 3, 4, 5, 6, 7, ()),
            many,
            per_section={s.slug: 10**6 for s in many},
            deliveries={"sent": 1, "failed": 2, "retried": 3, "pending": 4},
            lang="uk",
        ),
    }
    for name, messages in lists.items():
        assert len(messages) >= 2, name
        assert _fits(messages), name


def _shown(text_html: str) -> str:
    return render.visible_text(text_html)


def _running(kind: BroadcastKind, started: dt.datetime) -> Broadcast:
    return Broadcast(
        2, kind, 7, started, BroadcastState.SENDING, None, {},
        None if kind is BroadcastKind.FLASH else 1, False, None, None, 3, 10,
        started, None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "status", "title"),
    [
        (BroadcastKind.FLASH, "надсилається", "Блискавка #2"),
        (BroadcastKind.RECALL, "видаляється", "Відкликання блискавки #1"),
        (BroadcastKind.CORRECT, "виправляється", "Виправлення блискавки #1"),
    ],
)
def test_a_progress_report_says_what_is_under_way(
    kind: BroadcastKind, status: str, title: str
) -> None:
    start = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
    running = _running(kind, start)

    def report(sent: int, seconds: float) -> list[str]:
        counts = {DeliveryState.SENT: sent, DeliveryState.FAILED: 0, DeliveryState.SKIPPED: 0,
                  DeliveryState.PENDING: 10 - sent}  # fmt: skip
        at = start + dt.timedelta(seconds=seconds)
        return _shown(flashes_view.progress(UK, running, counts, now=at)).splitlines()

    first = report(0, 0)
    assert first[0] == f"⏳ {title}: {status}"
    assert len(first) == 3  # no estimate before anything went out
    assert report(5, 20)[-1] == "лишилося близько 20 с"
    assert report(10, 0.4)[0] == f"✅ {title}: готово менш ніж за секунду"
    assert report(10, 65)[0] == f"✅ {title}: готово за 1:05"
    assert flashes_view.started(UK, kind) == {
        BroadcastKind.FLASH: "Надсилаю…", BroadcastKind.RECALL: "Видаляю…",
        BroadcastKind.CORRECT: "Виправляю…",
    }[kind]  # fmt: skip
