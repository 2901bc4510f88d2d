"""An article page's main text and metadata, with trafilatura (precision over recall).

Texts come out clean (`bot.news.text.clean`), the image as a checked URL or None.
"""

from __future__ import annotations

from dataclasses import dataclass

import trafilatura
import trafilatura.settings

from bot.news.summary import summarise
from bot.news.text import clean, html_to_text
from bot.urls import checked


@dataclass(frozen=True, slots=True)
class PageContent:
    title: str
    text: str
    image: str | None
    description: str | None


def extract_page(html: bytes, url: str) -> PageContent | None:
    """The page's title, main text, image and description; None when it has no article."""
    try:
        doc = trafilatura.bare_extraction(
            html, url=url, favor_precision=True, with_metadata=True, include_comments=False
        )
    except (ValueError, TypeError):
        return None
    if not isinstance(doc, trafilatura.settings.Document) or not doc.text:
        return None
    title = html_to_text(doc.title or "")
    lines = [line.strip() for line in clean(doc.text or "").splitlines() if line.strip()]
    if lines and title and lines[0].casefold() == title.casefold():
        lines = lines[1:]  # trafilatura repeats the headline as the first line
    image = checked(doc.image) if isinstance(doc.image, str) else None
    return PageContent(title, " ".join(lines), image, html_to_text(doc.description or "") or None)


def page_summary(page: PageContent) -> str | None:
    """A summary from the page's text, or from its description."""
    return summarise(page.text) or (summarise(page.description) if page.description else None)
