"""The scheduler: one APScheduler job per enabled source, plus a daily housekeeping job.

Each job (:meth:`SchedulerService.run_job`) decides whether this instance should run the source now,
then runs it through :func:`scheduler.runner.run_source`:

1. it is not shutting down;
2. it holds the source's run lock (:func:`scheduler.locks.source_lock`; PostgreSQL advisory lock) —
   otherwise another instance is running the source right now;
3. the source is not disabled in ``source_state`` and not backing off after failures
   (:mod:`scheduler.backoff`);
4. no run of the source started in the current slot (interval slots are fixed, see
   :mod:`aggregator.schedules`; for cron: within the last half slot) — otherwise another instance,
   whose job fired a little earlier, already ran it. The check and the new run's ``running`` row
   both happen under the lock, so two instances cannot both pass it.

A run someone asked for in the console (:mod:`aggregator.source_control`) is picked up by a poll job
every ``scheduler.request_poll_seconds`` (:meth:`SchedulerService.poll_requests`): under the source's
lock the request is cleared and the source runs at once with trigger ``console`` — whether or not it
is paused, backing off or already ran in this slot, because someone asked for exactly this run.

A failure inside a source never escapes the job: :func:`run_source` records it as the run's reason,
the source backs off, and other jobs are untouched. On shutdown no new run starts; a run in progress
finishes (its ingest transaction commits or rolls back as a whole). A process killed mid-run leaves
its run ``running``; housekeeping closes it as ``aborted`` and no partial data exists.
"""

from __future__ import annotations

import logging
import os
import random
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import FrameType
from typing import Protocol

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator import metrics, webhooks
from aggregator.clock import Clock
from aggregator.config import ConfigError, Settings
from aggregator.ingest import IngestContext, RunReport
from aggregator.models import SourceRun, SourceState
from aggregator.schedules import Schedule, ScheduleError, crontab_trigger, parse_schedule, waiting_until
from aggregator.source_control import CONSOLE_TRIGGER, run_requests, take_run_request
from aggregator.types import BERLIN
from scheduler import backoff
from scheduler.housekeeping import HousekeepingReport, close_stale_runs, housekeeping
from scheduler.locks import SchedulerLock, source_lock, sqlite_lock_path
from scheduler.runner import run_source
from sources.base import Fetcher
from sources.catalog import SourceSpec

log = logging.getLogger(__name__)

HOUSEKEEPING_JOB = "housekeeping"
REQUESTS_JOB = "run-requests"
WEBHOOKS_JOB = "webhooks"
_HOUSEKEEPING_LOCK = "__housekeeping__"
MAX_WORKERS = 4
"""Sources fetched in parallel; ingest itself serialises the writes."""


class SchedulerRuntime(Protocol):
    """What the scheduler needs of the process's wiring (:class:`stadtkalender.runtime.Runtime`)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def engine(self) -> Engine: ...
    @property
    def factory(self) -> sessionmaker[Session]: ...
    @property
    def specs(self) -> Mapping[str, SourceSpec]: ...
    @property
    def ingest_context(self) -> IngestContext: ...
    @property
    def clock(self) -> Clock: ...

    def fetcher(self, source: str, *, offline: bool) -> Fetcher:
        """The fetcher for one run of ``source``: bundled snapshots when offline, else HTTP."""
        ...

    def refresh_sources(self) -> None:
        """Read the venues' registered feeds again (``specs`` then includes new ones)."""
        ...


@dataclass(slots=True)
class JobOutcome:
    """What one firing of a source's job did: ran (with its report) or skipped (with the reason)."""

    source: str
    at: datetime
    report: RunReport | None = None
    skipped: str | None = None

    @property
    def ran(self) -> bool:
        """Whether the source was run."""
        return self.report is not None


@dataclass(frozen=True, slots=True)
class ExtraJob:
    """A job the wiring adds (its code lives where the scheduler may not import it): the open-data export.

    ``run(now)`` runs at the crontab ``cron`` (Berlin); on PostgreSQL one scheduler at a time runs it.
    """

    name: str
    cron: str
    run: Callable[[datetime], object]


