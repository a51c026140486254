"""Rows of a hand-made stored calendar, shared by the API and the page tests' data (``_data``, ``web_data``).

:class:`Rows` makes venues, events, occurrences, offers and source records stamped with one
creation and one update time; :class:`Runtime` is what the app factory needs of the real runtime;
:func:`count` counts what is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.models import Event, Occurrence, Offer, SourceRecord, Venue
from aggregator.types import BERLIN


def berlin(year: int, month: int, day: int, hour: int = 20, minute: int = 0) -> datetime:
    """A Berlin wall-clock time as an aware UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


@dataclass
class Runtime:
    """What :func:`calendar_api.app.create_app` needs of the real runtime."""

    settings: Settings
    engine: Any
    factory: sessionmaker[Session]
    specs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rows:
    """Row builders whose rows were created at ``created`` and last changed at ``updated``."""

    created: datetime
    updated: datetime

    def venues(self) -> list[Venue]:
        """Three venues: one with coordinates, rooms and accessibility notes, one in another district, one bare."""
        return [
            Venue(
                slug="konzerthaus-dortmund",
                name="Konzerthaus Dortmund",
                street="Brückstraße 21",
                postcode="44135",
                city="Dortmund",
                lat=51.5149,
                lon=7.4636,
                district="Innenstadt-West",
                rooms=["Großer Saal"],
                url="https://www.konzerthaus-dortmund.de/",
                accessibility="Stufenloser Zugang über den Haupteingang.",
                created_at=self.created,
                updated_at=self.created,
            ),
            Venue(
                slug="fzw",
                name="FZW",
                street="Ritterstraße 20",
                postcode="44137",
                city="Dortmund",
                lat=51.5106,
                lon=7.4527,
                district="Innenstadt-West",
                created_at=self.created,
                updated_at=self.created,
            ),
            Venue(
                slug="depot",
                name="Depot",
                street="Immermannstraße 29",
                postcode="44147",
                city="Dortmund",
                district="Innenstadt-Nord",
                created_at=self.created,
                updated_at=self.created,
            ),
        ]

    def venue(self, slug: str) -> Venue:
        """One of :meth:`venues`, by its slug."""
        return next(venue for venue in self.venues() if venue.slug == slug)

    def event(
        self, event_id: str, title: str, venue: str | None, categories: list[str], **extra: Any
    ) -> Event:
        """An event at ``venue`` (a slug, or None for none)."""
        return Event(
            id=event_id,
            title=title,
            title_key=title.lower(),
            venue_slug=venue,
            categories=categories,
            created_at=self.created,
            updated_at=self.updated,
            sequence=0,
            **extra,
        )

    def occurrence(
        self, occurrence_id: str, event_id: str, start: datetime, end: datetime | None = None, **extra: Any
    ) -> Occurrence:
        """A scheduled, timed occurrence unless ``extra`` says otherwise."""
        values: dict[str, Any] = {
            "status": "scheduled",
            "sequence": 0,
            "created_at": self.created,
            "updated_at": self.updated,
            "all_day": False,
            "visible_hash": "x",
        }
        values.update(extra)
        return Occurrence(id=occurrence_id, event_id=event_id, start=start, end=end, **values)

    @staticmethod
    def offer(
        occurrence_id: str,
        low: str | None,
        high: str | None,
        availability: str | None,
        url: str | None = None,
        source: str = "konzerthaus",
        vendor: str | None = None,
    ) -> Offer:
        """An offer in euros from ``low`` to ``high`` (decimal strings, or None for unknown)."""
        return Offer(
            occurrence_id=occurrence_id,
            source=source,
            currency="EUR",
            url=url,
            vendor=vendor,
            availability=availability,
            price_min=None if low is None else Decimal(low),
            price_max=None if high is None else Decimal(high),
        )

    def record(
        self, source: str, record_id: str, event_id: str, occurrence_id: str, url: str | None
    ) -> SourceRecord:
        """The source record behind an occurrence, fetched at the update time."""
        return SourceRecord(
            source=source,
            record_id=record_id,
            url=url,
            fetched_at=self.updated,
            content_hash="h",
            raw={},
            data={},
            event_id=event_id,
            occurrence_id=occurrence_id,
            first_seen=self.created,
            last_seen=self.updated,
        )


def count(factory: sessionmaker[Session], model: Any) -> int:
    """How many rows of ``model`` are stored."""
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
