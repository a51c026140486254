"""Full exports: JSON-LD, CSV and iCalendar from one state, the manifest with the change-feed cursor, and
``/open-data/`` serving them with ETag and 304; the scheduler's export job."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import icalendar
import pytest
from _data import NOW, populate
from calendar_rows import Runtime
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.changes import ChangeKind, record_change
from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.models import Change, Event, Occurrence
from calendar_api.app import create_app
from calendar_api.dumps import CSV_COLUMNS, EXPORTS, write_exports
from scheduler.service import ExtraJob, SchedulerService


@pytest.fixture
def open_settings(settings: Settings, tmp_path: Path) -> Settings:
    return replace(settings, open_data=replace(settings.open_data, export_dir=str(tmp_path / "open-data")))


@pytest.fixture
def client(open_settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    populate(factory)
    app = create_app(
        Runtime(open_settings, engine, factory, {}), clock=lambda: NOW, extensions=(), version_ttl=0
    )
    with TestClient(app) as client:
        yield client


def _unpacked(directory: Path, name: str) -> bytes:
    return gzip.decompress((directory / name).read_bytes())


def _occurrences(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(Occurrence)) or 0)


def test_every_date_is_in_every_file_and_the_manifest_names_the_cursor(
    client: TestClient, open_settings: Settings, factory: sessionmaker[Session]
) -> None:
    with factory() as session, session.begin():
        event = session.scalars(select(Event).order_by(Event.id)).first()
        assert event is not None
        record_change(session, ChangeKind.UPDATED, event, now=NOW, fields=["title"])
    manifest = write_exports(factory, open_settings, now=NOW)
    directory = open_settings.project_path(open_settings.open_data.export_dir)
    dates = _occurrences(factory)
    assert [f["name"] for f in manifest["files"]] == [e.name for e in EXPORTS]
    for entry in manifest["files"]:
        packed = (directory / entry["name"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(packed).hexdigest() and entry["bytes"] == len(packed)
        assert entry["records"] == dates
    with factory() as session:
        newest = session.scalar(select(func.max(Change.id)))
    assert manifest["cursor"] == str(newest) and manifest["changes"].endswith(f"?since={manifest['cursor']}")
    assert manifest["licence"]["name"].startswith("Datenlizenz Deutschland")

    rows = list(csv.reader(io.StringIO(_unpacked(directory, "occurrences.csv.gz").decode("utf-8"))))
    assert rows[0] == [name for name, _ in CSV_COLUMNS] and len(rows) == dates + 1
    assert [c["name"] for c in manifest["csv_columns"]] == rows[0]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    mahler = by_id["ocmahler1"]
    assert mahler["event_id"] == "evmahler" and mahler["venue_slug"] == "konzerthaus-dortmund"
    assert datetime.fromisoformat(mahler["start"]).utcoffset() is not None

    graph = json.loads(_unpacked(directory, "events.jsonld.gz"))
    assert graph["@context"] == "https://schema.org" and len(graph["@graph"]) == dates
    assert {item["@type"] for item in graph["@graph"]} == {"Event"}
    assert any(item["@id"].endswith("/events/evmahler#ocmahler1") for item in graph["@graph"])

    calendar = icalendar.Calendar.from_ical(_unpacked(directory, "events.ics.gz"))
    assert len(calendar.walk("VEVENT")) == dates


def test_the_files_are_served_with_stable_urls_etag_and_304(
    client: TestClient, open_settings: Settings, factory: sessionmaker[Session]
) -> None:
    assert client.get("/open-data/").status_code == 404
    assert client.get("/open-data/occurrences.csv.gz").status_code == 404
    manifest = write_exports(factory, open_settings, now=NOW)
    served = client.get("/open-data/")
    assert served.status_code == 200 and served.json() == manifest
    entry = manifest["files"][1]
    response = client.get(f"/open-data/{entry['name']}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/gzip"
    assert response.headers["etag"] == f'"{entry["sha256"]}"'
    assert hashlib.sha256(response.content).hexdigest() == entry["sha256"]
    again = client.get(f"/open-data/{entry['name']}", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    assert client.get("/open-data/manifest.json").json() == manifest
    missing = client.get("/open-data/..%2Fsettings.toml")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"
    assert client.get("/open-data/other.csv.gz").status_code == 404


def test_the_same_state_exports_the_same_bytes(
    client: TestClient, open_settings: Settings, factory: sessionmaker[Session]
) -> None:
    first = write_exports(factory, open_settings, now=NOW)
    second = write_exports(factory, open_settings, now=NOW)
    assert [f["sha256"] for f in first["files"]] == [f["sha256"] for f in second["files"]]


def test_the_scheduler_runs_the_export_job_and_survives_its_failure(
    open_settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    populate(factory)
    written: list[datetime] = []

    def export(now: datetime) -> None:
        write_exports(factory, open_settings, now=now)
        written.append(now)

    def broken(_now: datetime) -> None:
        raise OSError("disk full")

    runtime = Runtime(open_settings, engine, factory, {})
    service = SchedulerService(
        runtime,  # type: ignore[arg-type]
        clock=FixedClock(NOW),
        jobs=[ExtraJob("export", "0 4 * * *", export), ExtraJob("broken", "0 5 * * *", broken)],
    )
    assert service.run_extra(service.jobs[0]) is True and written == [NOW]
    assert (open_settings.project_path(open_settings.open_data.export_dir) / "manifest.json").exists()
    assert service.run_extra(service.jobs[1]) is False
