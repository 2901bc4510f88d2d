"""From hostile feeds to a chat: whatever the feeds hold, Telegram accepts what the bot sends."""

from __future__ import annotations

from pathlib import Path

from bot import pipeline
from storage import articles
from tests.delivery_kit import received, story
from tests.fakes.telegram import FakeTelegram
from tests.fakes.web import FakeWeb
from tests.kit import Kit, eventually, started


async def test_hostile_feeds_reach_the_chat_safely(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path
) -> None:
    feeds = [
        web.serve("hostile.xml", "hostile.xml"),
        web.serve("entities.xml", "entities.xml"),
        web.serve("wrong.xml", "wrong_encoding.xml"),
        web.serve("cp1251.xml", "cp1251_undeclared.xml", content_type="text/xml"),
        web.serve("malformed.xml", "malformed.xml"),
    ]
    sections = [{"slug": "ukraine", "title": {"uk": "Україна", "en": "Ukraine"}, "feeds": feeds}]
    async with started(tg, tmp_path, sections=sections) as kit:
        runtime = kit.runtime
        reports = await runtime.ingester.run(runtime.now(), only_due=False)
        assert sum(r.new for r in reports) == 4  # two feeds carry the same two stories
        assert [r.error is not None for r in reports] == [False, False, False, False, True]
        reader = kit.reader()
        listing = await reader.say("/latest")
        assert "Ціни зросли на 5% & <більше>" in listing.text
        assert "«Укрзалізниця» призначила додаткові потяги" in listing.text
        assert listing.text.count("Львівщина отримала нові шкільні автобуси") == 1
        for number in range(1, 5):
            await reader.tap(listing, str(number))
            card = await reader.next_message()
            assert card.text.endswith("Читати далі →")
        found = await reader.say("/search укрзалізниці")
        assert "«Укрзалізниця» призначила" in found.text
        assert [c for c in kit.tg.calls if not c.ok] == []


async def test_the_running_bot_polls_its_feeds(
    tg: FakeTelegram, web: FakeWeb, tmp_path: Path
) -> None:
    feed = web.serve("regions.xml", "cp1251_undeclared.xml", content_type="text/xml")
    sections = [{"slug": "regions", "title": {"uk": "Регіони"}, "feeds": [feed]}]
    async with started(tg, tmp_path, sections=sections, ingest={"poll_interval": 1}) as kit:

        async def polled() -> bool:
            return await articles.count(kit.db) == 2

        await eventually(polled, within=10)
        listing = await kit.reader().say("/latest")
        assert "Львівщина отримала нові шкільні автобуси" in listing.text


async def test_a_story_stored_but_never_posted_is_posted_once_after_a_kill(kit: Kit) -> None:
    """Killed between storing a story and enqueuing its posts, the bot posts it when it comes
    back (at start and on every ingest tick), to every instant subscriber, once."""
    reader = kit.reader()
    await reader.say("/subscribe світ одразу")
    article = await story(kit, "Новина, яку не встигли розіслати", {"world"})
    # Stored, never posted. The sweep (here called; the ingest tick may come first) posts it.
    await pipeline.post_unannounced(kit.runtime)
    post = await reader.next_message()
    assert post.text.startswith("Новина, яку не встигли розіслати")
    assert await articles.unannounced(kit.db) == []
    assert await pipeline.post_unannounced(kit.runtime) == 0
    # Posting it again (a sweep racing the ingest that stored it) enqueues nothing new.
    assert await pipeline.post_stories(kit.runtime, [article]) == 0
    assert kit.runtime.engine is not None
    await kit.runtime.engine.idle()
    assert received(kit, [reader.chat["id"]])[reader.chat["id"]] == 2  # the answer, the post
