"""Pure rendering of the feeds' health (/sources) and what a poll of them all brought."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.callbacks import FetchTap, encode
from bot.i18n import Translator
from bot.news.report import FeedReport
from bot.render import Markup, cut, esc, split, stamp
from storage.types import Feed


def sources_view(t: Translator, feeds: Sequence[Feed], zone: ZoneInfo) -> tuple[list[str], Markup]:
    """Each feed's health, as many messages as it takes; the button that polls them all now
    goes under the last one."""
    if not feeds:
        return [t.gettext("No feeds are configured.")], None
    heading = t.gettext("Feeds")
    blocks = [f"<b>{esc(heading)}</b>"]
    for feed in feeds:
        mark = "🟢" if feed.failures == 0 and feed.last_success else "🔴" if feed.failures else "⚪️"
        never = t.gettext("never")
        success = stamp(feed.last_success, zone) if feed.last_success else never
        line = t.gettext(
            "last update {success} · failures in a row {failures} · next update {next}"
        ).format(success=success, failures=feed.failures, next=stamp(feed.next_check, zone))
        block = [f"{mark} {esc(cut(feed.title, 200))}"] if feed.title else []
        block += [f"{'' if feed.title else mark + ' '}{esc(cut(feed.url, 300))}", line]
        if feed.dropped:
            block.append(
                t.ngettext(
                    "the last update dropped {n} unusable item",
                    "the last update dropped {n} unusable items",
                    feed.dropped,
                ).format(n=feed.dropped)
            )
        if feed.last_error:
            block.append(
                t.gettext("last error: {error}").format(
                    error=f"<code>{esc(cut(feed.last_error, 200))}</code>"
                )
            )
        blocks.append("\n".join(block))
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("Fetch now"), callback_data=encode(FetchTap()))]]
    )
    return split(blocks, separator="\n\n"), markup


def fetched(t: Translator, reports: Sequence[FeedReport]) -> list[str]:
    """What one poll of every feed brought."""
    new = sum(r.new for r in reports)
    failed = [r for r in reports if r.error]
    text = t.ngettext(
        "Updated {ok} of {n} feed: {new} new stories.",
        "Updated {ok} of {n} feeds: {new} new stories.",
        len(reports),
    ).format(ok=len(reports) - len(failed), n=len(reports), new=new)
    lines = [text] + [
        f"🔴 {esc(cut(r.url, 300))}: <code>{esc(cut(r.error or '', 200))}</code>" for r in failed
    ]
    return split(lines)


def started_fetch(t: Translator) -> str:
    return t.gettext("Updating the feeds…")
