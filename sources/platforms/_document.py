"""What the configuration-only platform sources share: the window, a default venue, problems kept per run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any, ClassVar, Protocol

from aggregator.listing import Listing, Rejection
from aggregator.window import DEFAULT_FUTURE_DAYS, DEFAULT_PAST_DAYS, Window
from sources.base import Document, Fetcher, Source, SourceError


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


class ParseResult(Protocol):
    """What a document parser returns: the listings and what was wrong."""

    listings: list[Listing]
    warnings: list[str]
    rejections: list[Rejection]


class DocumentSource(Source):
    """A source whose documents a format parser reads whole (iCalendar, JSON-LD).

    Subclasses supply :meth:`read`. After :meth:`parse`, ``warnings`` and ``rejections`` hold what
    the run's documents so far had wrong (reset by :meth:`listings`), ``last_result`` the last
    document's full result.
    """

    abstract: ClassVar[bool] = True

    def __init__(self, fetcher: Fetcher | None = None, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(fetcher, options)
        self.warnings: list[str] = []
        self.rejections: list[Rejection] = []
        self.last_result: Any = None

    def window(self, now: datetime) -> Window:
        """The window events are read in at ``now`` (see :func:`source_window`)."""
        return source_window(self, now)

    def default_venue(self) -> str | None:
        """The venue configured for listings that name none."""
        return str(self.options.get("venue") or self.venue or "") or None

    def read(self, document: Document) -> ParseResult:
        """Parse one document with the format's parser."""
        raise NotImplementedError(f"{type(self).__name__} must implement read()")

    def parse(self, document: Document) -> Iterator[Listing]:
        """Parse one document (eagerly, so a broken one fails here)."""
        result = self.read(document)
        self.last_result = result
        self.warnings.extend(result.warnings)
        self.rejections.extend(result.rejections)
        venue = self.default_venue()
        return iter(
            [
                listing if listing.venue_name or not venue else listing.evolve(venue_name=venue)
                for listing in result.listings
            ]
        )

    def listings(self) -> Iterator[Listing]:
        """Fetch and parse one whole run, starting with empty ``warnings`` and ``rejections``."""
        self.warnings.clear()
        self.rejections.clear()
        return super().listings()
