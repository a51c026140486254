"""Housekeeping bounds storage: held batches expire, the push audit log is trimmed (issue 12)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fixed_clock import NOW, clock
from listing_builders import numbered_concert
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.actions import ActionRefused
from aggregator.config import Settings, load_settings
from aggregator.held_runs import confirm_run
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import ApiToken, PushLog, SourceRecord, SourceRun
from aggregator.types import RunStatus
from scheduler.housekeeping import housekeeping

REPO = Path(__file__).resolve().parent.parent.parent


@pytest.fixture
def quiet_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings whose HTTP cache is a temporary folder (housekeeping also sweeps it)."""
    return replace(settings, http=replace(settings.http, cache_dir=str(tmp_path / "cache")))


def _programme(n: int) -> list[Listing]:
    return [numbered_concert("hall", i, datetime(2027, 1, 1, 19, 0, tzinfo=UTC)) for i in range(n)]


def _held_run(factory: sessionmaker[Session], settings: Settings, held_at: datetime) -> int:
    ctx = IngestContext(factory, settings, kinds={"hall": "venue"}, clock=clock(NOW))
    assert ingest(ctx, "hall", _programme(20), now=held_at - timedelta(hours=1)).status == RunStatus.SUCCESS
    report = ingest(ctx, "hall", _programme(3), now=held_at)
    assert report.status == RunStatus.SUSPICIOUS
    with factory() as session, session.begin():  # the run's own times come from the wall clock
        session.execute(
            update(SourceRun)
            .where(SourceRun.id == report.run_id)
            .values(started_at=held_at, finished_at=held_at)
        )
    return report.run_id


def test_a_held_run_past_retention_expires_and_can_never_apply(
    factory: sessionmaker[Session],
    quiet_settings: Settings,
) -> None:
    run_id = _held_run(factory, quiet_settings, NOW - timedelta(days=15))
    report = housekeeping(factory, quiet_settings, now=NOW)
    assert report.expired_runs == [run_id]
    with factory() as session:
        run = session.get_one(SourceRun, run_id)
        assert (run.status, run.held) == (RunStatus.EXPIRED.value, None)
        assert "not confirmed within 14 days" in (run.error or "")
        assert (
            session.scalar(
                select(func.count())
                .select_from(SourceRecord)
                .where(SourceRecord.missing_runs == 0, SourceRecord.active.is_(True))
            )
            == 20
        )
    with pytest.raises(ActionRefused, match="is expired"):
        confirm_run(IngestContext(factory, quiet_settings, clock=clock(NOW)), run_id)


def test_a_held_run_within_retention_stays_confirmable(
    factory: sessionmaker[Session],
    quiet_settings: Settings,
) -> None:
    run_id = _held_run(factory, quiet_settings, NOW - timedelta(days=13))
    assert housekeeping(factory, quiet_settings, now=NOW).expired_runs == []
    with factory() as session:
        run = session.get_one(SourceRun, run_id)
        assert run.status == RunStatus.SUSPICIOUS.value and run.held is not None
        assert len(run.held["listings"]) == 3


def test_the_push_log_keeps_refusals_for_a_month_and_writes_for_a_year(
    factory: sessionmaker[Session],
    quiet_settings: Settings,
) -> None:
    ages_and_statuses = [(31, 422), (31, 401), (29, 413), (31, 200), (364, 201), (366, 200), (400, 500)]
    with factory() as session, session.begin():
        token = ApiToken(name="t", token_hash="h", prefix="p", venues=[], source="push:t", created_at=NOW)
        session.add(token)
        session.flush()
        for days, status in ages_and_statuses:
            session.add(
                PushLog(
                    token_id=token.id,
                    token_name="t",
                    source="push:t",
                    at=NOW - timedelta(days=days),
                    method="POST",
                    path="/api/v1/push/events",
                    status=status,
                    summary={},
                )
            )
    report = housekeeping(factory, quiet_settings, now=NOW)
    assert report.push_log == 4
    with factory() as session:
        kept = sorted((int((NOW - row.at).days), row.status) for row in session.scalars(select(PushLog)))
    assert kept == [(29, 413), (31, 200), (364, 201)]


def test_retention_settings_have_defaults_and_come_from_the_environment() -> None:
    defaults = load_settings(REPO / "settings.toml", env={})
    assert (
        defaults.ingest.held_run_retention_days,
        defaults.push.refused_log_retention_days,
        defaults.push.log_retention_days,
    ) == (14, 30, 365)
    assert Settings().ingest.held_run_retention_days == 14
    chosen = load_settings(
        REPO / "settings.toml",
        env={
            "STADTKALENDER_INGEST_HELD_RUN_RETENTION_DAYS": "3",
            "STADTKALENDER_PUSH_REFUSED_LOG_RETENTION_DAYS": "7",
        },
    )
    assert (chosen.ingest.held_run_retention_days, chosen.push.refused_log_retention_days) == (3, 7)
