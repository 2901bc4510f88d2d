"""The feeds, for editors: /sources (their health, with a "Fetch now" button) and /fetch."""

from __future__ import annotations

import logging

from telegram import Update

from bot import render
from bot.callbacks import FetchTap
from bot.context import Context
from bot.handlers import gate
from bot.handlers.common import chat_and_translator, reply_all, tapped
from bot.newsroom import rights, sources
from bot.render import sources as view
from storage.codes import AuditOutcome, EditorAction

log = logging.getLogger(__name__)


@gate.editors_only(EditorAction.SOURCES)
async def health(update: Update, context: Context, editor: gate.Editor) -> None:
    """/sources: each feed's health, with a "Fetch now" button."""
    t = editor.t
    runtime = context.runtime
    texts, markup = view.sources_view(t, await sources.listed(runtime), context.desk.zone)
    await reply_all(update, texts, markup)


@gate.editors_only(EditorAction.FETCH)
async def fetch(update: Update, context: Context, editor: gate.Editor) -> None:
    """/fetch: poll every feed now and say what came in."""
    t = editor.t
    reports = await sources.fetch_all(context.runtime)
    fresh = sum(r.new for r in reports)
    await gate.audit(context, editor, EditorAction.FETCH, "", AuditOutcome.FETCHED, fresh)
    await reply_all(update, view.fetched(t, reports))


async def fetch_tap(update: Update, context: Context) -> None:
    """The "Fetch now" button under /sources (editors only, like the command): what came in,
    then the feeds' health again, in new messages (either can be long)."""
    query, _ = tapped(update, FetchTap)
    _chat, t = await chat_and_translator(update, context)
    runtime = context.runtime
    user_id = query.from_user.id
    if not await rights.is_editor(context.desk, user_id):
        await gate.refused(
            context, user_id, EditorAction.FETCH, "", AuditOutcome.NOT_EDITOR, editor=False
        )
        await query.answer(render.stale_button(t), show_alert=True)
        return
    await query.answer(view.started_fetch(t))
    reports = await sources.fetch_all(runtime)
    fresh = sum(r.new for r in reports)
    await rights.record(context.desk, user_id, EditorAction.FETCH, "", AuditOutcome.FETCHED, fresh)
    await reply_all(update, view.fetched(t, reports))
    texts, markup = view.sources_view(t, await sources.listed(runtime), context.desk.zone)
    await reply_all(update, texts, markup)