class SchedulerService:
    """Keeps every enabled source fresh; build it, :meth:`start` it, :meth:`shutdown` it."""

    def __init__(
        self,
        runtime: SchedulerRuntime,
        *,
        offline: bool = False,
        fetcher: Callable[[str], Fetcher] | None = None,
        clock: Clock | None = None,
        max_workers: int = MAX_WORKERS,
        jobs: Sequence[ExtraJob] = (),
    ) -> None:
        self.runtime = runtime
        self.jobs = list(jobs)
        self.offline = offline
        self.clock: Clock = clock or runtime.clock
        self._fetcher = fetcher or (lambda name: runtime.fetcher(name, offline=offline))
        self.schedules = self._parse_schedules()
        try:
            self._housekeeping_trigger = crontab_trigger(runtime.settings.scheduler.housekeeping_cron)
        except ScheduleError as exc:
            origin = runtime.settings.path or "settings"
            raise ConfigError("scheduler.housekeeping_cron", exc.reason, origin) from exc
        self._job_triggers: dict[str, CronTrigger] = {}
        for job in self.jobs:
            try:
                self._job_triggers[job.name] = crontab_trigger(job.cron)
            except ScheduleError as exc:
                raise ConfigError(
                    f"{job.name} cron", exc.reason, runtime.settings.path or "settings"
                ) from exc
        self.outcomes: deque[JobOutcome] = deque(maxlen=1000)
        self._stopping = threading.Event()
        self._polling = threading.Lock()
        self._file_lock: SchedulerLock | None = None
        settings = runtime.settings.scheduler
        self.scheduler = BackgroundScheduler(
            timezone=BERLIN,
            executors={"default": ThreadPoolExecutor(max_workers)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": settings.misfire_grace_seconds,
            },
        )

    def _parse_schedules(self) -> dict[str, Schedule]:
        settings = self.runtime.settings
        schedules = {}
        for name, spec in sorted(self.runtime.specs.items()):
            try:
                schedules[name] = self._schedule(spec)
            except ScheduleError as exc:
                if spec.venues:  # a venue's feed: its schedule is ours, never the operator's mistake
                    log.error("feed %s has an unusable schedule: %s", name, exc.reason)
                    continue
                origin = settings.path or "settings"
                raise ConfigError(f"sources.{name}.schedule", exc.reason, origin) from exc
        return schedules

    def _schedule(self, spec: SourceSpec) -> Schedule:
        jitter = self.runtime.settings.scheduler.jitter_seconds
        return parse_schedule(spec.schedule, name=spec.name, jitter_seconds=jitter)

    def _add_source_job(self, name: str, schedule: Schedule) -> None:
        if schedule.trigger is None or not self.runtime.specs[name].enabled:
            return
        self.scheduler.add_job(
            self.run_job,
            schedule.trigger,
            args=[name],
            id=f"source:{name}",
            name=f"source {name}",
            replace_existing=True,
        )

    def sync_sources(self) -> None:
        """Read the venues' feeds again: schedule the ones registered since, drop the ones removed.

        The request poll calls this first, so a feed saved in the portal (which also asks for its first
        run) runs at the next poll, without a restart.
        """
        self.runtime.refresh_sources()
        specs = self.runtime.specs
        schedules = {name: schedule for name, schedule in self.schedules.items() if name in specs}
        for name in set(self.schedules) - set(schedules):
            if self.scheduler.get_job(f"source:{name}") is not None:
                self.scheduler.remove_job(f"source:{name}")
            log.info("source %s is gone; its job is removed", name, extra={"source": name})
        for name, spec in specs.items():
            if name in schedules:
                continue
            try:
                schedules[name] = self._schedule(spec)
            except ScheduleError as exc:
                log.error("source %s has an unusable schedule: %s", name, exc.reason)
                continue
            if self.scheduler.running:
                self._add_source_job(name, schedules[name])
            log.info("source %s is new; scheduled %s", name, spec.schedule, extra={"source": name})
        self.schedules = schedules

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> None:
        """Take the single-scheduler lock (SQLite), close stale runs, add the jobs and start.

        Raises :class:`scheduler.locks.SchedulerAlreadyRunning` when another scheduler runs on the
        same SQLite database.
        """
        lock_path = sqlite_lock_path(self.runtime.engine.url.render_as_string(hide_password=False))
        if lock_path is not None:
            lock = SchedulerLock(lock_path)
            lock.acquire()
            self._file_lock = lock
        try:
            settings = self.runtime.settings.scheduler
            close_stale_runs(
                self.runtime.factory,
                older_than=timedelta(minutes=settings.stale_run_minutes),
                now=self.clock(),
            )
            for name, schedule in self.schedules.items():
                self._add_source_job(name, schedule)
            self.scheduler.add_job(
                self.run_housekeeping,
                self._housekeeping_trigger,
                id=HOUSEKEEPING_JOB,
                name="housekeeping",
                replace_existing=True,
            )
            for job in self.jobs:
                self.scheduler.add_job(
                    self.run_extra,
                    self._job_triggers[job.name],
                    args=[job],
                    id=f"job:{job.name}",
                    name=job.name,
                    replace_existing=True,
                )
            if self.runtime.settings.open_data.webhook_poll_seconds > 0:
                self.scheduler.add_job(
                    self.deliver_webhooks,
                    IntervalTrigger(
                        seconds=self.runtime.settings.open_data.webhook_poll_seconds, timezone=BERLIN
                    ),
                    id=WEBHOOKS_JOB,
                    name="webhooks",
                    replace_existing=True,
                )
            if settings.request_poll_seconds > 0:
                self.scheduler.add_job(
                    self.poll_requests,
                    IntervalTrigger(seconds=settings.request_poll_seconds, timezone=BERLIN),
                    id=REQUESTS_JOB,
                    name="run requests",
                    replace_existing=True,
                    max_instances=2,  # a poll finding the previous one still running returns at once
                )
            self.scheduler.start()
        except BaseException:
            self._release_file_lock()
            raise
        jobs = [job for job in self.scheduler.get_jobs() if job.id.startswith("source:")]
        log.info("scheduler started with %d source jobs", len(jobs))

    def shutdown(self, wait: bool = True) -> None:
        """Stop starting runs; with ``wait``, let the runs in progress finish first."""
        self._stopping.set()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=wait)
            log.info("scheduler stopped")
        self._release_file_lock()

    def _release_file_lock(self) -> None:
        if self._file_lock is not None:
            self._file_lock.release()
            self._file_lock = None

    @property
    def stopping(self) -> bool:
        """Whether shutdown has begun."""
        return self._stopping.is_set()

    def next_runs(self) -> dict[str, datetime | None]:
        """When each source's job fires next (None when paused or not scheduled)."""
        runs: dict[str, datetime | None] = dict.fromkeys(self.schedules)
        for job in self.scheduler.get_jobs():
            if job.id.startswith("source:"):
                runs[job.id.removeprefix("source:")] = job.next_run_time
        return runs

    # -- jobs -----------------------------------------------------------------------------------

    def run_job(self, name: str, *, now: datetime | None = None, trigger: str = "schedule") -> JobOutcome:
        """Run source ``name`` if this instance should (see the module docstring); never raises."""
        now = now or self.clock()
        try:
            outcome = self._run_job(name, now, trigger)
        except Exception as exc:  # the database or the wiring failed, not the source
            log.exception("job of %s failed before its run", name, extra={"source": name})
            outcome = JobOutcome(name, now, skipped=f"{type(exc).__name__}: {exc}")
        if outcome.skipped:
            log.info("skipped %s: %s", name, outcome.skipped, extra={"source": name})
        self.outcomes.append(outcome)
        return outcome

    def _run_job(self, name: str, now: datetime, trigger: str) -> JobOutcome:
        if self.stopping:
            return JobOutcome(name, now, skipped="shutting down")
        spec = self.runtime.specs.get(name)
        schedule = self.schedules.get(name)
        if spec is None or schedule is None:
            return JobOutcome(name, now, skipped="no such source (a venue removed its feed)")
        slot = schedule.slot
        with source_lock(self.runtime.engine, name) as taken:
            if not taken:
                return JobOutcome(name, now, skipped="another instance is running it")
            if trigger == CONSOLE_TRIGGER:
                request = take_run_request(self.runtime.factory, name)
                if request is None:
                    return JobOutcome(name, now, skipped="no run requested (another instance took it)")
                log.info(
                    "running %s as %s asked at %s",
                    name,
                    request.requested_by,
                    request.requested_at.isoformat(),
                    extra={"source": name},
                )
            else:
                reason = self._reason_to_skip(name, schedule, now)
                if reason:
                    return JobOutcome(name, now, skipped=reason)
            started = time.monotonic()
            report = run_source(
                self.runtime.ingest_context, spec, self._fetcher(name), trigger=trigger, now=now
            )
            metrics.record_run(name, time.monotonic() - started)
            base = slot or timedelta(hours=1)
            until = backoff.record_outcome(
                self.runtime.factory,
                name,
                report.status,
                base=base,
                cap=timedelta(hours=self.runtime.settings.scheduler.max_backoff_hours),
                now=now,
            )
            if until is not None:
                log.warning(
                    "%s failed; next attempt not before %s",
                    name,
                    until.isoformat(),
                    extra={"source": name, "run_id": report.run_id, "error": report.error},
                )
            return JobOutcome(name, now, report=report)

    def _reason_to_skip(self, name: str, schedule: Schedule, now: datetime) -> str | None:
        with self.runtime.factory() as session:
            state = session.get(SourceState, name)
            last_start = session.scalar(
                select(func.max(SourceRun.started_at)).where(SourceRun.source == name)
            )
        if state is not None and not state.enabled:
            return "disabled in source_state"
        if schedule.slot is not None:
            until = waiting_until(state.next_attempt_at if state else None, now, tolerance=schedule.slot / 2)
            if until is not None:
                failures = state.consecutive_failures if state else 0
                return f"backing off after {failures} failures until {until.isoformat()}"
        if last_start is not None and schedule.same_slot(last_start, now):
            return f"already ran in this slot (a run started at {last_start.isoformat()})"
        return None

    def poll_requests(self, *, now: datetime | None = None) -> list[JobOutcome]:
        """Run every source someone asked to run now (oldest request first); never raises.

        The poll job calls this every ``scheduler.request_poll_seconds``; a poll that finds the
        previous one still running returns at once. The venues' feeds are read again first
        (:meth:`sync_sources`). A request for a source that is no longer configured is dropped with a
        warning.
        """
        if not self._polling.acquire(blocking=False):
            return []
        outcomes: list[JobOutcome] = []
        try:
            self.sync_sources()
            for request in run_requests(self.runtime.factory):
                if self.stopping:
                    break
                if request.source in self.runtime.specs:
                    outcomes.append(self.run_job(request.source, now=now, trigger=CONSOLE_TRIGGER))
                    continue
                take_run_request(self.runtime.factory, request.source)
                log.warning(
                    "dropped the run request for %s: no such source is configured",
                    request.source,
                    extra={"source": request.source},
                )
        except Exception:  # the database is away; the next poll tries again
            log.exception("could not read or clear the run requests")
        finally:
            self._polling.release()
        return outcomes

    def run_housekeeping(self) -> HousekeepingReport | None:
        """The daily job; on PostgreSQL only one instance runs it at a time."""
        if self.stopping:
            return None
        with source_lock(self.runtime.engine, _HOUSEKEEPING_LOCK) as taken:
            if not taken:
                return None
            return housekeeping(self.runtime.factory, self.runtime.settings, now=self.clock())

    def deliver_webhooks(self) -> list[webhooks.Outcome]:
        """Queue new changes for the webhooks and POST what is due (the queue is in the database)."""
        if self.stopping:
            return []
        try:
            return webhooks.deliver_due(
                self.runtime.factory,
                post=webhooks.http_post,
                settings=self.runtime.settings.open_data,
                clock=self.clock,
                jitter=random.random,
            )
        except Exception:  # the next poll tries again; nothing is lost, the queue is in the database
            log.exception("delivering webhooks failed")
            return []

    def run_extra(self, job: ExtraJob) -> bool:
        """Run one of the wiring's jobs; True when this instance ran it without an error."""
        if self.stopping:
            return False
        with source_lock(self.runtime.engine, f"__job:{job.name}__") as taken:
            if not taken:
                return False
            try:
                job.run(self.clock())
            except Exception:  # a failing job must not stop the scheduler; the next run tries again
                log.exception("job %s failed", job.name)
                return False
            return True


def start_background_scheduler(
    runtime: SchedulerRuntime, *, offline: bool = False, jobs: Sequence[ExtraJob] = ()
) -> SchedulerService:
    """Start the scheduler in background threads beside another server (``serve --with-scheduler``)."""
    service = SchedulerService(runtime, offline=offline, jobs=jobs)
    service.start()
    return service


def run_until_signalled(service: SchedulerService) -> None:
    """Run ``service`` until SIGTERM or SIGINT, then shut down gracefully.

    The first signal stops new runs and waits for the running ones; a second one exits at once
    (the interrupted run's transaction rolls back and housekeeping later marks it aborted).
    """
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            log.warning("second signal: exiting without waiting for running sources")
            os._exit(128 + signum)
        log.info("received %s: finishing running sources, starting no new ones", signal.Signals(signum).name)
        stop.set()

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        service.start()
        try:
            while not stop.wait(1.0):
                pass
        finally:
            service.shutdown(wait=True)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
