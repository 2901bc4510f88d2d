"""Pure rendering of flashes: as readers see them, previews with their buttons, the live
progress reports, the list of recent flashes, and what each refusal says."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any, assert_never
from zoneinfo import ZoneInfo

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import sections as lookup
from bot import urls
from bot.callbacks import FlashAction, FlashTap, encode
from bot.i18n import Translator
from bot.newsroom.budget import Estimate
from bot.render import View, esc, number, split, stamp
from storage.codes import AuditOutcome, ChangeRefusal, PreviewRefusal
from storage.types import Body, Broadcast, BroadcastKind, DeliveryState, Section

BAR = 12  # cells in the progress bar


def flash_message(t: Translator, body_html: str, url: str | None) -> Body:
    """One flash as readers get it: a heading, the editor's
    text (already safe HTML), a preview of the link if there is one."""
    heading, more = t.gettext("Breaking"), t.gettext("Read more →")
    text = f"⚡️ <b>{esc(heading)}</b>\n\n{body_html}"
    checked = urls.checked(url)
    if checked:
        text += f'\n\n<a href="{urls.href(checked)}">{esc(more)}</a>'
        preview: dict[str, Any] = {"url": checked, "prefer_large_media": True}
    else:
        preview = {"is_disabled": True}
    return Body(text, preview)


def too_long(t: Translator, over: int) -> str:
    return t.ngettext(
        "The flash is {n} character too long: Telegram takes at most 4096.",
        "The flash is {n} characters too long: Telegram takes at most 4096.",
        over,
    ).format(n=over)


def targets(t: Translator, sections: Sequence[Section] | None, lang: str) -> str:
    if sections is None:
        return t.gettext("every active chat")
    names = ", ".join(esc(s.title(lang)) for s in sections)
    return t.gettext("sections: {names}").format(names=names)


def preview_controls(
    t: Translator,
    broadcast_id: int,
    count: int,
    aim: str,
    *,
    minutes: int,
    cost: Estimate,
    lang: str,
) -> View:
    """What goes under the preview: whom it reaches, what sending takes (free, and paid with
    its price where paid broadcasts are on), and the buttons: one pair for each way."""
    lines = [
        t.ngettext(
            "<b>Flash #{id}</b> — the preview is above. It will reach {n} chat ({aim}).",
            "<b>Flash #{id}</b> — the preview is above. It will reach {n} chats ({aim}).",
            count,
        ).format(id=broadcast_id, n=number(count, lang), aim=aim)
    ]
    free = span(t, cost.free_seconds)
    if not count:
        pass  # nothing to send: nothing to estimate
    elif cost.paid_seconds is not None and cost.stars is not None:
        lines.append(
            t.gettext("Paid: ≈ {stars} ⭐, {paid} — or free: {free}.").format(
                stars=number(cost.stars, lang), paid=span(t, cost.paid_seconds), free=free
            )
        )
    else:
        lines.append(t.gettext("Sending takes about {time}.").format(time=free))
    lines.append(
        t.gettext("Nothing is sent until you confirm; the preview expires in {m} min.").format(
            m=minutes
        )
    )

    def button(text: str, action: FlashAction) -> InlineKeyboardButton:
        return InlineKeyboardButton(text, callback_data=_data(broadcast_id, action))

    if cost.paid_seconds is None:
        rows = [
            [
                button(t.gettext("Send"), FlashAction.SEND),
                button(t.gettext("Send without sound"), FlashAction.QUIET),
            ]
        ]
    else:
        rows = [
            [
                button(t.gettext("⭐ Send paid"), FlashAction.PAID),
                button(t.gettext("⭐ Paid, without sound"), FlashAction.PAID_QUIET),
            ],
            [
                button(t.gettext("Send free"), FlashAction.SEND),
                button(t.gettext("Free, without sound"), FlashAction.QUIET),
            ],
        ]
    rows.append([button(t.gettext("Cancel"), FlashAction.CANCEL)])
    return "\n".join(lines), InlineKeyboardMarkup(rows)


def span(t: Translator, seconds: float) -> str:
    """How long sending takes, roughly: `45 s`, `9 min`, `2 h 19 min`, `4 d 18 h` (rounded
    up)."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 60:
        return t.gettext("{n} s").format(n=seconds)
    minutes = math.ceil(seconds / 60)
    if minutes < 60:
        return t.gettext("{m} min").format(m=minutes)
    hours, minutes = divmod(minutes, 60)
    if hours >= 24:
        days, hours = divmod(hours + (minutes > 0), 24)
        return t.gettext("{d} d {h} h").format(d=days, h=hours)
    if not minutes:
        return t.gettext("{h} h").format(h=hours)
    return t.gettext("{h} h {m} min").format(h=hours, m=minutes)


