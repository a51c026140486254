"""Many workers, one truth: three real server processes on one PostgreSQL database.

Each worker is a ``stadtkalender serve`` process of its own on its own port, so a test can ask a
chosen worker (``serve --workers N`` shares one port, and the kernel picks the worker). The commit
comes from this test process, the way ingest and the other workers' writes come from theirs.
"""

from __future__ import annotations

import itertools
import os
import re
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from _data import NOW, populate
from sqlalchemy import Engine, text, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import load_settings
from aggregator.db import session_factory
from aggregator.ingest import IngestContext
from aggregator.models import Base, Occurrence
from calendar_api.push.tokens import issue_token
from stadtkalender.runtime import NOW_VARIABLE

pytestmark = [pytest.mark.realtime, pytest.mark.postgres]
REPO = Path(__file__).resolve().parents[2]

WORKERS = 3
PUSH_LIMIT = 6


_START_TIMEOUT = 120.0


@dataclass
class Servers:
    """The running workers: their base URLs, the database they share and its session factory."""

    urls: list[str]
    engine: Engine
    factory: sessionmaker[Session]
    app_name: str


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(database_url: str, app_name: str) -> dict[str, str]:
    """The environment of a server process: the worktree's packages, the shared database, fixed NOW."""
    return {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "STADTKALENDER_SETTINGS": str(REPO / "settings.toml"),
        "STADTKALENDER_DATABASE_URL": database_url,
        "STADTKALENDER_PUSH_RATE_LIMIT_PER_MINUTE": str(PUSH_LIMIT),
        NOW_VARIABLE: NOW.isoformat(),
        "PGAPPNAME": app_name,  # libpq names every connection of the process: its listeners can be found
    }


