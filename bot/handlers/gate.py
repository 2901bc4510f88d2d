"""The editors' gate: `@editors_only(action)` states each editors' command's rule once.

A command runs only in a private chat, for an editor (or, with `owners=True`, an owner); anyone
else gets a short refusal. Editors' refused attempts go to the audit log, everyone else's to the
strangers' tally; outside a private chat everyone gets the same refusal, so a group never learns
who edits. Helpers here write the audit entries of what handlers do."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import Update

from bot.context import Context
from bot.handlers.common import chat_and_translator, reply
from bot.i18n import Translator
from bot.newsroom import rights
from bot.render import editors as view
from storage.codes import AuditOutcome, EditorAction, GateRefusal

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Editor:
    """Who passed the gate: their id, and the translator and language of their chat."""

    user_id: int
    t: Translator
    lang: str


EditorHandler = Callable[[Update, Context, Editor], Coroutine[Any, Any, None]]
Handler = Callable[[Update, Context], Coroutine[Any, Any, None]]


def editors_only(
    action: EditorAction, *, owners: bool = False
) -> Callable[[EditorHandler], Handler]:
    """The handler runs for an editor (an owner with `owners`) in a private chat, with who
    they are; anyone else is refused, and the attempt recorded."""

    def wrap(handler: EditorHandler) -> Handler:
        @functools.wraps(handler)
        async def gated(update: Update, context: Context) -> None:
            editor = await _admit(update, context, action, owners=owners)
            if editor is not None:
                await handler(update, context, editor)

        return gated

    return wrap


async def _admit(
    update: Update, context: Context, action: EditorAction, *, owners: bool
) -> Editor | None:
    chat, t = await chat_and_translator(update, context)
    user = update.effective_user
    user_id = user.id if user is not None else 0
    editor = user is not None and await rights.is_editor(context.desk, user_id)
    outcome: GateRefusal
    if not chat.is_private:
        outcome = AuditOutcome.NOT_PRIVATE
    elif not editor:
        outcome = AuditOutcome.NOT_EDITOR
    elif owners and not rights.is_owner(context.desk, user_id):
        outcome = AuditOutcome.NOT_OWNER
    else:
        return Editor(user_id, t, chat.language)
    await refused(context, user_id, action, str(chat.id), outcome, editor=editor)
    await reply(update, view.refusal(t, outcome))
    return None


async def refused(
    context: Context,
    user_id: int,
    action: EditorAction,
    target: str,
    outcome: AuditOutcome,
    *,
    editor: bool,
) -> None:
    """Record a refused attempt: an editor's in the audit log, anyone else's as a tally."""
    if editor:
        log.warning("editor command refused user=%s action=%s outcome=%s", user_id, action, outcome)
        await rights.record(context.desk, user_id, action, target, outcome)
    else:
        log.info("stranger refused user=%s action=%s", user_id, action)
        await rights.stranger_tried(context.desk, user_id, action)


async def audit(  # noqa: PLR0917 - an audit entry's fields
    context: Context,
    editor: Editor,
    action: EditorAction,
    target: str,
    outcome: AuditOutcome,
    count: int | None = None,
) -> None:
    """What an editor did, or why it did nothing, in the audit log."""
    await rights.record(context.desk, editor.user_id, action, target, outcome, count)
