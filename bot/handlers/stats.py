"""/stats: the newsroom's figures for editors, and a chart."""

from __future__ import annotations

import logging

from telegram import Update

from bot.context import Context
from bot.handlers import gate
from bot.handlers.common import reply_all
from bot.newsroom import figures
from bot.render import stats as view
from storage.codes import EditorAction

log = logging.getLogger(__name__)


@gate.editors_only(EditorAction.STATS)
async def stats(update: Update, context: Context, editor: gate.Editor) -> None:
    """/stats: the audience, sections, the last day's deliveries, and a chart of 30 days."""
    t, lang = editor.t, editor.lang
    found = await figures.gather(context.desk)
    texts = view.stats_text(
        t,
        found.audience,
        context.runtime.sections,
        per_section=found.per_section,
        deliveries=found.deliveries,
        lang=lang,
        paid=found.paid,
    )
    await reply_all(update, texts)
    png = await figures.chart(found.audience, view.chart_title(t))
    message = update.effective_message
    assert message is not None
    await message.reply_photo(png, caption=view.chart_title(t))
