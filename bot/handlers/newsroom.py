"""Editors' commands, in a private chat with the bot: /breaking, /recall, /correct,
/broadcasts, /audit, /editors, /editor_add, /editor_remove, and the preview buttons.

Every action and every refused attempt goes to the audit log."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from zoneinfo import ZoneInfo

from telegram import BotCommandScopeChat, ChatFullInfo, MessageOriginUser, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot import newsroom as room
from bot import render
from bot import stats as figures
from bot.callbacks import FetchTap, FlashAction, FlashTap, number
from bot.context import Context
from bot.handlers.common import (
    ADMIN_STATUSES,
    chat_and_translator,
    edit,
    reply,
    reply_all,
    tapped,
)
from bot.i18n import Translator
from bot.render import newsroom as view
from storage import feeds, newsroom, outbox, subscriptions
from storage import stats as stored_stats
from storage.types import AuditOutcome, Broadcast, BroadcastKind, EditorAction, Section

log = logging.getLogger(__name__)
MAX_USER_ID = 2**53  # Telegram's ids fit in 52 bits (its documentation); chats' with a prefix
MAX_CHAT_ID = 2**53
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


async def _gate(
    update: Update, context: Context, action: EditorAction, *, owner: bool = False
) -> tuple[Translator, str] | None:
    """The translator and language if the sender may do `action` here; else a short refusal.
    Editors' refused attempts go to the audit log, everyone else's to the strangers' tally.
    Outside a private chat everyone gets the same refusal: a group must not learn who edits."""
    chat, t = await chat_and_translator(update, context)
    user = update.effective_user
    runtime = context.runtime
    user_id = user.id if user is not None else 0
    editor = user is not None and await room.is_editor(runtime, user_id)
    if not chat.is_private:
        outcome = AuditOutcome.NOT_PRIVATE
    elif not editor:
        outcome = AuditOutcome.NOT_EDITOR
    elif owner and not room.is_owner(runtime, user_id):
        outcome = AuditOutcome.NOT_OWNER
    else:
        return t, chat.language
    await _refused(context, user_id, action, str(chat.id), outcome, editor=editor)
    await reply(update, view.refusal(t, outcome))
    return None


async def _refused(
    context: Context,
    user_id: int,
    action: EditorAction,
    target: str,
    outcome: AuditOutcome,
    *,
    editor: bool,
) -> None:
    """Record a refused attempt: an editor's in the audit log, anyone else's as a tally."""
    runtime = context.runtime
    if editor:
        log.warning("editor command refused user=%s action=%s outcome=%s", user_id, action, outcome)
        await newsroom.audit(runtime.db, user_id, action, target, outcome, runtime.now())
    else:
        log.info("stranger refused user=%s action=%s", user_id, action)
        await newsroom.stranger_tried(runtime.db, user_id, action, runtime.now())


def _user(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


async def _audit(  # noqa: PLR0917 - an audit entry's fields
    context: Context,
    update: Update,
    action: EditorAction,
    target: str,
    outcome: AuditOutcome,
    count: int | None = None,
) -> None:
    now = context.runtime.now()
    await newsroom.audit(context.db, _user(update), action, target, outcome, now, count)


def _draft_outcome(e: room.BadDraft) -> AuditOutcome:
    return AuditOutcome.UNKNOWN_SECTION if e.reason == "tag" else AuditOutcome.USAGE


async def breaking(update: Update, context: Context) -> None:
    """/breaking [#section…] text [link]: a preview, whom it reaches, and the buttons."""
    gate = await _gate(update, context, EditorAction.BREAKING)
    if gate is None:
        return
    t, lang = gate
    message = update.effective_message
    assert message is not None
    runtime = context.runtime
    text = message.text or ""
    command = text.split(maxsplit=1)[0] if text.strip() else ""
    try:
        draft = room.read_draft(
            text,
            room.entities_of(message),
            runtime.sections,
            start=text.find(command) + len(command),
        )
    except room.BadDraft as e:
        hint = view.breaking_usage(t, runtime.sections, lang)
        if e.reason == "tag":
            hint = view.unknown_tag(t, e.tag) + "\n\n" + hint
        await _audit(context, update, EditorAction.BREAKING, e.tag, _draft_outcome(e))
        await reply(update, hint)
        return
    await _preview(
        update, context, gate, BroadcastKind.FLASH, room.payload(runtime, draft),
        sections=draft.sections, action=EditorAction.BREAKING,
    )  # fmt: skip


async def post(update: Update, context: Context) -> None:
    """/post <url> [#section…]: the article as a story card, with the same preview."""
    gate = await _gate(update, context, EditorAction.POST)
    if gate is None:
        return
    t, _ = gate
    runtime = context.runtime
    try:
        url, sections = room.read_post(context.args or [], runtime.sections)
    except room.BadDraft as e:
        hint = view.post_usage(t)
        if e.reason == "tag":
            hint = view.unknown_tag(t, e.tag) + "\n\n" + hint
        await _audit(context, update, EditorAction.POST, e.tag, _draft_outcome(e))
        await reply(update, hint)
        return
    read = await runtime.ingester.read_page(url)
    page = read.content
    if read.refusal is not None:  # loopback, a private network, not http(s): never fetched
        await _audit(context, update, EditorAction.POST, url, AuditOutcome.ADDRESS_REFUSED)
        await reply(update, view.page_refused(t))
        return
    if page is None or not page.title:
        await _audit(context, update, EditorAction.POST, url, AuditOutcome.PAGE_UNREADABLE)
        await reply(update, view.page_unreadable(t))
        return
    payload = room.story_payload(runtime, url, page, sections)
    await _preview(
        update, context, gate, BroadcastKind.FLASH, payload, sections=sections,
        action=EditorAction.POST,
    )  # fmt: skip


async def _preview(
    update: Update, context: Context, gate: tuple[Translator, str], kind: BroadcastKind,
    payload: dict[str, list[dict[str, object]]], *, action: EditorAction,
    sections: tuple[Section, ...] | None = None, flash: Broadcast | None = None,
) -> None:  # fmt: skip
    """Show the message as its readers will see it, whom it reaches, and the buttons."""
    t, lang = gate
    runtime = context.runtime
    of = flash.id if flash is not None else None
    over = room.overflow(payload)
    if over:
        target = f"#{of}" if of else ""
        await _audit(context, update, action, target, AuditOutcome.TOO_LONG, over)
        await reply(update, view.too_long(t, over))
        return
    if flash is None:
        count = await room.audience(runtime, sections)
    else:
        count = await room.reached(runtime, flash)
    broadcast = await newsroom.create(
        runtime.db, kind=kind, editor_id=_user(update), payload=payload,
        sections=None if sections is None else [s.slug for s in sections],
        of_id=of, total=count, now=runtime.now(),
    )  # fmt: skip
    message = update.effective_message
    assert message is not None
    await message.reply_text(**payload[lang][0])  # type: ignore[arg-type]
    if kind is BroadcastKind.FLASH:
        aim = view.targets(t, sections, lang)
        text, markup = view.preview_controls(
            t, broadcast.id, count, aim, minutes=int(room.PREVIEW_LIFETIME.total_seconds() // 60)
        )
    else:
        text, markup = view.follow_up_controls(t, broadcast, count)
    controls = await message.reply_text(text, reply_markup=markup)
    await newsroom.set_report(runtime.db, broadcast.id, controls.chat_id, controls.message_id)
    tags = " ".join(f"#{slug}" for slug in broadcast.sections or ())
    target = f"#{of}" if of else f"#{broadcast.id} {tags}".strip()
    await _audit(context, update, action, target, AuditOutcome.PREVIEW, count)


async def recall(update: Update, context: Context) -> None:
    """/recall <id>: delete a flash in every chat it reached, after a confirmation."""
    gate = await _gate(update, context, EditorAction.RECALL)
    if gate is None:
        return
    await _follow_up(update, context, gate, BroadcastKind.RECALL)


async def correct(update: Update, context: Context) -> None:
    """/correct <id> <new text>: edit a flash in every chat it reached, after a confirmation."""
    gate = await _gate(update, context, EditorAction.CORRECT)
    if gate is None:
        return
    await _follow_up(update, context, gate, BroadcastKind.CORRECT)


async def _follow_up(
    update: Update, context: Context, gate: tuple[Translator, str], kind: BroadcastKind
) -> None:
    t, _lang = gate
    message = update.effective_message
    assert message is not None
    text = message.text or ""
    found = room.read_flash_id(text)
    recall = kind is BroadcastKind.RECALL
    usage = view.recall_usage(t) if recall else view.correct_usage(t)
    action = EditorAction.RECALL if recall else EditorAction.CORRECT
    if found is None:
        await _audit(context, update, action, "", AuditOutcome.USAGE)
        await reply(update, usage)
        return
    flash_id, after = found
    try:
        flash = await room.flash_to_change(context.runtime, flash_id, _user(update))
    except room.Refused as e:
        await _audit(context, update, action, f"#{flash_id}", e.reason)
        await reply(update, view.refusal(t, e.reason, flash_id))
        return
    if kind is BroadcastKind.RECALL:
        await _ask_recall(update, context, t, flash)
        return
    try:
        draft = room.read_draft(text, room.entities_of(message), [], start=after)
    except room.BadDraft:
        await _audit(context, update, action, f"#{flash_id}", AuditOutcome.USAGE)
        await reply(update, usage)
        return
    payload = room.payload(context.runtime, draft)
    await _preview(update, context, gate, kind, payload, flash=flash, action=action)


async def _ask_recall(update: Update, context: Context, t: Translator, flash: Broadcast) -> None:
    runtime = context.runtime
    flash_id = flash.id
    count = await room.reached(runtime, flash)
    broadcast = await newsroom.create(
        runtime.db, kind=BroadcastKind.RECALL, editor_id=_user(update), payload={},
        sections=None, of_id=flash_id, total=count, now=runtime.now(),
    )  # fmt: skip
    text, markup = view.follow_up_controls(t, broadcast, count)
    message = update.effective_message
    assert message is not None
    controls = await message.reply_text(text, reply_markup=markup)
    await newsroom.set_report(runtime.db, broadcast.id, controls.chat_id, controls.message_id)
    target = f"#{flash_id}"
    await _audit(context, update, EditorAction.RECALL, target, AuditOutcome.PREVIEW, count)


async def tap(update: Update, context: Context) -> None:
    """A preview's button: send, send silently, or cancel; only for the preview's editor."""
    query, button = tapped(update, FlashTap)
    broadcast_id, action = button.broadcast_id, button.action
    _chat, t = await chat_and_translator(update, context)
    runtime = context.runtime
    user_id = query.from_user.id
    name = EditorAction.CANCEL if action is FlashAction.CANCEL else EditorAction.CONFIRM
    target = f"#{broadcast_id}"
    if not await room.is_editor(runtime, user_id):  # a forged or stolen button: it says nothing
        await _refused(context, user_id, name, "", AuditOutcome.NOT_EDITOR, editor=False)
        await query.answer(render.stale_button(t), show_alert=True)
        return
    try:
        if action is FlashAction.CANCEL:
            broadcast = await room.cancel(runtime, broadcast_id, user_id)
        else:
            broadcast = await room.confirm(
                runtime, broadcast_id, user_id, silent=action is FlashAction.QUIET
            )
    except room.Refused as e:
        await newsroom.audit(context.db, user_id, name, target, e.reason, runtime.now())
        await query.answer(view.tap_refusal(t, e.reason), show_alert=True)
        log.warning(
            "flash tap refused user=%s broadcast=%s reason=%s", user_id, broadcast_id, e.reason
        )
        return
    if action is FlashAction.CANCEL:  # the service wrote the audit entry with the change
        await query.answer()
        await edit(query, view.cancelled(t, broadcast_id))
        return
    await query.answer(view.started(t, broadcast.kind))
    assert broadcast.item_id is not None
    counts = await outbox.counts(context.db, broadcast.item_id)
    await edit(query, view.progress(t, broadcast, counts, now=runtime.now()))


async def broadcasts(update: Update, context: Context) -> None:
    """/broadcasts: the recent flashes with their delivery figures."""
    gate = await _gate(update, context, EditorAction.BROADCASTS)
    if gate is None:
        return
    t, lang = gate
    runtime = context.runtime
    items = []
    for b in await newsroom.recent(runtime.db, BroadcastKind.FLASH):
        assert b.item_id is not None
        items.append((b, await outbox.counts(runtime.db, b.item_id)))
    zone = ZoneInfo(runtime.config.digest.timezone)
    await reply_all(update, view.broadcasts_list(t, items, zone, runtime.sections, lang))


async def audit(update: Update, context: Context) -> None:
    """/audit: the last 20 entries of the audit log."""
    gate = await _gate(update, context, EditorAction.AUDIT)
    if gate is None:
        return
    t, _ = gate
    runtime = context.runtime
    entries = await newsroom.audit_log(context.db, 20)
    week_ago = runtime.now() - dt.timedelta(days=7)
    strangers, people, attempts = await newsroom.strangers(context.db, week_ago)
    zone = ZoneInfo(runtime.config.digest.timezone)
    await reply_all(
        update, view.audit_list(t, entries, zone, strangers, people=people, attempts=attempts)
    )


async def editors(update: Update, context: Context) -> None:
    gate = await _gate(update, context, EditorAction.EDITORS)
    if gate is None:
        return
    t, _ = gate
    listed = await newsroom.editors(context.db)
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


async def editor_add(update: Update, context: Context) -> None:
    """/editor_add <user id> (or in reply to a message forwarded from that person): owners only."""
    found = await _editor_target(update, context, EditorAction.EDITOR_ADD)
    if found is None:
        return
    t, user_id = found
    added = await newsroom.add_editor(context.db, user_id, _user(update), context.runtime.now())
    outcome = AuditOutcome.ADDED if added else AuditOutcome.ALREADY
    await _audit(context, update, EditorAction.EDITOR_ADD, str(user_id), outcome)
    await set_editor_menu(context, user_id, editor=True)
    await reply(update, view.editor_added(t, user_id, added=added))


async def editor_remove(update: Update, context: Context) -> None:
    """/editor_remove <user id>: owners only."""
    found = await _editor_target(update, context, EditorAction.EDITOR_REMOVE)
    if found is None:
        return
    t, user_id = found
    removed = await newsroom.remove_editor(context.db, user_id)
    outcome = AuditOutcome.REMOVED if removed else AuditOutcome.ABSENT
    await _audit(context, update, EditorAction.EDITOR_REMOVE, str(user_id), outcome)
    if not room.is_owner(context.runtime, user_id):
        await set_editor_menu(context, user_id, editor=False)
    await reply(update, view.editor_removed(t, user_id, removed=removed))


async def _editor_target(
    update: Update, context: Context, action: EditorAction
) -> tuple[Translator, int] | None:
    """For an owner's /editor_add or /editor_remove: the translator and the user it names."""
    gate = await _gate(update, context, action, owner=True)
    if gate is None:
        return None
    t, _ = gate
    user_id = _target_user(update, context)
    if user_id is None:
        await _audit(context, update, action, "", AuditOutcome.USAGE)
        await reply(update, view.editor_usage(t))
        return None
    return t, user_id


async def stats(update: Update, context: Context) -> None:
    """/stats: the audience, sections, the last day's deliveries, and a chart of 30 days."""
    gate = await _gate(update, context, EditorAction.STATS)
    if gate is None:
        return
    t, lang = gate
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


async def channel_add(update: Update, context: Context) -> None:
    """/channel_add @channel [#section…]: the channel gets those sections' stories (all
    sections without tags) and breaking news; the bot must be its administrator."""
    gate = await _gate(update, context, EditorAction.CHANNEL_ADD)
    if gate is None:
        return
    t, lang = gate
    runtime = context.runtime
    args = context.args or []
    if not args:
        await _audit(context, update, EditorAction.CHANNEL_ADD, "", AuditOutcome.USAGE)
        await reply(update, view.channel_usage(t))
        return
    try:
        sections, rest = room.read_tags(" ".join(args[1:]), runtime.sections)
    except room.BadDraft as e:
        target = f"{args[0]} #{e.tag}"
        await _audit(
            context, update, EditorAction.CHANNEL_ADD, target, AuditOutcome.UNKNOWN_SECTION
        )
        await reply(update, view.unknown_tag(t, e.tag) + "\n\n" + view.channel_usage(t))
        return
    channel = await _channel(context, args[0])
    problem = None if isinstance(channel, ChatFullInfo) else channel
    if problem is None and rest:
        problem = AuditOutcome.USAGE
    if problem is None:
        assert isinstance(channel, ChatFullInfo)
        chosen = list(sections or runtime.sections)
        await room.add_channel(runtime, channel.id, channel.title or args[0], chosen)
        target = f"{args[0]} ({channel.id})"
        await _audit(context, update, EditorAction.CHANNEL_ADD, target, AuditOutcome.ADDED)
        await reply(update, view.channel_added(t, channel.title or args[0], chosen, lang))
        return
    await _audit(context, update, EditorAction.CHANNEL_ADD, args[0], problem)
    text = (
        view.channel_usage(t)
        if problem is AuditOutcome.USAGE
        else view.channel_problem(t, problem, args[0])
    )
    await reply(update, text)


async def _channel(context: Context, name: str) -> ChatFullInfo | AuditOutcome:
    """The channel `name` (@username or id) where the bot may post, or what is wrong."""
    chat_id = number(name, MAX_CHAT_ID, signed=True)
    if chat_id is None and not _USERNAME.fullmatch(name):
        return AuditOutcome.CHANNEL_NOT_FOUND  # neither an id nor a @username: Telegram unasked
    try:
        chat = await context.bot.get_chat(chat_id if chat_id is not None else name)
    except TelegramError:
        return AuditOutcome.CHANNEL_NOT_FOUND
    if chat.type != ChatType.CHANNEL:
        return AuditOutcome.NOT_A_CHANNEL
    try:
        member = await context.bot.get_chat_member(chat.id, context.bot.id)
    except TelegramError:
        return AuditOutcome.NOT_ADMIN
    can_post = getattr(member, "can_post_messages", None)
    if member.status not in ADMIN_STATUSES or can_post is False:
        return AuditOutcome.NOT_ADMIN
    return chat


async def channel_remove(update: Update, context: Context) -> None:
    """/channel_remove @channel: it gets nothing more from the newsroom."""
    gate = await _gate(update, context, EditorAction.CHANNEL_REMOVE)
    if gate is None:
        return
    t, _ = gate
    args = context.args or []
    if not args:
        await _audit(context, update, EditorAction.CHANNEL_REMOVE, "", AuditOutcome.USAGE)
        await reply(update, view.channel_usage(t))
        return
    channel = await _channel(context, args[0])
    removed = isinstance(channel, ChatFullInfo) and await room.remove_channel(
        context.runtime, channel.id
    )
    if not removed:
        outcome = AuditOutcome.NOT_OURS
        await _audit(context, update, EditorAction.CHANNEL_REMOVE, args[0], outcome)
        await reply(update, view.channel_problem(t, outcome, args[0]))
        return
    assert isinstance(channel, ChatFullInfo)
    target = f"{args[0]} ({channel.id})"
    await _audit(context, update, EditorAction.CHANNEL_REMOVE, target, AuditOutcome.REMOVED)
    await reply(update, view.channel_removed(t, channel.title or args[0]))


async def channels(update: Update, context: Context) -> None:
    """/channels: the newsroom's channels and their sections."""
    gate = await _gate(update, context, EditorAction.CHANNELS)
    if gate is None:
        return
    t, lang = gate
    listed = await room.channels(context.runtime)
    await reply_all(update, view.channels_list(t, listed, lang))


async def sources(update: Update, context: Context) -> None:
    """/sources: each feed's health, with a "Fetch now" button."""
    gate = await _gate(update, context, EditorAction.SOURCES)
    if gate is None:
        return
    t, _ = gate
    runtime = context.runtime
    texts, markup = view.sources_view(
        t, await feeds.listed(runtime.db), ZoneInfo(runtime.config.ingest.timezone)
    )
    await reply_all(update, texts, markup)


async def fetch(update: Update, context: Context) -> None:
    """/fetch: poll every feed now and say what came in."""
    gate = await _gate(update, context, EditorAction.FETCH)
    if gate is None:
        return
    t, _ = gate
    reports = await room.fetch_all(context.runtime)
    fresh = sum(r.new for r in reports)
    await _audit(context, update, EditorAction.FETCH, "", AuditOutcome.FETCHED, fresh)
    await reply_all(update, view.fetched(t, reports))


async def fetch_tap(update: Update, context: Context) -> None:
    """The "Fetch now" button under /sources (editors only, like the command): what came in,
    then the feeds' health again, in new messages (either can be long)."""
    query, _ = tapped(update, FetchTap)
    _chat, t = await chat_and_translator(update, context)
    runtime = context.runtime
    user_id = query.from_user.id
    if not await room.is_editor(runtime, user_id):
        await _refused(
            context, user_id, EditorAction.FETCH, "", AuditOutcome.NOT_EDITOR, editor=False
        )
        await query.answer(render.stale_button(t), show_alert=True)
        return
    await query.answer(view.started_fetch(t))
    reports = await room.fetch_all(runtime)
    fresh = sum(r.new for r in reports)
    await _audit(context, update, EditorAction.FETCH, "", AuditOutcome.FETCHED, fresh)
    await reply_all(update, view.fetched(t, reports))
    texts, markup = view.sources_view(
        t, await feeds.listed(runtime.db), ZoneInfo(runtime.config.ingest.timezone)
    )
    await reply_all(update, texts, markup)


async def set_editor_menu(context: Context, user_id: int, *, editor: bool) -> None:
    """Editors see their commands in their private chat's menu; others see the subscribers'."""
    runtime = context.runtime
    scope = BotCommandScopeChat(user_id)
    try:
        if editor:
            language = await room.language_of(runtime, user_id)
            t = runtime.catalogs.get(language)
            menu = render.command_menu(t) + view.editor_menu(t)
            await context.bot.set_my_commands(menu, scope=scope)
        else:
            await context.bot.delete_my_commands(scope=scope)
    except TelegramError as e:  # e.g. the user never opened the bot: no chat yet
        log.info("editor menu not set user=%s error=%s", user_id, e)
