"""Flashes: an editor's breaking news (and /post's story) as a preview only its editor can
confirm, enqueued in one transaction (to a large audience: the first chunk of it, the rest
after, resumable); recalls and corrections of a sent flash the same way; the live progress
reports."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import replace

from telegram import ReplyParameters
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ExtBot

from bot.delivery import stories
from bot.i18n import LANGUAGES
from bot.metrics import Metrics
from bot.news.extract import PageContent, page_summary
from bot.newsroom import ChangeRefused, Desk, PreviewRefused, budget
from bot.newsroom.budget import Estimate
from bot.newsroom.drafts import Draft
from bot.newsroom.rights import is_editor, is_owner, language_of
from bot.render import flashes as view
from storage import broadcasts as stored_broadcasts
from storage import editors as stored_editors
from storage import outbox, subscriptions
from storage.codes import AuditOutcome, EditorAction
from storage.types import (
    Article,
    Broadcast,
    BroadcastKind,
    BroadcastState,
    DeliveryState,
    Operation,
    Payload,
    Priority,
    Section,
)

log = logging.getLogger(__name__)


PREVIEW_LIFETIME = dt.timedelta(minutes=10)


DELETABLE_FOR = dt.timedelta(hours=48)  # Telegram lets bots delete their messages this long
# A flash's deliveries are written a chunk at a time: the first with the confirmation (~10 s of
# sending at the paid 1000/s, so that the engine starts at once), the rest in the background
# (enqueue_rest), each chunk with how far it reached, so a restart goes on from there.
FIRST_CHUNK = 10_000
CHUNK = 10_000  # ~50 ms of the write lock a chunk at a million readers
# Counting a flash's deliveries costs ~25 ms of CPU per 100,000 (a million: a quarter of a
# second): the report of a large flash is counted and edited every LARGE_EVERY seconds (in the
# first PROGRESS_TICK of each), not at each tick of the progress job.
LARGE = 100_000
LARGE_EVERY = 15.0
PROGRESS_TICK = 3.0  # how often the progress job runs (bot.app)


def payload(desk: Desk, draft: Draft) -> Payload:
    """The flash in every language: one message each."""
    return Payload(
        {
            lang: (view.flash_message(desk.catalogs.get(lang), draft.body_html, draft.url),)
            for lang in LANGUAGES
        }
    )


def story_payload(
    desk: Desk, url: str, page: PageContent, sections: Sequence[Section] | None
) -> Payload:
    """An article fetched by /post as a story card, in every language, as story posts look."""
    now = desk.now()
    article = Article(
        id=0,
        url=url,
        title=page.title,
        summary=page_summary(page) or "",
        image_url=page.image,
        author=None,
        language="uk",
        published=now,
        first_seen=now,
        sections=tuple(s.slug for s in sections or ()),
    )
    return stories.payload(desk.catalogs, article, desk.sections, now)


async def open_preview(
    desk: Desk,
    editor_id: int,
    kind: BroadcastKind,
    payload: Payload,
    *,
    action: EditorAction,
    sections: Sequence[Section] | None,
    flash: Broadcast | None,
    target: str,
) -> tuple[Broadcast, int]:
    """A new preview (of a flash, or of a recall or correction of `flash`) and how many
    chats it would reach; it and its audit entry in one transaction."""
    now = desk.now()
    async with desk.db.transaction():
        count = await (audience(desk, sections) if flash is None else reached(desk, flash))
        broadcast = await stored_broadcasts.create(
            desk.db,
            kind=kind,
            editor_id=editor_id,
            payload=payload,
            sections=None if sections is None else [s.slug for s in sections],
            of_id=None if flash is None else flash.id,
            total=count,
            now=now,
        )
        shown = target if flash is not None else f"#{broadcast.id} {target}".strip()
        await stored_editors.audit(
            desk.db, editor_id, action, shown, AuditOutcome.PREVIEW, now, count
        )
    return broadcast, count


def cost(desk: Desk, payload: Payload, count: int) -> Estimate:
    """What sending `payload` to `count` chats takes: free, and paid where it is on."""
    messages = len(payload.messages(desk.default_language))
    return budget.estimate(desk.rates, count, messages)


async def reached(desk: Desk, flash: Broadcast) -> int:
    """How many chats hold a sent flash (what a recall or correction would act on)."""
    return 0 if flash.item_id is None else await stored_broadcasts.reached(desk.db, flash.item_id)


async def audience(desk: Desk, sections: Sequence[Section] | None) -> int:
    slugs = None if sections is None else [s.slug for s in sections]
    return await subscriptions.audience_size(desk.db, slugs)


async def confirm(
    desk: Desk,
    broadcast_id: int,
    user_id: int,
    *,
    silent: bool,
    paid: bool = False,
    report: tuple[int, int] | None = None,
    metrics: Metrics | None = None,
) -> Broadcast:
    """The preview's editor confirmed: leave preview, enqueue its deliveries, attach them, note
    where its progress report is (`report`: the tapped message's chat and id) and write the
    audit entry, all in one transaction, so that a crash at any point leaves either the preview
    as it was (it can be confirmed again) or everything recorded (for a large audience, the
    first chunk of deliveries and where the rest start: a restart writes them, and the engine
    is woken as soon as the first are committed). `paid`: a flash goes with
    allow_paid_broadcast (where paid broadcasts are on; a recall or correction never does);
    `metrics` counts it, once committed, among the alerts sent. Raises PreviewRefused (not
    theirs, expired, already sent or cancelled, no longer an editor)."""
    now = desk.now()
    async with desk.db.transaction():
        broadcast = await _own_preview(desk, broadcast_id, user_id)
        if report is not None:  # the message tapped is the report, whatever was stored
            await stored_broadcasts.set_report(desk.db, broadcast.id, *report)
            broadcast = replace(broadcast, report_chat_id=report[0], report_message_id=report[1])
        expired = now - broadcast.created > PREVIEW_LIFETIME
        if expired:
            await stored_broadcasts.leave_preview(
                desk.db, broadcast.id, BroadcastState.CANCELLED, silent=False, now=now
            )
        else:
            flash = broadcast.kind is BroadcastKind.FLASH
            paid = paid and flash and desk.rates.paid_per_second is not None
            started = await _enqueue(desk, broadcast, silent=silent, paid=paid, now=now)
            quiet = silent and flash
            outcome = AuditOutcome.SENT_SILENTLY if quiet else _CONFIRMED[broadcast.kind]
            if paid:
                outcome = AuditOutcome.SENT_PAID_SILENTLY if quiet else AuditOutcome.SENT_PAID
            target = f"#{broadcast.of_id or broadcast.id}"
            await stored_editors.audit(
                desk.db, user_id, EditorAction.CONFIRM, target, outcome, now, started.total
            )
    if expired:
        raise PreviewRefused(AuditOutcome.EXPIRED)
    if metrics is not None:
        metrics.alert_sent(started.kind)
    log.info(
        "broadcast started broadcast=%s kind=%s chats=%d paid=%s",
        started.id,
        started.kind.value,
        started.total,
        paid,
    )
    desk.notify()
    return started


_CONFIRMED = {
    BroadcastKind.FLASH: AuditOutcome.SENT,
    BroadcastKind.RECALL: AuditOutcome.RECALL_CONFIRMED,
    BroadcastKind.CORRECT: AuditOutcome.CORRECTION_CONFIRMED,
}


async def _enqueue(
    desk: Desk, broadcast: Broadcast, *, silent: bool, paid: bool, now: dt.datetime
) -> Broadcast:
    """Inside confirm's transaction: the preview leaves preview, its outbox item and
    deliveries are written and attached; to more than FIRST_CHUNK chats, the first of them and
    how far they reach (enqueue_rest writes the rest). Raises PreviewRefused when another tap
    got there first."""
    if not await stored_broadcasts.leave_preview(
        desk.db, broadcast.id, BroadcastState.SENDING, silent=silent, paid=paid, now=now
    ):
        raise PreviewRefused(AuditOutcome.ALREADY_SENT)
    rest: int | None = None  # the chat id the deliveries are written up to, while not all are
    if broadcast.kind is BroadcastKind.FLASH:
        item = await outbox.put_item(
            desk.db,
            kind="flash",
            key=f"flash:{broadcast.id}",
            priority=Priority.BREAKING,
            payload=broadcast.payload,
            now=now,
            paid=paid,
        )
        slugs = None if broadcast.sections is None else list(broadcast.sections)
        first = await subscriptions.recipients_after(desk.db, slugs, None, FIRST_CHUNK)
        total = await outbox.add(
            desk.db, item, Priority.BREAKING, [(chat_id, silent) for chat_id in first], now
        )
        if len(first) == FIRST_CHUNK:  # more to write: the preview's count until they all are
            rest, total = first[-1], broadcast.total
    else:
        original = await stored_broadcasts.get(desk.db, broadcast.of_id or 0)
        assert original is not None
        assert original.item_id is not None
        op = Operation.DELETE if broadcast.kind is BroadcastKind.RECALL else Operation.EDIT
        item = await outbox.put_item(
            desk.db,
            kind=broadcast.kind.value,
            key=f"flash:{broadcast.id}",
            priority=Priority.BREAKING,
            payload=replace(broadcast.payload, op=op),
            now=now,
        )
        total = await stored_broadcasts.enqueue_follow_up(desk.db, item, original.item_id, now)
    await stored_broadcasts.attach(desk.db, broadcast.id, item, total, enqueued_to=rest)
    return replace(
        broadcast,
        state=BroadcastState.SENDING,
        silent=silent,
        paid=paid,
        started=now,
        item_id=item,
        total=total,
    )


async def enqueue_rest(desk: Desk) -> int:
    """Write the rest of the deliveries of flashes whose confirmation wrote the first chunk (or
    that a restart found half-written), a chunk at a time: each chunk and how far it reached in
    one short transaction, the engine woken after each. Run in the background (jobs.progress);
    safe to run twice: a delivery written again is ignored. Returns how many it wrote."""
    added = 0
    for broadcast, after in await stored_broadcasts.enqueuing(desk.db):
        assert broadcast.item_id is not None
        slugs = None if broadcast.sections is None else list(broadcast.sections)
        reached: int | None = after
        while reached is not None:
            ids = await subscriptions.recipients_after(desk.db, slugs, reached, CHUNK)
            reached = ids[-1] if len(ids) == CHUNK else None
            async with desk.db.transaction():
                added += await outbox.add(
                    desk.db,
                    broadcast.item_id,
                    Priority.BREAKING,
                    [(chat_id, broadcast.silent) for chat_id in ids],
                    desk.now(),
                )
                await stored_broadcasts.enqueued_to(desk.db, broadcast.id, reached)
            desk.notify()
        log.debug("flash enqueued broadcast=%s", broadcast.id)
    return added


async def cancel(desk: Desk, broadcast_id: int, user_id: int) -> Broadcast:
    """The preview's editor cancelled it: it leaves preview and the audit entry is written, in
    one transaction."""
    now = desk.now()
    async with desk.db.transaction():
        broadcast = await _own_preview(desk, broadcast_id, user_id)
        if not await stored_broadcasts.leave_preview(
            desk.db, broadcast.id, BroadcastState.CANCELLED, silent=False, now=now
        ):
            raise PreviewRefused(AuditOutcome.ALREADY_SENT)
        target = f"#{broadcast.of_id or broadcast.id}"
        await stored_editors.audit(
            desk.db, user_id, EditorAction.CANCEL, target, AuditOutcome.CANCELLED, now
        )
    return broadcast


async def _own_preview(desk: Desk, broadcast_id: int, user_id: int) -> Broadcast:
    broadcast = await stored_broadcasts.get(desk.db, broadcast_id)
    if broadcast is None:
        raise PreviewRefused(AuditOutcome.UNKNOWN)
    if broadcast.editor_id != user_id:
        raise PreviewRefused(AuditOutcome.NOT_YOURS)
    if not await is_editor(desk, user_id):
        raise PreviewRefused(AuditOutcome.NOT_EDITOR)
    if broadcast.state is BroadcastState.CANCELLED:
        raise PreviewRefused(AuditOutcome.WAS_CANCELLED)
    if broadcast.state is not BroadcastState.PREVIEW:
        raise PreviewRefused(AuditOutcome.ALREADY_SENT)
    return broadcast


async def flash_to_change(desk: Desk, flash_id: int, user_id: int) -> Broadcast:
    """The sent flash that a recall or correction may act on. Raises ChangeRefused: unknown,
    another editor's (owners may act on any), still in preview, or too old to delete."""
    flash = await stored_broadcasts.get(desk.db, flash_id)
    if flash is None or flash.kind is not BroadcastKind.FLASH:
        raise ChangeRefused(AuditOutcome.UNKNOWN)
    if flash.editor_id != user_id and not is_owner(desk, user_id):
        raise ChangeRefused(AuditOutcome.FOREIGN)
    if flash.state in (BroadcastState.PREVIEW, BroadcastState.CANCELLED):
        raise ChangeRefused(AuditOutcome.NOT_SENT)
    sent = flash.started or flash.created
    if desk.now() - sent > DELETABLE_FOR or flash.item_id is None:  # (its deliveries pruned)
        raise ChangeRefused(AuditOutcome.TOO_OLD)
    return flash


async def report(desk: Desk, bot: ExtBot[None]) -> None:
    """Edit each running flash's report with its figures; close those that are done. An
    editor whose paid flash Telegram refused to charge for is told, once."""
    for refused in await stored_broadcasts.untold_refusals(desk.db):
        await _tell_refusal(desk, bot, refused)
    writing = {b.id for b, _ in await stored_broadcasts.enqueuing(desk.db)}
    for broadcast in await stored_broadcasts.sending(desk.db):
        now = desk.now()
        if broadcast.item_id is None or not _report_due(broadcast, now):
            continue
        counts = await outbox.counts(desk.db, broadcast.item_id)
        shown = _unwritten_pending(broadcast, counts) if broadcast.id in writing else counts
        if broadcast.report_chat_id is not None and broadcast.report_message_id is not None:
            language = await language_of(desk, broadcast.report_chat_id)
            text = view.progress(desk.catalogs.get(language), broadcast, shown, now=now)
            try:
                await bot.edit_message_text(
                    text, chat_id=broadcast.report_chat_id, message_id=broadcast.report_message_id
                )
            except BadRequest as e:
                if "not modified" not in str(e).lower():
                    log.warning("progress report not edited broadcast=%s error=%s", broadcast.id, e)
            except NetworkError as e:  # Telegram out of reach: bot.reach says so, once
                log.debug("progress report not edited broadcast=%s error=%s", broadcast.id, e)
            except TelegramError as e:
                log.warning("progress report not edited broadcast=%s error=%s", broadcast.id, e)
        if counts[DeliveryState.PENDING] == 0 and broadcast.id not in writing:
            await stored_broadcasts.finish(desk.db, broadcast.id, now, counts)
            log.info(
                "broadcast finished broadcast=%s kind=%s sent=%d failed=%d skipped=%d",
                broadcast.id,
                broadcast.kind.value,
                counts[DeliveryState.SENT],
                counts[DeliveryState.FAILED],
                counts[DeliveryState.SKIPPED],
            )


async def _tell_refusal(desk: Desk, bot: ExtBot[None], broadcast: Broadcast) -> None:
    """A message to the flash's editor (in the chat of its report): it goes on free. Marked
    told after it is sent: a crash in between tells twice rather than never. A chat that
    cannot get it (blocked, gone) is not asked again; a network failure is, at the next
    report."""
    chat_id = broadcast.report_chat_id or broadcast.editor_id
    pending = 0
    if broadcast.item_id is not None:
        pending = (await outbox.counts(desk.db, broadcast.item_id))[DeliveryState.PENDING]
    language = await language_of(desk, chat_id)
    text = view.paid_refused(
        desk.catalogs.get(language), broadcast, pending, desk.rates.free_per_second, lang=language
    )
    reply = None
    if broadcast.report_message_id is not None:
        reply = ReplyParameters(broadcast.report_message_id, allow_sending_without_reply=True)
    try:
        await bot.send_message(chat_id, text, reply_parameters=reply)
    except (NetworkError, RetryAfter) as e:  # told at the next report
        log.warning("paid refusal not told yet broadcast=%s error=%s", broadcast.id, e)
        return
    except TelegramError as e:  # the chat will not take it: the log is all there is
        log.warning("paid refusal cannot be told broadcast=%s error=%s", broadcast.id, e)
    await stored_broadcasts.refusal_told(desk.db, broadcast.id)


async def note_report(desk: Desk, broadcast_id: int, chat_id: int, message_id: int) -> None:
    """Where a preview's buttons are: the message its progress report will be."""
    await stored_broadcasts.set_report(desk.db, broadcast_id, chat_id, message_id)


async def counts(desk: Desk, broadcast: Broadcast) -> dict[DeliveryState, int]:
    """Where a sent flash's (or recall's, correction's) deliveries stand: counted while they
    exist, the final figures once they are pruned."""
    if broadcast.item_id is None:
        return {state: (broadcast.figures or {}).get(state, 0) for state in DeliveryState}
    counts = await outbox.counts(desk.db, broadcast.item_id)
    if any(b.id == broadcast.id for b, _ in await stored_broadcasts.enqueuing(desk.db)):
        return _unwritten_pending(broadcast, counts)
    return counts


def _report_due(broadcast: Broadcast, now: dt.datetime) -> bool:
    """Whether this tick counts the flash's deliveries (see LARGE)."""
    if broadcast.total <= LARGE:
        return True
    elapsed = (now - (broadcast.started or broadcast.created)).total_seconds()
    return elapsed % LARGE_EVERY < PROGRESS_TICK


def _unwritten_pending(
    broadcast: Broadcast, counts: dict[DeliveryState, int]
) -> dict[DeliveryState, int]:
    """While a flash's deliveries are still being written, those not written yet are pending
    too (its total is the preview's count until they all are)."""
    unwritten = max(0, broadcast.total - sum(counts.values()))
    return counts | {DeliveryState.PENDING: counts[DeliveryState.PENDING] + unwritten}


async def recent(desk: Desk) -> list[tuple[Broadcast, dict[DeliveryState, int]]]:
    """The recent flashes that left preview, newest first, with their delivery figures."""
    return [
        (b, await counts(desk, b))
        for b in await stored_broadcasts.recent(desk.db, BroadcastKind.FLASH)
    ]
