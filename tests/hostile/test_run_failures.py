"""Every way a run can fail ends it as failed, with the source's health and backoff updated (issue 12)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fixed_clock import NOW, clock
from listing_builders import numbered_concert
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

import aggregator.ingest
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import SourceRecord, SourceRun, SourceState
from aggregator.types import RunStatus
from scheduler import backoff
from scheduler.runner import run_source
from sources.base import Document, Source, SourceResult
from sources.catalog import SourceSpec


def _listing(number: int) -> Listing:
    return numbered_concert("flaky", number, datetime(2026, 12, 1, 19, 0, tzinfo=UTC))


class _Flaky(Source):
    """Listings made up from options; ``fail`` names the step that raises."""

    name = "test_hostile_flaky"
    abstract = True

    def __init__(self, fetcher: Any = None, options: dict[str, Any] | None = None) -> None:
        if (options or {}).get("fail") == "build":
            raise RuntimeError("adapter cannot be built")
        super().__init__(fetcher, options)

    def run(self) -> SourceResult:
        if self.options.get("fail") == "run":
            raise KeyError("run")
        return SourceResult([_listing(n) for n in range(int(self.options.get("count", 3)))])


class _Fetcher:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def new_run(self) -> None:
        if self.fail:
            raise OSError("cache directory is not writable")

    def get(self, url: str) -> Document:
        raise AssertionError(f"unexpected fetch of {url}")

    def now(self) -> datetime:
        raise AssertionError("unexpected call of now()")


def _spec(**options: Any) -> SourceSpec:
    return SourceSpec(
        name="flaky", cls=_Flaky, options=options, schedule="interval:6h", kind="venue", enabled=True
    )


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return IngestContext(factory, settings, kinds={"flaky": "venue"}, clock=clock(NOW))


def _ended_failed(ctx: IngestContext, needle: str) -> None:
    with ctx.factory() as session:
        runs = session.scalars(select(SourceRun).where(SourceRun.source == "flaky")).all()
        state = session.get(SourceState, "flaky")
    assert [(run.status, run.finished_at is not None) for run in runs] == [(RunStatus.FAILED.value, True)]
    assert needle in (runs[0].error or "")
    assert state is not None and state.consecutive_failures == 1
    until = backoff.record_outcome(
        ctx.factory, "flaky", RunStatus.FAILED, base=timedelta(hours=6), cap=timedelta(hours=24), now=NOW
    )
    assert until == NOW + timedelta(hours=6)


def _break(monkeypatch: pytest.MonkeyPatch, name: str, error: Exception) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise error

    monkeypatch.setattr(aggregator.ingest, name, broken)


def test_an_adapter_that_cannot_be_built(ctx: IngestContext) -> None:
    report = run_source(ctx, _spec(fail="build"), _Fetcher())
    assert report.status == RunStatus.FAILED
    _ended_failed(ctx, "adapter cannot be built")


def test_a_fetcher_that_cannot_start_a_run(ctx: IngestContext) -> None:
    report = run_source(ctx, _spec(), _Fetcher(fail=True))
    assert report.status == RunStatus.FAILED
    _ended_failed(ctx, "cache directory is not writable")


def test_an_adapter_whose_run_raises(ctx: IngestContext) -> None:
    report = run_source(ctx, _spec(fail="run"), _Fetcher())
    assert report.status == RunStatus.FAILED
    _ended_failed(ctx, "KeyError in flaky: 'run'")


def test_a_normalisation_step_that_raises(ctx: IngestContext, monkeypatch: pytest.MonkeyPatch) -> None:
    _break(monkeypatch, "normalise", ValueError("a step broke"))
    report = run_source(ctx, _spec(), _Fetcher())
    assert report.status == RunStatus.FAILED
    _ended_failed(ctx, "a step broke")


def test_a_database_error_while_finishing(ctx: IngestContext, monkeypatch: pytest.MonkeyPatch) -> None:
    _break(monkeypatch, "finish_run", OperationalError("UPDATE source_runs", {}, Exception("disk I/O error")))
    report = run_source(ctx, _spec(), _Fetcher())
    assert report.status == RunStatus.FAILED
    _ended_failed(ctx, "disk I/O error")
    with ctx.factory() as session:
        assert session.scalars(select(SourceRecord)).all() == []  # the run's writes were rolled back


def test_a_database_error_while_holding_a_run_back(
    ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert ingest(ctx, "flaky", [_listing(n) for n in range(20)], now=NOW).status == RunStatus.SUCCESS
    _break(
        monkeypatch, "hold_run", OperationalError("UPDATE source_runs", {}, Exception("database is locked"))
    )
    report = run_source(ctx, _spec(count=2), _Fetcher())
    assert report.status == RunStatus.FAILED
    with ctx.factory() as session:
        runs = session.scalars(select(SourceRun).order_by(SourceRun.id)).all()
        state = session.get_one(SourceState, "flaky")
        records = session.scalars(select(SourceRecord)).all()
    assert [run.status for run in runs] == [RunStatus.SUCCESS.value, RunStatus.FAILED.value]
    assert "database is locked" in (runs[1].error or "") and runs[1].held is None
    assert state.consecutive_failures == 1
    assert len(records) == 20 and all(record.missing_runs == 0 for record in records)


def test_ingest_called_directly_never_leaves_its_run_running(
    ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    _break(monkeypatch, "normalise", RecursionError("maximum recursion depth exceeded"))
    report = ingest(ctx, "flaky", [_listing(1)], now=NOW)
    assert report.status == RunStatus.FAILED
    _ended_failed(ctx, "maximum recursion depth")
