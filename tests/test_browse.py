"""Browsing: /latest with paging and sections, cards, /search in Ukrainian, inline mode."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pytest

from bot.news.identity import title_key
from storage import articles, subscriptions
from storage.types import NewArticle
from tests.kit import Kit

# 15:00 in Kyiv (UTC+2 in winter).
NOW = dt.datetime(2026, 11, 27, 13, 0, tzinfo=dt.UTC)


def story(
    title: str,
    sections: Iterable[str],
    published: dt.datetime,
    *,
    summary: str = "Короткий зміст новини.",
    slug: str | None = None,
) -> NewArticle:
    url = f"https://news.example.ua/{slug or abs(hash(title))}"
    return NewArticle(url, None, title_key(title), title, summary, None, None, "uk", published,
                      frozenset(sections))  # fmt: skip


async def publish(kit: Kit, *stories: NewArticle) -> None:
    kit.runtime.clock = lambda: NOW
    await articles.save(kit.db, list(stories), feed_id=None, now=NOW)


async def test_latest_of_the_chats_sections_pages_and_switches(kit: Kit) -> None:
    await publish(
        kit,
        *[story(f"Світова новина {i}", ["world"], NOW - dt.timedelta(hours=i)) for i in range(12)],
        story("Курс гривні стабільний", ["economy"], NOW - dt.timedelta(minutes=30)),
    )
    reader = kit.reader()
    await reader.say("/subscribe світ")
    message = await reader.say("/latest")
    lines = message.text.splitlines()
    assert lines[0] == "Останні новини · ваші розділи"
    assert lines[2] == "1. 15:00 · Світова новина 0"
    assert lines[3] == "2. 14:00 · Світова новина 1"
    assert lines[11] == "10. 06:00 · Світова новина 9"
    assert len(lines) == 12
    assert message.entities[1] == {
        "offset": message.text.index("Світова новина 0"),
        "length": len("Світова новина 0"),
        "type": "text_link",
        "url": "https://news.example.ua/"
        + message.html.split('href="https://news.example.ua/')[1].split('"')[0],
    }
    assert [b["text"] for b in message.keyboard[0]] == ["1", "2", "3", "4", "5"]
    assert [b["text"] for b in message.keyboard[2]] == ["Давніші ▶"]

    await reader.tap(message, "Давніші")
    await reader.edited(message)
    lines = message.text.splitlines()
    assert lines[2] == "11. 05:00 · Світова новина 10"
    assert lines[3] == "12. 04:00 · Світова новина 11"
    assert [b["text"] for b in message.keyboard[1]] == ["◀ Новіші"]

    await reader.tap(message, "Економіка")
    await reader.edited(message)
    assert message.text.splitlines()[0] == "Останні новини · Економіка"
    assert message.text.splitlines()[2] == "1. 14:30 · Курс гривні стабільний"
    assert message.button("• Економіка")


async def test_times_yesterday_and_older(kit: Kit) -> None:
    await publish(
        kit,
        story("Вчорашня новина", ["war"], dt.datetime(2026, 11, 26, 16, 5, tzinfo=dt.UTC)),
        story("Давня новина", ["war"], dt.datetime(2026, 4, 29, 15, 0, tzinfo=dt.UTC)),
        story("Торішня новина", ["war"], dt.datetime(2025, 12, 31, 12, 0, tzinfo=dt.UTC)),
    )
    uk = await kit.reader().say("/latest війна")
    assert uk.text.splitlines()[2:] == [
        "1. вчора, 18:05 · Вчорашня новина",
        "2. 29 квітня · Давня новина",
        "3. 31 грудня 2025 · Торішня новина",
    ]
    en = await kit.reader("Ann", "en").say("/latest war")
    assert en.text.splitlines()[2:] == [
        "1. yesterday, 18:05 · Вчорашня новина",
        "2. 29 April · Давня новина",
        "3. 31 December 2025 · Торішня новина",
    ]


async def test_latest_without_subscriptions_and_with_bad_input(kit: Kit) -> None:
    await publish(kit, story("Новина <b>дня</b> & ніч", ["culture"], NOW))
    reader = kit.reader()
    message = await reader.say("/latest")
    assert message.text.splitlines()[0] == "Останні новини · усі розділи"
    assert "1. 15:00 · Новина <b>дня</b> & ніч" in message.text
    assert message.text.endswith("Оберіть свої розділи командою /sections.")
    unknown = await reader.say("/latest марс")
    assert unknown.text.startswith("Не знайдено: «марс».")
    empty = await reader.say("/latest наука і техніка")
    assert "Тут поки немає новин." in empty.text


async def test_a_headline_opens_as_a_card(kit: Kit) -> None:
    await publish(
        kit,
        story(
            "НБУ зберіг облікову ставку",
            ["economy", "ukraine"],
            NOW - dt.timedelta(minutes=5),
            summary="Ставка лишилася 13,5%. Інфляція сповільнилася.",
            slug="nbu",
        ),
    )
    reader = kit.reader()
    listing = await reader.say("/latest")
    await reader.tap(listing, "1")
    card = await reader.next_message()
    assert card.text == (
        "НБУ зберіг облікову ставку\n"
        "Україна · Економіка · 14:55\n\n"
        "Ставка лишилася 13,5%. Інфляція сповільнилася.\n\n"
        "Читати далі →"
    )
    assert card.entities[0] == {"offset": 0, "length": 26, "type": "bold"}
    assert card.entities[-1]["url"] == "https://news.example.ua/nbu"
    assert card.params["link_preview_options"]["url"] == "https://news.example.ua/nbu"
    gone = await reader.tap(listing, "", data="card:999999")
    assert gone["text"] == "Цієї новини вже немає."


@pytest.mark.backends  # search: the same answers on SQLite and PostgreSQL
async def test_search_finds_inflected_words(kit: Kit) -> None:
    await publish(
        kit,
        story(
            "Зеленський провів розмову з прем'єром Польщі", ["world"], NOW - dt.timedelta(hours=1)
        ),
        story("Київ отримав нові автобуси", ["ukraine"], NOW - dt.timedelta(hours=2)),
        story(
            "У Львові відкрили виставку",
            ["culture"],
            NOW - dt.timedelta(hours=3),
            summary="Про виставку розповів мер Києва.",
        ),
        story("Інша новина", ["war"], NOW),
    )
    reader = kit.reader()
    found = await reader.say("/search Зеленського")
    assert found.text.splitlines() == [
        "🔎 Пошук: «Зеленського»",
        "",
        "1. 14:00 · Зеленський провів розмову з прем'єром Польщі",
    ]
    kyiv = await reader.say("/search Києві")
    assert kyiv.text.splitlines()[2:] == [
        "1. 13:00 · Київ отримав нові автобуси",
        "2. 12:00 · У Львові відкрили виставку",
    ]
    lviv = await reader.say("/search львів виставка")
    assert lviv.text.splitlines()[2:] == ["1. 12:00 · У Львові відкрили виставку"]
    nothing = await reader.say("/search Марс")
    assert (
        nothing.text
        == "За запитом «Марс» нічого не знайдено. Спробуйте інші слова або дивіться /latest."
    )
    usage = await reader.say("/search")
    assert usage.text == "Що шукати? Наприклад: /search Зеленський"
    odd = await reader.say('/search "<b>&*')
    assert odd.text.startswith('За запитом «"<b>&*» нічого не знайдено.')


@pytest.mark.backends  # search: the same answers on SQLite and PostgreSQL
async def test_search_pages(kit: Kit) -> None:
    await publish(
        kit,
        *[
            story(f"Обстріл Харкова №{i}", ["war"], NOW - dt.timedelta(minutes=i))
            for i in range(13)
        ],
    )
    reader = kit.reader()
    results = await reader.say("/search обстріл")
    assert len(results.text.splitlines()) == 12
    await reader.tap(results, "Давніші")
    await reader.edited(results)
    assert results.text.splitlines()[2:] == [
        "11. 14:50 · Обстріл Харкова №10",
        "12. 14:49 · Обстріл Харкова №11",
        "13. 14:48 · Обстріл Харкова №12",
    ]
    stale = await reader.tap(results, "", data="sr:424242:10")
    assert stale["text"] == "Ця кнопка вже не діє. Надішліть команду ще раз."


@pytest.mark.backends  # search: the same answers on SQLite and PostgreSQL
async def test_inline_mode_shares_cards(kit: Kit) -> None:
    await publish(
        kit,
        *[
            story(f"Новина про Київ {i}", ["ukraine"], NOW - dt.timedelta(minutes=i))
            for i in range(25)
        ],
        story("Економіка росте", ["economy"], NOW + dt.timedelta(minutes=1), slug="eco"),
    )
    user = kit.people.person("Оксана")
    latest = await kit.people.inline(user, "")
    assert latest["results"][0]["title"] == "Економіка росте"
    assert len(latest["results"]) == 20
    assert latest["next_offset"] == "20"
    card = latest["results"][0]["input_message_content"]
    assert card["message_text"].startswith("<b>Економіка росте</b>\nЕкономіка · 15:01")
    assert card["link_preview_options"]["url"] == "https://news.example.ua/eco"
    kyiv = await kit.people.inline(user, "Києві", offset="20")
    assert [r["title"] for r in kyiv["results"]] == [
        f"Новина про Київ {i}" for i in (20, 21, 22, 23, 24)
    ]
    assert kyiv["next_offset"] == ""
    english = await kit.people.inline(kit.people.person("Ann", "en"), "економіка")
    assert "Read more →" in english["results"][0]["input_message_content"]["message_text"]


async def test_subscriptions_unaffected_by_browsing(kit: Kit) -> None:
    reader = kit.reader()
    await reader.say("/latest")
    assert await subscriptions.of_chat(kit.db, reader.chat["id"]) == frozenset()
