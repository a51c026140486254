"""One poisoned listing among good ones, on SQLite and PostgreSQL: the good ones are stored, the bad one reported."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from fixed_clock import NOW
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing, Rejection
from aggregator.models import Occurrence, SourceRecord, SourceRun
from aggregator.normalise.venues import VenueMatch, VenueRegistry, load_venues
from aggregator.types import RunStatus
from aggregator.venue_registry import load_registry


def _listing(record_id: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": "import",
        "record_id": record_id,
        "title": f"Jazz am {day}.",
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "domicil",
    }
    values.update(extra)
    return Listing(**values)


class _PoisonedRegistry(VenueRegistry):
    """The real registry, except that one venue string makes it fail as a defect would."""

    def resolve(self, name: str | None, address: str | None = None) -> VenueMatch:
        if name == "Giftschrank":
            raise RuntimeError("registry defect")
        return super().resolve(name, address)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch) -> IngestContext:
    """Runs match against the stored registry, poisoned as it is loaded."""

    def poisoned(session: Session, seed: VenueRegistry | None = None) -> VenueRegistry:
        return _PoisonedRegistry(load_registry(session, seed).all())

    monkeypatch.setattr("aggregator.ingest.load_registry", poisoned)
    return IngestContext(factory, settings, venues=load_venues(), clock=FixedClock(NOW))


def _stored(factory: sessionmaker[Session]) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(SourceRecord.record_id)))


def _run(factory: sessionmaker[Session], run_id: int) -> SourceRun:
    with factory() as session:
        return session.get_one(SourceRun, run_id)


def test_a_step_failing_on_one_listing_stores_the_others_and_records_why(ctx: IngestContext) -> None:
    good = [_listing(f"ok-{day}", day) for day in range(1, 10)]
    report = ingest(
        ctx, "import", [*good[:4], _listing("poison", 10, venue_name="Giftschrank"), *good[4:]], now=NOW
    )
    assert (report.status, report.added, report.rejected) == (RunStatus.SUCCESS, 9, 1)
    assert _stored(ctx.factory) == {item.record_id for item in good}
    expected = Rejection(
        "import", "poison", "RuntimeError: registry defect", None, "resolve_venue", "RuntimeError"
    )
    assert report.rejections == [expected]
    stored = _run(ctx.factory, report.run_id).warnings
    assert [Rejection.from_data(entry) for entry in stored if isinstance(entry, dict)] == [expected]


def test_venue_texts_that_name_nothing_cost_no_listing(ctx: IngestContext) -> None:
    odd = [
        _listing("comma", 1, venue_name=","),
        _listing("dash", 2, venue_name=" - "),
        _listing("blank", 3, venue_name="   "),
        _listing("empty", 4, venue_name=""),
        _listing("ok", 5),
    ]
    report = ingest(ctx, "import", odd, now=NOW)
    assert (report.status, report.added, report.rejected) == (RunStatus.SUCCESS, 5, 0)


def test_oversized_texts_are_cut_and_an_oversized_record_id_rejects_that_listing_only(
    ctx: IngestContext,
) -> None:
    huge = [
        _listing("long-title", 1, title="Jazz " * 2000),
        _listing("long-venue", 2, venue_name="Keller " * 500),
        _listing("x" * 2000, 3),
        _listing("ok", 4, room="Saal " * 100, url="https://example.org/" + "a" * 3000),
    ]
    report = ingest(ctx, "import", huge, now=NOW)
    assert (report.status, report.added, report.rejected) == (RunStatus.SUCCESS, 3, 1)
    assert report.rejections[0].field == "record_id"
    assert _stored(ctx.factory) == {"long-title", "long-venue", "ok"}


def test_a_run_of_mostly_poisoned_listings_still_fails_the_valid_ratio_and_writes_nothing(
    ctx: IngestContext,
) -> None:
    poisoned = [_listing(f"p{day}", day, venue_name="Giftschrank") for day in range(1, 10)]
    report = ingest(ctx, "import", [*poisoned, _listing("ok", 10)], now=NOW)
    assert report.status == RunStatus.FAILED
    assert "only 1 of 10 listings are valid" in (report.error or "")
    with ctx.factory() as session:
        assert session.scalar(select(func.count()).select_from(Occurrence)) == 0
    stored = [
        Rejection.from_data(e) for e in _run(ctx.factory, report.run_id).warnings if isinstance(e, dict)
    ]
    assert len(stored) == 9 and {(r.step, r.error) for r in stored} == {("resolve_venue", "RuntimeError")}
