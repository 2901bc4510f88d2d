"""What Telegram accepts: message texts, keyboards, command menus, and the errors it answers
with otherwise. Pure functions; the fake server calls them."""

from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlsplit

from tests.fakes import tg_html

MAX_TEXT = 4096
MAX_CALLBACK_ANSWER = 200
MAX_CALLBACK_DATA = 64
MAX_INLINE_RESULTS = 50


class ApiError(Exception):
    """An answer with ok=false: the HTTP code, Telegram's description, its parameters."""

    def __init__(
        self,
        code: int,
        description: str,
        parameters: dict[str, Any] | None = None,
        *,
        raw: str | None = None,
    ):
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters
        self.raw = raw  # an answer that is not Telegram's JSON (a proxy's page): sent as is


def bad(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


def valid_url(url: object, schemes: tuple[str, ...] = ("http", "https")) -> bool:
    """A URL Telegram takes: a known scheme, a host, a port in range, nothing unescaped that
    a URL may not hold (spaces, quotes, angle brackets, controls)."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        return False
    if any(c.isspace() or c in '"<>\\^`{|}' or ord(c) < 32 for c in url):
        return False
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme.lower() not in schemes:
        return False
    if parts.scheme.lower() in ("http", "https"):
        return bool(parts.hostname) and port != 0
    return True


def member_json(user: dict[str, Any], status: str) -> dict[str, Any]:
    """A ChatMember as the Bot API sends it, with the fields its status requires."""
    member: dict[str, Any] = {"user": user, "status": status}
    if status == "kicked":
        member["until_date"] = 0
    if status == "creator":
        member["is_anonymous"] = False
    if status == "administrator":
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_change_info",
            "can_invite_users",
        )
        member |= dict.fromkeys(rights, True)
        member |= {
            "can_be_edited": False,
            "is_anonymous": False,
            "can_promote_members": False,
            "can_post_stories": False,
            "can_edit_stories": False,
            "can_delete_stories": False,
        }
    return member


@functools.lru_cache(maxsize=1024)
def _parse(source: str) -> tuple[str, tuple[tuple[tuple[str, object], ...], ...]]:
    """Parsed once per distinct text: a broadcast sends the same one thousands of times."""
    text, entities = tg_html.parse(source)
    return text, tuple(tuple(e.items()) for e in entities)


def message_text(p: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """The plain text and entities of a message's `text` and `parse_mode`."""
    source = p.get("text")
    if not isinstance(source, str) or not source.strip():
        raise bad("message text is empty")
    mode = p.get("parse_mode")
    if mode in (None, ""):
        text, entities = source, []
    elif str(mode).lower() == "html":
        try:
            text, frozen = _parse(source)
        except tg_html.HtmlError as e:
            raise bad(str(e)) from None
        entities = [dict(e) for e in frozen]
    else:
        raise bad(f"the fake Telegram speaks only HTML, not parse_mode {mode!r}")
    if not text.strip():
        raise bad("message text is empty")
    if tg_html.utf16_len(text) > MAX_TEXT:
        raise bad("message is too long")
    return text, entities


def keyboard(p: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """The inline keyboard of `reply_markup`, checked button by button."""
    markup = p.get("reply_markup")
    if not markup:
        return []
    rows = markup.get("inline_keyboard")
    if rows is None:
        return []
    for row in rows:
        for button in row:
            if not button.get("text"):
                raise bad("BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            url = button.get("url")
            if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                raise bad("BUTTON_DATA_INVALID")
            if url is not None and not valid_url(url, ("http", "https", "tg")):
                raise bad("BUTTON_URL_INVALID")
            if data is None and url is None and not set(button) - {"text"}:
                raise bad("BUTTON_TYPE_INVALID")
    return rows


def commands(p: dict[str, Any]) -> list[dict[str, str]]:
    """The commands of setMyCommands, as Telegram checks them."""
    commands = p.get("commands")
    if not isinstance(commands, list) or not 1 <= len(commands) <= 100:
        raise bad("commands must be a non-empty list of at most 100 commands")
    for c in commands:
        name, desc = c.get("command", ""), c.get("description", "")
        if not (1 <= len(name) <= 32 and name.islower() and name.replace("_", "").isalnum()):
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(desc) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
    return commands


def link_preview(p: dict[str, Any]) -> None:
    options = p.get("link_preview_options") or {}
    url = options.get("url")
    if url is not None and not valid_url(url):
        raise bad("WEBPAGE_URL_INVALID")


def inline_results(p: dict[str, Any]) -> list[dict[str, Any]]:
    """answerInlineQuery's results: at most 50, unique ids, valid message texts."""
    results = p.get("results")
    if not isinstance(results, list):
        raise bad("RESULTS_INVALID")
    if len(results) > MAX_INLINE_RESULTS:
        raise bad("RESULTS_TOO_MUCH")
    ids = [r.get("id", "") for r in results]
    if len(set(ids)) != len(ids) or not all(1 <= len(str(i).encode()) <= 64 for i in ids):
        raise bad("RESULT_ID_INVALID")
    for result in results:
        if result.get("type") == "article" and not result.get("title"):
            raise bad("RESULT_TITLE_EMPTY")
        for field in ("url", "thumbnail_url"):
            if result.get(field) is not None and not valid_url(result[field]):
                raise bad("ARTICLE_URL_INVALID" if field == "url" else "THUMBNAIL_URL_INVALID")
        content = result.get("input_message_content") or {}
        if "message_text" in content:
            message_text({"text": content["message_text"], "parse_mode": content.get("parse_mode")})
            link_preview(content)
    return results
