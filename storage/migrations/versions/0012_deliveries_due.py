"""An index of the pending deliveries by lane and due time, for /metrics and /readyz: how many
are due in each lane and since when the oldest has waited, read at every scrape. Partial (only
the pending rows), so it stays small however long the delivery history grows, and costs a
send one index entry to remove; `state` is one of its columns so that it covers the queries
(SQLite reads the table for a column the index only names in its condition).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pending = sa.text("state = 'pending'")
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["state", "priority", "next_attempt"],
        sqlite_where=pending,
        postgresql_where=pending,
    )


def downgrade() -> None:
    op.drop_index("ix_deliveries_due", "deliveries")
