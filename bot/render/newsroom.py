"""Pure rendering of the newsroom's views: alerts as subscribers see them, previews with their
buttons, live progress reports, the lists of alerts, editors and audit entries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from bot import urls
from bot.callbacks import AlertAction, AlertTap, FetchTap, encode
from bot.i18n import Translator
from bot.render import Markup, View, esc, split
from storage.types import (
    AuditEntry,
    Broadcast,
    BroadcastKind,
    DeliveryState,
    Feed,
    Section,
    Stranger,
)

if TYPE_CHECKING:
    from bot.ingest import FeedReport
    from bot.stats import Audience

BAR = 12  # cells in the progress bar


def alert_message(t: Translator, body_html: str, url: str | None) -> dict[str, Any]:
    """One alert as a sendMessage's parameters (without the chat): a heading, the editor's
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
        "The alert is {n} character too long: Telegram takes at most 4096.",
        "The alert is {n} characters too long: Telegram takes at most 4096.",
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
            "<b>Alert #{id}</b>, preview above. It will reach {n} chat ({aim}).",
            "<b>Alert #{id}</b>, preview above. It will reach {n} chats ({aim}).",
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
                    t.gettext("Send"), callback_data=_data(broadcast_id, AlertAction.SEND)
                ),
                InlineKeyboardButton(
                    t.gettext("Send silently"), callback_data=_data(broadcast_id, AlertAction.QUIET)
                ),
            ],
            [
                InlineKeyboardButton(
                    t.gettext("Cancel"), callback_data=_data(broadcast_id, AlertAction.CANCEL)
                )
            ],
        ]
    )
    return text, markup


def follow_up_controls(t: Translator, broadcast: Broadcast, count: int) -> View:
    """The question under a recall or a correction."""
    if broadcast.kind is BroadcastKind.RECALL:
        text = t.ngettext(
            "Delete alert #{id} in {n} chat?", "Delete alert #{id} in {n} chats?", count
        )
        yes = t.gettext("Delete everywhere")
    else:
        text = t.ngettext(
            "Replace alert #{id} with the text above in {n} chat?",
            "Replace alert #{id} with the text above in {n} chats?",
            count,
        )
        yes = t.gettext("Edit everywhere")
    markup = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(yes, callback_data=_data(broadcast.id, AlertAction.SEND)),
                InlineKeyboardButton(
                    t.gettext("Cancel"), callback_data=_data(broadcast.id, AlertAction.CANCEL)
                ),
            ]
        ]
    )
    return text.format(id=broadcast.of_id, n=count), markup


def _data(broadcast_id: int, action: AlertAction) -> str:
    return encode(AlertTap(broadcast_id, action))


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}" if seconds >= 60 else f"{seconds} s"


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
        BroadcastKind.BREAKING: t.gettext("Alert #{id}"),
        BroadcastKind.RECALL: t.gettext("Recall of alert #{id}"),
        BroadcastKind.CORRECT: t.gettext("Correction of alert #{id}"),
    }[broadcast.kind].format(id=broadcast.of_id or broadcast.id)
    if broadcast.kind is BroadcastKind.BREAKING:
        line = t.gettext(
            "sent {sent} · failed {failed} · blocked {blocked} · pending {pending} of {total}"
        )
    elif broadcast.kind is BroadcastKind.RECALL:
        line = t.gettext(
            "deleted {sent} · not deleted {failed} · blocked {blocked} · pending {pending}"
            " of {total}"
        )
    else:
        line = t.gettext(
            "edited {sent} · not edited {failed} · blocked {blocked} · pending {pending} of {total}"
        )
    # Skipped deliveries are the chats that blocked the bot, removed it or are gone.
    figures = line.format(sent=sent, failed=failed, blocked=skipped, pending=pending, total=total)
    share = done / total if total else 1.0
    cells = round(share * BAR)
    bar = "▓" * cells + "░" * (BAR - cells)
    started = broadcast.started or broadcast.created
    elapsed = (now - started).total_seconds()
    if pending == 0:
        status = t.gettext("done in {time}").format(time=_duration(elapsed))
        return f"✅ <b>{title}</b>: {status}\n{figures}"
    eta = elapsed / done * pending if done else None
    status = t.gettext("sending")
    tail = (
        t.gettext("about {time} left").format(time=_duration(eta))
        if eta is not None
        else t.gettext("starting")
    )
    return f"⏳ <b>{title}</b>: {status}\n{bar} {share:.0%}\n{figures}\n{tail}"


