"""The newsroom's services on their own: a Desk over a bare database, no bot, no Telegram."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from bot.i18n import Catalogs
from bot.newsroom import ChangeRefused, Desk, PreviewRefused, channels, drafts, flashes, rights
from storage import broadcasts, chats, editors, outbox, subscriptions
from storage import sections as stored_sections
from storage.codes import AuditOutcome, EditorAction
from storage.db import Database
from storage.types import BroadcastKind, ChatStatus, ChatType, DeliveryState, NewSection

NOW = dt.datetime(2026, 11, 28, 10, 0, tzinfo=dt.UTC)
OWNER, EDITOR, STRANGER = 1, 2, 3


pytestmark = pytest.mark.backends


@pytest.fixture
async def desk(database_url: str) -> AsyncIterator[tuple[Desk, list[int]]]:
    db = Database.open(database_url)
    await db.upgrade()
    sections = await stored_sections.sync(db, [NewSection("world", {"uk": "Світ"})])
    for chat_id in (101, 102, 103):
        await chats.ensure(db, chat_id, type=ChatType.PRIVATE, title="", language="uk")
        await subscriptions.subscribe(db, chat_id, "world")
    await editors.add_editor(db, EDITOR, OWNER, NOW)
    woken: list[int] = []
    yield (
        Desk(db, frozenset({OWNER}), lambda: NOW, lambda: woken.append(1), Catalogs(),
             sections, "uk", ZoneInfo("Europe/Kyiv")),
        woken,
    )  # fmt: skip
    await db.close()


async def test_a_flash_is_confirmed_once_and_only_by_its_editor(
    desk: tuple[Desk, list[int]],
) -> None:
    d, woken = desk
    assert await rights.is_editor(d, EDITOR)
    assert not await rights.is_editor(d, STRANGER)
    payload = flashes.payload(d, drafts.Draft(None, "Уряд подав у відставку", None))
    preview, count = await flashes.open_preview(
        d, EDITOR, BroadcastKind.FLASH, payload, action=EditorAction.BREAKING, sections=None,
        flash=None, target="",
    )  # fmt: skip
    assert count == 3
    with pytest.raises(PreviewRefused) as refused:
        await flashes.confirm(d, preview.id, OWNER, silent=False)
    assert refused.value.reason is AuditOutcome.NOT_YOURS
    sent = await flashes.confirm(d, preview.id, EDITOR, silent=True, report=(EDITOR, 5))
    assert (sent.total, sent.silent, sent.report_message_id) == (3, True, 5)
    assert woken == [1]
    assert sent.item_id is not None
    counts = await outbox.counts(d.db, sent.item_id)
    assert counts[DeliveryState.PENDING] == 3
    with pytest.raises(PreviewRefused) as again:
        await flashes.confirm(d, preview.id, EDITOR, silent=False)
    assert again.value.reason is AuditOutcome.ALREADY_SENT
    log = await editors.audit_log(d.db)
    assert [(e.action, e.outcome, e.count) for e in log] == [
        ("confirm", "sent silently", 3), ("breaking", "preview", 3),
    ]  # fmt: skip
    # Only its editor (or an owner) may recall or correct it.
    with pytest.raises(ChangeRefused) as early:
        await flashes.flash_to_change(d, preview.id, STRANGER)
    assert early.value.reason is AuditOutcome.FOREIGN


async def test_a_channel_gets_its_sections_and_goes(desk: tuple[Desk, list[int]]) -> None:
    d, _ = desk
    await channels.add_channel(
        d, -100500, "Вісник · Світ", list(d.sections), by=EDITOR, name="@visnyk_world"
    )
    assert [(title, sections) for title, _, sections in await channels.channels(d)] == [
        ("Вісник · Світ", list(d.sections))
    ]
    assert await channels.remove_channel(d, -100500, by=EDITOR, name="@visnyk_world")
    assert not await channels.remove_channel(d, -100500, by=EDITOR, name="@visnyk_world")
    channel = await chats.get(d.db, -100500)
    assert channel is not None
    assert channel.status is ChatStatus.LEFT
    log = await editors.audit_log(d.db)
    assert [(e.action, e.target, e.outcome) for e in reversed(log)] == [
        ("channel_add", "@visnyk_world (-100500)", "added"),
        ("channel_remove", "@visnyk_world (-100500)", "removed"),
        ("channel_remove", "@visnyk_world (-100500)", "not ours"),
    ]


async def test_owners_add_and_remove_editors_with_an_audit_entry(
    desk: tuple[Desk, list[int]],
) -> None:
    d, _ = desk
    assert await rights.add_editor(d, OWNER, 42)
    assert not await rights.add_editor(d, OWNER, 42)
    assert await rights.is_editor(d, 42)
    assert await rights.remove_editor(d, OWNER, 42)
    assert not await rights.remove_editor(d, OWNER, 42)
    log = await editors.audit_log(d.db)
    assert [e.outcome for e in reversed(log)] == ["added", "already", "removed", "absent"]


async def test_a_flash_whose_deliveries_were_pruned_keeps_its_figures(
    desk: tuple[Desk, list[int]],
) -> None:
    d, _ = desk
    payload = flashes.payload(d, drafts.Draft(None, "Давня блискавка", None))
    preview, _ = await flashes.open_preview(
        d, EDITOR, BroadcastKind.FLASH, payload, action=EditorAction.BREAKING, sections=None,
        flash=None, target="",
    )  # fmt: skip
    await flashes.confirm(d, preview.id, EDITOR, silent=False)
    async with d.db.transaction() as s:
        await s.execute(text("UPDATE deliveries SET state = 'sent', message_ids = '[9]'"))
    await flashes.report(d, None)  # type: ignore[arg-type]  # no report to edit: it finishes
    assert await outbox.prune(d.db, NOW + dt.timedelta(days=15)) == 3
    flash = await broadcasts.get(d.db, preview.id)
    assert flash is not None
    assert flash.item_id is None
    assert (await flashes.counts(d, flash))[DeliveryState.SENT] == 3
    assert [(b.id, c[DeliveryState.SENT]) for b, c in await flashes.recent(d)] == [(preview.id, 3)]
    with pytest.raises(ChangeRefused) as gone:
        await flashes.flash_to_change(d, preview.id, EDITOR)
    assert gone.value.reason is AuditOutcome.TOO_OLD
