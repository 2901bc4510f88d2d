"""Editors' flashes, in a private chat with the bot: /breaking and /post (a preview, then
Send, Send without sound or Cancel; paid or free where paid broadcasts are on), /recall and
/correct of a sent flash, /broadcasts."""

from __future__ import annotations

import logging

from telegram import Update

from bot import render
from bot.callbacks import FlashAction, FlashTap
from bot.context import Context
from bot.handlers import gate
from bot.handlers.common import chat_and_translator, edit, reply, reply_all, tapped
from bot.newsroom import ChangeRefused, PreviewRefused, drafts, flashes, rights
from bot.render import flashes as view
from storage.codes import AuditOutcome, EditorAction
from storage.types import Broadcast, BroadcastKind, Payload, Section

log = logging.getLogger(__name__)


def _draft_outcome(e: drafts.BadDraft) -> AuditOutcome:
    return AuditOutcome.UNKNOWN_SECTION if e.reason == "tag" else AuditOutcome.USAGE


@gate.editors_only(EditorAction.BREAKING)
async def breaking(update: Update, context: Context, editor: gate.Editor) -> None:
    """/breaking [#section…] text [link]: a preview, whom it reaches, and the buttons."""
    t, lang = editor.t, editor.lang
    message = update.effective_message
    assert message is not None
    runtime = context.runtime
    text = message.text or ""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    try:
        draft = drafts.read_draft(
            text,
            drafts.entities_of(message),
            runtime.sections,
            start=text.find(command) + len(command),
        )
    except drafts.BadDraft as e:
        hint = view.breaking_usage(t, runtime.sections, lang)
        if e.reason == "tag":
            hint = view.unknown_tag(t, e.tag) + "\n\n" + hint
        await gate.audit(context, editor, EditorAction.BREAKING, e.tag, _draft_outcome(e))
        await reply(update, hint)
        return
    await _preview(
        update,
        context,
        editor,
        BroadcastKind.FLASH,
        flashes.payload(context.desk, draft),
        sections=draft.sections,
        action=EditorAction.BREAKING,
    )


@gate.editors_only(EditorAction.POST)
async def post(update: Update, context: Context, editor: gate.Editor) -> None:
    """/post <url> [#section…]: the article as a story card, with the same preview."""
    t = editor.t
    runtime = context.runtime
    try:
        url, sections = drafts.read_post(context.args or [], runtime.sections)
    except drafts.BadDraft as e:
        hint = view.post_usage(t)
        if e.reason == "tag":
            hint = view.unknown_tag(t, e.tag) + "\n\n" + hint
        await gate.audit(context, editor, EditorAction.POST, e.tag, _draft_outcome(e))
        await reply(update, hint)
        return
    read = await runtime.ingester.read_page(url)
    page = read.content
    if read.refusal is not None:  # loopback, a private network, not http(s): never fetched
        await gate.audit(context, editor, EditorAction.POST, url, AuditOutcome.ADDRESS_REFUSED)
        await reply(update, view.page_refused(t))
        return
    if page is None or not page.title:
        await gate.audit(context, editor, EditorAction.POST, url, AuditOutcome.PAGE_UNREADABLE)
        await reply(update, view.page_unreadable(t))
        return
    payload = flashes.story_payload(context.desk, url, page, sections)
    await _preview(
        update,
        context,
        editor,
        BroadcastKind.FLASH,
        payload,
        sections=sections,
        action=EditorAction.POST,
    )


