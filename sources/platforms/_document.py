"""What the configuration-only platform sources share: a horizon, a default venue, problems kept per run."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime, time, timedelta
from typing import Any, ClassVar, Protocol

from aggregator.listing import Listing, Rejection
from aggregator.types import BERLIN
from sources.base import Document, Fetcher, Source

DEFAULT_HORIZON_DAYS = 365


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
    horizon_days: ClassVar[int] = DEFAULT_HORIZON_DAYS

    def __init__(self, fetcher: Fetcher | None = None, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(fetcher, options)
        self.warnings: list[str] = []
        self.rejections: list[Rejection] = []
        self.last_result: Any = None

    def horizon(self, now: datetime) -> tuple[datetime, datetime]:
        """From the start of today (Berlin) to ``horizon_days`` ahead."""
        days = int(self.options.get("horizon_days") or self.horizon_days)
        today = datetime.combine(now.astimezone(BERLIN).date(), time(), tzinfo=BERLIN)
        return today, today + timedelta(days=days)

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
