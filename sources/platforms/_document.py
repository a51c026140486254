"""What the configuration-only platform sources share: the window, a default venue, a document read whole."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import ClassVar

from aggregator.formats.errors import DocumentError
from aggregator.formats.read_result import ReadResult
from aggregator.listing import Listing
from aggregator.window import DEFAULT_FUTURE_DAYS, DEFAULT_PAST_DAYS, Window
from sources.base import Document, LayoutChanged, Source, SourceError, SourceResult


def source_window(source: Source, now: datetime) -> Window:
    """The window of a configured source at ``now``: its options ``past_days``/``future_days``.

    The catalog fills them from ``[ingest]``; a source table may override them. ``horizon_days`` is
    read as the old name of ``future_days``.
    """
    options = source.options
    values = []
    for key, default in (("past_days", DEFAULT_PAST_DAYS), ("future_days", DEFAULT_FUTURE_DAYS)):
        value = options.get(key, options.get("horizon_days", default) if key == "future_days" else default)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise SourceError(
                source.source_name, f"option {key}: expected a whole number >= 0, got {value!r}"
            )
        values.append(value)
    return Window.around(now, *values)


class DocumentSource(Source):
    """A source whose documents a format parser reads whole (iCalendar, JSON-LD).

    Subclasses supply :meth:`read` (the format's parser), the format's name (``format_label``) and the
    error its parser raises for data of another format (``format_error``). :meth:`read_document` gives
    each document's listings (with the configured venue where they name none), rejections and warnings.
    With ``empty_page_is_error`` a document that holds no data of the format, or no event, is
    :class:`LayoutChanged`.
    """

    abstract: ClassVar[bool] = True
    format_label: ClassVar[str] = ""
    format_error: ClassVar[type[DocumentError]]

    def window(self, now: datetime) -> Window:
        """The window events are read in at ``now`` (see :func:`source_window`)."""
        return source_window(self, now)

    def default_venue(self) -> str | None:
        """The venue configured for listings that name none."""
        return str(self.options.get("venue") or self.venue or "") or None

    def read(self, document: Document) -> ReadResult:
        """Parse one document with the format's parser."""
        raise NotImplementedError(f"{type(self).__name__} must implement read()")

    def read_document(self, document: Document) -> SourceResult:
        """One document read whole (eagerly, so a broken one fails here)."""
        try:
            result = self.read(document)
        except self.format_error as error:
            if not self.empty_page_is_error:
                raise
            absent = f"no {self.format_label} ({error.reason})"
            raise LayoutChanged(self.source_name, absent, document.url) from error
        if self.empty_page_is_error and not result.records:
            raise LayoutChanged(self.source_name, f"{self.format_label} without any Event", document.url)
        venue = self.default_venue()
        listings = [
            listing if listing.venue_name or not venue else listing.evolve(venue_name=venue)
            for listing in result.listings
        ]
        return SourceResult(listings, list(result.rejections), list(result.warnings))

    def parse(self, document: Document) -> Iterator[Listing]:
        """The listings of one document (see :meth:`read_document`)."""
        return iter(self.read_document(document).listings)
