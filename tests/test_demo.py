"""The demo two years after its snapshots: dates moved by whole weeks, upcoming events, and a notice saying so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.models import Event, Occurrence
from aggregator.types import BERLIN, RunStatus
from scheduler.service import SchedulerService
from stadtkalender.cli import load_demo
from stadtkalender.runtime import Runtime

LATER = datetime(2028, 12, 6, 11, 0, tzinfo=UTC)  # a Wednesday, 106 whole weeks after 2026-11-21
NOTICE_DE = "Demo: Termine aus Momentaufnahmen vom 21.11.2026, um 106 Wochen verschoben."
NOTICE_EN = "Demo: events from snapshots of 21 November 2026, moved 106 weeks forward."


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The demo loaded into a fresh SQLite database as if started at :data:`LATER`."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.db'}")
        runtime = load_demo(LATER)
    yield runtime
    runtime.engine.dispose()


@pytest.fixture(scope="module")
def client(demo: Runtime) -> Iterator[TestClient]:
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    with TestClient(
        create_app(demo, clock=lambda: LATER, extensions=EXTENSIONS), base_url="http://testserver"
    ) as test_client:
        yield test_client


def _starts(runtime: Runtime, title: str) -> list[datetime]:
    with runtime.factory() as session:
        rows = session.scalars(select(Occurrence.start).join(Event).where(Event.title == title))
        return sorted(start.astimezone(BERLIN) for start in rows)


def test_the_demo_moves_its_snapshots_by_every_whole_week_since_they_were_current(demo: Runtime) -> None:
    assert (demo.settings.demo.shift_weeks, demo.ingest_context.shift_weeks) == (106, 106)


def test_there_are_upcoming_events_two_years_later(demo: Runtime) -> None:
    with demo.factory() as session:
        upcoming = session.scalar(
            select(func.count()).select_from(Occurrence).where(Occurrence.start > LATER)
        )
        past = session.scalar(select(func.count()).select_from(Occurrence).where(Occurrence.start < LATER))
    assert upcoming is not None and upcoming > 300
    assert past == 0  # as at the snapshots' own day: nothing was over yet


def test_a_saturday_concert_stays_at_eight_on_a_saturday_across_the_spring_change(demo: Runtime) -> None:
    # Helene Fischer, Westfalenhallen: "Fr 19.03.2027, 20:00 Uhr" and "Sa 20.03.2027, 20:00 Uhr" (winter
    # time) in the snapshot; 106 weeks later is after the change to summer time on 25 March 2029
    starts = _starts(demo, "Helene Fischer")
    assert starts == [
        datetime(2029, 3, 30, 20, 0, tzinfo=BERLIN),
        datetime(2029, 3, 31, 20, 0, tzinfo=BERLIN),
    ]
    assert [(s.weekday(), s.utcoffset()) for s in starts] == [
        (4, timedelta(hours=2)),
        (5, timedelta(hours=2)),
    ]


def test_every_source_loaded(demo: Runtime) -> None:
    from aggregator.health import recent_runs

    for name in demo.specs:
        runs = recent_runs(demo.factory, name, limit=1)
        assert runs and runs[0].status == RunStatus.SUCCESS.value, name
        assert "demo: every date moved 106 weeks forward from the snapshot" in (runs[0].warnings or []), name


def test_a_scheduled_run_of_the_same_process_moves_the_dates_alike(demo: Runtime) -> None:
    service = SchedulerService(demo, offline=True, clock=lambda: LATER)
    outcome = service.run_job("konzerthaus", now=LATER)
    assert outcome.report is not None, outcome.skipped
    report = outcome.report
    assert report.status == RunStatus.SUCCESS
    assert (report.added, report.updated, report.unchanged) == (0, 0, report.listings)


def test_the_calendar_page_says_the_dates_were_moved_and_shows_upcoming_days(client: TestClient) -> None:
    german = client.get("/", headers={"Accept-Language": "de"})
    assert german.status_code == 200
    assert NOTICE_DE in german.text
    assert "Samstag, 9. Dezember 2028" in german.text
    assert NOTICE_EN in client.get("/?lang=en").text


def test_the_feed_description_says_the_dates_were_moved(client: TestClient) -> None:
    response = client.get("/feeds/events.ics")
    assert response.status_code == 200
    text = response.text.replace("\r\n ", "").replace("\\,", ",")  # unfolded, commas unescaped
    assert f"X-WR-CALDESC:{NOTICE_DE} {NOTICE_EN}" in text
    assert f"DESCRIPTION:{NOTICE_DE}" in text
    assert text.count("BEGIN:VEVENT") > 100
