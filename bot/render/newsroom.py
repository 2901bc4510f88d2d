"""Pure rendering of the newsroom's views: flashes as subscribers see them, previews with their
buttons, live progress reports, the lists of flashes, editors and audit entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from bot import sections as lookup
from bot import urls
from bot.callbacks import FetchTap, FlashAction, FlashTap, encode
from bot.i18n import Translator
from bot.render import Markup, View, esc, split
from storage.types import (
    AuditEntry,
    AuditOutcome,
    Broadcast,
    BroadcastKind,
    DeliveryState,
    EditorAction,
    Feed,
    Section,
    Stranger,
)

if TYPE_CHECKING:
    from bot.ingest import FeedReport
    from bot.stats import Audience

BAR = 12  # cells in the progress bar


def flash_message(t: Translator, body_html: str, url: str | None) -> dict[str, Any]:
    """One flash as a sendMessage's parameters (without the chat): a heading, the editor's
    text (already safe HTML), a preview of the link if there is one."""
    heading, more = t.gettext("Breaking"), t.gettext("Read more →")
    text = f"⚡️ <b>{esc(heading)}</b>\n\n{body_html}"
    checked = urls.checked(url)
    if checked:
        text += f'\n\n<a href="{urls.href(checked)}">{esc(more)}</a>'
        preview: dict[str, Any] = {"url": checked, "prefer_large_media": True}
    else:
        preview = {"is_disabled": True}
    return {"text": text, "link_preview_options": preview}


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
    t: Translator, broadcast_id: int, count: int, aim: str, *, minutes: int
) -> View:
    """What goes under the preview: whom it reaches, and the buttons."""
    text = (
        t.ngettext(
            "<b>Flash #{id}</b> — the preview is above. It will reach {n} chat ({aim}).",
            "<b>Flash #{id}</b> — the preview is above. It will reach {n} chats ({aim}).",
            count,
        ).format(id=broadcast_id, n=count, aim=aim)
        + "\n"
        + t.gettext("Nothing is sent until you confirm; the preview expires in {m} min.").format(
            m=minutes
        )
    )
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    t.gettext("Send"), callback_data=_data(broadcast_id, FlashAction.SEND)
                ),
                InlineKeyboardButton(
                    t.gettext("Send without sound"),
                    callback_data=_data(broadcast_id, FlashAction.QUIET),
                ),
            ],
            [
                InlineKeyboardButton(
                    t.gettext("Cancel"), callback_data=_data(broadcast_id, FlashAction.CANCEL)
                )
            ],
        ]
    )
    return text, markup


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
    t: Translator,
    broadcast: Broadcast,
    counts: Mapping[DeliveryState, int],
    *,
    now: dt.datetime,
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
    if done:  # an estimate once there is something to go by
        eta = elapsed / done * pending
        lines.append(t.gettext("about {time} left").format(time=_duration(t, eta)))
    return "\n".join(lines)


def cancelled(t: Translator, broadcast_id: int) -> str:
    return t.gettext("Flash #{id} cancelled: nothing was sent.").format(id=broadcast_id)


def _when(moment: dt.datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%d.%m %H:%M")


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
        when = _when(broadcast.started or broadcast.created, zone)
        lines.append(
            f"#{broadcast.id} · {when} · <code>{broadcast.editor_id}</code> · {aim} · {figures}"
        )
    return split(lines)


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
            f"{_when(e.at, zone)} · <code>{e.user_id}</code> · {_action(t, e.action)} "
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
                when=_when(s.last_at, zone),
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


def _outcome(t: Translator, code: str, count: int | None) -> str:  # noqa: PLR0911
    """An audit entry's outcome in the editor's language."""
    try:
        outcome = AuditOutcome(code)
    except ValueError:  # nothing this version writes
        return esc(code)
    n = count or 0
    if outcome is AuditOutcome.TOO_LONG:
        return t.ngettext(
            "refused: {n} character too long", "refused: {n} characters too long", n
        ).format(n=n)
    if outcome is AuditOutcome.PREVIEW and count is not None:
        return t.ngettext("preview for {n} chat", "preview for {n} chats", n).format(n=n)
    if outcome is AuditOutcome.SENT:
        return t.ngettext("confirmed for {n} chat", "confirmed for {n} chats", n).format(n=n)
    if outcome is AuditOutcome.SENT_SILENTLY:
        return t.ngettext(
            "confirmed without sound for {n} chat", "confirmed without sound for {n} chats", n
        ).format(n=n)
    if outcome is AuditOutcome.RECALL_CONFIRMED:
        return t.ngettext(
            "deletion confirmed in {n} chat", "deletion confirmed in {n} chats", n
        ).format(n=n)
    if outcome is AuditOutcome.CORRECTION_CONFIRMED:
        return t.ngettext(
            "correction confirmed in {n} chat", "correction confirmed in {n} chats", n
        ).format(n=n)
    if outcome is AuditOutcome.FETCHED:
        return t.ngettext("{n} new story", "{n} new stories", n).format(n=n)
    texts = {
        AuditOutcome.NOT_PRIVATE: t.gettext("refused: not in a private chat"),
        AuditOutcome.NOT_EDITOR: t.gettext("refused: not an editor"),
        AuditOutcome.NOT_OWNER: t.gettext("refused: not an owner"),
        AuditOutcome.USAGE: t.gettext("refused: wrong format"),
        AuditOutcome.UNKNOWN_SECTION: t.gettext("refused: no such section"),
        AuditOutcome.ADDRESS_REFUSED: t.gettext("refused: not a public web address"),
        AuditOutcome.PAGE_UNREADABLE: t.gettext("refused: the page could not be read"),
        AuditOutcome.UNKNOWN: t.gettext("refused: no such flash"),
        AuditOutcome.FOREIGN: t.gettext("refused: another editor's flash"),
        AuditOutcome.NOT_SENT: t.gettext("refused: never sent"),
        AuditOutcome.TOO_OLD: t.gettext("refused: older than 48 hours"),
        AuditOutcome.NOT_YOURS: t.gettext("refused: another editor's preview"),
        AuditOutcome.EXPIRED: t.gettext("refused: the preview had expired"),
        AuditOutcome.WAS_CANCELLED: t.gettext("refused: the preview had been cancelled"),
        AuditOutcome.ALREADY_SENT: t.gettext("refused: sent already"),
        AuditOutcome.CHANNEL_NOT_FOUND: t.gettext("refused: no such channel"),
        AuditOutcome.NOT_A_CHANNEL: t.gettext("refused: not a channel"),
        AuditOutcome.NOT_ADMIN: t.gettext("refused: the bot may not post there"),
        AuditOutcome.NOT_OURS: t.gettext("refused: not one of the newsroom's channels"),
        AuditOutcome.PREVIEW: t.gettext("preview"),
        AuditOutcome.CANCELLED: t.gettext("cancelled"),
        AuditOutcome.ADDED: t.gettext("added"),
        AuditOutcome.ALREADY: t.gettext("already there"),
        AuditOutcome.REMOVED: t.gettext("removed"),
        AuditOutcome.ABSENT: t.gettext("was not there"),
    }
    return texts.get(outcome, esc(code))


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


def editor_menu(t: Translator) -> list[BotCommand]:
    """The commands editors see besides the subscribers' ones."""
    return [
        BotCommand("breaking", t.gettext("Send a flash: breaking news")),
        BotCommand("post", t.gettext("Send an article as a story")),
        BotCommand("recall", t.gettext("Delete a flash everywhere")),
        BotCommand("correct", t.gettext("Edit a flash everywhere")),
        BotCommand("broadcasts", t.gettext("Recent flashes")),
        BotCommand("audit", t.gettext("What editors did")),
        BotCommand("editors", t.gettext("Who edits")),
        BotCommand("stats", t.gettext("Audience and deliveries")),
        BotCommand("channels", t.gettext("The newsroom's channels")),
        BotCommand("sources", t.gettext("Feeds and their health")),
        BotCommand("fetch", t.gettext("Update every feed now")),
    ]


