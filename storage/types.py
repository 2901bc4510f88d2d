"""Frozen dataclasses that storage returns to its callers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from typing import Any


class ChatStatus(StrEnum):
    """Whether the bot may send to a chat."""

    ACTIVE = "active"
    BLOCKED = "blocked"  # a private chat whose user blocked the bot
    LEFT = "left"  # the bot was removed from a group or channel
    GONE = "gone"  # deleted, deactivated, or never existed


class ChatType(StrEnum):
    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


@dataclass(frozen=True, slots=True)
class Chat:
    id: int
    type: ChatType
    title: str
    language: str
    timezone: str | None  # None: the configured default
    status: ChatStatus
    created: dt.datetime
    updated: dt.datetime
    digest_times: tuple[str, ...] | None = None  # None: the configured default
    digest_enabled: bool = True
    weekdays_only: bool = False
    next_digest_at: dt.datetime | None = None
    digest_since: dt.datetime | None = None
    quiet_start: str | None = None  # "23:00"
    quiet_end: str | None = None

    @property
    def is_private(self) -> bool:
        return self.type is ChatType.PRIVATE


@dataclass(frozen=True, slots=True)
class NewSection:
    """A section as the configuration describes it, for `storage.sections.sync`."""

    slug: str
    titles: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class Section:
    id: int
    slug: str
    titles: Mapping[str, str]
    position: int
    hidden: bool

    def title(self, language: str) -> str:
        """The title in `language`, else in Ukrainian, else the slug."""
        return self.titles.get(language) or self.titles.get("uk") or self.slug


@dataclass(frozen=True, slots=True)
class Feed:
    id: int
    url: str
    title: str
    etag: str | None
    last_modified: str | None
    last_attempt: dt.datetime | None
    last_success: dt.datetime | None
    failures: int
    last_error: str | None
    warning: str | None
    next_check: dt.datetime
    dropped: int = 0  # items the last poll could not use


@dataclass(frozen=True, slots=True)
class NewArticle:
    """A story as ingest found it, for `storage.articles.save`."""

    url: str  # canonical
    guid: str | None
    title_key: str
    title: str
    summary: str
    image_url: str | None
    author: str | None
    language: str
    published: dt.datetime
    sections: frozenset[str]  # slugs


@dataclass(frozen=True, slots=True)
class Article:
    id: int
    url: str
    title: str
    summary: str
    image_url: str | None
    author: str | None
    language: str
    published: dt.datetime
    first_seen: dt.datetime
    sections: tuple[str, ...]  # slugs, in configured order


class Outcome(StrEnum):
    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class Saved:
    article_id: int
    outcome: Outcome
    new_sections: bool = False  # the story joined a section it was not in (or is new)


@dataclass(frozen=True, slots=True)
class Page:
    """One page of articles, newest first, and whether older ones follow."""

    articles: tuple[Article, ...]
    offset: int
    has_more: bool


class Mode(StrEnum):
    """How a chat gets a section's stories."""

    DIGEST = "digest"  # only in digests
    INSTANT = "instant"  # each story as it arrives


class Priority(IntEnum):
    """Delivery lanes: a lower number goes first."""

    BREAKING = 0
    STORY = 1
    DIGEST = 2


class DeliveryState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True, slots=True)
class Pending:
    """A delivery still to make, with what the engine needs to pace and send it."""

    id: int
    item_id: int
    chat_id: int
    chat_type: ChatType
    language: str
    priority: Priority
    silent: bool
    attempts: int
    next_attempt: dt.datetime
    target_ids: tuple[int, ...] = ()  # an edit's or a delete's messages in this chat
    thread_id: int | None = None  # the forum topic it goes to


@dataclass(frozen=True, slots=True)
class Result:
    """How one delivery went, for `storage.outbox.record`."""

    id: int
    state: DeliveryState
    attempts: int
    next_attempt: dt.datetime | None = None
    message_ids: tuple[int, ...] = ()
    error: str | None = None
    sent_at: dt.datetime | None = None
    paid: int = 0  # of its messages, those sent with allow_paid_broadcast


@dataclass(frozen=True, slots=True)
class Recipient:
    """A chat to enqueue for, with what decides how (silently or not)."""

    chat_id: int
    timezone: str | None
    quiet_start: str | None
    quiet_end: str | None
    thread_id: int | None = None  # the forum topic the chat routed the section to


