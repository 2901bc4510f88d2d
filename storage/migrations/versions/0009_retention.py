"""Bounded storage: a finished flash keeps its deliveries' final figures, so that the
deliveries and outbox items older than `[delivery] keep_days` can be pruned.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("broadcasts", sa.Column("figures", sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column("broadcasts", "figures")
