"""What Telegram's answer to a send means for the delivery (pure; see shared/TELEGRAM.md)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from typing import Any


class Verdict(Enum):
    SENT = "sent"
    RETRY_AFTER = "retry_after"  # 429: wait, then the same message again
    BLOCKED = "blocked"  # the user blocked the bot
    LEFT = "left"  # the bot was removed from the group or channel
    GONE = "gone"  # deactivated, deleted, never existed
    MIGRATED = "migrated"  # the group is a supergroup now, at a new id
    BROKEN = "broken"  # our message is wrong (HTML, length): a bug, not retried
    REJECTED = "rejected"  # any other refusal: not retried
    TRANSIENT = "transient"  # 5xx, timeouts, connection errors: retried with backoff


@dataclass(frozen=True, slots=True)
class Answer:
    verdict: Verdict
    description: str = ""
    message_id: int | None = None
    retry_after: float | None = None
    new_chat_id: int | None = None


def classify(status: int, body: dict[str, Any] | None) -> Answer:  # noqa: PLR0911 - a table
    """The meaning of an HTTP status and Bot API body."""
    body = body or {}
    description = str(body.get("description") or f"HTTP {status}")
    parameters = body.get("parameters") or {}
    if status == 200 and body.get("ok"):
        result = body.get("result")
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return Answer(Verdict.SENT, message_id=message_id)
    text = description.lower()
    if status == 429 or "retry after" in text:
        return Answer(
            Verdict.RETRY_AFTER, description, retry_after=float(parameters.get("retry_after", 1))
        )
    if "migrate_to_chat_id" in parameters or "upgraded to a supergroup" in text:
        return Answer(
            Verdict.MIGRATED, description, new_chat_id=parameters.get("migrate_to_chat_id")
        )
    if status == 403:
        if "blocked by the user" in text:
            return Answer(Verdict.BLOCKED, description)
        if "kicked" in text or "not a member" in text:
            return Answer(Verdict.LEFT, description)
        return Answer(Verdict.GONE, description)  # deactivated, deleted
    if status == 400:
        if "chat not found" in text or "chat was deleted" in text:
            return Answer(Verdict.GONE, description)
        if "parse entities" in text or "too long" in text or "text is empty" in text:
            return Answer(Verdict.BROKEN, description)
        return Answer(Verdict.REJECTED, description)
    if status >= 500 or status == 0:
        return Answer(Verdict.TRANSIENT, description)
    return Answer(Verdict.REJECTED, description)