def refusal(t: Translator, reason: AuditOutcome, flash_id: int = 0) -> str:
    """Why an editor's command does nothing."""
    texts = {
        AuditOutcome.NOT_EDITOR: t.gettext("This command is for the newsroom's editors."),
        AuditOutcome.NOT_OWNER: t.gettext("Only the bot's owners can change who edits."),
        AuditOutcome.NOT_PRIVATE: t.gettext(
            "Editors' commands work only in a private chat with the bot."
        ),
        AuditOutcome.UNKNOWN: t.gettext("There is no flash #{id}."),
        AuditOutcome.FOREIGN: t.gettext(
            "Flash #{id} is another editor's: only its author or an owner of the bot can change it."
        ),
        AuditOutcome.NOT_SENT: t.gettext("Flash #{id} was never sent."),
        AuditOutcome.TOO_OLD: t.gettext(
            "Flash #{id} went out more than 48 hours ago: Telegram no longer lets bots delete "
            "or edit it."
        ),
    }
    return texts.get(reason, texts[AuditOutcome.NOT_EDITOR]).format(id=flash_id)


def tap_refusal(t: Translator, reason: AuditOutcome) -> str:
    """A preview's button pressed when it must not act (shown as an alert on the tap)."""
    texts = {
        AuditOutcome.NOT_YOURS: t.gettext("Only the editor who made this preview can send it."),
        AuditOutcome.NOT_EDITOR: t.gettext("This is for the newsroom's editors."),
        AuditOutcome.EXPIRED: t.gettext(
            "This preview has expired; nothing was sent. Make a new one."
        ),
        AuditOutcome.WAS_CANCELLED: t.gettext("This preview was cancelled; nothing was sent."),
        AuditOutcome.ALREADY_SENT: t.gettext("This has been sent already: a flash goes out once."),
        AuditOutcome.UNKNOWN: t.gettext("This preview no longer exists."),
    }
    return texts.get(reason, texts[AuditOutcome.UNKNOWN])


