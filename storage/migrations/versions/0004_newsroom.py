"""Newsroom: editors, the audit log, breaking alerts; what a delivery acts on; forum topics.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "editors",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("added_by", sa.BigInteger(), nullable=False),
        sa.Column("added", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("outcome", sa.String(256), nullable=False),
    )
    op.create_table(
        "broadcasts",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("editor_id", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("sections", sa.JSON(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("of_id", sa.Integer(), sa.ForeignKey("broadcasts.id"), nullable=True),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("report_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("report_message_id", sa.BigInteger(), nullable=True),
        sa.Column("item_id", sa.Integer(), sa.ForeignKey("outbox_items.id"), nullable=True),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("started", sa.DateTime(), nullable=True),
        sa.Column("finished", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_broadcasts_state", "broadcasts", ["state"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("target_ids", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("thread_id", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("thread_id", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("thread_id")
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("thread_id")
        batch.drop_column("target_ids")
    op.drop_index("ix_broadcasts_state", "broadcasts")
    op.drop_table("broadcasts")
    op.drop_table("audit")
    op.drop_table("editors")
