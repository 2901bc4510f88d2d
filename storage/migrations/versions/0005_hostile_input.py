"""Hostile input: items a feed's last poll dropped, searches bound to their chat, strangers'
refused attempts at editors' commands kept apart from the audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("dropped", sa.Integer(), nullable=False, server_default="0"))
    with op.batch_alter_table("searches") as batch:
        batch.add_column(sa.Column("chat_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_searches_chat_id", "searches", ["chat_id"])
    op.create_table(
        "strangers",
        sa.Column("user_id", sa.BigInteger(), primary_key=True, autoincrement=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_at", sa.DateTime(), nullable=False),
        sa.Column("last_at", sa.DateTime(), nullable=False),
        sa.Column("last_action", sa.String(32), nullable=False),
    )
    op.create_index("ix_strangers_last_at", "strangers", ["last_at"])


def downgrade() -> None:
    op.drop_index("ix_strangers_last_at", "strangers")
    op.drop_table("strangers")
    op.drop_index("ix_searches_chat_id", "searches")
    with op.batch_alter_table("searches") as batch:
        batch.drop_column("chat_id")
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("dropped")
