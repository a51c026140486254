"""Degrade instead of die (issue 19): every site adapter's changed layout, with and without structured data.

Each adapter runs from its fixtures (a good run), then with its start page replaced by its
``changed_layout.html`` (no structured data: the run fails, naming both reasons), then by its
``changed_layout_structured.html`` (the same new layout carrying the programme as JSON-LD, microdata,
RDFa or h-event: the run ends degraded with those events), then from its fixtures again.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from _replay import FIXTURES, changed_folder, context, run
from fixed_clock import NOW
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.degraded import FALLBACK_PREFIX
from aggregator.health import source_health
from aggregator.ingest import ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, SourceRecord, SourceRun
from aggregator.types import Health, RunStatus, Status
from sources.catalog import catalog

SITE_ADAPTERS = [
    "brauerei_museum",
    "dortmund_de",
    "dortmunder_u",
    "fussballmuseum",
    "konzerthaus",
    "mkk",
    "phoenix_des_lumieres",
    "theater_dortmund",
    "westfalenhallen",
    "zoo_westfalenpark",
]


def _visible(factory: sessionmaker[Session], source: str) -> list[tuple[object, ...]]:
    """What the public sees of the source's occurrences (title, start, status, room, offers)."""
    with factory() as session:
        ids = set(
            session.scalars(
                select(SourceRecord.occurrence_id).where(
                    SourceRecord.source == source, SourceRecord.active.is_(True)
                )
            )
        )
        rows = session.scalars(select(Occurrence).where(Occurrence.id.in_(ids))).all()
        return sorted(
            (
                o.event.title,
                o.event.subtitle,
                o.start.isoformat(),
                o.status,
                o.room,
                tuple(sorted((of.price_text or "", of.url or "") for of in o.offers)),
            )
            for o in rows
        )


def test_every_site_adapter_has_both_changed_layouts() -> None:
    for name in SITE_ADAPTERS:
        assert (FIXTURES / name / "changed_layout.html").is_file()
        assert (FIXTURES / name / "changed_layout_structured.html").is_file()
    assert set(SITE_ADAPTERS) == {name for name in catalog_names() if (FIXTURES / name).is_dir()}


def catalog_names() -> set[str]:
    from sources.base import registry
    from sources.catalog import load_adapters

    load_adapters()
    return set(registry())


