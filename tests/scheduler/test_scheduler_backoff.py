"""Failures in a row push the next attempt out, doubling per failure, up to the cap."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fixed_clock import NOW
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import SourceState
from aggregator.schedules import next_scheduled_run, waiting_until
from aggregator.types import RunStatus
from scheduler.backoff import backoff_delay, record_outcome

H = timedelta(hours=1)


@pytest.mark.parametrize(("failures", "hours"), [(0, 0), (1, 6), (2, 12), (3, 24), (4, 24), (500, 24)])
def test_delay_doubles_up_to_the_cap(failures: int, hours: int) -> None:
    assert backoff_delay(failures, base=6 * H, cap=24 * H) == hours * H


def test_a_slot_longer_than_the_cap_is_never_shortened() -> None:
    assert backoff_delay(3, base=7 * 24 * H, cap=24 * H) == 7 * 24 * H


def test_waiting_tolerates_half_a_slot_of_jitter() -> None:
    due = NOW + 12 * H
    assert waiting_until(due, NOW + 6 * H, tolerance=3 * H) == due
    assert waiting_until(due, NOW + 9 * H, tolerance=3 * H) is None
    assert waiting_until(None, NOW, tolerance=3 * H) is None


def test_the_next_scheduled_run_is_the_first_slot_the_backoff_lets_run() -> None:
    plain = next_scheduled_run("interval:6h", name="fzw", now=NOW)
    assert plain is not None and NOW < plain <= NOW + 6 * H
    assert next_scheduled_run("interval:6h", name="fzw", now=NOW, next_attempt_at=plain + H) == plain
    later = next_scheduled_run("interval:6h", name="fzw", now=NOW, next_attempt_at=plain + 4 * H)
    assert later == plain + 6 * H
    assert waiting_until(plain + 4 * H, plain, tolerance=3 * H) is not None
    assert waiting_until(plain + 4 * H, later, tolerance=3 * H) is None
    assert next_scheduled_run("manual", name="fzw", now=NOW, next_attempt_at=NOW + H) is None


def _set_failures(factory: sessionmaker[Session], failures: int) -> None:
    with factory() as session, session.begin():
        session.add(
            SourceState(
                source="fzw", consecutive_failures=failures, last_listings=3, enabled=True, updated_at=NOW
            )
        )


def _next_attempt(factory: sessionmaker[Session]) -> datetime | None:
    with factory() as session:
        return session.get_one(SourceState, "fzw").next_attempt_at


def test_failed_run_stores_the_next_attempt(factory: sessionmaker[Session]) -> None:
    _set_failures(factory, 3)
    until = record_outcome(factory, "fzw", RunStatus.FAILED, base=6 * H, cap=48 * H, now=NOW)
    assert until == NOW + 24 * H
    assert _next_attempt(factory) == NOW + 24 * H


def test_success_clears_the_wait(factory: sessionmaker[Session]) -> None:
    _set_failures(factory, 3)
    record_outcome(factory, "fzw", RunStatus.ABORTED, base=6 * H, cap=48 * H, now=NOW)
    assert record_outcome(factory, "fzw", RunStatus.SUCCESS, base=6 * H, cap=48 * H, now=NOW) is None
    assert _next_attempt(factory) is None
