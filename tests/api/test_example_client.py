"""The README's example client (examples/mirror.py) against a running server: it mirrors the calendar from
the export, then follows the change feed through an update, a cancellation, a merge, a new event and a
deletion, resuming from its state file, and ends equal to what the API says."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from calendar_rows import Runtime
from fixed_clock import NOW, clock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, SourceRecord
from aggregator.types import Status
from calendar_api.app import create_app
from calendar_api.dumps import write_exports
from scheduler.housekeeping import purge_cancelled

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mirror.py"


def _listing(record_id: str, title: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": "konzerthaus",
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
    }
    values.update(extra)
    return Listing(**values)


@pytest.fixture
def served(
    settings: Settings, engine: Any, factory: sessionmaker[Session], tmp_path: Path
) -> Iterator[Settings]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    open_data = replace(settings.open_data, export_dir=str(tmp_path / "open-data"))
    here = replace(settings, server=replace(settings.server, base_url=url), open_data=open_data)
    app = create_app(Runtime(here, engine, factory, {}), clock=lambda: NOW, extensions=(), version_ttl=0)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.02)
    yield here
    server.should_exit = True
    thread.join(10)


def _mirror(settings: Settings, state: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), settings.server.base_url, "--state", str(state), "--once"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded: dict[str, Any] = json.loads(state.read_text("utf-8"))
    return loaded


def _truth(settings: Settings, factory: sessionmaker[Session]) -> dict[str, Any]:
    with factory() as session:
        ids = list(session.scalars(select(Event.id)))
    app = create_app(
        Runtime(settings, factory.kw["bind"], factory, {}), clock=lambda: NOW, extensions=(), version_ttl=0
    )
    found = {}
    with TestClient(app) as client:
        for event_id in ids:
            body = client.get(f"/api/v1/events/{event_id}").json()
            occurrences = {o["id"]: {"start": o["start"], "status": o["status"]} for o in body["occurrences"]}
            found[event_id] = {"title": body["title"], "occurrences": occurrences}
    return found


@pytest.mark.slow
@pytest.mark.realtime  # a real uvicorn server in a thread and the example as a subprocess
def test_the_example_mirrors_the_calendar_and_stays_current(
    served: Settings, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    ctx = IngestContext(factory, served, kinds={"konzerthaus": "venue"}, clock=clock())
    carmen = [_listing(f"c{day}", "Carmen", day, series_key="carmen") for day in (5, 6, 7)]
    programme = [
        *carmen,
        _listing("t1", "Tosca", 9),
        _listing("z1", "Die Zauberflöte", 11, series_key="s1"),
        _listing("a1", "Aida", 12, series_key="s2"),
    ]
    ingest(ctx, "konzerthaus", programme, now=NOW)
    write_exports(factory, served, now=NOW)
    ingest(ctx, "konzerthaus", [*programme, _listing("n1", "Nabucco", 14)], now=NOW + timedelta(minutes=5))
    state = tmp_path / "mirror.json"
    first = _mirror(served, state)  # the export, then the change after it (Nabucco)
    assert first["events"] == _truth(served, factory)

    later = NOW + timedelta(hours=1)
    programme[3] = programme[3].evolve(title="Tosca (konzertant)")
    programme[1] = programme[1].evolve(status=Status.CANCELLED)
    programme[5] = programme[5].evolve(series_key="s1", title="Die Zauberflöte")
    ingest(ctx, "konzerthaus", [*programme, _listing("n1", "Nabucco", 14)], now=later)
    with factory() as session, session.begin():  # the cancelled date lies long past: housekeeping deletes it
        record = session.scalars(select(SourceRecord).where(SourceRecord.record_id == "c6")).one()
        gone = session.get_one(Occurrence, record.occurrence_id)
        gone.start, gone.updated_at = NOW - timedelta(days=60), NOW - timedelta(days=60)
    purge_cancelled(factory, retention=timedelta(days=30), now=later)
    second = _mirror(served, state)
    truth = _truth(served, factory)
    assert second["events"] == truth
    assert int(second["cursor"]) > int(first["cursor"])
    assert len(truth) == 4 and "Tosca (konzertant)" in {e["title"] for e in truth.values()}