@dataclass(frozen=True, slots=True)
class Backlog:
    """One lane's deliveries that are due and not yet sent (those scheduled for later, a
    retry's backoff or a 429's wait, not counted), and when the oldest of them fell due."""

    lane: Priority
    pending: int
    oldest_due: dt.datetime | None


@dataclass(frozen=True, slots=True)
class DueGroup:
    """Active chats whose digest is due and that are alike in everything planning reads (language,
    zone, times, sections with their modes, starting point, slot): one digest serves them all."""

    chat_ids: tuple[int, ...]
    language: str
    timezone: str | None
    digest_times: tuple[str, ...] | None
    digest_enabled: bool
    weekdays_only: bool
    next_digest_at: dt.datetime | None
    digest_since: dt.datetime | None
    modes: Mapping[str, Mode]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log. `action` and `outcome` are codes (EditorAction, AuditOutcome)
    that rendering puts into the reader's language; `count` is the figure an outcome carries
    (chats reached, characters over, stories fetched)."""

    at: dt.datetime
    user_id: int
    action: str
    target: str
    outcome: str
    count: int | None = None


@dataclass(frozen=True, slots=True)
class Stranger:
    """Someone who is not an editor and tried editors' commands."""

    user_id: int
    attempts: int
    first_at: dt.datetime
    last_at: dt.datetime
    last_action: str


class BroadcastKind(StrEnum):
    FLASH = "flash"  # breaking news to many chats (the /breaking and /post commands)
    RECALL = "recall"  # delete a flash everywhere it went
    CORRECT = "correct"  # edit a flash everywhere it went


class BroadcastState(StrEnum):
    PREVIEW = "preview"  # shown to its editor, waiting for a tap
    CANCELLED = "cancelled"
    SENDING = "sending"  # in the outbox
    DONE = "done"


class Operation(StrEnum):
    """What the deliveries of an outbox item do in each chat."""

    SEND = "send"
    EDIT = "edit"  # the message a delivery's target_ids names
    DELETE = "delete"


@dataclass(frozen=True, slots=True)
class Body:
    """One message in one language: its HTML text and link preview (Bot API's
    LinkPreviewOptions, as JSON), as sendMessage and editMessageText take them."""

    text: str
    link_preview_options: Mapping[str, Any] | None = None

    def params(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text}
        if self.link_preview_options is not None:
            out["link_preview_options"] = dict(self.link_preview_options)
        return out


@dataclass(frozen=True, slots=True)
class Payload:
    """What an outbox item (or an editor's flash) carries: the operation, and each language's
    messages. Stored as JSON (`to_json`/`from_json`, at storage's edge only)."""

    bodies: Mapping[str, tuple[Body, ...]]
    op: Operation = Operation.SEND

    def messages(self, language: str) -> tuple[Body, ...]:
        """The messages in `language`, or in the first language there is."""
        return self.bodies.get(language) or next(iter(self.bodies.values()), ())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {lang: [b.params() for b in bs] for lang, bs in self.bodies.items()}
        if self.op is not Operation.SEND:
            out["op"] = self.op.value
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Payload:
        bodies = {
            lang: tuple(
                Body(str(m.get("text", "")), m.get("link_preview_options")) for m in messages
            )
            for lang, messages in data.items()
            if lang != "op"
        }
        return cls(bodies, Operation(data.get("op", Operation.SEND.value)))


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    kind: BroadcastKind
    editor_id: int
    created: dt.datetime
    state: BroadcastState
    sections: tuple[str, ...] | None  # None: every active chat
    payload: Payload
    of_id: int | None
    silent: bool
    report_chat_id: int | None
    report_message_id: int | None
    item_id: int | None
    total: int
    started: dt.datetime | None
    finished: dt.datetime | None
    figures: Mapping[DeliveryState, int] | None = None  # final, kept when deliveries are pruned
    paid: bool = False  # the editor chose to send it with allow_paid_broadcast
    paid_refused: dt.datetime | None = None  # Telegram refused to charge: it went on free


@dataclass(frozen=True, slots=True)
class ChatLife:
    """What /stats needs of a chat: its kind, where it stands, when it came and last changed."""

    type: ChatType
    status: ChatStatus
    created: dt.datetime
    updated: dt.datetime
