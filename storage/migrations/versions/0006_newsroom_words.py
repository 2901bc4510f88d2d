"""The newsroom's words: an editor's breaking news is a "flash" (kind `flash`, was `breaking`);
the audit log stores codes (an EditorAction, an AuditOutcome and its figure) that editors read
in their own language, where it stored English sentences. Old entries are translated into
codes here, so that no English sentence is left for /audit to show.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28
"""

import re

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Old English outcome → (code, the group holding its figure or None).
_OUTCOMES: list[tuple[re.Pattern[str], str, int | None]] = [
    (re.compile(r"refused: not in a private chat"), "not private", None),
    (re.compile(r"refused: not an editor|refused"), "not an editor", None),
    (re.compile(r"refused: not an owner"), "not an owner", None),
    (re.compile(r"refused: (empty|no id|no user id|no channel|usage)"), "usage", None),
    (re.compile(r"refused: (tag|no section .*)"), "unknown section", None),
    (re.compile(r"refused: \S+ address"), "address refused", None),
    (re.compile(r"refused: page not readable"), "page unreadable", None),
    (re.compile(r"refused: (\d+) too long"), "too long", 1),
    # The reason is the code:
    (
        re.compile(r"refused: (unknown|foreign|not sent|too old|not yours|expired|not a channel)"),
        "",
        1,
    ),
    (re.compile(r"refused: cancelled"), "was cancelled", None),
    (re.compile(r"refused: done"), "already sent", None),
    (re.compile(r"refused: not found"), "channel not found", None),
    (re.compile(r"refused: not admin"), "not admin", None),
    (re.compile(r"refused: not ours"), "not ours", None),
    (re.compile(r"preview #\d+ for (\d+) chats"), "preview", 1),
    (re.compile(r"preview #\d+"), "preview", None),
    (re.compile(r"cancelled"), "cancelled", None),
    (re.compile(r"sent to (\d+) chats"), "sent", 1),
    (re.compile(r"silent to (\d+) chats"), "sent silently", 1),
    (re.compile(r"added( -?\d+)?"), "added", None),
    (re.compile(r"already"), "already", None),
    (re.compile(r"removed( -?\d+)?"), "removed", None),
    (re.compile(r"was not one"), "absent", None),
    (re.compile(r"(\d+) new"), "fetched", 1),
]
_CHAT = re.compile(r"chat (-?\d+)")


def outcome_code(text: str) -> tuple[str, int | None]:
    """An old English outcome as a code and its figure; an unknown one as it was."""
    for pattern, code, group in _OUTCOMES:
        found = pattern.fullmatch(text)
        if found is None:
            continue
        figure = found.group(group) if group else None
        if not code:  # the reason is the code
            return str(figure), None
        return code, None if figure is None else int(figure)
    return text, None


def target_code(text: str) -> str:
    if text == "all feeds":
        return ""
    found = _CHAT.fullmatch(text)
    return found.group(1) if found else text


def upgrade() -> None:
    with op.batch_alter_table("audit") as batch:
        batch.add_column(sa.Column("count", sa.Integer(), nullable=True))
    bind = op.get_bind()
    audit = sa.table(
        "audit",
        sa.column("target", sa.String),
        sa.column("outcome", sa.String),
        sa.column("count", sa.Integer),
    )
    # One UPDATE per distinct old sentence (a few dozen), not one per entry.
    for (outcome,) in bind.execute(sa.select(audit.c.outcome).distinct()).all():
        code, count = outcome_code(outcome)
        if (code, count) != (outcome, None):
            bind.execute(
                audit.update().where(audit.c.outcome == outcome).values(outcome=code, count=count)
            )
    chats = sa.select(audit.c.target).where(audit.c.target.like("chat %")).distinct()
    for (target,) in [*bind.execute(chats).all(), ("all feeds",)]:
        code = target_code(target)
        if code != target:
            bind.execute(audit.update().where(audit.c.target == target).values(target=code))
    op.execute("UPDATE broadcasts SET kind = 'flash' WHERE kind = 'breaking'")
    op.execute("UPDATE outbox_items SET kind = 'flash' WHERE kind = 'breaking'")


def downgrade() -> None:
    op.execute("UPDATE outbox_items SET kind = 'breaking' WHERE kind = 'flash'")
    op.execute("UPDATE broadcasts SET kind = 'breaking' WHERE kind = 'flash'")
    with op.batch_alter_table("audit") as batch:
        batch.drop_column("count")
