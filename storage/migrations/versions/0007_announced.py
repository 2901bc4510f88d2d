"""Stories never lost before the outbox: an article new to a section is stored unannounced
and marked announced in the transaction that enqueues its story posts; a restart (and each
ingest tick) posts those a kill left unannounced. Existing articles count as announced.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN: batch mode would copy the table and drop its full-text triggers.
    op.add_column(
        "articles", sa.Column("announced", sa.Boolean(), nullable=False, server_default=sa.true())
    )
    op.create_index("ix_articles_announced", "articles", ["announced"])


def downgrade() -> None:
    op.drop_index("ix_articles_announced", "articles")
    op.drop_column("articles", "announced")  # SQLite 3.35+ drops a column in place