def paid_refused(
    t: Translator, broadcast: Broadcast, pending: int, rate: float, *, lang: str
) -> str:
    """The editor is told once: Telegram would not charge for the paid flash, so the rest
    goes at the free rate."""
    text = t.gettext(
        "⭐ Telegram refused to charge for flash #{id} (not enough Stars on the bot's balance,"
        " or the bot may not use paid broadcasts). It goes on at the free rate; nothing is lost."
    ).format(id=broadcast.id)
    if pending:
        rest = t.ngettext(
            "The rest ({n} chat) will take about {time}.",
            "The rest ({n} chats) will take about {time}.",
            pending,
        ).format(n=number(pending, lang), time=span(t, pending / rate))
        text += " " + rest
    return text


def follow_up_controls(t: Translator, broadcast: Broadcast, count: int) -> View:
    """The question under a recall or a correction."""
    if broadcast.kind is BroadcastKind.RECALL:
        text = t.ngettext(
            "Delete flash #{id} in {n} chat?", "Delete flash #{id} in {n} chats?", count
        )
        yes = t.gettext("Delete everywhere")
    else:
        text = t.ngettext(
            "Replace flash #{id} with the text above in {n} chat?",
            "Replace flash #{id} with the text above in {n} chats?",
            count,
        )
        yes = t.gettext("Edit everywhere")
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=_data(broadcast.id, FlashAction.SEND)),
                InlineKeyboardButton(
                    t.gettext("Cancel"), callback_data=_data(broadcast.id, FlashAction.CANCEL)
                ),
            ]
        ]
    )
    return text.format(id=broadcast.of_id, n=count), markup


def _data(broadcast_id: int, action: FlashAction) -> str:
    return encode(FlashTap(broadcast_id, action))


def _duration(t: Translator, seconds: float) -> str:
    """`45 с` under a minute, `1:05` (minutes and seconds) above."""
    seconds = max(0, round(seconds))
    if seconds >= 60:
        return f"{seconds // 60}:{seconds % 60:02d}"
    return t.gettext("{n} s").format(n=seconds)


def progress(
    t: Translator, broadcast: Broadcast, counts: Mapping[DeliveryState, int], *, now: dt.datetime
) -> str:
    """The live report: where the deliveries stand, a bar, an ETA; the totals when done."""
    sent, failed = counts[DeliveryState.SENT], counts[DeliveryState.FAILED]
    pending = counts[DeliveryState.PENDING]
    skipped = counts[DeliveryState.SKIPPED]
    total = max(broadcast.total, sent + failed + pending + skipped)
    done = total - pending
    title = {
        BroadcastKind.FLASH: t.gettext("Flash #{id}"),
        BroadcastKind.RECALL: t.gettext("Recall of flash #{id}"),
        BroadcastKind.CORRECT: t.gettext("Correction of flash #{id}"),
    }[broadcast.kind].format(id=broadcast.of_id or broadcast.id)
    if broadcast.kind is BroadcastKind.FLASH:
        line = t.gettext(
            "sent {sent} · failed {failed} · blocked the bot {blocked} · pending {pending}"
            " of {total}"
        )
    elif broadcast.kind is BroadcastKind.RECALL:
        line = t.gettext(
            "deleted {sent} · not deleted {failed} · blocked the bot {blocked} · pending {pending}"
            " of {total}"
        )
    else:
        line = t.gettext(
            "edited {sent} · not edited {failed} · blocked the bot {blocked} · pending {pending}"
            " of {total}"
        )
    # Skipped deliveries are the chats that blocked the bot, removed it or are gone.
    figures = line.format(sent=sent, failed=failed, blocked=skipped, pending=pending, total=total)
    share = done / total if total else 1.0
    cells = round(share * BAR)
    bar = "▓" * cells + "░" * (BAR - cells)
    started = broadcast.started or broadcast.created
    elapsed = (now - started).total_seconds()
    if pending == 0:
        status = (
            t.gettext("done in under a second")
            if elapsed < 1
            else t.gettext("done in {time}").format(time=_duration(t, elapsed))
        )
        return f"✅ <b>{title}</b>: {status}\n{figures}"
    status = {
        BroadcastKind.FLASH: t.gettext("sending"),
        BroadcastKind.RECALL: t.gettext("deleting"),
        BroadcastKind.CORRECT: t.gettext("editing"),
    }[broadcast.kind]
    lines = [f"⏳ <b>{title}</b>: {status}", f"{bar} {share:.0%}", figures]
    if broadcast.paid_refused is not None:
        lines.append(
            t.gettext("⭐ Telegram refused the paid broadcast: going on at the free rate.")
        )
    if done:  # an estimate once there is something to go by
        eta = elapsed / done * pending
        lines.append(t.gettext("about {time} left").format(time=_duration(t, eta)))
    return "\n".join(lines)


def cancelled(t: Translator, broadcast_id: int) -> str:
    return t.gettext("Flash #{id} cancelled: nothing was sent.").format(id=broadcast_id)


