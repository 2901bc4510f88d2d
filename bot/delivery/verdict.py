"""What Telegram's answer to a send means for the delivery, and how long a transient failure
is retried (pure; see shared/TELEGRAM.md)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import Enum
from typing import Any

from storage.types import ChatStatus, Operation

BACKOFF = 0.5  # seconds before the first retry of a transient failure, doubled each time…
BACKOFF_CAP = 60.0  # …up to this: an outage of hours is retried once a minute
GIVE_UP = dt.timedelta(hours=24)  # transient failures this long: the delivery fails for good


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
    """The meaning of an HTTP status and Bot API body. An answer that is not the Bot API's
    JSON (a proxy's error page, a cut-off body) says nothing of the message: try again."""
    if body is None or "ok" not in body:
        return Answer(Verdict.TRANSIENT, f"HTTP {status}: not a Bot API answer")
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


# Telegram's refusals to charge for a paid broadcast (a balance too low, a bot not eligible)
# are not documented word for word: a refusal that speaks of Stars, a balance, a payment
# required or paid broadcasts. Not "ALLOW_PAYMENT_REQUIRED" (a chat that charges for messages:
# that chat's own refusal).
_PAID_REFUSAL = re.compile(r"balance|\bstars?\b|paid.broadcast|payment required")


def refuses_payment(answer: Answer) -> bool:
    """Whether a refusal of a message sent with allow_paid_broadcast is Telegram's refusal to
    charge for it (only asked of paid messages: to any other it means nothing of the kind)."""
    return answer.verdict in (Verdict.REJECTED, Verdict.GONE) and bool(
        _PAID_REFUSAL.search(answer.description.lower())
    )


def backoff(attempts: int) -> float:
    """Seconds before the next try after `attempts` transient failures."""
    return float(min(BACKOFF_CAP, BACKOFF * 2.0 ** min(attempts - 1, 30)))


def attempts_within(give_up: dt.timedelta) -> int:
    """How many tries transient failures get before `give_up` has passed since the first."""
    attempts, waited = 1, 0.0
    while waited < give_up.total_seconds():
        waited += backoff(attempts)
        attempts += 1
    return attempts


STATUS_OF = {
    Verdict.BLOCKED: ChatStatus.BLOCKED,
    Verdict.LEFT: ChatStatus.LEFT,
    Verdict.GONE: ChatStatus.GONE,
}


# What an item asks for in each chat: a new message, or an edit or deletion of the messages
# a delivery carries in `target_ids` (an editor's correction or recall).
METHODS = {
    Operation.SEND: "sendMessage",
    Operation.EDIT: "editMessageText",
    Operation.DELETE: "deleteMessage",
}


def already(op: Operation, answer: Answer) -> bool:
    """An edit that changes nothing, or a deletion of what is gone: done, not failed."""
    text = answer.description.lower()
    return (op is Operation.EDIT and "not modified" in text) or (
        op is Operation.DELETE and "message to delete not found" in text
    )
