"""An alert to a million readers is enqueued in chunks: a flash being enqueued keeps the chat
id its deliveries are written up to, so that a restart goes on from there (NULL once every
delivery is written, and for every flash before this).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("broadcasts", sa.Column("enqueued_to", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("broadcasts", "enqueued_to")
