"""/stats: the newsroom's figures for editors, and a chart."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from telegram import Update

from bot import stats as figures
from bot.context import Context
from bot.handlers import gate
from bot.handlers.common import reply_all
from bot.render import stats as view
from storage import stats as stored_stats
from storage import subscriptions
from storage.codes import EditorAction

log = logging.getLogger(__name__)


@gate.editors_only(EditorAction.STATS)
async def stats(update: Update, context: Context, editor: gate.Editor) -> None:
    """/stats: the audience, sections, the last day's deliveries, and a chart of 30 days."""
    t, lang = editor.t, editor.lang
    runtime = context.runtime
    now = runtime.now()
    audience = figures.audience(await stored_stats.chat_lives(runtime.db), now)
    per_section = await subscriptions.count_by_section(runtime.db)
    deliveries = await stored_stats.deliveries_since(runtime.db, now - dt.timedelta(days=1))
    texts = view.stats_text(
        t, audience, runtime.sections, per_section=per_section, deliveries=deliveries, lang=lang
    )
    await reply_all(update, texts)
    png = await asyncio.to_thread(figures.chart_png, audience.per_day, view.chart_title(t))
    message = update.effective_message
    assert message is not None
    await message.reply_photo(png, caption=view.chart_title(t))
