"""Paid broadcasts as a per-flash choice: whether an outbox item goes with
allow_paid_broadcast (set false when Telegram refuses to charge for it), the editor's choice and
Telegram's refusal on the flash, and the paid messages sent each day (for /stats' 30 days,
which outlive the pruned deliveries).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs (no batch copy of the tables: articles' search triggers and the
    # deliveries' foreign keys stay as they are).
    false = sa.false()  # 0 on SQLite, false on PostgreSQL
    # NULL: as its lane goes ([delivery] paid_broadcast); true or false: chosen or refused.
    op.add_column("outbox_items", sa.Column("paid", sa.Boolean(), nullable=True))
    op.add_column(
        "broadcasts", sa.Column("paid", sa.Boolean(), nullable=False, server_default=false)
    )
    op.add_column("broadcasts", sa.Column("paid_refused", sa.DateTime(), nullable=True))
    op.add_column(
        "broadcasts", sa.Column("refusal_told", sa.Boolean(), nullable=False, server_default=false)
    )
    op.create_table(
        "paid_days",
        sa.Column("day", sa.Date(), primary_key=True),
        sa.Column("messages", sa.Integer(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("paid_days")
    op.drop_column("broadcasts", "refusal_told")
    op.drop_column("broadcasts", "paid_refused")
    op.drop_column("broadcasts", "paid")
    op.drop_column("outbox_items", "paid")
