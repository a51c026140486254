"""Commit → visible latency across worker processes: how soon each worker answers with a new commit.

Creates a private schema in the PostgreSQL database (dropped afterwards), fills it with synthetic
events, starts ``--workers`` separate ``stadtkalender serve`` processes on it (each its own port, so
each is asked directly), then commits ``--commits`` times from this process (an event's SEQUENCE up)
and polls every worker until it shows the new SEQUENCE. Prints p50 and max per worker, in ms, with
the load average the figures came from.

    .venv/bin/python benchmarks/notify_latency.py [--postgres URL] [--workers 3] [--commits 50]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
from api_bench import populate
from sqlalchemy import Engine, create_engine, text, update

REPO = Path(__file__).resolve().parent.parent
EVENT = "ev000000"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _sequence(client: httpx.Client, url: str) -> int:
    answer = client.get(f"{url}/api/v1/events/{EVENT}", timeout=10)
    answer.raise_for_status()
    return int(answer.json()["occurrences"][0]["sequence"])


def _listening(engine: Engine, app_name: str) -> int:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE application_name = :n AND query LIKE 'LISTEN %'"
        return int(connection.execute(text(query), {"n": app_name}).scalar_one())


def _start(
    url: str, workers: int, folder: Path, app_name: str
) -> tuple[list[str], list[subprocess.Popen[bytes]]]:
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "STADTKALENDER_SETTINGS": str(REPO / "settings.toml"),
        "STADTKALENDER_DATABASE_URL": url,
        "PGAPPNAME": app_name,
    }
    ports = [_free_port() for _ in range(workers)]
    processes = []
    for port in ports:
        with (folder / f"{port}.log").open("wb") as log:
            command = [
                sys.executable,
                "-m",
                "stadtkalender",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            processes.append(
                subprocess.Popen(command, env=env, cwd=folder, stdout=log, stderr=subprocess.STDOUT)
            )
    return [f"http://127.0.0.1:{port}" for port in ports], processes


def _wait(urls: list[str], engine: Engine, app_name: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    for url in urls:
        while True:
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit(f"{url} did not start")
            time.sleep(0.1)
    while _listening(engine, app_name) < len(urls):
        if time.monotonic() > deadline:
            raise SystemExit("not every worker is listening")
        time.sleep(0.1)


def one_commit(
    urls: list[str], clients: list[httpx.Client], engine: Engine, timeout: float = 30
) -> list[float]:
    """Commit once; seconds from the commit to each worker's first answer with it."""
    before = _sequence(clients[0], urls[0])
    for client, url in zip(clients, urls, strict=True):
        _sequence(client, url)  # each worker has read the version: only a notification makes it stale
    go = threading.Event()
    committed_at = [0.0]
    seen = [float("nan")] * len(urls)

    def poll(index: int) -> None:
        go.wait(timeout)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if _sequence(clients[index], urls[index]) > before:
                seen[index] = time.perf_counter() - committed_at[0]
                return
            time.sleep(0.002)

    threads = [threading.Thread(target=poll, args=(i,)) for i in range(len(urls))]
    for thread in threads:
        thread.start()
    from aggregator.models import Occurrence

    with engine.begin() as connection:
        connection.execute(
            update(Occurrence).where(Occurrence.event_id == EVENT).values(sequence=Occurrence.sequence + 1)
        )
    committed_at[0] = time.perf_counter()
    go.set()
    for thread in threads:
        thread.join(timeout + 5)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default="postgresql+psycopg://127.0.0.1:5432/test")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--commits", type=int, default=50)
    parser.add_argument("--events", type=int, default=200)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from aggregator.db import make_engine

    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = f"{args.postgres}{'&' if '?' in args.postgres else '?'}options=-csearch_path%3D{schema}"
    app_name = f"sk-bench-{schema}"
    processes: list[subprocess.Popen[bytes]] = []
    try:
        populate(url, args.events)
        engine = make_engine(url)
        with tempfile.TemporaryDirectory() as folder:
            urls, processes = _start(url, args.workers, Path(folder), app_name)
            _wait(urls, engine, app_name)
            clients = [httpx.Client() for _ in urls]
            rounds = [one_commit(urls, clients, engine) for _ in range(args.commits)]
            trips = []
            for _ in range(20):
                started = time.perf_counter()
                _sequence(clients[0], urls[0])
                trips.append((time.perf_counter() - started) * 1000)
            for client in clients:
                client.close()
        print(
            f"{args.commits} commits, {args.workers} workers, load average {os.getloadavg()[0]:.1f} "
            f"on {os.cpu_count()} cores; ms from commit to the first fresh answer:"
        )
        for index in range(args.workers):
            values = [r[index] * 1000 for r in rounds]
            print(f"  worker {index + 1}: p50 {statistics.median(values):6.1f}  max {max(values):6.1f}")
        print(f"  (one cached GET, for the load: p50 {statistics.median(trips):.1f} ms)")
        every = [max(r) * 1000 for r in rounds]
        print(
            f"  all workers: p50 {statistics.median(every):6.1f}  max {max(every):6.1f} (the slowest worker per commit)"
        )
        engine.dispose()
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
