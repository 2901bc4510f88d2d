"""PostgreSQL at a million readers, two things SQLite has by itself:

- deliveries' ids are 64-bit. On SQLite an INTEGER primary key always is; on PostgreSQL
  `integer` is 32-bit, and at a million readers (an alert to all, two digests a day, story
  posts: some 3 million deliveries a day) the ids would run out in about two years, after
  which every enqueue fails.
- the due digests are read a chunk at a time in the order of chat id (`next_digest_at = slot
  AND id > after ORDER BY id LIMIT n`, storage.chats): an index on (next_digest_at, id) gives
  each chunk straight off. SQLite's index on next_digest_at already orders equal keys by rowid,
  the order its form of the query reads.

SQLite: nothing to do.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE deliveries ALTER COLUMN id TYPE bigint")
    op.execute("ALTER SEQUENCE deliveries_id_seq AS bigint")
    op.execute("CREATE INDEX ix_chats_due ON chats (next_digest_at, id)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX ix_chats_due")
    op.execute("ALTER SEQUENCE deliveries_id_seq AS integer")
    op.execute("ALTER TABLE deliveries ALTER COLUMN id TYPE integer")
