"""The newsroom's channels: /channel_add, /channel_remove, /channels."""

from __future__ import annotations

import logging
import re

from telegram import ChatFullInfo, Update
from telegram.constants import ChatType
from telegram.error import TelegramError

from bot.callbacks import number
from bot.context import Context
from bot.handlers import gate
from bot.handlers.common import ADMIN_STATUSES, reply, reply_all
from bot.newsroom import channels, drafts
from bot.render import channels as view
from bot.render import flashes as flashes_view
from storage.codes import AuditOutcome, ChannelProblem, EditorAction

log = logging.getLogger(__name__)

MAX_CHAT_ID = 2**53  # a channel's id: -100 and Telegram's 52-bit id
_USERNAME = re.compile(r"@[A-Za-z][A-Za-z0-9_]{3,31}")


@gate.editors_only(EditorAction.CHANNEL_ADD)
async def channel_add(update: Update, context: Context, editor: gate.Editor) -> None:
    """/channel_add @channel [#section…]: the channel gets those sections' stories (all
    sections without tags) and breaking news; the bot must be its administrator."""
    t, lang = editor.t, editor.lang
    runtime = context.runtime
    args = context.args or []
    if not args:
        await gate.audit(context, editor, EditorAction.CHANNEL_ADD, "", AuditOutcome.USAGE)
        await reply(update, view.channel_usage(t))
        return
    try:
        sections, rest = drafts.read_tags(" ".join(args[1:]), runtime.sections)
    except drafts.BadDraft as e:
        target = f"{args[0]} #{e.tag}"
        await gate.audit(
            context, editor, EditorAction.CHANNEL_ADD, target, AuditOutcome.UNKNOWN_SECTION
        )
        await reply(update, flashes_view.unknown_tag(t, e.tag) + "\n\n" + view.channel_usage(t))
        return
    if rest:  # anything but tags after the channel
        await gate.audit(context, editor, EditorAction.CHANNEL_ADD, args[0], AuditOutcome.USAGE)
        await reply(update, view.channel_usage(t))
        return
    channel = await _channel(context, args[0])
    if not isinstance(channel, ChatFullInfo):
        await gate.audit(context, editor, EditorAction.CHANNEL_ADD, args[0], channel)
        await reply(update, view.channel_problem(t, channel, args[0]))
        return
    chosen = list(sections or runtime.sections)
    title = channel.title or args[0]
    await channels.add_channel(
        context.desk, channel.id, title, chosen, by=editor.user_id, name=args[0]
    )
    await reply(update, view.channel_added(t, title, chosen, lang))


async def _channel(context: Context, name: str) -> ChatFullInfo | ChannelProblem:
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


@gate.editors_only(EditorAction.CHANNEL_REMOVE)
async def channel_remove(update: Update, context: Context, editor: gate.Editor) -> None:
    """/channel_remove @channel: it gets nothing more from the newsroom."""
    t = editor.t
    args = context.args or []
    if not args:
        await gate.audit(context, editor, EditorAction.CHANNEL_REMOVE, "", AuditOutcome.USAGE)
        await reply(update, view.channel_usage(t))
        return
    channel = await _channel(context, args[0])
    if isinstance(channel, ChatFullInfo):
        removed = await channels.remove_channel(
            context.desk, channel.id, by=editor.user_id, name=args[0]
        )
    else:
        removed = False
        outcome = AuditOutcome.NOT_OURS
        await gate.audit(context, editor, EditorAction.CHANNEL_REMOVE, args[0], outcome)
    if not removed:
        await reply(update, view.channel_problem(t, AuditOutcome.NOT_OURS, args[0]))
        return
    assert isinstance(channel, ChatFullInfo)
    await reply(update, view.channel_removed(t, channel.title or args[0]))


@gate.editors_only(EditorAction.CHANNELS)
async def listed(update: Update, context: Context, editor: gate.Editor) -> None:
    """/channels: the newsroom's channels and their sections."""
    t, lang = editor.t, editor.lang
    found = await channels.channels(context.desk)
    await reply_all(update, view.channels_list(t, found, lang))