def started(t: Translator, kind: BroadcastKind) -> str:
    """The answer to the tap that confirms: what now begins."""
    return {
        BroadcastKind.FLASH: t.gettext("Sending…"),
        BroadcastKind.RECALL: t.gettext("Deleting…"),
        BroadcastKind.CORRECT: t.gettext("Editing…"),
    }[kind]


def started_fetch(t: Translator) -> str:
    return t.gettext("Updating the feeds…")


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
        success = _when(feed.last_success, zone) if feed.last_success else never
        line = t.gettext(
            "last update {success} · failures in a row {failures} · next update {next}"
        ).format(success=success, failures=feed.failures, next=_when(feed.next_check, zone))
        block = [f"{mark} {esc(_cut(feed.title, 200))}"] if feed.title else []
        block += [f"{'' if feed.title else mark + ' '}{esc(_cut(feed.url, 300))}", line]
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
                    error=f"<code>{esc(_cut(feed.last_error, 200))}</code>"
                )
            )
        blocks.append("\n".join(block))
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(t.gettext("Fetch now"), callback_data=encode(FetchTap()))]]
    )
    return split(blocks, separator="\n\n"), markup


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


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
        f"🔴 {esc(_cut(r.url, 300))}: <code>{esc(_cut(r.error or '', 200))}</code>" for r in failed
    ]
    return split(lines)


def stats_text(
    t: Translator,
    audience: Audience,
    sections: Sequence[Section],
    *,
    per_section: Mapping[str, int],
    deliveries: Mapping[str, int],
    lang: str,
) -> list[str]:
    """The newsroom's figures: audience, sections, the week, the last day's deliveries."""
    heading = t.gettext("Audience")
    lines = [
        f"<b>{esc(heading)}</b>",
        t.gettext(
            "Active: {active} (private chats {private}, groups {groups}, channels {channels})"
        ).format(
            active=audience.active,
            private=audience.private,
            groups=audience.groups,
            channels=audience.channels,
        ),
        t.gettext("Blocked the bot: {blocked}; removed or gone: {left}").format(
            blocked=audience.blocked, left=audience.left
        ),
        t.gettext("Last 7 days: {new} new, {lost} lost").format(
            new=audience.new_week, lost=audience.lost_week
        ),
        "",
    ]
    heading = t.gettext("By section")
    lines.append(f"<b>{esc(heading)}</b>")
    lines += [f"{esc(s.title(lang))}: {per_section.get(s.slug, 0)}" for s in sections]
    heading = t.gettext("Deliveries, last 24 hours")
    lines += ["", f"<b>{esc(heading)}</b>"]
    lines.append(
        t.gettext("sent {sent}, failed {failed}, retried {retried}, pending {pending}").format(
            **deliveries
        )
    )
    return split(lines)


def chart_title(t: Translator) -> str:
    return t.gettext("Active subscribers per day, last 30 days")


def channel_usage(t: Translator) -> str:
    return t.gettext(
        "Format: /channel_add @channel [#section…] (without sections: all of them); "
        "/channel_remove @channel. Make the bot an administrator of the channel first."
    )


def channel_problem(t: Translator, reason: AuditOutcome, name: str) -> str:
    texts = {
        AuditOutcome.CHANNEL_NOT_FOUND: t.gettext(
            "There is no channel {name}, or the bot cannot see it."
        ),
        AuditOutcome.NOT_A_CHANNEL: t.gettext("{name} is not a channel."),
        AuditOutcome.NOT_ADMIN: t.gettext(
            "The bot is not an administrator of {name} with the right to post: make it one "
            "and try again."
        ),
        AuditOutcome.NOT_OURS: t.gettext("{name} is not one of the newsroom's channels."),
    }
    return texts[reason].format(name=esc(name[:64]))


def channel_added(t: Translator, title: str, sections: Sequence[Section], lang: str) -> str:
    names = ", ".join(esc(s.title(lang)) for s in sections)
    return t.gettext("Channel {title} now gets the stories of: {names}; and flashes.").format(
        title=f"<b>{esc(title)}</b>", names=names
    )


def channel_removed(t: Translator, title: str) -> str:
    return t.gettext("Channel {title} no longer gets anything.").format(
        title=f"<b>{esc(title)}</b>"
    )


def channels_list(
    t: Translator, channels: Sequence[tuple[str, int, Sequence[Section]]], lang: str
) -> list[str]:
    """(title, id, sections) of each channel."""
    if not channels:
        return [t.gettext("No channels yet. Add one: /channel_add @channel #section")]
    heading = t.gettext("Channels")
    lines = [f"<b>{esc(heading)}</b>"]
    for title, chat_id, sections in channels:
        names = ", ".join(esc(s.title(lang)) for s in sections) or "—"
        lines.append(f"{esc(_cut(title, 200))} (<code>{chat_id}</code>): {names}")
    return split(lines)