def cancelled(t: Translator, broadcast_id: int) -> str:
    return t.gettext("Alert #{id} cancelled: nothing was sent.").format(id=broadcast_id)


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
        return [t.gettext("No alerts yet.")]
    by_slug = {s.slug: s for s in sections}
    heading = t.gettext("Recent alerts")
    lines = [f"<b>{esc(heading)}</b>"]
    for broadcast, counts in items:
        aim = targets(
            t,
            None
            if broadcast.sections is None
            else [by_slug[s] for s in broadcast.sections if s in by_slug],
            lang,
        )
        figures = t.gettext("sent {sent}, failed {failed}, skipped {skipped}, pending {pending}")
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
            f"{_when(e.at, zone)} · <code>{e.user_id}</code> · {esc(e.action)} "
            f"{esc(e.target)} → {esc(e.outcome)}"
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
                action=esc(s.last_action),
            )
            for s in strangers
        ]
    return split(lines)


def editors_list(
    t: Translator, owners: Sequence[int], editors: Sequence[tuple[int, int, dt.datetime]]
) -> list[str]:
    owner_ids = ", ".join(f"<code>{o}</code>" for o in owners) or "—"
    lines = [t.gettext("<b>Owners:</b> {ids}").format(ids=owner_ids), ""]
    if not editors:
        lines.append(t.gettext("No editors yet. Add one: /editor_add &lt;user id&gt;"))
    else:
        heading = t.gettext("Editors")
        lines.append(f"<b>{esc(heading)}:</b>")
        for user_id, by, _added in editors:
            lines.append(
                t.gettext("{id} (added by {by})").format(id=f"<code>{user_id}</code>", by=by)
            )
    return split(lines)


def editor_menu(t: Translator) -> list[BotCommand]:
    """The commands editors see besides the subscribers' ones."""
    return [
        BotCommand("breaking", t.gettext("Push breaking news")),
        BotCommand("post", t.gettext("Push an article as a story")),
        BotCommand("recall", t.gettext("Delete an alert everywhere")),
        BotCommand("correct", t.gettext("Edit an alert everywhere")),
        BotCommand("broadcasts", t.gettext("Recent alerts")),
        BotCommand("audit", t.gettext("What editors did")),
        BotCommand("editors", t.gettext("Who edits")),
        BotCommand("stats", t.gettext("Audience and deliveries")),
        BotCommand("channels", t.gettext("The newsroom's channels")),
        BotCommand("sources", t.gettext("Feeds and their health")),
        BotCommand("fetch", t.gettext("Poll every feed now")),
    ]


def refusal(t: Translator, reason: str, alert_id: int = 0) -> str:
    """Why an editor's command does nothing."""
    texts = {
        "editors only": t.gettext("This command is for the newsroom's editors."),
        "owners only": t.gettext("Only the bot's owners can change who edits."),
        "private only": t.gettext("Editors' commands work only in a private chat with the bot."),
        "unknown": t.gettext("There is no alert #{id}."),
        "foreign": t.gettext(
            "Alert #{id} is another editor's: only they or an owner can change it."
        ),
        "not sent": t.gettext("Alert #{id} was never sent."),
        "too old": t.gettext(
            "Alert #{id} went out more than 48 hours ago: Telegram no longer lets bots delete "
            "or edit it."
        ),
    }
    return texts.get(reason, texts["editors only"]).format(id=alert_id)


def tap_refusal(t: Translator, reason: str) -> str:
    """A preview's button pressed when it must not act (shown as an alert on the tap)."""
    texts = {
        "not yours": t.gettext("Only the editor who made this preview can send it."),
        "not an editor": t.gettext("This is for the newsroom's editors."),
        "expired": t.gettext("This preview has expired; nothing was sent. Make a new one."),
        "cancelled": t.gettext("This preview was cancelled; nothing was sent."),
        "done": t.gettext("This was sent already; it goes out once."),
        "unknown": t.gettext("This preview no longer exists."),
    }
    return texts.get(reason, texts["unknown"])