def listeners(engine: Engine, app_name: str) -> int:
    """How many connections named ``app_name`` are LISTENing (one per worker once it is ready)."""
    with engine.connect() as connection:
        return int(
            connection.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity WHERE application_name = :name "
                    "AND query LIKE 'LISTEN %'"
                ),
                {"name": app_name},
            ).scalar_one()
        )


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if condition():
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout} s")
        time.sleep(0.05)


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``stadtkalender ARGS`` with its output in ``log`` (its folder is the working directory)."""
    with log.open("wb") as output:
        return subprocess.Popen(
            [sys.executable, "-m", "stadtkalender", *args],
            env=env,
            cwd=log.parent,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Terminate the processes this test started (by their own handles) and wait for them."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def servers(
    postgres_schema_url: str, _postgres_engine: Engine, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Servers]:
    """Three ``serve`` processes on the populated database, each listening for commits."""
    with _postgres_engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    factory = session_factory(_postgres_engine)
    populate(factory)
    app_name = f"sk-workers-{uuid.uuid4().hex[:8]}"
    env = server_env(postgres_schema_url, app_name)
    logs = tmp_path_factory.mktemp("workers")
    ports = [_free_port() for _ in range(WORKERS)]
    processes = [
        spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], env, logs / f"{port}.log")
        for port in ports
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process in zip(urls, processes, strict=True):
            wait_for(
                lambda url=url, process=process: _ready(url, process, logs),  # type: ignore[misc]
                _START_TIMEOUT,
                f"{url} answering /healthz",
            )
        wait_for(lambda: listeners(_postgres_engine, app_name) == WORKERS, 30, "every worker listening")
        yield Servers(urls, _postgres_engine, factory, app_name)
    finally:
        stop(processes)


def _ready(url: str, process: subprocess.Popen[bytes], logs: Path) -> bool:
    if process.poll() is not None:
        pytest.fail(f"the server for {url} exited: {list(logs.iterdir())}")
    return httpx.get(f"{url}/healthz", timeout=2).status_code == 200


def _sequence(client: httpx.Client, url: str) -> int:
    answer = client.get(f"{url}/api/v1/events/evmahler", timeout=5)
    assert answer.status_code == 200, answer.text
    return int(answer.json()["occurrences"][0]["sequence"])


_TICKS = itertools.count(1)
"""Each bump's change time is later than every stored one, as a run's is."""


def _bump(factory: sessionmaker[Session]) -> None:
    """What ingest does to a changed event: SEQUENCE and the change time up (one commit)."""
    with factory() as session, session.begin():
        session.execute(
            update(Occurrence)
            .where(Occurrence.event_id == "evmahler")
            .values(
                sequence=Occurrence.sequence + 1,
                updated_at=NOW + timedelta(minutes=next(_TICKS)),
            )
        )


def commit_to_visible(urls: list[str], factory: sessionmaker[Session], timeout: float = 5.0) -> list[float]:
    """Commit once and return, per worker, the seconds from the commit to its first fresh answer.

    Every worker is asked first (its version is then cached, for up to a minute while it hears
    commits), then polled from its own thread until the new sequence shows.
    """
    clients = [httpx.Client() for _ in urls]
    try:
        before = [_sequence(client, url) for client, url in zip(clients, urls, strict=True)]
        assert len(set(before)) == 1, f"the workers disagree before the commit: {before}"
        committed = threading.Event()
        committed_at = [0.0]
        seen: list[float] = [float("nan")] * len(urls)

        def poll(index: int) -> None:
            deadline = time.monotonic() + timeout
            committed.wait(timeout)
            while time.monotonic() < deadline:
                if _sequence(clients[index], urls[index]) == before[0] + 1:
                    seen[index] = time.perf_counter() - committed_at[0]
                    return
                time.sleep(0.002)  # a little room for the workers on a busy machine

        threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(urls))]
        for thread in threads:
            thread.start()
        _bump(factory)
        committed_at[0] = time.perf_counter()
        committed.set()
        for thread in threads:
            thread.join(timeout + 5)
        return seen
    finally:
        for client in clients:
            client.close()


def test_a_commit_is_visible_on_every_worker(servers: Servers) -> None:
    """Every worker answers with the new data after each commit, though each had the old version cached.

    How fast (issue 18's 100 ms) is a figure, printed by benchmarks/notify_latency.py on a quiet machine,
    not a timed assertion here: on the shared 2-core test machine the fresh answer's render alone varies
    from milliseconds to half a second. The in-process test in test_invalidation.py shows it is the
    listener, not the TTL, that makes the version stale.
    """
    for _round in range(3):
        latencies = commit_to_visible(servers.urls, servers.factory)
        assert all(latency == latency for latency in latencies), (  # nan: not seen within the poll's 5 s
            f"seconds from commit to the first fresh answer per worker: {latencies}"
        )


def test_the_push_rate_limit_holds_across_workers(servers: Servers) -> None:
    settings = load_settings(REPO / "settings.toml", env={})
    registry = IngestContext(servers.factory, settings, clock=lambda: NOW).venues
    _token, secret = issue_token(
        servers.factory, ["konzerthaus-dortmund"], name="workers test", registry=registry, now=NOW
    )
    headers = {"authorization": f"Bearer {secret}"}
    with httpx.Client(headers=headers, timeout=10) as client:
        answers = [
            client.get(f"{servers.urls[n % WORKERS]}/api/v1/push/log").status_code for n in range(PUSH_LIMIT)
        ]
        refused = [client.get(f"{url}/api/v1/push/log") for url in servers.urls]
    assert answers == [200] * PUSH_LIMIT
    assert [r.status_code for r in refused] == [429] * WORKERS
    assert {r.headers["retry-after"] for r in refused} == {"60"}, "every hit was at the same NOW"


def test_the_login_throttle_holds_across_workers(servers: Servers) -> None:
    def sign_in(url: str) -> int:
        with httpx.Client(timeout=10) as client:
            page = client.get(f"{url}/admin/login")
            found = re.search(r'name="csrftoken" value="([^"]+)"', page.text)
            assert found, page.text[:300]
            answer = client.post(
                f"{url}/admin/login",
                data={"email": "nobody@example.org", "password": "wrong password!!", "csrftoken": found[1]},
            )
            return answer.status_code

    failures = [sign_in(servers.urls[n % WORKERS]) for n in range(5)]
    assert failures == [401] * 5
    assert [sign_in(url) for url in servers.urls] == [429] * WORKERS


def test_serve_with_workers_starts_that_many_listening_processes(
    servers: Servers, postgres_schema_url: str, tmp_path: Path
) -> None:
    app_name = f"sk-multi-{uuid.uuid4().hex[:8]}"
    port = _free_port()
    process = spawn(
        ["serve", "--port", str(port), "--workers", "2"],
        server_env(postgres_schema_url, app_name),
        tmp_path / "serve.log",
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_for(lambda: _ready(url, process, tmp_path), _START_TIMEOUT, "serve --workers 2 answering")
        wait_for(lambda: listeners(servers.engine, app_name) == 2, 30, "both workers listening")
        with httpx.Client() as client:
            before = _sequence(client, url)
            _bump(servers.factory)
            wait_for(lambda: _sequence(client, url) == before + 1, 5, "the commit showing")
    finally:
        stop([process])
    log = (tmp_path / "serve.log").read_text(encoding="utf-8", errors="replace")
    assert "with 2 worker processes" in log
