"""The fake Telegram refuses what Telegram refuses, so a test fails on a message Telegram would
reject; checked through a real PTB Bot."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, Conflict, Forbidden, InvalidToken

from tests.fakes import tg_html
from tests.fakes.people import People
from tests.fakes.telegram import FakeTelegram
from tests.kit import TOKEN


@pytest.fixture
async def bot(tg: FakeTelegram) -> AsyncIterator[Bot]:
    async with Bot(TOKEN, base_url=tg.base_url) as b:
        yield b


@pytest.mark.parametrize(
    ("html", "text"),
    [
        ("plain", "plain"),
        ("<b>bold</b> &amp; <i>it</i> &lt;3 &quot;q&quot; &#8217; &#x41;", 'bold & it <3 "q" ’ A'),
        ('<a href="https://example.com/?a=1&amp;b=2">link</a>', "link"),
        ('<span class="tg-spoiler">s</span><tg-spoiler>t</tg-spoiler>', "st"),
        ('<pre><code class="language-python">x = 1</code></pre>', "x = 1"),
        ("<blockquote expandable>q</blockquote>", "q"),
    ],
)
def test_html_accepted(html: str, text: str) -> None:
    assert tg_html.parse(html)[0] == text


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("<p>para</p>", 'Unsupported start tag "p"'),
        ("<b>open", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("a < b", "Unclosed start tag"),
        ("a > b", "Unescaped '>'"),
        ("Tom & Jerry", "Character '&' must be escaped"),
        ("&nbsp;", "Unsupported character entity &nbsp;"),
        ('<a href="javascript:alert(1)">x</a>', 'Invalid URL in "a" tag'),
        ('<a href="https://x.ua/a&quot;b">x</a>', 'Invalid URL in "a" tag'),
        ('<a href="https://x.ua/a b">x</a>', 'Invalid URL in "a" tag'),
        ('<a href="https://x.ua:99999/">x</a>', 'Invalid URL in "a" tag'),
        ('<a href="https:///x">x</a>', 'Invalid URL in "a" tag'),
        ('<span class="red">x</span>', 'must have class "tg-spoiler"'),
        ('<b class="x">y</b>', 'Unsupported attribute "class"'),
        ('<code class="language-py">x</code>', "must be inside pre"),
        ("<script>alert(1)</script>", 'Unsupported start tag "script"'),
    ],
)
def test_html_refused(html: str, error: str) -> None:
    with pytest.raises(tg_html.HtmlError, match="can't parse entities") as e:
        tg_html.parse(html)
    assert error in str(e.value)


def test_entities_count_utf16() -> None:
    text, entities = tg_html.parse("🇺🇦 <b>Київ</b>")
    assert text == "🇺🇦 Київ"
    assert entities == [{"offset": 5, "length": 4, "type": "bold"}]


async def test_send_and_edit_follow_the_rules(tg: FakeTelegram, bot: Bot) -> None:
    people = People(tg)
    chat = people.private(people.person())
    sent = await bot.send_message(chat["id"], "<b>Hi</b>", parse_mode="HTML")
    assert sent.text == "Hi"
    assert tg.messages[(chat["id"], sent.message_id)].html == "<b>Hi</b>"
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(chat["id"], "<b>Hi", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(chat["id"], "я" * 4097)
    await bot.send_message(chat["id"], "я" * 4096)
    with pytest.raises(BadRequest, match=r"(?i)too long"):
        await bot.send_message(chat["id"], "<b>" + "🇺🇦" * 1025 + "</b>", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)text is empty"):
        await bot.send_message(chat["id"], "<b> </b>", parse_mode="HTML")
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="д" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(chat["id"], "x", reply_markup=long_data)
    bad_url = InlineKeyboardMarkup([[InlineKeyboardButton("x", url="ftp://example.com")]])
    with pytest.raises(BadRequest, match=r"(?i)button_url_invalid"):
        await bot.send_message(chat["id"], "x", reply_markup=bad_url)
    with pytest.raises(BadRequest, match=r"(?i)not modified"):
        await bot.edit_message_text("<b>Hi</b>", chat["id"], sent.message_id, parse_mode="HTML")
    await bot.edit_message_text("Hello", chat["id"], sent.message_id)
    assert tg.messages[(chat["id"], sent.message_id)].text == "Hello"
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat["id"], 999)
    assert await bot.delete_message(chat["id"], sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(chat["id"], sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(123, "x")


async def test_blocked_and_kicked(tg: FakeTelegram, bot: Bot) -> None:
    people = People(tg)
    user = people.person()
    await people.block(user)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(user["id"], "x")
    group = people.group(bot_status="left")
    with pytest.raises(Forbidden, match="kicked from the supergroup chat"):
        await bot.send_message(group["id"], "x")


async def test_callback_answers_and_members(tg: FakeTelegram, bot: Bot) -> None:
    people = People(tg)
    admin, member = people.person("Адмін"), people.person("Член")
    group = people.group(admins=(admin,), members=(member,))
    assert (await bot.get_chat_member(group["id"], admin["id"])).status == "creator"
    assert (await bot.get_chat_member(group["id"], member["id"])).status == "member"
    assert (await bot.get_chat(group["id"])).title == "Новини громади"
    sent = await bot.send_message(
        group["id"],
        "x",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="d")]]),
    )
    query_id = await people.tap(tg.messages[(group["id"], sent.message_id)], "b", member)
    with pytest.raises(BadRequest, match=r"(?i)message_too_long"):
        await bot.answer_callback_query(query_id, "x" * 201)
    assert await bot.answer_callback_query(query_id, "ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id, "again")


async def test_tokens_commands_and_conflicts(tg: FakeTelegram, bot: Bot) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999:" + "b" * 30, base_url=tg.base_url):
            pass
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Bad-Name", "x")])
    await bot.set_my_commands([("help", "Довідка")], language_code="uk")
    assert [c.command for c in await bot.get_my_commands(language_code="uk")] == ["help"]
    await bot.set_webhook("https://example.com/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
