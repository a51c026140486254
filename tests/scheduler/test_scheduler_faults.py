"""A source that breaks fails alone: its run is recorded with the reason, its data stays, others run.

Each fault is served by a local HTTP server on 127.0.0.1 (or is a closed port) and fetched through the
shared HTTP client with tiny timeouts. For every fault: the other source's run succeeds, nothing of
the failing source's events and occurrences is lost or changed, the run is stored with its reason,
health and /metrics show it, and the next good run works.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from fault_server import FaultServer, fault_server
from prometheus_client.parser import text_string_to_metric_families
from scheduler_fakes import ListSource, NoFetcher, ProgrammeSource, source_snapshot, spec
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from aggregator import metrics
from aggregator.clock import system_clock
from aggregator.config import Settings
from aggregator.health import source_health
from aggregator.models import SourceRun, SourceState
from aggregator.types import RunStatus
from scheduler.service import JobOutcome, SchedulerService
from sources.http import HttpClient
from stadtkalender.runtime import Runtime

pytestmark = pytest.mark.realtime  # a real HTTP server, socket timeouts and scheduler threads

FAILED, SUSPICIOUS = RunStatus.FAILED, RunStatus.SUSPICIOUS

FAULTS = [
    pytest.param("/slow", FAILED, "Read timed out", id="timeout"),
    pytest.param(None, FAILED, "Connection refused", id="connection-refused"),
    pytest.param("/500", FAILED, "HTTP 500", id="http-500"),
    pytest.param(
        "/429",
        FAILED,
        "HTTP 429: Too Many Requests; server asks to retry after 3600 s",
        id="http-429-retry-after",
    ),
    pytest.param("/truncated", FAILED, "truncated body", id="truncated-body"),
    pytest.param("/garbage", FAILED, "no <ul id='programme'> on the page", id="garbage-html"),
    pytest.param("/empty", FAILED, "no <ul id='programme'> on the page", id="empty-page"),
    pytest.param("/bad-date", FAILED, "ValueError in victim", id="exception-in-parse"),
    pytest.param("/empty-programme", SUSPICIOUS, "held back", id="zero-listings-after-some"),
]


@pytest.fixture(scope="module")
def server() -> Iterator[FaultServer]:
    with fault_server() as running:
        yield running


def _fast_settings(settings: Settings) -> Settings:
    http = replace(
        settings.http,
        timeout_seconds=0.3,
        retries=1,
        backoff_seconds=0.01,
        requests_per_second=1000.0,
        max_retry_after_seconds=1.0,
        respect_robots=False,
        page_budget=20,
    )
    return replace(settings, http=http)


@pytest.fixture
def service(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], server: FaultServer
) -> SchedulerService:
    fast = _fast_settings(settings)
    specs = {
        "victim": spec("victim", ProgrammeSource, url=f"{server.base}/good/victim"),
        "bystander": spec(
            "bystander", ProgrammeSource, url=f"{server.base}/good/bystander", venue_name="Dortmunder U"
        ),
    }
    client = HttpClient(fast.http, wall_clock=system_clock)
    return SchedulerService(Runtime(fast, engine, factory, specs), fetcher=lambda name: client)


def _point(service: SchedulerService, name: str, url: str) -> None:
    runtime = service.runtime
    assert isinstance(runtime, Runtime)
    current = runtime.specs[name]
    runtime.specs = {**runtime.specs, name: replace(current, options={**current.options, "url": url})}


def _report(outcome: JobOutcome) -> Any:
    assert outcome.report is not None, outcome.skipped
    return outcome.report


def _metric(factory: sessionmaker[Session], name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(metrics.render(factory).decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return None


@pytest.mark.parametrize(("path", "status", "reason"), FAULTS)
def test_a_fault_stays_with_its_source(
    service: SchedulerService, server: FaultServer, path: str | None, status: RunStatus, reason: str
) -> None:
    factory = service.runtime.factory
    assert _report(service.run_job("victim")).status == RunStatus.SUCCESS
    assert _report(service.run_job("bystander")).status == RunStatus.SUCCESS
    before = source_snapshot(factory, "victim")
    assert len(before["occurrences"]) == 8

    _point(service, "victim", f"{server.base}{path}" if path else f"http://127.0.0.1:{server.closed_port}/")
    _point(service, "bystander", f"{server.base}/good/bystander?n=9")
    next_slot = system_clock() + timedelta(hours=6)
    bad = _report(service.run_job("victim", now=next_slot))
    other = _report(service.run_job("bystander", now=next_slot))

    assert (other.status, other.added) == (RunStatus.SUCCESS, 1)
    assert bad.status == status
    assert reason in (bad.error or "")
    assert source_snapshot(factory, "victim") == before
    with factory() as session:
        run = session.get_one(SourceRun, bad.run_id)
        assert (run.status, run.trigger) == (status.value, "schedule")
        assert reason in (run.error or "")
        assert run.finished_at is not None
    health = {row.name: row for row in source_health(factory, service.runtime.specs)}
    assert health["victim"].health == ("failing" if status == FAILED else "suspicious")
    assert health["bystander"].health == "ok"
    assert _metric(factory, "stadtkalender_source_runs_total", source="victim", status=status.value) == 1

    _point(service, "victim", f"{server.base}/good/victim?n=9")
    good = _report(service.run_job("victim", now=system_clock() + timedelta(hours=13)))
    assert (good.status, good.added, good.updated + good.unchanged) == (RunStatus.SUCCESS, 1, 8)
    with factory() as session:
        state = session.get_one(SourceState, "victim")
        assert (state.consecutive_failures, state.next_attempt_at) == (0, None)
    assert {row.name: row.health for row in source_health(factory, service.runtime.specs)}["victim"] == "ok"


def test_a_failing_source_backs_off_and_its_health_turns_failing(
    service: SchedulerService, server: FaultServer
) -> None:
    factory = service.runtime.factory
    _point(service, "victim", f"{server.base}/500")
    start = system_clock()
    first = service.run_job("victim", now=start)
    assert first.report is not None and first.report.status == FAILED
    second = service.run_job("victim", now=start + timedelta(hours=6))
    assert second.report is not None and second.report.status == FAILED
    with factory() as session:
        state = session.get_one(SourceState, "victim")
        assert state.consecutive_failures == 2
        assert state.next_attempt_at == start + timedelta(hours=6 + 12)
    skipped = service.run_job("victim", now=start + timedelta(hours=12))
    assert skipped.report is None
    assert "backing off after 2 failures" in (skipped.skipped or "")
    assert {r.name: r.health for r in source_health(factory, service.runtime.specs)}["victim"] == "failing"
    assert _metric(factory, "stadtkalender_source_consecutive_failures", source="victim") == 2


@pytest.mark.parametrize(
    "options",
    [{"count": 1}, {"count": 3}, {"count": 4, "hours_ago": 6}],
    ids=["one-future", "three-future", "all-in-the-past"],
)
def test_zero_listings_after_a_few_is_suspicious_not_success(
    settings: Settings, engine: Engine, factory: sessionmaker[Session], options: dict[str, Any]
) -> None:
    specs = {"few": spec("few", ListSource, **options)}
    service = SchedulerService(Runtime(settings, engine, factory, specs), fetcher=lambda name: NoFetcher())
    assert _report(service.run_job("few")).status == RunStatus.SUCCESS
    before = source_snapshot(factory, "few")
    specs["few"] = replace(specs["few"], options={**options, "count": 0})
    empty = _report(service.run_job("few", now=system_clock() + timedelta(hours=6)))
    assert empty.status == SUSPICIOUS
    assert "no listings" in (empty.error or "")
    assert source_snapshot(factory, "few") == before
    assert {row.name: row.health for row in source_health(factory, specs)}["few"] == "suspicious"
