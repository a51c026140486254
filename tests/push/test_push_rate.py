"""The push rate limit's shared window: counted in the database, exact Retry-After, refusals not counted."""

from __future__ import annotations

import threading
from datetime import timedelta

from fixed_clock import NOW
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.clock import FixedClock
from aggregator.models import PushRateHit
from calendar_api.push.ratelimit import SharedWindowLimiter


def test_the_limit_allows_then_refuses_with_the_exact_wait(factory: sessionmaker[Session]) -> None:
    clock = FixedClock(NOW)
    limiter = SharedWindowLimiter(factory, 3, clock=clock)
    answers = []
    for _ in range(3):
        answers.append(limiter.hit("token:1"))
        clock.advance(timedelta(seconds=10))
    assert answers == [None, None, None]
    assert limiter.hit("token:1") == 30, "the first hit leaves the window 60 s after it was counted"
    assert limiter.hit("token:2") is None, "the limit is per key"


def test_refused_requests_are_not_counted(factory: sessionmaker[Session]) -> None:
    clock = FixedClock(NOW)
    limiter = SharedWindowLimiter(factory, 2, clock=clock)
    assert [limiter.hit("k"), limiter.hit("k")] == [None, None]
    for _ in range(5):
        assert limiter.hit("k") == 60
    clock.advance(timedelta(seconds=60))
    assert limiter.hit("k") is None, "after the window, the refusals left nothing behind"
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(PushRateHit)) == 1


def test_two_limiters_on_one_database_share_the_count(factory: sessionmaker[Session]) -> None:
    """What two worker processes are: each its own limiter, one database."""
    clock = FixedClock(NOW)
    first, second = SharedWindowLimiter(factory, 3, clock=clock), SharedWindowLimiter(factory, 3, clock=clock)
    assert [first.hit("k"), second.hit("k"), first.hit("k")] == [None, None, None]
    assert second.hit("k") == 60


def test_concurrent_requests_never_exceed_the_limit(factory: sessionmaker[Session]) -> None:
    clock = FixedClock(NOW)
    limiters = [SharedWindowLimiter(factory, 5, clock=clock) for _ in range(4)]
    answers: list[int | None] = []
    lock = threading.Lock()
    start = threading.Barrier(len(limiters))

    def hammer(limiter: SharedWindowLimiter) -> None:
        start.wait(timeout=10)
        for _ in range(4):
            answer = limiter.hit("k")
            with lock:
                answers.append(answer)

    threads = [threading.Thread(target=hammer, args=(limiter,)) for limiter in limiters]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 16
    assert answers.count(None) == 5


def test_no_limit_counts_nothing(factory: sessionmaker[Session]) -> None:
    limiter = SharedWindowLimiter(factory, 0, clock=FixedClock(NOW))
    assert all(limiter.hit("k") is None for _ in range(10))
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(PushRateHit)) == 0
