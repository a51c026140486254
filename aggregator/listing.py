"""The contract between source adapters and the framework.

An adapter's ``parse`` yields :class:`Listing` objects: one per performance, as the source wrote it.
Adapters fill what the page says — raw German text is fine (``date_text``, ``price_text``, ...);
the normalisation steps in :mod:`aggregator.normalise` turn text into typed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from aggregator.types import Availability, Status


@dataclass(slots=True)
class OfferListing:
    """One way to get in: a price range and where to buy, as the source gave it."""

    price_text: str | None = None
    price_min: Decimal | None = None
    price_max: Decimal | None = None
    currency: str = "EUR"
    url: str | None = None
    vendor: str | None = None
    availability: Availability | None = None
    availability_text: str | None = None
    on_sale: datetime | None = None


@dataclass(slots=True)
class Listing:
    """One dated performance as one source published it.

    ``record_id`` is the source's own key for this record (iCal UID plus RECURRENCE-ID, JSON-LD
    ``@id``, the adapter's key) and must be stable across fetches; it never contains the title
    unless the source itself has no better key. ``series_key`` is the source's own key for the
    production (the detail-page slug, the iCal UID of a recurring event) when it has one.
    """

    source: str
    record_id: str
    title: str
    fetched_at: datetime
    url: str | None = None
    series_key: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    all_day: bool = False
    date_text: str | None = None
    time_text: str | None = None
    subtitle: str | None = None
    description: str | None = None
    categories: list[str] = field(default_factory=list)
    language: str | None = None
    image: str | None = None
    image_credit: str | None = None
    """Who to credit for the image (photographer, agency), as the source gives it."""
    image_licence: str | None = None
    """The image's licence (a name such as "CC BY-SA 4.0" or a URL), as the source gives it."""
    organiser: str | None = None
    venue_name: str | None = None
    venue_address: str | None = None
    venue_url: str | None = None
    room: str | None = None
    geo: tuple[float, float] | None = None
    offers: list[OfferListing] = field(default_factory=list)
    status: Status | None = None
    status_text: str | None = None
    previous_start: datetime | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    # Filled by normalisation, not by adapters:
    venue_slug: str | None = None
    category_slugs: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def evolve(self, **changes: Any) -> Listing:
        """Return a copy with ``changes`` applied (listings are values: never mutated in place)."""
        if all(_same(getattr(self, name), value) for name, value in changes.items()):
            return self
        return replace(self, **changes)


def _same(old: Any, new: Any) -> bool:
    """Equal and indistinguishable (aware datetimes compare equal across zones, but are not the same)."""
    if type(old) is not type(new) or old != new:
        return False
    return not isinstance(old, datetime) or (old.tzinfo is new.tzinfo and old.fold == new.fold)


@dataclass(slots=True, frozen=True)
class Rejection:
    """A record that could not be used, with the reason; counted in the run, never fatal.

    ``step`` names the normalisation step that refused it (``None``: the adapter did);
    ``error`` is the exception type when a step failed unexpectedly rather than rejecting on purpose.
    """

    source: str
    record_id: str | None
    reason: str
    field: str | None = None
    step: str | None = None
    error: str | None = None

    def to_data(self) -> dict[str, str | None]:
        """The rejection as a JSON object (stored with its run)."""
        return {
            "record_id": self.record_id,
            "source": self.source,
            "reason": self.reason,
            "field": self.field,
            "step": self.step,
            "error": self.error,
        }

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> Rejection:
        """The rejection :meth:`to_data` wrote."""
        return cls(
            str(data.get("source", "")),
            data.get("record_id"),
            str(data.get("reason", "")),
            data.get("field"),
            data.get("step"),
            data.get("error"),
        )
