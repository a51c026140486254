"""Concurrent pushes on PostgreSQL: 8 workers × 50 pushes with overlapping ids; nothing lost or duplicated."""

from __future__ import annotations

import json
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise
from typing import Any

import pytest
from _push import KONZERTHAUS, PushRuntime, event, give_token, make_client
from sqlalchemy import Engine, func, select

from aggregator.config import Settings
from aggregator.db import session_factory
from aggregator.models import Base, Event, Occurrence, PushLog, SourceRecord, SourceRun

WORKERS = 8
PUSHES = 50
IDS = 40
PER_PUSH = 3


def _ids(worker: int, push: int) -> list[int]:
    """Three ids per push; every id is pushed by several workers at once."""
    return sorted({(worker * 5 + push * 3 + k * 7) % IDS for k in range(PER_PUSH)})


def _body(worker: int, push: int) -> list[dict[str, Any]]:
    return [
        event(f"e{k}", 1 + k % 28, hour=10 + k // 28, description=f"w{worker}-p{push}")
        for k in _ids(worker, push)
    ]


@pytest.fixture
def pg_runtime(_postgres_engine: Engine, push_settings: Settings) -> PushRuntime:
    with _postgres_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return PushRuntime(push_settings, _postgres_engine, session_factory(_postgres_engine))


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_pushes_lose_no_write_and_duplicate_nothing(pg_runtime: PushRuntime) -> None:
    with make_client(pg_runtime) as setup:
        venue = give_token(pg_runtime, setup, KONZERTHAUS)

    def work(worker: int) -> list[tuple[int, int, dict[str, Any]]]:
        answers = []
        with make_client(pg_runtime) as client:
            for push in range(PUSHES):
                response = client.post(
                    "/api/v1/push/events", content=json.dumps(_body(worker, push)), headers=venue.headers()
                )
                answers.append((worker, push, {"status": response.status_code, **response.json()}))
        return answers

    with ThreadPoolExecutor(WORKERS) as pool:
        answers = [answer for batch in pool.map(work, range(WORKERS)) for answer in batch]

    assert len(answers) == WORKERS * PUSHES
    assert {a["status"] for _w, _p, a in answers} == {200}, [
        a for _w, _p, a in answers if a["status"] != 200
    ][:3]
    writes: dict[str, list[tuple[int, str, str]]] = defaultdict(list)  # id -> (run, description, result)
    for worker, push, answer in answers:
        for record in answer["records"]:
            writes[record["id"]].append((answer["run_id"], f"w{worker}-p{push}", record["result"]))
    pushed = {f"e{k}" for w in range(WORKERS) for p in range(PUSHES) for k in _ids(w, p)}
    assert set(writes) == pushed

    factory = pg_runtime.factory
    with factory() as session:
        stored = {r.record_id: r for r in session.scalars(select(SourceRecord))}
        counts = {
            model.__name__: session.scalar(select(func.count()).select_from(model))
            for model in (SourceRecord, Occurrence, Event)
        }
        runs = session.execute(select(SourceRun.status, func.count()).group_by(SourceRun.status)).all()
        logged = session.scalar(select(func.count()).select_from(PushLog))
    assert counts == {"SourceRecord": len(pushed), "Occurrence": len(pushed), "Event": len(pushed)}
    assert [tuple(row) for row in runs] == [("success", WORKERS * PUSHES)]
    assert logged == WORKERS * PUSHES
    for record_id, history in writes.items():
        history.sort()
        _run, last_description, _ = history[-1]
        assert stored[record_id].data["description"] == last_description, f"{record_id} lost its last write"
        assert [result for _run, _d, result in history].count("created") == 1
        assert history[0][2] == "created"
        for (_r1, before, _), (_r2, after, result) in pairwise(history):
            assert result == ("unchanged" if before == after else "updated"), (record_id, history)
