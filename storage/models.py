"""SQLAlchemy tables; private to storage (callers get `storage.types` dataclasses)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Stores naive UTC, returns aware UTC, refuses naive datetimes on the way in."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(dt.UTC).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    pass


class ChatRow(Base):
    __tablename__ = "chats"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    type: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(256), default="")
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    digest_times: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # None: default
    digest_enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    weekdays_only: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    next_digest_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, nullable=True, index=True
    )
    digest_since: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    quiet_start: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "23:00"
    quiet_end: Mapped[str | None] = mapped_column(String(5), nullable=True)


class SectionRow(Base):
    __tablename__ = "sections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    titles: Mapped[dict[str, str]] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)


class SubscriptionRow(Base):
    __tablename__ = "subscriptions"

    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("chats.id", ondelete="CASCADE"), primary_key=True
    )
    section_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    mode: Mapped[str] = mapped_column(String(8), default="digest", server_default="digest")
    thread_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # a forum topic


class FeedRow(Base):
    __tablename__ = "feeds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    title: Mapped[str] = mapped_column(String(512), default="")
    etag: Mapped[str | None] = mapped_column(String(512), nullable=True)
    last_modified: Mapped[str | None] = mapped_column(String(128), nullable=True)
    last_attempt: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_success: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    warning: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    dropped: Mapped[int] = mapped_column(Integer, default=0, server_default="0")  # last poll
    next_check: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class ArticleRow(Base):
    """An article; its id orders articles by publication (see storage.articles.article_id)."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    url: Mapped[str] = mapped_column(String(2048), unique=True)
    guid: Mapped[str | None] = mapped_column(String(2048), nullable=True, index=True)
    title_key: Mapped[str] = mapped_column(String(40), index=True)
    title: Mapped[str] = mapped_column(String(1024))
    summary: Mapped[str] = mapped_column(Text, default="")
    image_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    author: Mapped[str | None] = mapped_column(String(256), nullable=True)
    language: Mapped[str] = mapped_column(String(8), default="uk")
    published: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    first_seen: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    feed_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("feeds.id", ondelete="SET NULL"), nullable=True
    )
    # False from storing a story new to a section until its story posts are enqueued (in the
    # same transaction): a restart posts what a kill left unannounced.
    announced: Mapped[bool] = mapped_column(Boolean, default=True, index=True)


class ArticleSectionRow(Base):
    __tablename__ = "article_sections"
    __table_args__ = (Index("ix_article_sections_latest", "section_id", "article_id"),)

    article_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    section_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("sections.id", ondelete="CASCADE"), primary_key=True
    )


class SearchRow(Base):
    """A reader's search, kept so that its result pages can be turned with buttons."""

    __tablename__ = "searches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    query: Mapped[str] = mapped_column(String(256))
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    chat_id: Mapped[int | None] = mapped_column(
        BigInteger, nullable=True, index=True
    )  # only it may page


def is_modelled(name: str | None, type_: str, parent_names: object) -> bool:
    """Alembic's include_name: the full-text index (made by raw SQL in migration 0002) is not
    a model: SQLite's articles_fts* tables, PostgreSQL's search_vector column and its index
    (the column's functions Alembic does not compare); nor is PostgreSQL's ix_chats_due."""
    if name is None:
        return True
    if type_ == "table":
        return not name.startswith("articles_fts")
    if type_ == "column":
        return not (name == "search_vector" and _table(parent_names) == "articles")
    if type_ == "index":  # the search's, and PostgreSQL's own index of due digests (0013)
        return name not in {"ix_articles_search_vector", "ix_chats_due"}
    return True


def _table(parent_names: object) -> object:
    return parent_names.get("table_name") if isinstance(parent_names, dict) else None