def broadcasts_list(
    t: Translator,
    items: Sequence[tuple[Broadcast, Mapping[DeliveryState, int]]],
    zone: ZoneInfo,
    sections: Sequence[Section],
    lang: str,
) -> list[str]:
    if not items:
        return [t.gettext("No flashes yet.")]
    by_slug = {s.slug: s for s in sections}
    heading = t.gettext("Recent flashes")
    lines = [f"<b>{esc(heading)}</b>"]
    for broadcast, counts in items:
        aim = targets(
            t,
            None
            if broadcast.sections is None
            else [by_slug[s] for s in broadcast.sections if s in by_slug],
            lang,
        )
        figures = t.gettext(
            "sent {sent}, failed {failed}, blocked the bot {skipped}, pending {pending}"
        )
        figures = figures.format(
            sent=counts[DeliveryState.SENT],
            failed=counts[DeliveryState.FAILED],
            skipped=counts[DeliveryState.SKIPPED],
            pending=counts[DeliveryState.PENDING],
        )
        when = stamp(broadcast.started or broadcast.created, zone)
        lines.append(
            f"#{broadcast.id} · {when} · <code>{broadcast.editor_id}</code> · {aim} · {figures}"
        )
    return split(lines)


def tap_refusal(t: Translator, reason: PreviewRefusal) -> str:
    """A preview's button pressed when it must not act (shown as an alert on the tap)."""
    match reason:
        case AuditOutcome.NOT_YOURS:
            return t.gettext("Only the editor who made this preview can send it.")
        case AuditOutcome.NOT_EDITOR:
            return t.gettext("This is for the newsroom's editors.")
        case AuditOutcome.EXPIRED:
            return t.gettext("This preview has expired; nothing was sent. Make a new one.")
        case AuditOutcome.WAS_CANCELLED:
            return t.gettext("This preview was cancelled; nothing was sent.")
        case AuditOutcome.ALREADY_SENT:
            return t.gettext("This has been sent already: a flash goes out once.")
        case AuditOutcome.UNKNOWN:
            return t.gettext("This preview no longer exists.")
    assert_never(reason)


def started(t: Translator, kind: BroadcastKind, *, unpaid: bool = False) -> str:
    """The answer to the tap that confirms: what now begins (`unpaid`: a paid button, but
    paid broadcasts are off now)."""
    if unpaid:
        return t.gettext("Paid broadcasts are off now: sending free…")
    return {
        BroadcastKind.FLASH: t.gettext("Sending…"),
        BroadcastKind.RECALL: t.gettext("Deleting…"),
        BroadcastKind.CORRECT: t.gettext("Editing…"),
    }[kind]


def breaking_usage(t: Translator, sections: Sequence[Section], lang: str) -> str:
    tags = " ".join(f"#{lookup.tag(s, lang)}" for s in sections)
    return (
        t.gettext("Format: /breaking [#section…] text [link]")
        + "\n"
        + t.gettext("Example: /breaking #world The minister has resigned https://…")
        + "\n"
        + t.gettext("Sections: {tags}. Without a section it goes to every active chat.").format(
            tags=esc(tags)
        )
    )


def post_usage(t: Translator) -> str:
    return t.gettext(
        "Format: /post &lt;link&gt; [#section…], e.g. /post https://news.example.ua/a #world"
    )


def page_refused(t: Translator) -> str:
    return t.gettext(
        "Visnyk does not open that address: only a link to a public web page can be posted."
    )


def page_unreadable(t: Translator) -> str:
    return t.gettext("Could not read an article at that link; check it opens in a browser.")


def unknown_tag(t: Translator, tag: str) -> str:
    return t.gettext("There is no section #{tag}.").format(tag=esc(tag[:32]))


def recall_usage(t: Translator) -> str:
    return t.gettext(
        "Format: /recall &lt;flash number&gt;, e.g. /recall 12. The numbers are in /broadcasts."
    )


def correct_usage(t: Translator) -> str:
    return t.gettext(
        "Format: /correct &lt;flash number&gt; &lt;new text&gt;, "
        "e.g. /correct 12 The minister has not resigned."
    )


def change_refusal(t: Translator, reason: ChangeRefusal, flash_id: int) -> str:
    """Why a /recall or /correct of flash `flash_id` does nothing."""
    match reason:
        case AuditOutcome.UNKNOWN:
            text = t.gettext("There is no flash #{id}.")
        case AuditOutcome.FOREIGN:
            text = t.gettext(
                "Flash #{id} is another editor's: only its author or an owner of the bot can "
                "change it."
            )
        case AuditOutcome.NOT_SENT:
            text = t.gettext("Flash #{id} was never sent.")
        case AuditOutcome.TOO_OLD:
            text = t.gettext(
                "Flash #{id} went out more than 48 hours ago: Telegram no longer lets bots delete "
                "or edit it."
            )
        case _:
            assert_never(reason)
    return text.format(id=flash_id)
