"""The running scheduler: jobs on schedule on both databases, one run per slot across instances,
one scheduler per SQLite database, graceful shutdown, and no partial data after SIGKILL."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from scheduler_fakes import ListSource, runs_of, source_snapshot, spec
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator import metrics
from aggregator.clock import system_clock
from aggregator.config import Settings
from aggregator.db import make_engine, session_factory, upgrade
from aggregator.health import source_health
from aggregator.models import Base, SourceRecord, SourceRun, SourceState
from aggregator.schedules import SlotIntervalTrigger
from aggregator.types import RunStatus
from scheduler.housekeeping import close_stale_runs
from scheduler.locks import SchedulerAlreadyRunning
from scheduler.service import SchedulerService
from sources.catalog import SourceSpec
from stadtkalender.runtime import Runtime

pytestmark = pytest.mark.realtime  # APScheduler's threads, signals and killed child processes

CHILD = Path(__file__).resolve().parent / "child_process.py"


def _runtime(settings: Settings, engine: Engine, specs: dict[str, SourceSpec]) -> Runtime:
    return Runtime(settings, engine, session_factory(engine), specs)


def _runs(factory: sessionmaker[Session], source: str) -> list[SourceRun]:
    with factory() as session:
        query = select(SourceRun).where(SourceRun.source == source).order_by(SourceRun.id)
        return list(session.scalars(query))


def _wait_for(path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear within {timeout} s")
        time.sleep(0.02)


def _until(condition: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout} s")
        time.sleep(0.1)


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


# -- on schedule ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_every_source_runs_on_its_schedule_and_a_failing_one_backs_off(
    settings: Settings, engine: Engine
) -> None:
    specs = {
        "sched_good": spec("sched_good", ListSource, schedule="interval:1s", count=2),
        "sched_bad": spec("sched_bad", ListSource, schedule="interval:1s", fail="boom"),
        "sched_manual": spec("sched_manual", ListSource, schedule="manual"),
    }
    service = SchedulerService(_runtime(settings, engine, specs))
    factory = service.runtime.factory

    def enough() -> bool:
        backed_off = any("backing off" in (o.skipped or "") for o in list(service.outcomes))
        return backed_off and len(_runs(factory, "sched_good")) >= 3

    service.start()
    try:
        assert set(service.next_runs()) == set(specs)
        assert service.next_runs()["sched_manual"] is None
        _until(enough, timeout=20)
    finally:
        service.shutdown(wait=True)
    good = _runs(factory, "sched_good")
    assert len(good) >= 3
    assert {run.status for run in good} == {"success"}
    trigger = service.schedules["sched_good"].trigger
    assert isinstance(trigger, SlotIntervalTrigger)
    assert len({trigger.slot_index(run.started_at) for run in good}) == len(good)
    bad = _runs(factory, "sched_bad")
    assert 1 <= len(bad) <= len(good)
    assert all(run.status == "failed" for run in bad)
    assert all("RuntimeError in sched_bad: boom" in (run.error or "") for run in bad)
    assert any("backing off" in (o.skipped or "") for o in service.outcomes if o.source == "sched_bad")
    assert _runs(factory, "sched_manual") == []
    health = {row.name: row.health for row in source_health(factory, specs)}
    assert (health["sched_good"], health["sched_bad"]) == ("ok", "failing")


def test_a_failing_source_shows_in_metrics_after_one_run(settings: Settings, engine: Engine) -> None:
    specs = {"metrics_bad": spec("metrics_bad", ListSource, fail="layout gone")}
    service = SchedulerService(_runtime(settings, engine, specs))
    outcome = service.run_job("metrics_bad")
    assert outcome.report is not None and outcome.report.status == RunStatus.FAILED
    text = metrics.render(service.runtime.factory).decode()
    assert 'stadtkalender_source_runs_total{source="metrics_bad",status="failed"} 1.0' in text
    assert 'stadtkalender_source_consecutive_failures{source="metrics_bad"} 1.0' in text
    assert 'stadtkalender_source_run_duration_seconds_count{source="metrics_bad"}' in text


def test_disabled_in_state_and_shutting_down_skip(settings: Settings, engine: Engine) -> None:
    service = SchedulerService(_runtime(settings, engine, {"skip_me": spec("skip_me", ListSource)}))
    with service.runtime.factory() as session, session.begin():
        session.add(
            SourceState(
                source="skip_me",
                consecutive_failures=0,
                last_listings=0,
                enabled=False,
                updated_at=system_clock(),
            )
        )
    assert service.run_job("skip_me").skipped == "disabled in source_state"
    service.shutdown()
    assert service.run_job("skip_me").skipped == "shutting down"
    assert _runs(service.runtime.factory, "skip_me") == []


def test_a_run_in_this_slot_is_not_repeated(settings: Settings, engine: Engine) -> None:
    service = SchedulerService(_runtime(settings, engine, {"once": spec("once", ListSource)}))
    assert service.run_job("once").ran
    again = service.run_job("once")
    assert "already ran in this slot" in (again.skipped or "")
    trigger = service.schedules["once"].trigger
    assert isinstance(trigger, SlotIntervalTrigger)
    next_slot = trigger.slot_start(trigger.slot_index(system_clock()) + 1)
    assert service.run_job("once", now=next_slot + timedelta(seconds=1)).ran


def test_a_bad_schedule_is_a_config_error_naming_the_source(settings: Settings, engine: Engine) -> None:
    from aggregator.config import ConfigError

    with pytest.raises(ConfigError, match=r"sources\.oops\.schedule"):
        SchedulerService(_runtime(settings, engine, {"oops": spec("oops", ListSource, schedule="hourly")}))


def test_a_bad_housekeeping_cron_is_a_config_error(settings: Settings, engine: Engine) -> None:
    from aggregator.config import ConfigError

    broken = replace(settings, scheduler=replace(settings.scheduler, housekeeping_cron="daily"))
    with pytest.raises(ConfigError, match=r"scheduler\.housekeeping_cron"):
        SchedulerService(_runtime(broken, engine, {}))


def test_the_housekeeping_job_closes_stale_runs(settings: Settings, engine: Engine) -> None:
    service = SchedulerService(_runtime(settings, engine, {}))
    with service.runtime.factory() as session, session.begin():
        session.add(
            SourceRun(
                source="old",
                status="running",
                trigger="schedule",
                started_at=system_clock() - timedelta(days=1),
            )
        )
    report = service.run_housekeeping()
    assert report is not None and len(report.aborted_runs) == 1
    assert [run.status for run in _runs(service.runtime.factory, "old")] == ["aborted"]


# -- several instances -------------------------------------------------------------------------------


@pytest.fixture
def pg_url(request: pytest.FixtureRequest, postgres_schema_url: str) -> Iterator[str]:
    """The migrated, emptied PostgreSQL test schema."""
    engine = request.getfixturevalue("_postgres_engine")
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    yield postgres_schema_url


@pytest.mark.postgres
@pytest.mark.slow
def test_two_schedulers_on_one_postgres_database_run_each_slot_once(settings: Settings, pg_url: str) -> None:
    specs = {"shared": spec("shared", ListSource, schedule="interval:1s", count=3, pause=0.15)}
    engines = [make_engine(pg_url), make_engine(pg_url)]
    services = [SchedulerService(_runtime(settings, e, dict(specs))) for e in engines]
    calls_before = runs_of("shared")
    for service in services:
        service.start()
    try:
        _until(lambda: len(_runs(services[0].runtime.factory, "shared")) >= 4, timeout=30)
    finally:
        for service in services:
            service.shutdown(wait=True)
    runs = _runs(services[0].runtime.factory, "shared")
    for e in engines:
        e.dispose()
    trigger = services[0].schedules["shared"].trigger
    assert isinstance(trigger, SlotIntervalTrigger)
    slots = [trigger.slot_index(run.started_at) for run in runs]
    assert len(runs) >= 4
    assert len(set(slots)) == len(slots), f"a slot ran twice: {slots}"
    assert {run.status for run in runs} == {"success"}
    assert runs_of("shared") - calls_before == len(runs)
    fired = [o for s in services for o in s.outcomes]
    skipped = [o.skipped for o in fired if not o.ran]
    assert len(skipped) >= 2, "both instances should have fired in the same slots"
    reasons = ("another instance is running it", "already ran in this slot")
    assert all(any(reason in (r or "") for reason in reasons) for r in skipped)


def test_a_second_scheduler_on_sqlite_refuses_to_start(settings: Settings, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'k.db'}"
    first_engine, second_engine = make_engine(url), make_engine(url)
    upgrade(first_engine)
    specs = {"solo": spec("solo", ListSource)}
    first = SchedulerService(_runtime(settings, first_engine, specs))
    second = SchedulerService(_runtime(settings, second_engine, specs))
    first.start()
    try:
        with pytest.raises(SchedulerAlreadyRunning, match="another scheduler is already running on this"):
            second.start()
        assert not second.scheduler.running
    finally:
        first.shutdown()
    second.start()
    second.shutdown()
    first_engine.dispose()
    second_engine.dispose()


def test_the_scheduler_command_refuses_with_a_message(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stadtkalender.scheduler_commands import _cmd_scheduler

    url = f"sqlite:///{tmp_path / 'k.db'}"
    engine = make_engine(url)
    upgrade(engine)
    holder = SchedulerService(_runtime(settings, engine, {}))
    holder.start()
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", url)
    try:
        code = _cmd_scheduler(argparse.Namespace(offline=True, metrics_port=0, metrics_host="127.0.0.1"))
    finally:
        holder.shutdown()
        engine.dispose()
    assert code == 1
    assert "another scheduler is already running on this SQLite database" in capsys.readouterr().err


# -- stopping -----------------------------------------------------------------------------------------


def test_shutdown_waits_for_the_running_source(settings: Settings, engine: Engine, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    specs = {"slowpoke": spec("slowpoke", ListSource, schedule="interval:1s", pause=1.0, marker=str(marker))}
    service = SchedulerService(_runtime(settings, engine, specs))
    service.start()
    try:
        _wait_for(marker, timeout=10)
    finally:
        service.shutdown(wait=True)
    runs = _runs(service.runtime.factory, "slowpoke")
    assert [run.status for run in runs] == ["success"]
    time.sleep(1.2)
    assert len(_runs(service.runtime.factory, "slowpoke")) == 1


@pytest.mark.slow
def test_sigterm_lets_the_running_source_finish(engine: Engine, tmp_path: Path) -> None:
    marker = tmp_path / "started"
    with subprocess.Popen(
        [sys.executable, str(CHILD), "sigterm", _url(engine), str(marker)], stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            _wait_for(marker)
            child.send_signal(signal.SIGTERM)
            _, stderr = child.communicate(timeout=30)
        finally:
            child.kill()
    assert child.returncode == 0, stderr
    runs = _runs(session_factory(engine), "slow")
    assert [(run.status, run.listings) for run in runs] == [("success", 3)]


@pytest.mark.slow
def test_sigkill_inside_the_ingest_transaction_leaves_no_partial_data(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    factory = session_factory(engine)
    specs = {"victim": spec("victim", ListSource, count=10, title="Alt")}
    service = SchedulerService(_runtime(settings, engine, specs))
    first = service.run_job("victim")
    assert first.report is not None and first.report.status == RunStatus.SUCCESS
    before = source_snapshot(factory, "victim")

    marker = tmp_path / "inside"
    with subprocess.Popen(
        [sys.executable, str(CHILD), "kill", _url(engine), str(marker)], stderr=subprocess.PIPE, text=True
    ) as child:
        try:
            _wait_for(marker)
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.communicate(timeout=30)
    assert child.returncode == -signal.SIGKILL

    assert source_snapshot(factory, "victim") == before
    runs = _runs(factory, "victim")
    assert [run.status for run in runs] == ["success", "running"]
    killed = runs[-1].id
    assert close_stale_runs(
        factory,
        older_than=timedelta(minutes=settings.scheduler.stale_run_minutes),
        now=system_clock() + timedelta(hours=3),
    ) == [killed]
    with factory() as session:
        aborted = session.get_one(SourceRun, killed)
        assert aborted.status == "aborted"
        assert "was killed" in (aborted.error or "")
    assert {row.name: row.health for row in source_health(factory, specs)}["victim"] == "failing"

    runtime = service.runtime
    assert isinstance(runtime, Runtime)
    runtime.specs = {
        **runtime.specs,
        "victim": replace(specs["victim"], options={"count": 300, "title": "Neu"}),
    }
    good = service.run_job("victim", now=system_clock() + timedelta(hours=6))
    assert good.report is not None
    assert (good.report.status, good.report.added, good.report.updated) == (RunStatus.SUCCESS, 290, 10)
    with factory() as session:
        active = session.scalar(
            select(func.count())
            .select_from(SourceRecord)
            .where(SourceRecord.source == "victim", SourceRecord.active.is_(True))
        )
        assert active == 300
    assert {row.name: row.health for row in source_health(factory, specs)}["victim"] == "ok"


def test_graceful_shutdown_while_jobs_are_queued_starts_none_of_them(
    settings: Settings, engine: Engine
) -> None:
    specs = {f"queued_{i}": spec(f"queued_{i}", ListSource) for i in range(3)}
    service = SchedulerService(_runtime(settings, engine, specs), max_workers=1)
    service.shutdown()
    threads = [threading.Thread(target=service.run_job, args=(name,)) for name in specs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(o.skipped == "shutting down" for o in service.outcomes)
    assert len(service.outcomes) == 3
