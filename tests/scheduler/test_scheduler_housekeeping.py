"""Housekeeping: stale runs end aborted, old past cancellations go, expired cache files go."""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from fixed_clock import NOW
from scheduler_fakes import add_occurrence
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.accounts import add_account
from aggregator.config import Settings
from aggregator.health import verdict
from aggregator.login_sessions import Lifetimes, resume_session, start_session
from aggregator.models import Event, EventRedirect, Occurrence, Offer, SourceRecord, SourceRun, SourceState
from aggregator.types import Health, RunStatus
from scheduler.housekeeping import close_stale_runs, drop_expired_cache, housekeeping, purge_cancelled

DAY = timedelta(days=1)


def _run(session: Session, source: str, started: datetime, status: str = "running") -> int:
    run = SourceRun(source=source, status=status, trigger="schedule", started_at=started)
    session.add(run)
    session.flush()
    return run.id


def test_stale_runs_are_closed_as_aborted_with_the_reason(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        stale = _run(session, "fzw", NOW - timedelta(hours=3))
        fresh = _run(session, "domicil", NOW - timedelta(minutes=10))
        done = _run(session, "theater", NOW - timedelta(hours=5), status="success")
    assert close_stale_runs(factory, older_than=timedelta(minutes=120), now=NOW) == [stale]
    with factory() as session:
        aborted = session.get_one(SourceRun, stale)
        assert (aborted.status, aborted.finished_at) == (RunStatus.ABORTED.value, NOW)
        assert "still running after 120 minutes" in (aborted.error or "")
        assert session.get_one(SourceRun, fresh).status == "running"
        assert session.get_one(SourceRun, done).status == "success"
        state = session.get_one(SourceState, "fzw")
        assert verdict(True, aborted, state.consecutive_failures) == Health.FAILING
        assert state.consecutive_failures == 1


def _count(factory: sessionmaker[Session], model: type) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_purge_takes_only_long_past_cancellations(factory: sessionmaker[Session]) -> None:
    old = NOW - 60 * DAY
    with factory() as session, session.begin():
        add_occurrence(session, "gone", "ev-gone", start=old, status="cancelled", updated_at=old)
        add_occurrence(session, "gone-2", "ev-mixed", start=old, status="cancelled", updated_at=old)
        add_occurrence(session, "kept-sibling", "ev-mixed", start=old, status="scheduled", updated_at=old)
        add_occurrence(
            session, "future-cancelled", "ev-future", start=NOW + 5 * DAY, status="cancelled", updated_at=old
        )
        add_occurrence(
            session,
            "recently-cancelled",
            "ev-recent",
            start=old,
            status="cancelled",
            updated_at=NOW - 3 * DAY,
        )
        session.add(EventRedirect(old_id="ev-older", event_id="ev-gone", created_at=NOW))
    counts = purge_cancelled(factory, retention=30 * DAY, now=NOW)
    assert (counts.occurrences, counts.records, counts.events) == (2, 2, 1)
    with factory() as session:
        assert sorted(session.scalars(select(Occurrence.id))) == [
            "future-cancelled",
            "kept-sibling",
            "recently-cancelled",
        ]
        assert sorted(session.scalars(select(Event.id))) == ["ev-future", "ev-mixed", "ev-recent"]
        assert sorted(session.scalars(select(Offer.occurrence_id))) == [
            "future-cancelled",
            "kept-sibling",
            "recently-cancelled",
        ]
        assert sorted(session.scalars(select(SourceRecord.record_id))) == [
            "rec-future-cancelled",
            "rec-kept-sibling",
            "rec-recently-cancelled",
        ]
    assert _count(factory, EventRedirect) == 0


def test_purge_with_nothing_to_do_changes_nothing(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        long_ago = NOW - 90 * DAY
        add_occurrence(session, "a", "ev-a", start=long_ago, status="scheduled", updated_at=long_ago)
    counts = purge_cancelled(factory, retention=30 * DAY, now=NOW)
    assert (counts.occurrences, counts.records, counts.events) == (0, 0, 0)
    assert _count(factory, Occurrence) == 1


def test_expired_cache_files_are_dropped(tmp_path: Path) -> None:
    cache = tmp_path / "http-cache"
    (cache / "sub").mkdir(parents=True)
    old, new = cache / "aa.json", cache / "sub" / "bb.body"
    old.write_text("{}")
    new.write_text("x")
    (cache / "aa.body").write_text("x")
    stamp = (NOW - 45 * DAY).timestamp()
    os.utime(old, (stamp, stamp))
    os.utime(cache / "aa.body", (stamp, stamp))
    os.utime(new, (NOW.timestamp(), NOW.timestamp()))
    assert drop_expired_cache(cache, max_age=30 * DAY, now=NOW) == 2
    assert sorted(p.name for p in cache.rglob("*") if p.is_file()) == ["bb.body"]
    assert drop_expired_cache(tmp_path / "missing", now=NOW) == 0


def test_housekeeping_ends_console_sessions_past_either_timeout(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    account = add_account(
        factory, "redaktion@dortmund.de", role="editor", password="correct horse battery", now=NOW
    )
    lifetimes = Lifetimes(idle=timedelta(minutes=30), absolute=timedelta(hours=12))
    idle = start_session(factory, account.id, now=NOW - timedelta(minutes=31))
    fresh = start_session(factory, account.id, now=NOW - timedelta(minutes=5))
    report = housekeeping(factory, settings, now=NOW)
    assert report.console_sessions == 1
    assert resume_session(factory, idle, now=NOW, lifetimes=lifetimes) is None
    assert resume_session(factory, fresh, now=NOW, lifetimes=lifetimes) is not None
