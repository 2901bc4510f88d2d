"""What one poll of one feed brought: the ingester makes it, the newsroom shows it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FeedReport:
    """What one poll of one feed brought."""

    url: str
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    not_modified: bool = False
    error: str | None = None
    warning: str | None = None
    fresh: tuple[int, ...] = ()  # articles new to a section: candidates for story posts
    dropped: int = 0  # items that could not be used (no valid link, no title, over the cap)

    def line(self) -> str:
        if self.error:
            return f"{self.url}: error: {self.error}"
        if self.not_modified:
            return f"{self.url}: not modified"
        text = f"{self.url}: {self.new} new, {self.updated} updated, {self.unchanged} unchanged"
        if self.dropped:
            text += f", {self.dropped} dropped"
        return f"{text} (warning: {self.warning})" if self.warning else text
