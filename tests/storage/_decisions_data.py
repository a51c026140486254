"""Listings, runs and look-ups shared by the duplicate-decision and review-queue tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from fixed_clock import NOW, clock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.audit import Actor
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing, OfferListing
from aggregator.models import Event, Occurrence, SourceRecord
from aggregator.types import BERLIN, RunStatus

KINDS = {"konzerthaus": "venue", "dortmund_de": "city", "reservix": "ticketing"}
EDITOR = Actor(None, "redaktion@dortmund.de")


def context(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    """An ingest context on ``factory`` with the three test sources' kinds."""
    return IngestContext(factory, settings, kinds=KINDS, clock=clock())


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A Berlin time in December 2026 (after NOW)."""
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


def listing(source: str, record_id: str, title: str, start: datetime, **extra: Any) -> Listing:
    """One listing at the Konzerthaus (the city portal writes the venue's name shorter)."""
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": start,
        "time_text": f"{start:%H.%M} Uhr",
        "venue_name": "Konzerthaus Dortmund" if source == "konzerthaus" else "Konzerthaus",
        "url": f"https://example.org/{source}/{record_id}",
    }
    values.update(extra)
    return Listing(**values)


def priced(low: str, high: str) -> list[OfferListing]:
    """One offer from ``low`` to ``high`` euros."""
    return [OfferListing(price_min=Decimal(low), price_max=Decimal(high))]


def run(ctx: IngestContext, source: str, listings: list[Listing], hours: float = 0) -> None:
    """Ingest ``listings`` as a run of ``source`` ``hours`` after NOW; the run must succeed."""
    report = ingest(ctx, source, listings, now=NOW + timedelta(hours=hours))
    assert report.status == RunStatus.SUCCESS, report.error


def event_ids(factory: sessionmaker[Session]) -> list[str]:
    """Every stored event ID, sorted."""
    with factory() as session:
        return sorted(session.scalars(select(Event.id)))


def event_of(factory: sessionmaker[Session], key: str) -> str:
    """The event ID of the record ``source:record_id``."""
    source, record_id = key.split(":", 1)
    with factory() as session:
        record = session.scalars(
            select(SourceRecord).where(SourceRecord.source == source, SourceRecord.record_id == record_id)
        ).one()
        return record.event_id


def occurrence_of(factory: sessionmaker[Session], key: str) -> Occurrence:
    """The occurrence of the record ``source:record_id`` (detached, its fields loaded)."""
    source, record_id = key.split(":", 1)
    with factory() as session:
        record = session.scalars(
            select(SourceRecord).where(SourceRecord.source == source, SourceRecord.record_id == record_id)
        ).one()
        return session.get_one(Occurrence, record.occurrence_id)


def layout(factory: sessionmaker[Session]) -> dict[str, list[list[str]]]:
    """Event ID → its occurrences (by start) → their record keys: the shape of the store."""
    with factory() as session:
        shape: dict[str, list[list[str]]] = {}
        for event in session.scalars(select(Event)):
            shape[event.id] = [
                sorted(f"{r.source}:{r.record_id}" for r in o.records)
                for o in sorted(event.occurrences, key=lambda o: (o.start, o.id))
            ]
        return shape
