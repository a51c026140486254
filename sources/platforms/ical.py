"""The iCalendar feed source, configured by settings alone; it reads with aggregator.formats.icalendar."""

from __future__ import annotations

from typing import ClassVar

from aggregator.formats.errors import DocumentError
from aggregator.formats.icalendar import NotACalendar, parse_calendar
from aggregator.formats.read_result import ReadResult
from sources.base import Document
from sources.platforms._document import DocumentSource
from sources.platforms.publishers import feed_url


class ICalFeedSource(DocumentSource):
    """An iCalendar feed, configured by settings alone.

    Options: ``name``, ``url``/``urls``, ``venue`` (given to every listing without a LOCATION) and
    ``past_days``/``future_days`` (the window; see :func:`sources.platforms._document.source_window`).
    A ``url`` may be a hosted calendar's page, embed or ``webcal:`` link: its public feed is fetched
    (:mod:`sources.platforms.publishers`).
    """

    abstract: ClassVar[bool] = True
    platform: ClassVar[str] = "ical"
    format_label: ClassVar[str] = "iCalendar"
    format_error: ClassVar[type[DocumentError]] = NotACalendar

    def urls(self) -> tuple[str, ...]:
        """The configured URLs, each a publisher's page or embed replaced by its public feed."""
        return tuple(feed_url(url) for url in super().urls())

    def read(self, document: Document) -> ReadResult:
        """Parse one document (eagerly, so a broken one fails here)."""
        return parse_calendar(
            document.body,
            source=self.source_name,
            fetched_at=document.fetched_at,
            window=self.window(document.fetched_at),
            origin=document.url,
        )
