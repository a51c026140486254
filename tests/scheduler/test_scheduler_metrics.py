"""/metrics in Prometheus text format: request and cache counters, and source figures from the database."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from fixed_clock import NOW
from prometheus_client.parser import text_string_to_metric_families
from scheduler_fakes import add_occurrence
from sqlalchemy.orm import Session, sessionmaker

from aggregator import metrics
from aggregator.models import SourceRun, SourceState


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(text: str, name: str, **labels: str) -> float | None:
    return _samples(text).get((name, frozenset(labels.items())))


async def _get(app: object) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        return await client.get("/")


def test_requests_and_cache_hits_are_counted() -> None:
    before = metrics.render().decode()
    metrics.observe_request("/api/v1/test-route", "get", 200, 0.012)
    metrics.observe_request("/api/v1/test-route", "GET", 200, 0.020)
    metrics.observe_request("/api/v1/test-route", "GET", 404, 0.001)
    metrics.feed_cache_hit()
    after = metrics.render().decode()
    labels = {"route": "/api/v1/test-route", "method": "GET"}
    assert _value(after, "stadtkalender_http_requests_total", **labels, status="200") == 2
    assert _value(after, "stadtkalender_http_requests_total", **labels, status="404") == 1
    assert _value(after, "stadtkalender_http_request_duration_seconds_count", **labels) == 3
    hits_before = _value(before, "stadtkalender_feed_cache_hits_total") or 0
    assert _value(after, "stadtkalender_feed_cache_hits_total") == hits_before + 1


def test_run_durations_are_a_histogram() -> None:
    source = "metrics-duration-source"
    metrics.record_run(source, 3.0)
    text = metrics.render().decode()
    name = "stadtkalender_source_run_duration_seconds"
    assert _value(text, f"{name}_count", source=source) == 1
    assert _value(text, f"{name}_bucket", source=source, le="2.5") == 0
    assert _value(text, f"{name}_bucket", source=source, le="5.0") == 1


def test_source_figures_come_from_the_database(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        for status in ("success", "success", "failed", "running"):
            session.add(
                SourceRun(
                    source="fzw",
                    status=status,
                    trigger="schedule",
                    started_at=NOW,
                    finished_at=NOW + timedelta(seconds=5),
                )
            )
        session.add(
            SourceState(source="fzw", consecutive_failures=1, last_listings=2, enabled=True, updated_at=NOW)
        )
        add_occurrence(session, "o1", "e1", start=NOW, status="scheduled", updated_at=NOW)
        add_occurrence(session, "o2", "e1", start=NOW, status="scheduled", updated_at=NOW)
        add_occurrence(session, "o3", "e1", start=NOW, status="cancelled", updated_at=NOW)
    text = metrics.render(factory).decode()
    assert _value(text, "stadtkalender_source_runs_total", source="fzw", status="success") == 2
    assert _value(text, "stadtkalender_source_runs_total", source="fzw", status="failed") == 1
    assert _value(text, "stadtkalender_source_runs_running", source="fzw") == 1
    assert _value(text, "stadtkalender_source_listings", source="fzw") == 2
    assert _value(text, "stadtkalender_source_occurrences", source="fzw") == 2
    assert _value(text, "stadtkalender_source_consecutive_failures", source="fzw") == 1
    assert (
        _value(text, "stadtkalender_source_last_success_timestamp_seconds", source="fzw")
        == (NOW + timedelta(seconds=5)).timestamp()
    )
    assert _value(text, "stadtkalender_database_up") == 1


def test_a_broken_database_does_not_break_the_scrape(tmp_path: object) -> None:
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker as make_factory

    broken = make_factory(create_engine("sqlite:///:memory:"))  # no tables
    text = metrics.render(broken).decode()
    assert _value(text, "stadtkalender_database_up") == 0
    assert "stadtkalender_http_requests" in text


def test_metrics_app_answers_in_prometheus_text_format(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        session.add(
            SourceRun(source="domicil", status="failed", trigger="schedule", started_at=NOW, error="HTTP 500")
        )
    response = asyncio.run(_get(metrics.metrics_app(factory)))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert _value(response.text, "stadtkalender_source_runs_total", source="domicil", status="failed") == 1
