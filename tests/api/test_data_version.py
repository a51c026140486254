"""The data version moves with every kind of write of public data, each done the way its writer does it.

The version reads only index-backed maxima (and counts of the small venue and redirect tables), so
these check that each writer leaves a trace it sees — within the same clock tick as the data was built,
where no ``updated_at`` moves, unless the writer itself moves one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from fixed_clock import NOW, clock
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.audit import Actor
from aggregator.config import Settings
from aggregator.derive import Priority
from aggregator.event_edits import editing, hide_event
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing, OfferListing
from aggregator.models import Event, EventRedirect, Occurrence, Offer, Venue
from aggregator.store import merge_events, rederive
from aggregator.types import Status
from calendar_api.queries import current_version
from scheduler.housekeeping import purge_cancelled

Write = Callable[[Settings, sessionmaker[Session]], None]


def _listing(record_id: str, title: str, day: int, *, offers: bool = True) -> Listing:
    priced = [OfferListing(price_min=Decimal("12"), price_max=Decimal("25"))] if offers else []
    return Listing(
        source="konzerthaus",
        record_id=record_id,
        title=title,
        fetched_at=NOW,
        start=datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        venue_name="Konzerthaus Dortmund",
        url=f"https://example.org/{record_id}",
        offers=priced,
    )


def _programme(*, jazz_offers: bool = True, jazz_title: str = "Jazz im Foyer") -> list[Listing]:
    return [
        _listing("zf-1", "Die Zauberflöte", 1),
        _listing("zf-2", "Die Zauberflöte", 2),
        _listing("jazz-1", jazz_title, 10, offers=jazz_offers),
        _listing("kammer-1", "Kammermusik", 15),
    ]


def _ingest(settings: Settings, factory: sessionmaker[Session], listings: list[Listing]) -> None:
    ctx = IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock())
    ingest(ctx, "konzerthaus", listings, now=NOW)


def _event_id(factory: sessionmaker[Session], title: str) -> str:
    with factory() as session:
        return session.scalars(select(Event.id).where(Event.title == title)).one()


def _offer_removed(settings: Settings, factory: sessionmaker[Session]) -> None:
    _ingest(settings, factory, _programme(jazz_offers=False))
    with factory() as session:  # the write did what the case says
        jazz = _event_id(factory, "Jazz im Foyer")
        assert not session.scalars(select(Offer).join(Occurrence).where(Occurrence.event_id == jazz)).all()


def _retitled(settings: Settings, factory: sessionmaker[Session]) -> None:
    _ingest(settings, factory, _programme(jazz_title="Jazz im Foyer: Quartett"))


def _venue_renamed(settings: Settings, factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        session.execute(
            update(Venue)
            .where(Venue.slug == "konzerthaus-dortmund")
            .values(
                name="Konzerthaus Dortmund – Philharmonie für Westfalen",
                updated_at=NOW + timedelta(minutes=1),
            )
        )


def _event_hidden(settings: Settings, factory: sessionmaker[Session]) -> None:
    jazz = _event_id(factory, "Jazz im Foyer")
    with editing(factory) as session:
        hide_event(
            session,
            jazz,
            "Doppelt",
            actor=Actor(1, "redaktion@dortmund.de"),
            now=NOW,
            priority=Priority(settings.dedupe.priority, {}),
        )


def _occurrence_purged(settings: Settings, factory: sessionmaker[Session]) -> None:
    counts = purge_cancelled(factory, retention=timedelta(days=30), now=NOW)
    assert counts.occurrences == 1


def _redirect_added(settings: Settings, factory: sessionmaker[Session]) -> None:
    loser, survivor = _event_id(factory, "Kammermusik"), _event_id(factory, "Jazz im Foyer")
    with factory() as session, session.begin():
        merge_events(session, loser, survivor, NOW)
        rederive(session, Priority(settings.dedupe.priority, {}), {survivor}, set(), NOW)
    with factory() as session:
        assert session.get(EventRedirect, loser) is not None


def _old_cancelled(factory: sessionmaker[Session]) -> None:
    """Make Kammermusik's date a long-past cancelled one, as the purge finds them (before the version)."""
    long_ago = NOW - timedelta(days=90)
    with factory() as session, session.begin():
        kammer = session.scalars(select(Event.id).where(Event.title == "Kammermusik")).one()
        session.execute(
            update(Occurrence)
            .where(Occurrence.event_id == kammer)
            .values(status=Status.CANCELLED.value, start=long_ago, updated_at=long_ago)
        )


@pytest.mark.parametrize(
    "write",
    [_offer_removed, _retitled, _venue_renamed, _event_hidden, _occurrence_purged, _redirect_added],
    ids=lambda write: write.__name__.strip("_"),
)
def test_each_kind_of_write_moves_the_version(
    settings: Settings, factory: sessionmaker[Session], write: Write
) -> None:
    _ingest(settings, factory, _programme())
    before = current_version(factory)
    _ingest(settings, factory, _programme())  # an unchanged re-run at the same instant moves nothing
    assert current_version(factory) == before
    if write is _occurrence_purged:
        _old_cancelled(factory)
        before = current_version(factory)
    write(settings, factory)
    assert current_version(factory).token != before.token


def test_version_is_stable_without_writes(settings: Settings, factory: sessionmaker[Session]) -> None:
    _ingest(settings, factory, _programme())
    assert current_version(factory) == current_version(factory)
