""" "Run now" from the console: the scheduler's poll picks a request up, clears it and runs the source once
with trigger ``console`` — paused, backing off or not — on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import timedelta

import pytest
from scheduler_fakes import ListSource, spec
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.audit import Actor
from aggregator.clock import FixedClock, system_clock
from aggregator.config import Settings
from aggregator.db import session_factory
from aggregator.models import SourceRun, SourceState
from aggregator.source_control import pause_source, request_run, run_requests, take_run_request
from scheduler.service import REQUESTS_JOB, SchedulerService
from sources.catalog import SourceSpec
from stadtkalender.runtime import Runtime

ANNA = Actor(7, "anna@dortmund.de")


def _service(settings: Settings, engine: Engine, specs: dict[str, SourceSpec]) -> SchedulerService:
    wall = FixedClock(system_clock())  # the fake sources date their listings from the wall clock
    return SchedulerService(Runtime(settings, engine, session_factory(engine), specs, wall), clock=wall)


def _runs(factory: sessionmaker[Session], source: str) -> list[tuple[str, str]]:
    with factory() as session:
        query = (
            select(SourceRun.trigger, SourceRun.status)
            .where(SourceRun.source == source)
            .order_by(SourceRun.id)
        )
        return [(trigger, status) for trigger, status in session.execute(query)]


def test_the_poll_runs_a_requested_source_once_and_clears_the_request(
    settings: Settings, engine: Engine
) -> None:
    specs = {"asked": spec("asked", ListSource), "idle": spec("idle", ListSource)}
    service = _service(settings, engine, specs)
    factory = service.runtime.factory
    assert service.poll_requests() == []
    request_run(factory, specs, "asked", actor=ANNA, now=service.clock())
    [outcome] = service.poll_requests()
    assert outcome.source == "asked" and outcome.report is not None
    assert outcome.report.status.value == "success"
    assert _runs(factory, "asked") == [("console", "success")]
    assert run_requests(factory) == []
    assert service.poll_requests() == []
    assert _runs(factory, "asked") == [("console", "success")]
    assert _runs(factory, "idle") == []


def test_a_requested_run_runs_while_paused_backing_off_or_in_a_slot_that_ran(
    settings: Settings, engine: Engine
) -> None:
    specs = {"paused": spec("paused", ListSource), "failing": spec("failing", ListSource, fail="HTTP 503")}
    service = _service(settings, engine, specs)
    factory = service.runtime.factory
    now = service.clock()
    assert service.run_job("failing").ran
    assert "backing off" in (service.run_job("failing", now=now + timedelta(minutes=1)).skipped or "")
    pause_source(factory, specs, "paused", actor=ANNA, now=now)
    assert service.run_job("paused").skipped == "disabled in source_state"
    for name in specs:
        request_run(factory, specs, name, actor=ANNA, now=now)
    outcomes = {o.source: o for o in service.poll_requests(now=now + timedelta(minutes=2))}
    assert all(o.ran for o in outcomes.values()), outcomes
    assert _runs(factory, "paused") == [("console", "success")]
    assert _runs(factory, "failing") == [("schedule", "failed"), ("console", "failed")]
    with factory() as session:
        failing = session.get_one(SourceState, "failing")
        paused = session.get_one(SourceState, "paused")
    assert failing.consecutive_failures == 2
    assert failing.next_attempt_at is not None and failing.next_attempt_at > now + timedelta(hours=6)
    assert not paused.enabled  # running once does not resume it
    assert service.run_job("paused", now=now + timedelta(hours=7)).skipped == "disabled in source_state"


def test_a_request_another_instance_took_is_not_run_twice(settings: Settings, engine: Engine) -> None:
    specs = {"shared": spec("shared", ListSource)}
    service = _service(settings, engine, specs)
    factory = service.runtime.factory
    request_run(factory, specs, "shared", actor=ANNA, now=service.clock())
    assert take_run_request(factory, "shared") is not None  # the other instance
    outcome = service.run_job("shared", trigger="console")
    assert outcome.skipped == "no run requested (another instance took it)"
    assert _runs(factory, "shared") == []


def test_a_request_for_a_source_no_longer_configured_is_dropped(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    specs = {"gone": spec("gone", ListSource)}
    factory = session_factory(engine)
    request_run(factory, specs, "gone", actor=ANNA, now=system_clock())
    service = _service(settings, engine, {})  # restarted without it
    assert service.poll_requests() == []
    assert run_requests(factory) == []
    assert "dropped the run request for gone" in caplog.text
    assert _runs(factory, "gone") == []


def test_a_poll_while_another_poll_runs_returns_at_once(settings: Settings, engine: Engine) -> None:
    specs = {"asked": spec("asked", ListSource)}
    service = _service(settings, engine, specs)
    request_run(service.runtime.factory, specs, "asked", actor=ANNA, now=service.clock())
    with service._polling:
        assert service.poll_requests() == []
    assert [o.source for o in service.poll_requests()] == ["asked"]


@pytest.mark.realtime
def test_the_running_scheduler_polls_at_the_configured_interval(settings: Settings, engine: Engine) -> None:
    fast = replace(settings, scheduler=replace(settings.scheduler, request_poll_seconds=1))
    specs = {"asked": spec("asked", ListSource, schedule="manual")}
    service = SchedulerService(Runtime(fast, engine, session_factory(engine), specs))
    service.start()
    try:
        job = service.scheduler.get_job(REQUESTS_JOB)
        assert job is not None and job.trigger.interval == timedelta(seconds=1)
        request_run(service.runtime.factory, specs, "asked", actor=ANNA, now=system_clock())
        deadline = time.monotonic() + 15
        while not _runs(service.runtime.factory, "asked") or run_requests(service.runtime.factory):
            assert time.monotonic() < deadline, "the request was not picked up"
            time.sleep(0.1)
    finally:
        service.shutdown(wait=True)
    assert _runs(service.runtime.factory, "asked") == [("console", "success")]
    off = replace(settings, scheduler=replace(settings.scheduler, request_poll_seconds=0))
    quiet = SchedulerService(Runtime(off, engine, session_factory(engine), specs))
    quiet.start()
    try:
        assert quiet.scheduler.get_job(REQUESTS_JOB) is None
    finally:
        quiet.shutdown(wait=True)
