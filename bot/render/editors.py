"""Pure rendering of who edits and what editors did: the audit log in the editor's language,
the editors' list and menu, and the refusals of the editors' gate."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import assert_never
from zoneinfo import ZoneInfo

from bot.i18n import Translator
from bot.render import esc, split, stamp
from storage.codes import AuditOutcome, EditorAction, GateRefusal
from storage.types import AuditEntry, Stranger


def audit_list(
    t: Translator,
    entries: Sequence[AuditEntry],
    zone: ZoneInfo,
    strangers: Sequence[Stranger] = (),
    *,
    people: int = 0,
    attempts: int = 0,
) -> list[str]:
    """The editors' own entries, newest first; then, apart, who else tried editors' commands
    this week (a stranger's flood never pushes editors' entries out)."""
    if entries:
        heading = t.gettext("Audit log")
        lines = [f"<b>{esc(heading)}</b>"]
        lines += [
            f"{stamp(e.at, zone)} · <code>{e.user_id}</code> · {_action(t, e.action)} "
            + (f"{esc(e.target)} " if e.target else "")
            + f"→ {_outcome(t, e.outcome, e.count)}"
            for e in entries
        ]
    else:
        lines = [t.gettext("The audit log is empty.")]
    if people:
        others = t.gettext("Others who tried, last 7 days")
        lines += ["", f"<b>{esc(others)}</b>"]
        lines.append(
            t.ngettext(
                "{people} person, {attempts} attempts.",
                "{people} people, {attempts} attempts.",
                people,
            ).format(people=people, attempts=attempts)
        )
        lines += [
            t.ngettext(
                "{id}: {n} time, the last {when} ({action})",
                "{id}: {n} times, the last {when} ({action})",
                s.attempts,
            ).format(
                id=f"<code>{s.user_id}</code>",
                n=s.attempts,
                when=stamp(s.last_at, zone),
                action=_action(t, s.last_action),
            )
            for s in strangers
        ]
    return split(lines)


def _action(t: Translator, code: str) -> str:
    """An audit entry's action: the command, or what the tap did."""
    try:
        action = EditorAction(code)
    except ValueError:  # nothing this version writes
        return esc(code)
    if action is EditorAction.CONFIRM:
        return t.gettext("confirmation")
    if action is EditorAction.CANCEL:
        return t.gettext("cancellation")
    return f"/{action.value}"


def _outcome(t: Translator, code: str, count: int | None) -> str:
    """An audit entry's outcome in the editor's language."""
    try:
        outcome = AuditOutcome(code)
    except ValueError:  # nothing this version writes
        return esc(code)
    n = count or 0
    if outcome is AuditOutcome.PREVIEW and count is None:
        return t.gettext("preview")
    return _counted(t, outcome, n) if outcome in _COUNTED else _said(t, outcome)


_COUNTED = frozenset(
    {
        AuditOutcome.TOO_LONG,
        AuditOutcome.PREVIEW,
        AuditOutcome.SENT,
        AuditOutcome.SENT_SILENTLY,
        AuditOutcome.SENT_PAID,
        AuditOutcome.SENT_PAID_SILENTLY,
        AuditOutcome.RECALL_CONFIRMED,
        AuditOutcome.CORRECTION_CONFIRMED,
        AuditOutcome.FETCHED,
    }
)


def _counted(t: Translator, outcome: AuditOutcome, n: int) -> str:
    match outcome:
        case AuditOutcome.TOO_LONG:
            text = t.ngettext(
                "refused: {n} character too long", "refused: {n} characters too long", n
            )
        case AuditOutcome.PREVIEW:
            text = t.ngettext("preview for {n} chat", "preview for {n} chats", n)
        case AuditOutcome.SENT:
            text = t.ngettext("confirmed for {n} chat", "confirmed for {n} chats", n)
        case AuditOutcome.SENT_SILENTLY:
            text = t.ngettext(
                "confirmed without sound for {n} chat", "confirmed without sound for {n} chats", n
            )
        case AuditOutcome.SENT_PAID:
            text = t.ngettext(
                "confirmed as paid for {n} chat", "confirmed as paid for {n} chats", n
            )
        case AuditOutcome.SENT_PAID_SILENTLY:
            text = t.ngettext(
                "confirmed as paid, without sound, for {n} chat",
                "confirmed as paid, without sound, for {n} chats",
                n,
            )
        case AuditOutcome.RECALL_CONFIRMED:
            text = t.ngettext(
                "deletion confirmed in {n} chat", "deletion confirmed in {n} chats", n
            )
        case AuditOutcome.CORRECTION_CONFIRMED:
            text = t.ngettext(
                "correction confirmed in {n} chat", "correction confirmed in {n} chats", n
            )
        case AuditOutcome.FETCHED:
            text = t.ngettext("{n} new story", "{n} new stories", n)
        case _:
            return _said(t, outcome)
    return text.format(n=n)


