"""Storage's own errors: callers never see a driver exception."""

from __future__ import annotations


class StorageError(Exception):
    """Base of every error storage raises."""

    message = "storage error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)


class Conflict(StorageError):
    """A uniqueness or foreign-key constraint refused a change."""

    message = "constraint failed"


class NotFound(StorageError):
    message = "not found"


class ChatNotFound(NotFound):
    def __init__(self, chat_id: int) -> None:
        super().__init__(f"chat {chat_id} not found")
        self.chat_id = chat_id


class SectionNotFound(NotFound):
    def __init__(self, slug: str) -> None:
        super().__init__(f"section {slug!r} not found")
        self.slug = slug
