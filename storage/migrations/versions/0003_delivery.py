"""The delivery outbox; per-chat digest schedule and quiet hours; instant or digest mode.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("digest_times", sa.JSON(), nullable=True))
        batch.add_column(
            sa.Column("digest_enabled", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column("weekdays_only", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("next_digest_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("digest_since", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("quiet_start", sa.String(5), nullable=True))
        batch.add_column(sa.Column("quiet_end", sa.String(5), nullable=True))
        batch.create_index("ix_chats_next_digest_at", ["next_digest_at"])
    with op.batch_alter_table("subscriptions") as batch:
        batch.add_column(sa.Column("mode", sa.String(8), nullable=False, server_default="digest"))
    op.create_table(
        "outbox_items",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(128), nullable=False, unique=True),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("created", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "item_id",
            sa.Integer(),
            sa.ForeignKey("outbox_items.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("chats.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("silent", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt", sa.DateTime(), nullable=False),
        sa.Column("last_error", sa.String(512), nullable=True),
        sa.Column("message_ids", sa.JSON(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("item_id", "chat_id", name="uq_deliveries_item_chat"),
    )
    op.create_index("ix_deliveries_pending", "deliveries", ["state", "priority", "id"])
    op.create_index("ix_deliveries_chat", "deliveries", ["chat_id", "state"])


def downgrade() -> None:
    op.drop_table("deliveries")
    op.drop_table("outbox_items")
    with op.batch_alter_table("subscriptions") as batch:
        batch.drop_column("mode")
    with op.batch_alter_table("chats") as batch:
        batch.drop_index("ix_chats_next_digest_at")
        for column in (
            "digest_times",
            "digest_enabled",
            "weekdays_only",
            "next_digest_at",
            "digest_since",
            "quiet_start",
            "quiet_end",
        ):
            batch.drop_column(column)