class OutboxItemRow(Base):
    """Something to send to many chats: a story post, a digest, a breaking flash."""

    __tablename__ = "outbox_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    key: Mapped[str] = mapped_column(String(128), unique=True)
    priority: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # language -> messages
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    # Its messages carry allow_paid_broadcast: NULL as its lane goes, true when an editor
    # chose it; false when chosen free, or when Telegram refused to charge (the rest goes free).
    paid: Mapped[bool | None] = mapped_column(Boolean, nullable=True)


class DeliveryRow(Base):
    """One item for one chat: the delivery ledger."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("item_id", "chat_id", name="uq_deliveries_item_chat"),
        Index("ix_deliveries_pending", "state", "priority", "id"),
        Index("ix_deliveries_chat", "chat_id", "state"),
        # Only pending rows (small whatever the history): what is due, by lane (/metrics,
        # /readyz; storage.outbox.backlog). `state` is a column too, so that the index covers
        # those queries.
        Index(
            "ix_deliveries_due",
            "state",
            "priority",
            "next_attempt",
            sqlite_where=text("state = 'pending'"),
            postgresql_where=text("state = 'pending'"),
        ),
    )

    # 64-bit on PostgreSQL too (migration 0013); on SQLite INTEGER is the 64-bit rowid itself.
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    item_id: Mapped[int] = mapped_column(Integer, ForeignKey("outbox_items.id", ondelete="CASCADE"))
    chat_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("chats.id", ondelete="CASCADE"))
    priority: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(8), default="pending")
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(512), nullable=True)
    message_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    # Indexed: the engine's start-up asks for the newest (max over a year of rows).
    sent_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # For an edit or a delete: the messages it acts on (copied from the flash's delivery).
    target_ids: Mapped[list[int] | None] = mapped_column(JSON, nullable=True)
    thread_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # a forum topic


class EditorRow(Base):
    __tablename__ = "editors"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    added_by: Mapped[int] = mapped_column(BigInteger)
    added: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditRow(Base):
    """One editor action or refused attempt: who, when, what, on what, how it ended."""

    __tablename__ = "audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(32))  # an EditorAction code
    target: Mapped[str] = mapped_column(String(256))
    outcome: Mapped[str] = mapped_column(String(256))  # an AuditOutcome code
    count: Mapped[int | None] = mapped_column(Integer, nullable=True)  # the outcome's figure


class StrangerRow(Base):
    """Someone who is not an editor tried editors' commands: summarised, one row a person, so
    that a stranger's flood never pushes editors' actions out of the audit log."""

    __tablename__ = "strangers"

    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    attempts: Mapped[int] = mapped_column(Integer)
    first_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    last_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    last_action: Mapped[str] = mapped_column(String(32))


class BroadcastRow(Base):
    """An editor's flash (or its recall or correction): preview, then sending, then done."""

    __tablename__ = "broadcasts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # flash | recall | correct
    editor_id: Mapped[int] = mapped_column(BigInteger)
    created: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(16), index=True)
    sections: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)  # None: everyone
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # language -> messages
    of_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("broadcasts.id"), nullable=True
    )  # the flash a recall or correction acts on
    silent: Mapped[bool] = mapped_column(Boolean, default=False)
    report_chat_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    report_message_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    item_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("outbox_items.id"), nullable=True
    )
    total: Mapped[int] = mapped_column(Integer, default=0)
    started: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    finished: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # Its deliveries' final figures (state -> count), kept when the deliveries are pruned.
    figures: Mapped[dict[str, int] | None] = mapped_column(JSON, nullable=True)
    paid: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # When Telegram refused to charge for it (it went on at the free rate), and whether its
    # editor has been told.
    paid_refused: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
    refusal_told: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # While its deliveries are still being written (a chunk at a time): the chat id they are
    # written up to, where a restart goes on; None once they all are.
    enqueued_to: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class PaidDayRow(Base):
    """Messages sent with allow_paid_broadcast on one day (UTC): what /stats counts in Stars,
    kept when the deliveries are pruned. One small row a day."""

    __tablename__ = "paid_days"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    messages: Mapped[int] = mapped_column(Integer)
