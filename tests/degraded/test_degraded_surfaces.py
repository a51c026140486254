"""A degraded run is shown where health is shown: ``/api/v1/sources``, the OpenAPI enum, ``/metrics``, the CLI."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from _replay import context
from fixed_clock import NOW, clock
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings, load_settings
from aggregator.db import make_engine, session_factory, upgrade
from aggregator.ingest import ingest
from aggregator.listing import Listing
from sources.catalog import catalog
from stadtkalender.cli import main
from stadtkalender.extensions import METRICS
from stadtkalender.runtime import Runtime

REPO = Path(__file__).resolve().parents[2]


def _hall(number: int) -> Listing:
    return Listing(
        source="westfalenhallen",
        record_id=f"fallback:uid-{number}",
        title=f"Messe Nummer {number}",
        fetched_at=NOW,
        start=NOW + timedelta(days=5 + number),
        venue_name="Westfalenhallen Dortmund",
    )


def test_the_api_and_metrics_show_a_degraded_source(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    from calendar_api.app import create_app

    ingest(context(factory, settings), "westfalenhallen", [_hall(1)], now=NOW, degraded="layout changed")
    runtime = Runtime(settings, engine, factory, catalog(settings), clock())
    app = create_app(runtime, clock=clock(), extensions=(METRICS,), version_ttl=0)
    with TestClient(app) as client:
        sources = {row["name"]: row for row in client.get("/api/v1/sources").json()["sources"]}
        assert sources["westfalenhallen"]["health"] == "degraded"
        assert sources["westfalenhallen"]["last_run"]["status"] == "degraded"
        assert sources["westfalenhallen"]["last_run"]["error"] == "layout changed"
        assert sources["westfalenhallen"]["consecutive_failures"] == 0
        schema = client.get("/openapi.json").json()["components"]["schemas"]["Source"]
        assert "degraded" in schema["properties"]["health"]["enum"]
        assert 'stadtkalender_source_degraded{source="westfalenhallen"} 1.0' in client.get("/metrics").text


def test_the_sources_command_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", url)
    settings = load_settings(REPO / "settings.toml")
    engine = make_engine(url)
    upgrade(engine)
    ingest(
        context(session_factory(engine), settings), "westfalenhallen", [_hall(1)], now=NOW, degraded="changed"
    )
    assert main(["sources"]) == 0
    [line] = [line for line in capsys.readouterr().out.splitlines() if "westfalenhallen" in line]
    assert "degraded" in line and "changed" in line