def started(t: Translator) -> str:
    return t.gettext("Sending…")


def started_fetch(t: Translator) -> str:
    return t.gettext("Polling the feeds…")


def breaking_usage(t: Translator, sections: Sequence[Section], lang: str) -> str:
    tags = " ".join(f"#{s.slug}" for s in sections)
    return (
        t.gettext("Usage: /breaking [#section…] text [link]")
        + "\n"
        + t.gettext("Example: /breaking #world The minister has resigned https://…")
        + "\n"
        + t.gettext("Sections: {tags}. Without a section it goes to every active chat.").format(
            tags=esc(tags)
        )
    )


def post_usage(t: Translator) -> str:
    return t.gettext(
        "Usage: /post &lt;link&gt; [#section…], e.g. /post https://news.example.ua/a #world"
    )


def page_refused(t: Translator) -> str:
    return t.gettext(
        "Visnyk does not open that address: only public web pages (http or https) can be posted."
    )


def page_unreadable(t: Translator) -> str:
    return t.gettext("Could not read an article at that link; check it opens in a browser.")


def unknown_tag(t: Translator, tag: str) -> str:
    return t.gettext("There is no section #{tag}.").format(tag=esc(tag[:32]))


def recall_usage(t: Translator) -> str:
    return t.gettext(
        "Usage: /recall &lt;alert id&gt;, e.g. /recall 12. The ids are in /broadcasts."
    )


def correct_usage(t: Translator) -> str:
    return t.gettext(
        "Usage: /correct &lt;alert id&gt; &lt;new text&gt;, "
        "e.g. /correct 12 The minister has not resigned."
    )


def editor_usage(t: Translator) -> str:
    return t.gettext(
        "Usage: /editor_add &lt;user id&gt; (or send it in reply to a message forwarded from that "
        "person); /editor_remove &lt;user id&gt;."
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
            "last success {success} · failures in a row {failures} · next check {next}"
        ).format(success=success, failures=feed.failures, next=_when(feed.next_check, zone))
        name = _cut(feed.title or feed.url, 200)
        block = [f"{mark} {esc(name)}", esc(_cut(feed.url, 300)), line]
        if feed.dropped:
            block.append(
                t.ngettext(
                    "the last poll dropped {n} unusable item",
                    "the last poll dropped {n} unusable items",
                    feed.dropped,
                ).format(n=feed.dropped)
            )
        if feed.last_error:
            block.append(
                t.gettext("last error: {error}").format(error=esc(_cut(feed.last_error, 200)))
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
        "Polled {n} feed: {new} new stories, {failed} failed.",
        "Polled {n} feeds: {new} new stories, {failed} failed.",
        len(reports),
    ).format(n=len(reports), new=new, failed=len(failed))
    lines = [text] + [
        f"🔴 {esc(_cut(r.url, 300))}: {esc(_cut(r.error or '', 200))}" for r in failed
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
        "Usage: /channel_add @channel [#section…] (without sections: all of them); "
        "/channel_remove @channel. Make the bot an administrator of the channel first."
    )


def channel_problem(t: Translator, reason: str, name: str) -> str:
    texts = {
        "not found": t.gettext("There is no channel {name}, or the bot cannot see it."),
        "not a channel": t.gettext("{name} is not a channel."),
        "not admin": t.gettext(
            "The bot is not an administrator of {name} with the right to post: make it one "
            "and try again."
        ),
        "not ours": t.gettext("{name} is not one of the newsroom's channels."),
    }
    return texts[reason].format(name=esc(name[:64]))


def channel_added(t: Translator, title: str, sections: Sequence[Section], lang: str) -> str:
    names = ", ".join(esc(s.title(lang)) for s in sections)
    return t.gettext("Channel {title} now gets the stories of: {names}; and breaking news.").format(
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
