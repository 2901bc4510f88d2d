"""Indexes for queries on a long delivery history: the engine's start-up asks when the last
delivery went out (max of deliveries.sent_at, a full scan without an index), and /stats
counts the deliveries of the items enqueued in the last day (outbox_items.created).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_deliveries_sent_at", "deliveries", ["sent_at"])
    op.create_index("ix_outbox_items_created", "outbox_items", ["created"])


def downgrade() -> None:
    op.drop_index("ix_outbox_items_created", "outbox_items")
    op.drop_index("ix_deliveries_sent_at", "deliveries")
