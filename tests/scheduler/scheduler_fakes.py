"""Helpers for the scheduler tests: stored rows built directly, and snapshots of a source's data."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bs4 import BeautifulSoup
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, Offer, SourceRecord
from sources.base import Document, LayoutChanged, Source, SourceResult
from sources.catalog import SourceSpec


def add_occurrence(
    session: Session,
    occurrence_id: str,
    event_id: str,
    *,
    start: datetime,
    status: str,
    updated_at: datetime,
    source: str = "fzw",
) -> None:
    """Store an occurrence (and its event if new) with one offer and one record from ``source``."""
    if session.get(Event, event_id) is None:
        session.add(
            Event(
                id=event_id,
                title=f"Event {event_id}",
                title_key=event_id,
                categories=[],
                field_sources={},
                created_at=updated_at,
                updated_at=updated_at,
            )
        )
        session.flush()
    session.add(
        Occurrence(
            id=occurrence_id,
            event_id=event_id,
            start=start,
            status=status,
            created_at=updated_at,
            updated_at=updated_at,
            visible_hash="",
        )
    )
    session.flush()
    session.add(Offer(occurrence_id=occurrence_id, source=source, price_text="10 €"))
    session.add(
        SourceRecord(
            source=source,
            record_id=f"rec-{occurrence_id}",
            fetched_at=updated_at,
            content_hash="h",
            raw={},
            data={},
            event_id=event_id,
            occurrence_id=occurrence_id,
            first_seen=updated_at,
            last_seen=updated_at,
            active=status != "cancelled",
        )
    )


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


# -- fake sources -------------------------------------------------------------------------------

BASE_DAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=10)
"""Listings start from here: in the future for the whole test session."""

_RUN_COUNTS: Counter[str] = Counter()
_COUNT_LOCK = threading.Lock()


def runs_of(name: str) -> int:
    """How often a fake source was asked for its listings in this process."""
    with _COUNT_LOCK:
        return _RUN_COUNTS[name]


def _count_run(name: str) -> None:
    with _COUNT_LOCK:
        _RUN_COUNTS[name] += 1


def _start(i: int) -> str:
    return (BASE_DAY + timedelta(days=i, hours=20)).isoformat()


def programme_page(source: str, count: int, *, title: str = "Konzert") -> bytes:
    """A venue page in the markup :class:`ProgrammeSource` knows, with ``count`` future dates."""
    items = "".join(
        f'<li class="event" data-id="{source}-{i}" data-start="{_start(i)}">{title} {i}</li>'
        for i in range(count)
    )
    return f'<html><body><h1>Programm</h1><ul id="programme">{items}</ul></body></html>'.encode()


class ProgrammeSource(Source):
    """A venue website: ``<ul id="programme">`` with one ``<li class="event">`` per date.

    The venue is ``options["venue_name"]`` (default FZW); give each test source its own venue so
    that deduplication never links two test sources.

    ``abstract`` keeps it out of the registry (tests build :class:`SourceSpec` objects directly,
    and the catalog of the real sources must not see it).
    """

    name = "test_programme"
    abstract = True
    venue = "FZW"

    def parse(self, document: Document) -> Iterator[Listing]:
        """Every date on the page; a page without the programme list is a layout change."""
        _count_run(self.source_name)
        soup = BeautifulSoup(document.text, "html.parser")
        programme = soup.find("ul", id="programme")
        if programme is None:
            raise LayoutChanged(self.source_name, "no <ul id='programme'> on the page", document.url)
        for item in programme.find_all("li", class_="event"):
            yield Listing(
                source=self.source_name,
                record_id=str(item["data-id"]),
                title=item.get_text(strip=True),
                fetched_at=document.fetched_at,
                url=document.url,
                start=datetime.fromisoformat(str(item["data-start"])),
                venue_name=str(self.options.get("venue_name", "FZW")),
            )


class ListSource(Source):
    """Listings made up from options: ``count`` dates titled ``title`` (from :data:`BASE_DAY`, or
    ``hours_ago``); ``pause`` seconds first (writing ``marker``), or raise ``fail``."""

    name = "test_list"
    abstract = True

    def run(self) -> SourceResult:
        """The configured listings (no fetching)."""
        _count_run(self.source_name)
        pause = float(self.options.get("pause", 0))
        if pause:
            marker = self.options.get("marker")
            if marker:
                Path(str(marker)).write_text("started")
            time.sleep(pause)
        if self.options.get("fail"):
            raise RuntimeError(str(self.options["fail"]))
        now = datetime.now(UTC)
        hours_ago = self.options.get("hours_ago")
        first = now - timedelta(hours=float(hours_ago)) if hours_ago is not None else BASE_DAY
        return SourceResult(
            [
                Listing(
                    source=self.source_name,
                    record_id=f"{self.source_name}-{i}",
                    title=f"{self.options.get('title', 'Lesung')} {i}",
                    fetched_at=now,
                    start=first + timedelta(days=i, hours=19)
                    if hours_ago is None
                    else first - timedelta(minutes=i),
                    venue_name=str(self.options.get("venue_name", "domicil")),
                )
                for i in range(int(self.options.get("count", 3)))
            ]
        )


class NoFetcher:
    """A fetcher for sources that do not fetch."""

    def new_run(self) -> None:
        """Nothing to reset."""

    def get(self, url: str) -> Document:
        """Never called."""
        raise AssertionError(f"unexpected fetch of {url}")

    def now(self) -> datetime:
        """Never called: without documents there is no recording day to tell."""
        raise AssertionError("unexpected call of now() on a fetcher that does not fetch")


def spec(name: str, cls: type[Source], schedule: str = "interval:6h", **options: Any) -> SourceSpec:
    """A configured source for the tests."""
    return SourceSpec(name=name, cls=cls, options=options, schedule=schedule, kind="venue", enabled=True)
