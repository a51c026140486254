"""Helpers for the scheduler tests: stored rows built directly, and snapshots of a source's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import Event, Occurrence, Offer, SourceRecord


def add_occurrence(session: Session, occurrence_id: str, event_id: str, *, start: datetime, status: str,
                   updated_at: datetime, source: str = "fzw") -> None:
    """Store an occurrence (and its event if new) with one offer and one record from ``source``."""
    if session.get(Event, event_id) is None:
        session.add(Event(id=event_id, title=f"Event {event_id}", title_key=event_id, categories=[],
                          field_sources={}, created_at=updated_at, updated_at=updated_at))
        session.flush()
    session.add(Occurrence(id=occurrence_id, event_id=event_id, start=start, status=status,
                           created_at=updated_at, updated_at=updated_at, visible_hash=""))
    session.flush()
    session.add(Offer(occurrence_id=occurrence_id, source=source, price_text="10 €"))
    session.add(SourceRecord(source=source, record_id=f"rec-{occurrence_id}", fetched_at=updated_at,
                             content_hash="h", raw={}, data={}, event_id=event_id,
                             occurrence_id=occurrence_id, first_seen=updated_at, last_seen=updated_at,
                             active=status != "cancelled"))


def _row(obj: Any) -> dict[str, Any]:
    return {column.key: getattr(obj, column.key) for column in obj.__table__.columns}


def source_snapshot(factory: sessionmaker[Session], source: str) -> dict[str, Any]:
    """Every stored value of the records, occurrences, offers and events a source contributed to."""
    with factory() as session:
        records = session.scalars(select(SourceRecord).where(SourceRecord.source == source)).all()
        occurrence_ids = sorted({r.occurrence_id for r in records})
        event_ids = sorted({r.event_id for r in records})
        occurrences = session.scalars(select(Occurrence).where(Occurrence.id.in_(occurrence_ids))).all()
        offers = session.scalars(select(Offer).where(Offer.occurrence_id.in_(occurrence_ids))).all()
        events = session.scalars(select(Event).where(Event.id.in_(event_ids))).all()
        return {
            "records": sorted((_row(r) for r in records), key=lambda r: r["record_id"]),
            "occurrences": sorted((_row(o) for o in occurrences), key=lambda o: o["id"]),
            "offers": sorted((_row(o) for o in offers), key=lambda o: (o["occurrence_id"], o["source"])),
            "events": sorted((_row(e) for e in events), key=lambda e: e["id"]),
        }
