"""Reads see one snapshot while writers commit; pushes from two processes on one SQLite file (issue 12)."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import NOW, clock
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings, load_settings
from aggregator.db import make_engine, session_factory, upgrade
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, SourceRecord, SourceRun
from aggregator.types import RunStatus
from calendar_api.queries import DataVersion, consistent_read, data_version

REPO = Path(__file__).resolve().parent.parent.parent
VENUE = "konzerthaus-dortmund"
ROUNDS, PER_ROUND = 15, 20


def _listing(source: str, number: int, **extra: Any) -> Listing:
    start = datetime(2026, 12, 1, 18, 0, tzinfo=UTC) + timedelta(days=number % 28, minutes=number // 28)
    return Listing(
        source=source,
        record_id=f"r{number}",
        title=f"Abend Nummer {number} {source}",
        fetched_at=NOW,
        start=start,
        venue_name="Konzerthaus Dortmund",
        **extra,
    )


def test_a_read_sees_one_state_while_writers_commit_between_its_statements(
    factory: sessionmaker[Session],
    settings: Settings,
) -> None:
    ctx = IngestContext(factory, settings, kinds={"venue": "venue"}, clock=clock(NOW))
    ingest(ctx, "venue", [_listing("venue", n) for n in range(10)], complete=False, now=NOW)
    written = iter(range(10, 100))

    def read(session: Session, version: DataVersion) -> tuple[int, int, DataVersion]:
        first = session.scalar(select(func.count()).select_from(Event)) or 0
        number = next(written)
        report = ingest(
            ctx, "venue", [_listing("venue", number)], complete=False, now=NOW + timedelta(minutes=number)
        )
        assert report.status == RunStatus.SUCCESS
        second = session.scalar(select(func.count()).select_from(Event)) or 0
        return first, second, data_version(session)

    version, (first, second, again) = consistent_read(factory, read)
    assert (first, second, again) == (10, 10, version)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 11


def _push_worker(url: str, worker: int, rounds: int, start: Any, queue: Any) -> None:
    """One API process: pushes the same new ids of one source as the other, through the push write path."""
    from calendar_api.push.tokens import PushToken
    from calendar_api.push.validate import Batch, Item
    from calendar_api.push.writes import upsert

    settings = load_settings(REPO / "settings.toml", env={})
    engine = make_engine(url)
    ctx = IngestContext(session_factory(engine), settings, clock=clock(NOW))
    token = PushToken(
        id=1, name="test", prefix="x", source="push:test", venues=(VENUE,), read_only=False, created_at=NOW
    )
    failures: list[str] = []
    for round_ in range(rounds):
        start.wait(timeout=120)  # both processes begin each round together
        numbers = [round_ * PER_ROUND + (k + worker) % PER_ROUND for k in range(PER_ROUND)]
        batch = Batch(
            [
                Item(f"[{i}]", _listing("push:test", n, description=f"w{worker} r{round_}"))
                for i, n in enumerate(numbers)
            ],
            "application/ld+json",
        )
        try:
            upsert(ctx, token, batch, now=NOW + timedelta(seconds=round_))
        except Exception as exc:
            failures.append(f"{type(exc).__name__}: {exc}"[:300])
    engine.dispose()
    queue.put((worker, failures))


@pytest.mark.slow
def test_two_processes_pushing_overlapping_new_ids_on_one_sqlite_file(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine = make_engine(url)
    upgrade(engine)
    context = multiprocessing.get_context("spawn")
    queue, start = context.Queue(), context.Barrier(2)
    workers = [
        context.Process(target=_push_worker, args=(url, worker, ROUNDS, start, queue)) for worker in range(2)
    ]
    for process in workers:
        process.start()
    try:
        results = dict(queue.get(timeout=240) for _ in workers)
    finally:
        for process in workers:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert results == {0: [], 1: []}
    with session_factory(engine)() as session:
        ids = list(session.scalars(select(SourceRecord.record_id)))
        occurrences = session.scalar(select(func.count()).select_from(Occurrence))
        runs = set(session.scalars(select(SourceRun.status)))
    engine.dispose()
    assert sorted(ids) == sorted(f"r{n}" for n in range(ROUNDS * PER_ROUND))
    assert occurrences == ROUNDS * PER_ROUND
    assert runs == {RunStatus.SUCCESS.value}
