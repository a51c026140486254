"""The iCalendar feed source, configured by settings alone; it reads with aggregator.formats.icalendar."""

from __future__ import annotations

from typing import ClassVar

from aggregator.formats.icalendar import ICalResult, NotACalendar, parse_calendar
from sources.base import Document, SourceError
from sources.platforms._document import DocumentSource


class ICalFeedSource(DocumentSource[ICalResult]):
    """An iCalendar feed, configured by settings alone.

    Options: ``name``, ``url``/``urls``, ``venue`` (given to every listing without a LOCATION) and
    ``past_days``/``future_days`` (the window; see :func:`sources.platforms._document.source_window`).
    """

    abstract: ClassVar[bool] = True
    platform: ClassVar[str] = "ical"
    format_label: ClassVar[str] = "iCalendar"

    def events_in(self, result: ICalResult) -> int:
        """The VEVENTs of the file."""
        return result.vevents

    def not_the_format(self, error: SourceError) -> str | None:
        """The reason of a :class:`NotACalendar`."""
        return f"no iCalendar ({error.reason})" if isinstance(error, NotACalendar) else None

    def read(self, document: Document) -> ICalResult:
        """Parse one document (eagerly, so a broken one fails here)."""
        return parse_calendar(
            document.body,
            source=self.source_name,
            fetched_at=document.fetched_at,
            window=self.window(document.fetched_at),
            origin=document.url,
        )