async def _preview(
    update: Update,
    context: Context,
    editor: gate.Editor,
    kind: BroadcastKind,
    payload: Payload,
    *,
    action: EditorAction,
    sections: tuple[Section, ...] | None = None,
    flash: Broadcast | None = None,
) -> None:
    """Show the message as its readers will see it, whom it reaches, and the buttons."""
    t, lang = editor.t, editor.lang
    of = flash.id if flash is not None else None
    over = drafts.overflow(payload)
    if over:
        target = f"#{of}" if of else ""
        await gate.audit(context, editor, action, target, AuditOutcome.TOO_LONG, over)
        await reply(update, view.too_long(t, over))
        return
    tags = " ".join(f"#{s.slug}" for s in sections or ())
    broadcast, count = await flashes.open_preview(
        context.desk,
        editor.user_id,
        kind,
        payload,
        action=action,
        sections=sections,
        flash=flash,
        target=f"#{of}" if of else tags,
    )
    message = update.effective_message
    assert message is not None
    await message.reply_text(**payload.messages(lang)[0].params())
    if kind is BroadcastKind.FLASH:
        aim = view.targets(t, sections, lang)
        text, markup = view.preview_controls(
            t,
            broadcast.id,
            count,
            aim,
            minutes=int(flashes.PREVIEW_LIFETIME.total_seconds() // 60),
            cost=flashes.cost(context.desk, payload, count),
            lang=lang,
        )
    else:
        text, markup = view.follow_up_controls(t, broadcast, count)
    controls = await message.reply_text(text, reply_markup=markup)
    await flashes.note_report(context.desk, broadcast.id, controls.chat_id, controls.message_id)


@gate.editors_only(EditorAction.RECALL)
async def recall(update: Update, context: Context, editor: gate.Editor) -> None:
    """/recall <id>: delete a flash in every chat it reached, after a confirmation."""
    await _follow_up(update, context, editor, BroadcastKind.RECALL)


@gate.editors_only(EditorAction.CORRECT)
async def correct(update: Update, context: Context, editor: gate.Editor) -> None:
    """/correct <id> <new text>: edit a flash in every chat it reached, after a confirmation."""
    await _follow_up(update, context, editor, BroadcastKind.CORRECT)


async def _follow_up(
    update: Update, context: Context, editor: gate.Editor, kind: BroadcastKind
) -> None:
    t = editor.t
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    found = drafts.read_flash_id(text)
    recall = kind is BroadcastKind.RECALL
    usage = view.recall_usage(t) if recall else view.correct_usage(t)
    action = EditorAction.RECALL if recall else EditorAction.CORRECT
    if found is None:
        await gate.audit(context, editor, action, "", AuditOutcome.USAGE)
        await reply(update, usage)
        return
    flash_id, after = found
    try:
        flash = await flashes.flash_to_change(context.desk, flash_id, editor.user_id)
    except ChangeRefused as e:
        await gate.audit(context, editor, action, f"#{flash_id}", e.reason)
        await reply(update, view.change_refusal(t, e.reason, flash_id))
        return
    if kind is BroadcastKind.RECALL:
        await _ask_recall(update, context, editor, flash)
        return
    try:
        draft = drafts.read_draft(text, drafts.entities_of(message), [], start=after)
    except drafts.BadDraft:
        await gate.audit(context, editor, action, f"#{flash_id}", AuditOutcome.USAGE)
        await reply(update, usage)
        return
    payload = flashes.payload(context.desk, draft)
    await _preview(update, context, editor, kind, payload, flash=flash, action=action)


async def _ask_recall(
    update: Update, context: Context, editor: gate.Editor, flash: Broadcast
) -> None:
    t = editor.t
    broadcast, count = await flashes.open_preview(
        context.desk,
        editor.user_id,
        BroadcastKind.RECALL,
        Payload({}),
        action=EditorAction.RECALL,
        sections=None,
        flash=flash,
        target=f"#{flash.id}",
    )
    text, markup = view.follow_up_controls(t, broadcast, count)
    message = update.effective_message
    assert message is not None
    controls = await message.reply_text(text, reply_markup=markup)
    await flashes.note_report(context.desk, broadcast.id, controls.chat_id, controls.message_id)


async def tap(update: Update, context: Context) -> None:
    """A preview's button: send (paid or free), send silently, or cancel; only for the
    preview's editor."""
    query, button = tapped(update, FlashTap)
    broadcast_id, action = button.broadcast_id, button.action
    _chat, t = await chat_and_translator(update, context)
    runtime = context.runtime
    user_id = query.from_user.id
    name = EditorAction.CANCEL if action is FlashAction.CANCEL else EditorAction.CONFIRM
    target = f"#{broadcast_id}"
    if not await rights.is_editor(
        context.desk, user_id
    ):  # a forged or stolen button: it says nothing
        await gate.refused(context, user_id, name, "", AuditOutcome.NOT_EDITOR, editor=False)
        await query.answer(render.stale_button(t), show_alert=True)
        return
    try:
        if action is FlashAction.CANCEL:
            broadcast = await flashes.cancel(context.desk, broadcast_id, user_id)
        else:
            tapped_on = query.message
            report = (tapped_on.chat.id, tapped_on.message_id) if tapped_on else None
            broadcast = await flashes.confirm(
                context.desk,
                broadcast_id,
                user_id,
                silent=action in (FlashAction.QUIET, FlashAction.PAID_QUIET),
                paid=action in (FlashAction.PAID, FlashAction.PAID_QUIET),
                report=report,
                metrics=context.runtime.metrics,
            )
    except PreviewRefused as e:
        await rights.record(context.desk, user_id, name, target, e.reason)
        await query.answer(view.tap_refusal(t, e.reason), show_alert=True)
        log.warning(
            "flash tap refused user=%s broadcast=%s reason=%s", user_id, broadcast_id, e.reason
        )
        return
    if action is FlashAction.CANCEL:  # the service wrote the audit entry with the change
        await query.answer()
        await edit(query, view.cancelled(t, broadcast_id))
        return
    wanted_paid = action in (FlashAction.PAID, FlashAction.PAID_QUIET)
    await query.answer(view.started(t, broadcast.kind, unpaid=wanted_paid and not broadcast.paid))
    assert broadcast.item_id is not None
    counts = await flashes.counts(context.desk, broadcast)
    await edit(query, view.progress(t, broadcast, counts, now=runtime.now()))


@gate.editors_only(EditorAction.BROADCASTS)
async def broadcasts(update: Update, context: Context, editor: gate.Editor) -> None:
    """/broadcasts: the recent flashes with their delivery figures."""
    t, lang = editor.t, editor.lang
    desk = context.desk
    items = await flashes.recent(desk)
    await reply_all(update, view.broadcasts_list(t, items, desk.zone, desk.sections, lang))
