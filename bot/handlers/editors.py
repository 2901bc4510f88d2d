"""Who edits, and what editors did: /audit, /editors, and the owners' /editor_add and
/editor_remove; each editor's command menu."""

from __future__ import annotations

import logging

from telegram import BotCommandScopeChat, MessageOriginUser, Update
from telegram.error import TelegramError

from bot.callbacks import number
from bot.context import Context
from bot.handlers import gate
from bot.handlers.common import reply, reply_all
from bot.newsroom import rights
from bot.render import editors as view
from bot.render import help as help_view
from storage.codes import AuditOutcome, EditorAction

log = logging.getLogger(__name__)

MAX_USER_ID = 2**53  # Telegram's ids fit in 52 bits (its documentation)


@gate.editors_only(EditorAction.AUDIT)
async def audit(update: Update, context: Context, editor: gate.Editor) -> None:
    """/audit: the last 20 entries of the audit log."""
    desk = context.desk
    found = await rights.audit_view(desk)
    texts = view.audit_list(
        editor.t,
        found.entries,
        desk.zone,
        found.strangers,
        people=found.people,
        attempts=found.attempts,
    )
    await reply_all(update, texts)


@gate.editors_only(EditorAction.EDITORS)
async def editors(update: Update, context: Context, editor: gate.Editor) -> None:
    t = editor.t
    listed = await rights.editors(context.desk)
    await reply_all(update, view.editors_list(t, context.runtime.config.telegram.owners, listed))


def _target_user(update: Update, context: Context) -> int | None:
    """The user id in the command's argument, or the author of a forwarded message it replies to."""
    if context.args:
        return number(context.args[0].removeprefix("#"), MAX_USER_ID) or None
    message = update.effective_message
    replied = message.reply_to_message if message else None
    if replied is not None and isinstance(replied.forward_origin, MessageOriginUser):
        return replied.forward_origin.sender_user.id
    return None


@gate.editors_only(EditorAction.EDITOR_ADD, owners=True)
async def editor_add(update: Update, context: Context, editor: gate.Editor) -> None:
    """/editor_add <user id> (or in reply to a message forwarded from that person): owners
    only. The change and its audit entry are one transaction; the menu follows."""
    action = EditorAction.EDITOR_ADD
    user_id = await _target(update, context, editor, action)
    if user_id is None:
        return
    added = await rights.add_editor(context.desk, editor.user_id, user_id)
    await set_editor_menu(context, user_id, editor=True)
    await reply(update, view.editor_added(editor.t, user_id, added=added))


@gate.editors_only(EditorAction.EDITOR_REMOVE, owners=True)
async def editor_remove(update: Update, context: Context, editor: gate.Editor) -> None:
    """/editor_remove <user id>: owners only; the change and its audit entry in one
    transaction."""
    action = EditorAction.EDITOR_REMOVE
    user_id = await _target(update, context, editor, action)
    if user_id is None:
        return
    removed = await rights.remove_editor(context.desk, editor.user_id, user_id)
    if not rights.is_owner(context.desk, user_id):
        await set_editor_menu(context, user_id, editor=False)
    await reply(update, view.editor_removed(editor.t, user_id, removed=removed))


async def _target(
    update: Update, context: Context, editor: gate.Editor, action: EditorAction
) -> int | None:
    """The user an owner's /editor_add or /editor_remove names; None after a usage hint."""
    user_id = _target_user(update, context)
    if user_id is None:
        await gate.audit(context, editor, action, "", AuditOutcome.USAGE)
        await reply(update, view.editor_usage(editor.t))
    return user_id


async def set_editor_menu(context: Context, user_id: int, *, editor: bool) -> None:
    """Editors see their commands in their private chat's menu; others see the subscribers'."""
    runtime = context.runtime
    scope = BotCommandScopeChat(user_id)
    try:
        if editor:
            language = await rights.language_of(context.desk, user_id)
            t = runtime.catalogs.get(language)
            menu = help_view.command_menu(t) + help_view.editor_menu(t)
            await context.bot.set_my_commands(menu, scope=scope)
        else:
            await context.bot.delete_my_commands(scope=scope)
    except TelegramError as e:  # e.g. the user never opened the bot: no chat yet
        log.info("editor menu not set user=%s error=%s", user_id, e)
