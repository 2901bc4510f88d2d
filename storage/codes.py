"""The audit log's codes: what an editor did or tried (EditorAction) and how it ended
(AuditOutcome), stored as codes and read in each editor's language; and, as subsets of the
outcomes, the refusals each place can give, so that rendering maps every one (mypy checks)."""

from __future__ import annotations

from enum import StrEnum
from typing import Literal


class EditorAction(StrEnum):
    """What an editor did or tried, as the audit log stores it: a command's name, or a tap."""

    BREAKING = "breaking"
    POST = "post"
    RECALL = "recall"
    CORRECT = "correct"
    CONFIRM = "confirm"  # a preview's Send (or Send silently, or a recall's or correction's yes)
    CANCEL = "cancel"  # a preview's Cancel
    BROADCASTS = "broadcasts"
    AUDIT = "audit"
    EDITORS = "editors"
    EDITOR_ADD = "editor_add"
    EDITOR_REMOVE = "editor_remove"
    STATS = "stats"
    CHANNELS = "channels"
    CHANNEL_ADD = "channel_add"
    CHANNEL_REMOVE = "channel_remove"
    SOURCES = "sources"
    FETCH = "fetch"

    @property
    def is_command(self) -> bool:
        return self not in (EditorAction.CONFIRM, EditorAction.CANCEL)


class AuditOutcome(StrEnum):
    """How an editor's action ended: what was done, or why nothing was (a refusal). The audit
    log stores the code; the editor reads it in their language."""

    # Refusals
    NOT_PRIVATE = "not private"  # an editors' command outside a private chat
    NOT_EDITOR = "not an editor"
    NOT_OWNER = "not an owner"
    USAGE = "usage"  # the command's arguments missing or wrong
    UNKNOWN_SECTION = "unknown section"
    ADDRESS_REFUSED = "address refused"  # /post of a link Visnyk never opens
    PAGE_UNREADABLE = "page unreadable"
    TOO_LONG = "too long"  # count: characters over Telegram's limit
    UNKNOWN = "unknown"  # no such flash or preview
    FOREIGN = "foreign"  # another editor's flash
    NOT_SENT = "not sent"
    TOO_OLD = "too old"  # past the 48 hours Telegram allows for deleting or editing
    NOT_YOURS = "not yours"  # another editor's preview
    EXPIRED = "expired"
    WAS_CANCELLED = "was cancelled"
    ALREADY_SENT = "already sent"
    CHANNEL_NOT_FOUND = "channel not found"
    NOT_A_CHANNEL = "not a channel"
    NOT_ADMIN = "not admin"  # the bot may not post in the channel
    NOT_OURS = "not ours"  # not one of the newsroom's channels
    # Done
    PREVIEW = "preview"  # count: the chats it would reach
    SENT = "sent"  # confirmed; count: the chats it goes to
    SENT_SILENTLY = "sent silently"  # count: chats
    SENT_PAID = "sent paid"  # with allow_paid_broadcast; count: chats
    SENT_PAID_SILENTLY = "sent paid silently"  # count: chats
    RECALL_CONFIRMED = "recall confirmed"  # count: the chats it is deleted in
    CORRECTION_CONFIRMED = "correction confirmed"  # count: the chats it is edited in
    CANCELLED = "cancelled"
    ADDED = "added"
    ALREADY = "already"  # an editor already, or a channel already the newsroom's
    REMOVED = "removed"
    ABSENT = "absent"  # was not an editor
    FETCHED = "fetched"  # count: new stories

    @property
    def refused(self) -> bool:
        return self not in _DONE


# The refusals each place can give, so that rendering maps every one (mypy checks it).


# The refusals each place can give.
GateRefusal = Literal[AuditOutcome.NOT_PRIVATE, AuditOutcome.NOT_EDITOR, AuditOutcome.NOT_OWNER]


ChangeRefusal = Literal[
    AuditOutcome.UNKNOWN, AuditOutcome.FOREIGN, AuditOutcome.NOT_SENT, AuditOutcome.TOO_OLD
]


PreviewRefusal = Literal[
    AuditOutcome.UNKNOWN,
    AuditOutcome.NOT_YOURS,
    AuditOutcome.NOT_EDITOR,
    AuditOutcome.EXPIRED,
    AuditOutcome.WAS_CANCELLED,
    AuditOutcome.ALREADY_SENT,
]


ChannelProblem = Literal[
    AuditOutcome.CHANNEL_NOT_FOUND,
    AuditOutcome.NOT_A_CHANNEL,
    AuditOutcome.NOT_ADMIN,
    AuditOutcome.NOT_OURS,
]


_DONE = frozenset(
    {
        AuditOutcome.PREVIEW,
        AuditOutcome.SENT,
        AuditOutcome.SENT_SILENTLY,
        AuditOutcome.SENT_PAID,
        AuditOutcome.SENT_PAID_SILENTLY,
        AuditOutcome.RECALL_CONFIRMED,
        AuditOutcome.CORRECTION_CONFIRMED,
        AuditOutcome.CANCELLED,
        AuditOutcome.ADDED,
        AuditOutcome.ALREADY,
        AuditOutcome.REMOVED,
        AuditOutcome.ABSENT,
        AuditOutcome.FETCHED,
    }
)
