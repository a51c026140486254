"""The import pipeline on SQLite and PostgreSQL: idempotence, identity, vanishing, the guard."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from calendar_rows import count
from fixed_clock import NOW, clock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.held_runs import confirm_run
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing, OfferListing
from aggregator.models import Event, EventRedirect, Occurrence, SourceRecord, SourceRun
from aggregator.types import RunStatus, Status


def _listing(source: str, record_id: str, title: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
        "url": f"https://example.org/{record_id}",
    }
    values.update(extra)
    return Listing(**values)


def _programme(source: str = "konzerthaus", title: str = "Die Zauberflöte", n: int = 8) -> list[Listing]:
    return [
        _listing(
            source,
            f"zf-{day}",
            title,
            day,
            series_key="zauberfloete",
            offers=[OfferListing(price_text="Tickets 24 € – 43 €")],
        )
        for day in range(1, n + 1)
    ]


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return IngestContext(
        factory, settings, kinds={"konzerthaus": "venue", "dortmund_de": "city"}, clock=clock()
    )


def _sequences(factory: sessionmaker[Session]) -> dict[str, int]:
    with factory() as session:
        return {k: v for k, v in session.execute(select(Occurrence.id, Occurrence.sequence)).all()}


def test_one_production_becomes_one_event_with_all_dates(ctx: IngestContext) -> None:
    report = ingest(ctx, "konzerthaus", _programme(), now=NOW)
    assert (report.status, report.added) == (RunStatus.SUCCESS, 8)
    assert count(ctx.factory, Event) == 1
    assert count(ctx.factory, Occurrence) == 8


def test_same_input_twice_changes_nothing(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(), now=NOW)
    before = _sequences(ctx.factory)
    report = ingest(ctx, "konzerthaus", _programme(), now=NOW + timedelta(hours=6))
    assert (report.added, report.updated, report.unchanged) == (0, 0, 8)
    assert _sequences(ctx.factory) == before
    assert count(ctx.factory, Occurrence) == 8


def test_ids_survive_title_edit_and_reordering(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(), now=NOW)
    with ctx.factory() as session:
        before = {r.record_id: (r.event_id, r.occurrence_id) for r in session.scalars(select(SourceRecord))}
    edited = list(reversed(_programme(title="Die Zauberflöte (Neuinszenierung)")))
    ingest(ctx, "konzerthaus", edited, now=NOW + timedelta(hours=1))
    with ctx.factory() as session:
        after = {r.record_id: (r.event_id, r.occurrence_id) for r in session.scalars(select(SourceRecord))}
        title = session.scalar(select(Event.title))
    assert after == before
    assert title == "Die Zauberflöte (Neuinszenierung)"


def test_visible_change_raises_sequence_of_that_occurrence_only(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(), now=NOW)
    before = _sequences(ctx.factory)
    changed = _programme()
    changed[2] = changed[2].evolve(
        offers=[OfferListing(price_text="Tickets 24 € – 43 €", availability_text="ausverkauft")]
    )
    ingest(ctx, "konzerthaus", changed, now=NOW + timedelta(hours=1))
    after = _sequences(ctx.factory)
    bumped = {key for key in after if after[key] != before[key]}
    assert len(bumped) == 1
    assert after[bumped.pop()] == 1


def test_vanished_listing_is_cancelled_after_two_successful_runs(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(), now=NOW)
    shorter = _programme()[:-1]
    ingest(ctx, "konzerthaus", shorter, now=NOW + timedelta(hours=1))
    with ctx.factory() as session:
        statuses = set(session.scalars(select(Occurrence.status)))
    assert statuses == {Status.SCHEDULED.value}
    report = ingest(ctx, "konzerthaus", shorter, now=NOW + timedelta(hours=2))
    assert report.cancelled == 1
    with ctx.factory() as session:
        cancelled = session.scalars(select(Occurrence).where(Occurrence.status == "cancelled")).all()
    assert [o.start.day for o in cancelled] == [8]
    assert cancelled[0].sequence == 1


def test_mass_disappearance_is_held_back_and_changes_nothing(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(n=20), now=NOW)
    before = _sequences(ctx.factory)
    report = ingest(ctx, "konzerthaus", _programme(n=3), now=NOW + timedelta(hours=1))
    assert report.status == RunStatus.SUSPICIOUS
    assert "17 of 20" in (report.error or "")
    assert _sequences(ctx.factory) == before
    with ctx.factory() as session:
        records = session.scalars(select(SourceRecord)).all()
        assert all(r.missing_runs == 0 for r in records)
    confirmed = confirm_run(ctx, report.run_id)
    assert confirmed.status == RunStatus.SUCCESS
    with ctx.factory() as session:
        held = session.get_one(SourceRun, report.run_id)
        assert held.status == RunStatus.CONFIRMED.value
        assert sum(r.missing_runs for r in session.scalars(select(SourceRecord))) == 17


def test_empty_run_after_a_full_one_is_suspicious(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(n=10), now=NOW)
    report = ingest(ctx, "konzerthaus", [], now=NOW + timedelta(hours=1))
    assert report.status == RunStatus.SUSPICIOUS


def test_same_performance_from_two_sources_is_one_occurrence_with_both_offers(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(n=3), now=NOW)
    city = [
        _listing(
            "dortmund_de",
            "city-1",
            "DIE ZAUBERFLÖTE",
            2,
            venue_name="Konzerthaus",
            offers=[OfferListing(price_text="ab 24 €", url="https://tickets.example/zf")],
        )
    ]
    ingest(ctx, "dortmund_de", city, now=NOW)
    assert count(ctx.factory, Event) == 1
    assert count(ctx.factory, Occurrence) == 3
    with ctx.factory() as session:
        shared = [o for o in session.scalars(select(Occurrence)) if len(o.records) == 2]
        assert len(shared) == 1
        occurrence = shared[0]
        assert sorted(o.source for o in occurrence.offers) == ["dortmund_de", "konzerthaus"]
        event = session.scalars(select(Event)).one()
        assert event.title == "Die Zauberflöte"  # the venue outranks the city portal
        assert event.field_sources["title"] == "konzerthaus"


def test_traps_stay_apart(ctx: IngestContext) -> None:
    listings = [
        _listing("konzerthaus", "a", "Die Zauberflöte", 5),
        _listing(
            "konzerthaus", "b", "Die Zauberflöte für Kinder", 5, start=datetime(2026, 12, 5, 10, tzinfo=UTC)
        ),
        _listing("konzerthaus", "c", "2. Philharmonisches Konzert", 6),
        _listing("konzerthaus", "d", "3. Philharmonisches Konzert", 7),
    ]
    ingest(ctx, "konzerthaus", listings, now=NOW)
    city = [
        _listing(
            "dortmund_de", "x", "Die Zauberflöte für Kinder", 5, start=datetime(2026, 12, 5, 10, tzinfo=UTC)
        ),
        _listing("dortmund_de", "y", "3. Philharmonisches Konzert", 7),
    ]
    ingest(ctx, "dortmund_de", city, now=NOW)
    assert count(ctx.factory, Event) == 4
    assert count(ctx.factory, Occurrence) == 4


def test_merge_keeps_older_id_and_redirects(ctx: IngestContext) -> None:
    first = _listing("konzerthaus", "r1", "Die Zauberflöte", 1, series_key="s1")
    ingest(ctx, "konzerthaus", [first], now=NOW)
    second = _listing("konzerthaus", "r2", "Carmen", 2, series_key="s2")
    ingest(ctx, "konzerthaus", [first, second], now=NOW + timedelta(hours=1))
    with ctx.factory() as session:
        older = session.scalars(select(SourceRecord.event_id).where(SourceRecord.record_id == "r1")).one()
        newer = session.scalars(select(SourceRecord.event_id).where(SourceRecord.record_id == "r2")).one()
    assert older != newer
    regrouped = [first, second.evolve(series_key="s1", title="Die Zauberflöte")]
    ingest(ctx, "konzerthaus", regrouped, now=NOW + timedelta(hours=2))
    with ctx.factory() as session:
        assert list(session.scalars(select(Event.id))) == [older]
        redirect = session.get_one(EventRedirect, newer)
        assert redirect.event_id == older
        assert set(session.scalars(select(SourceRecord.event_id))) == {older}


def test_rejected_records_are_counted_and_the_rest_imported(ctx: IngestContext) -> None:
    listings = [*_programme(n=4), _listing("konzerthaus", "broken", "Ohne Datum", 1, start=None)]
    report = ingest(ctx, "konzerthaus", listings, now=NOW)
    assert (report.status, report.added, report.rejected) == (RunStatus.SUCCESS, 4, 1)


def test_a_run_of_mostly_garbage_fails_and_writes_nothing(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", _programme(n=2), now=NOW)
    garbage = [_listing("konzerthaus", f"g{i}", "x", 1, start=None) for i in range(10)]
    report = ingest(ctx, "konzerthaus", garbage, now=NOW + timedelta(hours=1))
    assert report.status == RunStatus.FAILED
    assert "only 0 of 10" in (report.error or "")
    assert count(ctx.factory, Occurrence) == 2


def test_never_merge_rule_splits_a_wrong_merge_on_the_next_run(ctx: IngestContext) -> None:
    from dataclasses import replace

    from aggregator import ids

    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Die Zauberflöte", 5)], now=NOW)
    city = [_listing("dortmund_de", "c1", "Die Zauberflöte", 5, venue_name="Konzerthaus")]
    ingest(ctx, "dortmund_de", city, now=NOW)
    assert (count(ctx.factory, Event), count(ctx.factory, Occurrence)) == (1, 1)

    dedupe_settings = replace(ctx.settings.dedupe, never_merge=["konzerthaus:r1 | dortmund_de:c1"])
    ctx.settings = replace(ctx.settings, dedupe=dedupe_settings)
    ingest(ctx, "dortmund_de", city, now=NOW + timedelta(hours=1))
    assert (count(ctx.factory, Event), count(ctx.factory, Occurrence)) == (2, 2)
    with ctx.factory() as session:
        city_record = session.scalars(select(SourceRecord).where(SourceRecord.source == "dortmund_de")).one()
        assert city_record.event_id == ids.event_id("dortmund_de", "c1")
    # and it stays apart on later runs of either source
    ingest(
        ctx,
        "konzerthaus",
        [_listing("konzerthaus", "r1", "Die Zauberflöte", 5)],
        now=NOW + timedelta(hours=2),
    )
    ingest(ctx, "dortmund_de", city, now=NOW + timedelta(hours=3))
    assert (count(ctx.factory, Event), count(ctx.factory, Occurrence)) == (2, 2)


def test_always_merge_rule_joins_two_events(ctx: IngestContext) -> None:
    from dataclasses import replace

    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "a1", "Carmen", 5)], now=NOW)
    ingest(ctx, "dortmund_de", [_listing("dortmund_de", "b1", "Bizet-Abend", 9)], now=NOW)
    assert count(ctx.factory, Event) == 2
    dedupe_settings = replace(ctx.settings.dedupe, always_merge=["konzerthaus:a1 | dortmund_de:b1"])
    ctx.settings = replace(ctx.settings, dedupe=dedupe_settings)
    ingest(
        ctx, "dortmund_de", [_listing("dortmund_de", "b1", "Bizet-Abend", 9)], now=NOW + timedelta(hours=1)
    )
    assert count(ctx.factory, Event) == 1
    assert count(ctx.factory, EventRedirect) == 1


def test_a_record_id_repeated_within_one_run_is_written_once(ctx: IngestContext) -> None:
    twice = [*_programme(n=2), _programme(n=2)[0].evolve(title="Die Zauberflöte (Zusatztermin)")]
    report = ingest(ctx, "konzerthaus", twice, now=NOW)
    assert (report.status, report.added) == (RunStatus.SUCCESS, 2)
    assert any("repeated a record id" in w for w in report.warnings)


def test_a_second_source_joining_then_an_unchanged_rerun_keeps_sequence(ctx: IngestContext) -> None:
    from zoneinfo import ZoneInfo

    berlin = ZoneInfo("Europe/Berlin")
    venue = [
        _listing(
            "konzerthaus",
            "v1",
            "Kosmos",
            5,
            start=datetime(2026, 12, 5, 20, 10, tzinfo=berlin),
            offers=[OfferListing(price_text="Tickets 24 €")],
        )
    ]
    city = [
        _listing(
            "dortmund_de",
            "c1",
            "Kosmos",
            5,
            start=datetime(2026, 12, 5, 20, tzinfo=berlin),
            venue_name="Konzerthaus",
        )
    ]
    ingest(ctx, "dortmund_de", city, now=NOW)
    ingest(ctx, "konzerthaus", venue, now=NOW)
    before = _sequences(ctx.factory)
    ingest(ctx, "dortmund_de", city, now=NOW + timedelta(hours=1))
    ingest(ctx, "konzerthaus", venue, now=NOW + timedelta(hours=1))
    assert _sequences(ctx.factory) == before


def test_an_unchanged_run_derives_nothing_again_and_a_changed_record_only_its_own(
    ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    import aggregator.store as store
    from aggregator.derive import derive_occurrence

    derived: list[str] = []

    def counting(occurrence: Occurrence, *args: Any, **kwargs: Any) -> bool:
        derived.append(occurrence.id)
        return derive_occurrence(occurrence, *args, **kwargs)

    ingest(ctx, "konzerthaus", _programme(), now=NOW)
    monkeypatch.setattr(store, "derive_occurrence", counting)
    ingest(ctx, "konzerthaus", _programme(), now=NOW + timedelta(hours=6))
    assert derived == []
    programme = _programme()
    programme[2] = programme[2].evolve(title="Die Zauberflöte (Kinderfassung)")
    report = ingest(ctx, "konzerthaus", programme, now=NOW + timedelta(hours=12))
    with ctx.factory() as session:
        changed = session.scalars(
            select(SourceRecord.occurrence_id).where(SourceRecord.record_id == "zf-3")
        ).one()
    assert (report.updated, derived) == (1, [changed])