def _said(t: Translator, outcome: AuditOutcome) -> str:  # noqa: PLR0911, PLR0912
    """An outcome without a figure; every one the code can store (mypy checks the match)."""
    match outcome:
        case AuditOutcome.NOT_PRIVATE:
            return t.gettext("refused: not in a private chat")
        case AuditOutcome.NOT_EDITOR:
            return t.gettext("refused: not an editor")
        case AuditOutcome.NOT_OWNER:
            return t.gettext("refused: not an owner")
        case AuditOutcome.USAGE:
            return t.gettext("refused: wrong format")
        case AuditOutcome.UNKNOWN_SECTION:
            return t.gettext("refused: no such section")
        case AuditOutcome.ADDRESS_REFUSED:
            return t.gettext("refused: not a public web address")
        case AuditOutcome.PAGE_UNREADABLE:
            return t.gettext("refused: the page could not be read")
        case AuditOutcome.UNKNOWN:
            return t.gettext("refused: no such flash")
        case AuditOutcome.FOREIGN:
            return t.gettext("refused: another editor's flash")
        case AuditOutcome.NOT_SENT:
            return t.gettext("refused: never sent")
        case AuditOutcome.TOO_OLD:
            return t.gettext("refused: older than 48 hours")
        case AuditOutcome.NOT_YOURS:
            return t.gettext("refused: another editor's preview")
        case AuditOutcome.EXPIRED:
            return t.gettext("refused: the preview had expired")
        case AuditOutcome.WAS_CANCELLED:
            return t.gettext("refused: the preview had been cancelled")
        case AuditOutcome.ALREADY_SENT:
            return t.gettext("refused: sent already")
        case AuditOutcome.CHANNEL_NOT_FOUND:
            return t.gettext("refused: no such channel")
        case AuditOutcome.NOT_A_CHANNEL:
            return t.gettext("refused: not a channel")
        case AuditOutcome.NOT_ADMIN:
            return t.gettext("refused: the bot may not post there")
        case AuditOutcome.NOT_OURS:
            return t.gettext("refused: not one of the newsroom's channels")
        case AuditOutcome.CANCELLED:
            return t.gettext("cancelled")
        case AuditOutcome.ADDED:
            return t.gettext("added")
        case AuditOutcome.ALREADY:
            return t.gettext("already there")
        case AuditOutcome.REMOVED:
            return t.gettext("removed")
        case AuditOutcome.ABSENT:
            return t.gettext("was not there")
        case (
            AuditOutcome.TOO_LONG
            | AuditOutcome.PREVIEW
            | AuditOutcome.SENT
            | AuditOutcome.SENT_SILENTLY
            | AuditOutcome.SENT_PAID
            | AuditOutcome.SENT_PAID_SILENTLY
            | AuditOutcome.RECALL_CONFIRMED
            | AuditOutcome.CORRECTION_CONFIRMED
            | AuditOutcome.FETCHED
        ):
            return _counted(t, outcome, 0)
    assert_never(outcome)


def editors_list(
    t: Translator, owners: Sequence[int], editors: Sequence[tuple[int, int, dt.datetime]]
) -> list[str]:
    owner_ids = ", ".join(f"<code>{o}</code>" for o in owners) or "—"
    lines = [t.gettext("<b>Owners:</b> {ids}").format(ids=owner_ids), ""]
    if not editors:
        lines.append(t.gettext("No editors yet. Add one: /editor_add &lt;user ID&gt;"))
    else:
        heading = t.gettext("Editors")
        lines.append(f"<b>{esc(heading)}:</b>")
        for user_id, by, _added in editors:
            lines.append(
                t.gettext("{id} (added by owner {by})").format(
                    id=f"<code>{user_id}</code>", by=f"<code>{by}</code>"
                )
            )
    return split(lines)


def refusal(t: Translator, reason: GateRefusal) -> str:
    """Why an editor's command does nothing here."""
    match reason:
        case AuditOutcome.NOT_EDITOR:
            return t.gettext("This command is for the newsroom's editors.")
        case AuditOutcome.NOT_OWNER:
            return t.gettext("Only the bot's owners can change who edits.")
        case AuditOutcome.NOT_PRIVATE:
            return t.gettext("Editors' commands work only in a private chat with the bot.")
    assert_never(reason)


def editor_usage(t: Translator) -> str:
    return t.gettext(
        "Format: /editor_add &lt;user ID&gt; (or send it in reply to a message forwarded from "
        "that person); /editor_remove &lt;user ID&gt;."
    )


def editor_added(t: Translator, user_id: int, *, added: bool) -> str:
    if added:
        return t.gettext("{id} is an editor now.").format(id=f"<code>{user_id}</code>")
    return t.gettext("{id} is an editor already.").format(id=f"<code>{user_id}</code>")


def editor_removed(t: Translator, user_id: int, *, removed: bool) -> str:
    if removed:
        return t.gettext("{id} is no longer an editor.").format(id=f"<code>{user_id}</code>")
    return t.gettext("{id} was not an editor.").format(id=f"<code>{user_id}</code>")