@pytest.mark.parametrize("name", SITE_ADAPTERS)
def test_a_changed_layout_degrades_with_structured_data_and_fails_without(
    name: str, factory: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    ctx = context(factory, settings)
    good = run(ctx, name, changed_folder(tmp_path / "good", name, None))
    assert good.status == RunStatus.SUCCESS and good.listings
    before = _visible(factory, name)

    without = run(ctx, name, changed_folder(tmp_path / "without", name, "changed_layout.html"))
    assert without.status == RunStatus.FAILED
    assert without.error is not None and "structured-data fallback unusable" in without.error
    assert name in without.error  # the adapter's own reason comes first

    degraded = run(ctx, name, changed_folder(tmp_path / "with", name, "changed_layout_structured.html"))
    assert degraded.status == RunStatus.DEGRADED, degraded.error
    assert degraded.listings == good.listings
    assert (degraded.added, degraded.cancelled) == (0, 0)  # every event found its full record
    assert [row[:4] for row in _visible(factory, name)] == [row[:4] for row in before]  # same dates
    [row] = [r for r in source_health(factory, catalog(settings)) if r.name == name]
    assert row.health == Health.DEGRADED.value
    assert row.last_run is not None and row.last_run.error and "read instead" in row.last_run.error

    restored = run(ctx, name, changed_folder(tmp_path / "again", name, None))
    assert restored.status == RunStatus.SUCCESS
    assert (restored.added, restored.cancelled) == (0, 0)
    assert _visible(factory, name) == before


def _listing(
    number: int, *, source: str = "konzerthaus", record: str | None = None, **fields: object
) -> Listing:
    values: dict[str, object] = {
        "title": f"Sinfoniekonzert Nummer {number}",
        "start": NOW + timedelta(days=10 + number, hours=7),
        "venue_name": "Konzerthaus Dortmund",
        "status_text": None,
    }
    values.update(fields)
    return Listing(
        source=source,
        record_id=record or f"kh-{number}",
        fetched_at=NOW,
        **values,  # type: ignore[arg-type]
    )


def test_a_degraded_run_cancels_nothing_the_fallback_cannot_see(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ctx = context(factory, settings)
    assert ingest(ctx, "konzerthaus", [_listing(n) for n in range(10)], now=NOW).status == RunStatus.SUCCESS
    seen = [_listing(n, record=f"{FALLBACK_PREFIX}page#{n}") for n in range(4)]
    for _ in range(3):  # more than missing_runs_before_cancel
        report = ingest(ctx, "konzerthaus", seen, now=NOW, degraded="layout changed")
        assert report.status == RunStatus.DEGRADED and report.cancelled == 0
    with factory() as session:
        records = session.scalars(select(SourceRecord).where(SourceRecord.source == "konzerthaus")).all()
        assert sorted(r.record_id for r in records) == [f"kh-{n}" for n in range(10)]
        assert all(r.active and r.missing_runs == 0 for r in records)
        run = session.scalars(select(SourceRun).order_by(SourceRun.id.desc())).first()
        assert run is not None and run.status == "degraded" and run.error == "layout changed"


def test_a_good_run_takes_back_what_only_the_fallback_had(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ctx = context(factory, settings)
    ingest(ctx, "konzerthaus", [_listing(n) for n in range(3)], now=NOW)
    extra = _listing(7, record=f"{FALLBACK_PREFIX}https://example.org/e/7#x", url="https://example.org/e/7")
    report = ingest(ctx, "konzerthaus", [extra], now=NOW, degraded="layout changed")
    assert report.added == 1
    with factory() as session:
        provisional = session.scalars(
            select(SourceRecord).where(SourceRecord.record_id.startswith(FALLBACK_PREFIX))
        ).one()
        occurrence = provisional.occurrence_id

    full = [*(_listing(n) for n in range(3)), _listing(7, subtitle="mit Pause")]
    again = ingest(ctx, "konzerthaus", full, now=NOW)
    assert again.status == RunStatus.SUCCESS and (again.added, again.cancelled) == (0, 0)
    with factory() as session:
        record = session.scalars(select(SourceRecord).where(SourceRecord.record_id == "kh-7")).one()
        assert record.occurrence_id == occurrence  # the same occurrence: one UID for subscribers
        assert not session.scalars(
            select(SourceRecord).where(SourceRecord.record_id.startswith(FALLBACK_PREFIX))
        ).all()
        assert session.scalars(select(Event).where(Event.subtitle == "mit Pause")).one()
        assert session.scalars(select(Occurrence).where(Occurrence.status == Status.CANCELLED)).all() == []


def test_a_renamed_event_at_the_same_time_and_place_is_the_same_record(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ctx = context(factory, settings)
    ingest(ctx, "konzerthaus", [_listing(n) for n in range(3)], now=NOW)
    renamed = _listing(1, record=f"{FALLBACK_PREFIX}y", title="Neujahrsgala mit Überraschungsgast")
    report = ingest(ctx, "konzerthaus", [renamed], now=NOW, degraded="layout changed")
    assert (report.added, report.unchanged) == (0, 1)  # the adapter's title stays until it can read again


def test_a_fallback_that_says_nothing_of_a_cancellation_does_not_undo_it(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ctx = context(factory, settings)
    ingest(ctx, "konzerthaus", [_listing(1, status_text="abgesagt")], now=NOW)
    ingest(
        ctx, "konzerthaus", [_listing(1, record=f"{FALLBACK_PREFIX}x")], now=NOW, degraded="layout changed"
    )
    with factory() as session:
        assert session.scalars(select(Occurrence)).one().status == Status.CANCELLED


def test_the_degraded_run_is_in_metrics(factory: sessionmaker[Session], settings: Settings) -> None:
    from prometheus_client import CollectorRegistry, generate_latest

    from aggregator.metrics import DatabaseCollector

    ctx = context(factory, settings)
    ingest(ctx, "konzerthaus", [_listing(1)], now=NOW)
    ingest(ctx, "westfalenhallen", [_listing(1, source="westfalenhallen")], now=NOW, degraded="changed")
    registry = CollectorRegistry()
    registry.register(DatabaseCollector(factory))
    text = generate_latest(registry).decode()
    assert 'stadtkalender_source_degraded{source="westfalenhallen"} 1.0' in text
    assert 'stadtkalender_source_degraded{source="konzerthaus"} 0.0' in text
    assert 'stadtkalender_source_runs_total{source="westfalenhallen",status="degraded"} 1.0' in text
