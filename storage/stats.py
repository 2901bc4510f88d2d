"""Figures for the newsroom's /stats: the chats' history and the last day's deliveries."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import case, func, select

from storage.db import Database
from storage.models import ChatRow, DeliveryRow, OutboxItemRow
from storage.types import ChatLife, ChatStatus, ChatType, DeliveryState


async def chat_lives(db: Database) -> list[ChatLife]:
    """Every chat's type, status, when it came and when its status last changed."""
    async with db.reading() as s:
        rows = await s.execute(
            select(ChatRow.type, ChatRow.status, ChatRow.created, ChatRow.updated)
        )
        return [
            ChatLife(ChatType(t), ChatStatus(st), created, updated)
            for t, st, created, updated in rows.all()
        ]


async def deliveries_since(db: Database, since: dt.datetime) -> dict[str, int]:
    """Deliveries of the items enqueued since `since`: sent, failed, retried (more than one
    attempt), pending."""
    async with db.reading() as s:
        row = (
            await s.execute(
                select(
                    func.count().filter(DeliveryRow.state == DeliveryState.SENT.value),
                    func.count().filter(DeliveryRow.state == DeliveryState.FAILED.value),
                    func.sum(case((DeliveryRow.attempts > 1, 1), else_=0)),
                    func.count().filter(DeliveryRow.state == DeliveryState.PENDING.value),
                )
                .join(OutboxItemRow, OutboxItemRow.id == DeliveryRow.item_id)
                .where(OutboxItemRow.created >= since)
            )
        ).one()
        sent, failed, retried, pending = (int(v or 0) for v in row)
        return {"sent": sent, "failed": failed, "retried": retried, "pending": pending}
