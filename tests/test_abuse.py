"""Forged and replayed buttons, odd numbers, hostile links and long lists: every one gets a
short answer Telegram accepts, nobody reads what is another chat's, nothing raises."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

import pytest

from bot import pipeline
from bot.news.identity import title_key
from storage import articles
from storage.types import NewArticle
from tests.delivery_kit import audience, story
from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import OWNER, Kit, eventually, started

STALE = "Ця кнопка вже не діє. Надішліть команду ще раз."


def no_failures(kit: Kit, caplog: pytest.LogCaptureFixture) -> None:
    """Everything the bot sent was accepted, and no update failed with an exception."""
    assert [(c.method, c.error.description) for c in kit.tg.calls if c.error] == []
    assert "update failed" not in caplog.text


async def stored(kit: Kit, n: int, **fields: str) -> None:
    """`n` stories in "world", published a minute apart (newest last)."""
    now = kit.runtime.now()
    batch = []
    for i in range(n):
        title = fields.get("title", "Новина") + f" {i}"
        batch.append(
            NewArticle(
                fields.get("url", "https://news.example.ua/a") + f"?n={i}",
                None,
                title_key(title),
                title,
                "Подробиці згодом.",
                fields.get("image"),
                None,
                "uk",
                now - dt.timedelta(minutes=n - i),
                frozenset({"world"}),
            )
        )
    await articles.save(kit.db, batch, feed_id=None, now=now)


# ---- forged and replayed buttons -------------------------------------------------------------


async def test_another_chats_search_cannot_be_read(room: Kit) -> None:
    kit = room
    await stored(kit, 12, title="Зеленський у Вашингтоні")
    owner_of_search = kit.reader()
    results = await owner_of_search.say("/search Зеленський")
    search_data = results.button("Давніші")["callback_data"]
    assert search_data.startswith("sr:")
    snoop = kit.reader("Цікавий")
    own = await snoop.say("/latest")
    answer = await snoop.tap(own, "", data=search_data)
    assert answer["text"] == STALE  # not the other chat's words, not its results
    assert own.edits == 0
    # Its owner still pages it.
    assert (await owner_of_search.tap(results, "Давніші")).get("text") is None


@pytest.mark.parametrize(
    "data",
    [
        "card:99999999999999999999999", "card:-1", "card:²", "card:٣",
        "sr:99999999999999999999999:0", "sr:1:²", "lt:all:1000000000", "lt:all:-10",
        "lt:світ:0", "al:99999999999999999999999:send",
        "al:1:launch", "lang:ru", "mode:nowhere", "stop:maybe", "fetch:now", "x" * 64, "🇺🇦",
    ],
)  # fmt: skip
async def test_a_forged_button_gets_a_polite_answer(
    room: Kit, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    kit = room
    reader = kit.reader()
    latest = await reader.say("/latest")
    answer = await reader.tap(latest, "", data=data)
    assert answer["text"] in (STALE, "Цього розділу більше немає.")
    assert answer["show_alert"] is True
    no_failures(kit, caplog)


async def test_a_card_button_for_a_gone_or_huge_id(
    room: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    kit = room
    reader = kit.reader()
    latest = await reader.say("/latest")
    answer = await reader.tap(latest, "", data="card:9223372036854775807")
    assert answer["text"] == "Цієї новини вже немає."
    no_failures(kit, caplog)


async def test_a_tap_on_a_button_in_no_chat_is_stale(room: Kit) -> None:
    kit = room
    user = kit.people.person("Оксана")
    query_id = "forged-1"
    kit.tg.callback_queries[query_id] = {"answered": False}
    await kit.tg.push_update(
        "callback_query",
        {"id": query_id, "from": user, "inline_message_id": "AAA", "chat_instance": "1",
         "data": "card:1"},
    )  # fmt: skip
    await eventually(lambda: kit.tg.callback_queries[query_id]["answered"])
    assert kit.tg.callback_queries[query_id]["answer"]["text"] == STALE


async def test_deep_pages_are_clamped_to_what_exists(
    room: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    kit = room
    await stored(kit, 25)
    reader = kit.reader()
    latest = await reader.say("/latest")
    await reader.tap(latest, "", data="lt:all:9990")
    await reader.edited(latest)
    assert latest.text.splitlines()[2].startswith("21. ")  # the last page there is
    assert latest.button("◀ Новіші")
    assert not any("Давніші" in b["text"] for b in latest.buttons())  # nothing beyond it
    no_failures(kit, caplog)


async def test_the_deepest_page_points_to_search(room: Kit) -> None:
    kit = room
    await stored(kit, 510)
    reader = kit.reader()
    latest = await reader.say("/latest")
    await reader.tap(latest, "", data="lt:all:9990")
    await reader.edited(latest)
    assert latest.text.splitlines()[2].startswith("491. ")  # page 50: as deep as it goes
    assert "Давніші новини: /search" in latest.text
    assert not any("Давніші ▶" in b["text"] for b in latest.buttons())


@pytest.mark.parametrize("offset", ["²", "-1", "99999999999999999999999", "1e3", "20", "9999"])
async def test_inline_offsets_are_read_strictly(room: Kit, offset: str) -> None:
    kit = room
    await stored(kit, 30)
    user = kit.people.person("Оксана")
    answer = await kit.people.inline(user, "", offset=offset)
    assert answer["answered"]
    if offset == "20":
        assert len(answer["results"]) == 10
        assert answer["next_offset"] == ""


# ---- the newsroom's tools ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/editor_add ²", "Формат: /editor_add"),
        ("/editor_add 99999999999999999999999", "Формат: /editor_add"),
        ("/editor_add -5", "Формат: /editor_add"),
        ("/recall 99999999999999999999999", "Формат: /recall"),
        ("/recall ٣", "Формат: /recall"),
        ("/correct -1 Текст", "Формат: /correct"),
        ("/channel_add -99999999999999999999", "Каналу -99999999999999999999 немає"),
        ("/channel_add @@@", "Каналу @@@ немає"),
        ("/channel_add ²", "Каналу ² немає"),
    ],
)
async def test_numbers_editors_type_are_read_strictly(
    room: Kit, caplog: pytest.LogCaptureFixture, command: str, expected: str
) -> None:
    kit = room
    editor = kit.owner()
    assert expected in (await editor.say(command)).text
    no_failures(kit, caplog)


async def test_an_editors_link_reaches_readers_exactly_as_typed(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    readers = await audience(kit, 2)
    link = "https://news.example.ua/a?id=1&lang=uk"
    text = f"/breaking Новина дня {link}"
    at = text.index("Новина")
    shown = await editor.say(
        text,
        entities=[
            {"type": "bold", "offset": at, "length": len(text) - at},  # the link is bold too
            {"type": "url", "offset": text.index(link), "length": len(link)},
        ],
    )
    assert "<b>Новина дня</b>" in shown.html
    assert shown.entities[-1] == {
        "offset": shown.text.index("Читати"), "length": len("Читати далі →"), "type": "text_link",
        "url": link,
    }  # fmt: skip
    assert shown.params["link_preview_options"]["url"] == link
    controls = await editor.next_message()
    await editor.tap(controls, "", data=controls.keyboard[0][0]["callback_data"])
    await eventually(lambda: all(kit.sent_to(r) for r in readers))
    for reader in readers:
        [message] = kit.sent_to(reader)
        assert (message.html, message.entities) == (shown.html, shown.entities)


async def test_an_editors_formatting_is_kept_and_closed(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    text = "/breaking Уряд & Рада: <не тег> ухвалили 🇺🇦 бюджет"
    body = text.removeprefix("/breaking ")
    start = len("/breaking ")
    shown = await editor.say(
        text,
        entities=[
            {"type": "italic", "offset": start, "length": 4},
            {"type": "text_link", "offset": start + 7, "length": 4, "url": "https://rada.gov.ua/"},
            {"type": "mention", "offset": start + 13, "length": 9},
        ],
    )
    assert shown.text.endswith(body)
    assert '<i>Уряд</i> &amp; <a href="https://rada.gov.ua/">Рада</a>: &lt;не тег&gt;' in shown.html


async def test_many_failing_feeds_are_listed_in_several_messages(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    urls = [web.url(f"{'rubric-' * 25}{i}.xml") for i in range(40)]  # all 404
    sections = [{"slug": "world", "title": {"uk": "Світ", "en": "World"}, "feeds": urls}]
    async with started(
        tg, tmp_path, sections=sections, telegram={"owners": [OWNER]},
        ingest={"poll_interval": 3600},
    ) as kit:  # fmt: skip
        editor = kit.owner()
        await editor.send("/fetch")
        chat = editor.chat["id"]
        red = lambda: sum(m.text.count("🔴") for m in kit.sent_to(chat))  # noqa: E731
        await eventually(lambda: red() == 40, within=15)  # a message a second after a burst
        fetched = len(kit.sent_to(chat))
        assert fetched >= 2  # the report of 40 failures does not fit one message
        await editor.send("/sources")
        await eventually(lambda: any(m.keyboard for m in kit.sent_to(chat)), within=15)
        listing = kit.sent_to(chat)[fetched:]
        assert len(listing) >= 2
        assert sum(m.text.count("🔴") for m in listing) == 40
        assert [bool(m.keyboard) for m in listing] == [False] * (len(listing) - 1) + [True]
        no_failures(kit, caplog)


async def test_a_strangers_flood_leaves_the_editors_audit_log_readable(room: Kit) -> None:
    kit = room
    editor = kit.owner()
    await editor.say("/editor_add 4242")
    stranger = kit.reader("Незнайомець")
    for _ in range(25):
        await stranger.say("/audit")
    log = await editor.say("/audit")
    assert "/editor_add 4242 → додано" in log.text
    assert "Сторонні спроби за 7 днів" in log.text
    assert f"{stranger.user['id']}: 25 разів" in log.text


async def test_story_links_nobody_can_open_are_left_out_not_sent_broken(
    room: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    kit = room
    readers = await audience(kit, 1)
    # Stored as they came (e.g. by an older version): the renderer is the last line of defence.
    await stored(kit, 1, title='Лапки " і <теги>', url='https://news.example.ua/a"b c')
    await stored(kit, 1, title="Порт", url="https://news.example.ua:99999/x", image="javascript:x")
    await stored(kit, 1, title="Схема", url="javascript:alert(1)")
    reader = kit.reader()
    await reader.say("/latest")
    await reader.say("/search Лапки")
    found = await kit.people.inline(reader.user, "")
    assert len(found["results"]) == 3
    ids = [await story(kit, 'Пряма " новина', {"world"})]
    await pipeline.post_stories(kit.runtime, ids)
    await eventually(lambda: kit.sent_to(readers[0]))
    no_failures(kit, caplog)


async def test_an_inline_query_answered_too_late_is_no_failure(
    room: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    kit = room
    caplog.set_level(logging.INFO)
    user = kit.people.person("Оксана")
    # Telegram forgot this query already (the reader typed on): the answer is refused.
    await kit.tg.push_update(
        "inline_query",
        {"id": "gone", "from": user, "query": "", "offset": "", "chat_type": "sender"},
    )
    await kit.tg.wait_for(lambda c: c.method == "answerInlineQuery")
    await eventually(lambda: "inline answer too late" in caplog.text)
    assert "update failed" not in caplog.text


@pytest.mark.parametrize(
    "url",
    ["http://localhost:{port}/a", "http://[::1]:{port}/a", "http://10.0.0.1/a",
     "http://169.254.169.254/latest/meta-data/", "https://news.example.ua:99999/a"],
)  # fmt: skip
async def test_post_never_opens_this_machine_or_an_internal_network(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path, url: str
) -> None:
    page = web.serve("a", "article.html", content_type="text/html")
    async with started(tg, tmp_path, telegram={"owners": [OWNER]}) as kit:
        editor = kit.owner()
        port = page.split(":")[2].split("/")[0]
        answer = await editor.say(f"/post {url.format(port=port)}")
        assert answer.text.startswith("Такої адреси Вісник не відкриває")
    assert web.hits["a"] == 0


HOSTILE_ITEMS = [
    ('Ціни &lt;b&gt;зросли&lt;/b&gt; &amp; "лапки" 🇺🇦', 'https://news.example.ua/a?id=1&amp;x="2"'),
    ("Пробіли в посиланні", "https://news.example.ua/нова стаття/"),
    ("Порт 99999", "https://news.example.ua:99999/x"),
    ("Скрипт", "javascript:alert(1)"),
    ("Рік перший", "https://news.example.ua/old"),
    ("\u202eПеревернутий\u202c &#xD800; заголовок", "https://news.example.ua/rtl"),
    ("Довгий " + "заголовок " * 60, "https://news.example.ua/long"),
    ("Кирилиця в домені", "https://новини.укр/стаття?а=б"),
]


def hostile_feed() -> bytes:
    items = []
    for title, link in HOSTILE_ITEMS:
        date = "Mon, 01 Jan 0001 00:00:00 +0000" if "перший" in title else ""
        items.append(
            f"<item><title>{title}</title><link>{link}</link>"
            + (f"<pubDate>{date}</pubDate>" if date else "")
            + '<enclosure url="javascript:x" type="image/png"/>'
            + "<description><![CDATA[<p>Речення перше про подію &amp; наслідки. Друге."
            + "</p><script>alert(1)</script>]]></description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Стрічка'
        "</title>" + "".join(items) + "</channel></rss>"
    ).encode()


async def test_whatever_a_feed_holds_every_message_is_one_telegram_takes(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = web.serve("rss", hostile_feed())
    sections = [{"slug": "world", "title": {"uk": "Світ", "en": "World"}, "feeds": [url]}]
    async with started(
        tg, tmp_path, sections=sections, ingest={"poll_interval": 3600},
        delivery={"messages_per_second": 500},
    ) as kit:  # fmt: skip
        instant = await audience(kit, 1)
        reports = await kit.runtime.ingester.run(kit.runtime.now(), only_due=False)
        assert reports[0].error is None
        stored_now = await articles.count(kit.db)
        assert stored_now >= 5  # the items with a link readers can open
        await pipeline.post_stories(kit.runtime, [i for r in reports for i in r.fresh])
        await eventually(lambda: len(kit.sent_to(instant[0])) == stored_now)
        reader = kit.reader()
        await reader.say("/subscribe світ")
        latest = await reader.say("/latest")
        await reader.tap(latest, "1")
        await reader.next_message()  # the card
        await reader.say("/search заголовок")
        await reader.say("/digest")
        found = await kit.people.inline(reader.user, "")
        assert len(found["results"]) == stored_now
        no_failures(kit, caplog)


async def test_a_tap_answered_too_late_is_no_failure(
    room: Kit, caplog: pytest.LogCaptureFixture
) -> None:
    kit = room
    caplog.set_level(logging.INFO)
    reader = kit.reader()
    latest = await reader.say("/latest")
    # Telegram no longer takes an answer to this tap (its deadline passed while the chat's
    # earlier updates were handled): the fake knows no such query.
    await kit.tg.push_update(
        "callback_query",
        {"id": "late", "from": reader.user, "chat_instance": "1", "data": "lt:all:0",
         "message": kit.tg._message_json(latest) | {"chat": reader.chat}},
    )  # fmt: skip
    await eventually(lambda: "tap answered too late" in caplog.text)
    assert "update failed" not in caplog.text
