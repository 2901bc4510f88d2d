"""The newsroom's decisions and steps: who may edit, reading an editor's /breaking, previews
that only their editor can confirm, enqueuing flashes, recalls and corrections, and the live
progress reports. Handlers (bot/handlers/newsroom.py) only talk; this module does."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from telegram import Message
from telegram.error import BadRequest, TelegramError
from telegram.ext import ExtBot

from bot import sections as lookup
from bot import urls
from bot.callbacks import number
from bot.delivery import stories
from bot.delivery.engine import DELETE, EDIT
from bot.i18n import LANGUAGES
from bot.ingest import FeedReport
from bot.news.extract import PageContent, page_summary
from bot.render import MAX_TEXT, visible_length
from bot.render import newsroom as view
from bot.render.entities import Entity, python_index, to_html, utf16_offset
from bot.runtime import Runtime
from storage import chats, newsroom, outbox, subscriptions
from storage.types import (
    Article,
    AuditOutcome,
    Broadcast,
    BroadcastKind,
    BroadcastState,
    ChatStatus,
    ChatType,
    DeliveryState,
    EditorAction,
    Mode,
    Priority,
    Section,
)

log = logging.getLogger(__name__)
PREVIEW_LIFETIME = dt.timedelta(minutes=10)
DELETABLE_FOR = dt.timedelta(hours=48)  # Telegram lets bots delete their messages this long
_TAG = re.compile(r"#([\w-]+)(?:\s+|$)")
_URL = re.compile(r"(?:^|(?<=\s))(https?://\S+)$")
# /recall 12, /correct #12 text: the flash's id as the first word (ASCII digits only).
_FLASH_ID = re.compile(r"/\S+\s+#?([0-9]+)(?=\s|$)", re.ASCII)


async def is_editor(runtime: Runtime, user_id: int) -> bool:
    """Owners (from the config) and the editors they added; by numeric id only."""
    return is_owner(runtime, user_id) or await newsroom.is_editor(runtime.db, user_id)


def is_owner(runtime: Runtime, user_id: int) -> bool:
    return user_id in runtime.config.telegram.owners


@dataclass(frozen=True)
class Draft:
    """What an editor's /breaking says: the sections it targets (None: all), its text as safe
    HTML, and the link it ends with."""

    sections: tuple[Section, ...] | None
    body_html: str
    url: str | None


class BadDraft(ValueError):
    """Why a /breaking cannot become a flash: `reason` is "empty" or "tag"; `tag` names it."""

    def __init__(self, reason: str, tag: str = "") -> None:
        super().__init__(reason)
        self.reason, self.tag = reason, tag


def read_tags(text: str, sections: Sequence[Section]) -> tuple[tuple[Section, ...] | None, str]:
    """Leading `#section` tags (slug or title) and the text after them; None for no tags."""
    chosen, at = _tags(text, 0, sections)
    return chosen, text[at:].strip()


def _tags(
    text: str, at: int, sections: Sequence[Section]
) -> tuple[tuple[Section, ...] | None, int]:
    """The `#section` tags from index `at` on, and the index after them (and their spaces)."""
    chosen: list[Section] = []
    while at < len(text) and text[at].isspace():
        at += 1
    while match := _TAG.match(text, at):
        tag = match.group(1).lower()
        section = lookup.find(sections, tag)
        if section is None:
            raise BadDraft("tag", tag)
        if section not in chosen:
            chosen.append(section)
        at = match.end()
    return tuple(chosen) or None, at


def read_draft(
    text: str, entities: Sequence[Entity], sections: Sequence[Section], *, start: int = 0
) -> Draft:
    """An editor's `/breaking #world #ukraine text… https://…` from where the text starts
    (`start`: after the command, or after /correct's id): the sections, the text as HTML built
    from the message's entities (so the preview is exactly what readers get), and the link it
    ends with, if that is a link Telegram takes (else it stays in the text)."""
    chosen, begin = _tags(text, start, sections)
    end = len(text.rstrip())
    url = None
    trailing = next(
        (e for e in entities if e.type == "url" and e.offset + e.length == utf16_offset(text, end)),
        None,
    )
    if trailing is not None:
        link_at = python_index(text, trailing.offset)
    else:
        found = _URL.search(text, begin, end)
        link_at = found.start(1) if found else end
    if link_at >= begin and (url := urls.checked(text[link_at:end])) is not None:
        end = link_at
    while end > begin and text[end - 1].isspace():
        end -= 1
    if begin >= end:
        raise BadDraft("empty")
    body = to_html(text, entities, utf16_offset(text, begin), utf16_offset(text, end))
    return Draft(chosen, body, url)


def read_flash_id(text: str) -> tuple[int, int] | None:
    """`/recall 12` or `/correct #12 …`: the flash's id and the index after it; None when there
    is none, or it is no id a flash could have (`²`, 23 digits)."""
    found = _FLASH_ID.match(text)
    flash_id = number(found.group(1)) if found else None
    return None if found is None or flash_id is None else (flash_id, found.end())


def entities_of(message: Message) -> list[Entity]:
    """A message's entities as bot.render.entities reads them."""
    return [Entity(str(e.type), e.offset, e.length, e.url) for e in message.entities]


def payload(runtime: Runtime, draft: Draft) -> dict[str, list[dict[str, object]]]:
    """The flash in every language: one message each."""
    return {
        lang: [view.flash_message(runtime.catalogs.get(lang), draft.body_html, draft.url)]
        for lang in LANGUAGES
    }


def read_post(
    args: Sequence[str], sections: Sequence[Section]
) -> tuple[str, tuple[Section, ...] | None]:
    """`/post <url> [#section…]`: the URL and the sections (None: every active chat)."""
    if not args or not args[0].startswith(("http://", "https://")):
        raise BadDraft("empty")
    chosen, rest = read_tags(" ".join(args[1:]), sections)
    if rest:
        raise BadDraft("empty")  # anything but tags after the link
    return args[0], chosen


def story_payload(
    runtime: Runtime, url: str, page: PageContent, sections: Sequence[Section] | None
) -> dict[str, list[dict[str, object]]]:
    """An article fetched by /post as a story card, in every language, as story posts look."""
    now = runtime.now()
    article = Article(
        id=0, url=url, title=page.title, summary=page_summary(page) or "",
        image_url=page.image, author=None, language="uk", published=now, first_seen=now,
        sections=tuple(s.slug for s in sections or ()),
    )  # fmt: skip
    return stories.payload(runtime.catalogs, article, runtime.sections, now)


def overflow(message_payload: dict[str, list[dict[str, object]]]) -> int:
    """How many characters the longest language's message is over Telegram's limit (0: fits)."""
    longest = max(visible_length(str(m["text"])) for ms in message_payload.values() for m in ms)
    return max(0, longest - MAX_TEXT)


async def reached(runtime: Runtime, flash: Broadcast) -> int:
    """How many chats hold a sent flash (what a recall or correction would act on)."""
    return 0 if flash.item_id is None else await newsroom.reached(runtime.db, flash.item_id)


async def audience(runtime: Runtime, sections: Sequence[Section] | None) -> int:
    slugs = None if sections is None else [s.slug for s in sections]
    return len(await subscriptions.recipients(runtime.db, slugs))


class Refused(Exception):
    """A tap or a command that must not act; `reason` says which refusal to show."""

    def __init__(self, reason: AuditOutcome) -> None:
        super().__init__(reason.value)
        self.reason = reason


async def confirm(runtime: Runtime, broadcast_id: int, user_id: int, *, silent: bool) -> Broadcast:
    """The preview's editor confirmed: leave preview, enqueue its deliveries, attach them and
    write the audit entry, all in one transaction, so that a crash at any point leaves either
    the preview as it was (it can be confirmed again) or everything recorded. Raises Refused
    (not theirs, expired, already sent or cancelled, no longer an editor)."""
    now = runtime.now()
    async with runtime.db.transaction():
        broadcast = await _own_preview(runtime, broadcast_id, user_id)
        expired = now - broadcast.created > PREVIEW_LIFETIME
        if expired:
            await newsroom.leave_preview(
                runtime.db, broadcast.id, BroadcastState.CANCELLED, silent=False, now=now
            )
        else:
            started = await _enqueue(runtime, broadcast, silent=silent, now=now)
            quiet = silent and broadcast.kind is BroadcastKind.FLASH
            outcome = AuditOutcome.SENT_SILENTLY if quiet else _CONFIRMED[broadcast.kind]
            target = f"#{broadcast.of_id or broadcast.id}"
            await newsroom.audit(
                runtime.db, user_id, EditorAction.CONFIRM, target, outcome, now, started.total
            )
    if expired:
        raise Refused(AuditOutcome.EXPIRED)
    if runtime.engine is not None:
        runtime.engine.notify()
    return started


_CONFIRMED = {
    BroadcastKind.FLASH: AuditOutcome.SENT,
    BroadcastKind.RECALL: AuditOutcome.RECALL_CONFIRMED,
    BroadcastKind.CORRECT: AuditOutcome.CORRECTION_CONFIRMED,
}


async def _enqueue(
    runtime: Runtime, broadcast: Broadcast, *, silent: bool, now: dt.datetime
) -> Broadcast:
    """Inside confirm's transaction: the preview leaves preview, its outbox item and
    deliveries are written and attached. Raises Refused when another tap got there first."""
    if not await newsroom.leave_preview(
        runtime.db, broadcast.id, BroadcastState.SENDING, silent=silent, now=now
    ):
        raise Refused(AuditOutcome.ALREADY_SENT)
    if broadcast.kind is BroadcastKind.FLASH:
        item = await outbox.put_item(
            runtime.db, kind="flash", key=f"flash:{broadcast.id}", priority=Priority.BREAKING,
            payload=broadcast.payload, now=now,
        )  # fmt: skip
        slugs = None if broadcast.sections is None else list(broadcast.sections)
        reached = await subscriptions.recipients(runtime.db, slugs)
        total = await outbox.add(
            runtime.db, item, Priority.BREAKING, [(c.chat_id, silent) for c in reached], now
        )
    else:
        original = await newsroom.get(runtime.db, broadcast.of_id or 0)
        assert original is not None
        assert original.item_id is not None
        op = DELETE if broadcast.kind is BroadcastKind.RECALL else EDIT
        item = await outbox.put_item(
            runtime.db, kind=broadcast.kind.value, key=f"flash:{broadcast.id}",
            priority=Priority.BREAKING, payload={"op": op, **broadcast.payload}, now=now,
        )  # fmt: skip
        total = await newsroom.enqueue_follow_up(runtime.db, item, original.item_id, now)
    await newsroom.attach(runtime.db, broadcast.id, item, total)
    return replace(
        broadcast, state=BroadcastState.SENDING, silent=silent, started=now, item_id=item,
        total=total,
    )  # fmt: skip


async def cancel(runtime: Runtime, broadcast_id: int, user_id: int) -> Broadcast:
    """The preview's editor cancelled it: it leaves preview and the audit entry is written, in
    one transaction."""
    now = runtime.now()
    async with runtime.db.transaction():
        broadcast = await _own_preview(runtime, broadcast_id, user_id)
        if not await newsroom.leave_preview(
            runtime.db, broadcast.id, BroadcastState.CANCELLED, silent=False, now=now
        ):
            raise Refused(AuditOutcome.ALREADY_SENT)
        target = f"#{broadcast.of_id or broadcast.id}"
        await newsroom.audit(
            runtime.db, user_id, EditorAction.CANCEL, target, AuditOutcome.CANCELLED, now
        )
    return broadcast


async def _own_preview(runtime: Runtime, broadcast_id: int, user_id: int) -> Broadcast:
    broadcast = await newsroom.get(runtime.db, broadcast_id)
    if broadcast is None:
        raise Refused(AuditOutcome.UNKNOWN)
    if broadcast.editor_id != user_id:
        raise Refused(AuditOutcome.NOT_YOURS)
    if not await is_editor(runtime, user_id):
        raise Refused(AuditOutcome.NOT_EDITOR)
    if broadcast.state is BroadcastState.CANCELLED:
        raise Refused(AuditOutcome.WAS_CANCELLED)
    if broadcast.state is not BroadcastState.PREVIEW:
        raise Refused(AuditOutcome.ALREADY_SENT)
    return broadcast


async def flash_to_change(runtime: Runtime, flash_id: int, user_id: int) -> Broadcast:
    """The sent flash that a recall or correction may act on. Raises Refused: unknown,
    another editor's (owners may act on any), still in preview, or too old to delete."""
    flash = await newsroom.get(runtime.db, flash_id)
    if flash is None or flash.kind is not BroadcastKind.FLASH:
        raise Refused(AuditOutcome.UNKNOWN)
    if flash.editor_id != user_id and not is_owner(runtime, user_id):
        raise Refused(AuditOutcome.FOREIGN)
    if flash.item_id is None:
        raise Refused(AuditOutcome.NOT_SENT)
    if runtime.now() - (flash.started or flash.created) > DELETABLE_FOR:
        raise Refused(AuditOutcome.TOO_OLD)
    return flash


async def report(runtime: Runtime, bot: ExtBot[None]) -> None:
    """Edit each running flash's report with its figures; close those that are done."""
    for broadcast in await newsroom.sending(runtime.db):
        if broadcast.item_id is None:
            continue
        counts = await outbox.counts(runtime.db, broadcast.item_id)
        now = runtime.now()
        if broadcast.report_chat_id is not None and broadcast.report_message_id is not None:
            language = await language_of(runtime, broadcast.report_chat_id)
            text = view.progress(runtime.catalogs.get(language), broadcast, counts, now=now)
            try:
                await bot.edit_message_text(
                    text, chat_id=broadcast.report_chat_id,
                    message_id=broadcast.report_message_id,
                )  # fmt: skip
            except BadRequest as e:
                if "not modified" not in str(e).lower():
                    log.warning("progress report not edited broadcast=%s error=%s", broadcast.id, e)
            except TelegramError as e:
                log.warning("progress report not edited broadcast=%s error=%s", broadcast.id, e)
        if counts[DeliveryState.PENDING] == 0:
            await newsroom.finish(runtime.db, broadcast.id, now)
            log.info("flash done broadcast=%s kind=%s", broadcast.id, broadcast.kind.value)


async def language_of(runtime: Runtime, chat_id: int) -> str:
    """The language a chat chose (the default for a chat the bot has not met)."""
    chat = await chats.get(runtime.db, chat_id)
    return chat.language if chat else runtime.config.i18n.default_language


async def fetch_all(runtime: Runtime) -> list[FeedReport]:
    """Poll every feed now, due or not; post what is new to instant subscribers."""
    return await runtime.ingest(only_due=False)


async def add_channel(
    runtime: Runtime, chat_id: int, title: str, sections: Sequence[Section]
) -> None:
    """Make a channel a target of these sections' stories (posted as they come) and of
    breaking news; it keeps no other sections."""
    language = runtime.config.i18n.default_language
    await chats.ensure(runtime.db, chat_id, type=ChatType.CHANNEL, title=title, language=language)
    await subscriptions.unsubscribe_all(runtime.db, chat_id)
    for section in sections:
        await subscriptions.set_mode(runtime.db, chat_id, section.slug, Mode.INSTANT)


async def remove_channel(runtime: Runtime, chat_id: int) -> bool:
    """The channel gets nothing more; False if it was not one of ours."""
    known = await chats.get(runtime.db, chat_id)
    if known is None or known.type is not ChatType.CHANNEL or known.status is not ChatStatus.ACTIVE:
        return False
    await subscriptions.unsubscribe_all(runtime.db, chat_id)
    await chats.set_status(runtime.db, chat_id, ChatStatus.LEFT)
    return True


async def channels(runtime: Runtime) -> list[tuple[str, int, list[Section]]]:
    """(title, id, sections) of the active channels."""
    by_slug = {s.slug: s for s in runtime.sections}
    out = []
    for channel in await chats.active_of_type(runtime.db, ChatType.CHANNEL):
        followed = await subscriptions.of_chat(runtime.db, channel.id)
        out.append((channel.title, channel.id, [by_slug[s] for s in followed if s in by_slug]))
    return out
