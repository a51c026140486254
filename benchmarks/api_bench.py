"""Load benchmark of the public API: a 2,000-event feed (plain and gzip), a 304, a filtered JSON query.

Builds a database with synthetic events (SQLite in a temporary folder unless ``--database`` names
one), starts ``uvicorn`` on 127.0.0.1 with the real app, and drives it with ``wrk`` when installed
(``apt-get install wrk``) or with the small asyncio load generator below. Prints requests per second
and latency percentiles per scenario.

    .venv/bin/python benchmarks/api_bench.py [--events 2000] [--duration 10] [--connections 16]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

CATEGORIES = ["konzert", "oper", "schauspiel", "kabarett", "lesung", "party", "kinder-familie", "fuehrung"]
FILTERED_QUERY = "/api/v1/events?category=konzert&venue=venue-03&venue=venue-07&available=true&limit=50"


def make_app() -> Starlette:
    """The app as ``stadtkalender serve`` builds it (uvicorn ``--factory`` entry point)."""
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS
    from stadtkalender.runtime import Runtime

    runtime = Runtime.open()
    return create_app(runtime, clock=runtime.clock, extensions=EXTENSIONS)


def populate(url: str, events: int, seed: int = 7) -> None:
    """A migrated database with ``events`` events, one occurrence each, over the next ~300 days."""
    from aggregator.db import make_engine, session_factory, upgrade
    from aggregator.models import Event, Occurrence, Offer, SourceRecord, Venue

    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    rng = random.Random(seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    with factory() as session, session.begin():
        session.add_all(
            Venue(
                slug=f"venue-{n:02d}",
                name=f"Spielstätte {n}",
                street=f"Straße {n}",
                postcode="44135",
                city="Dortmund",
                lat=51.5 + n / 1000,
                lon=7.46,
                district=rng.choice(["Innenstadt-West", "Innenstadt-Nord", "Hörde"]),
            )
            for n in range(20)
        )
        session.flush()
        for n in range(events):
            event_id, occurrence_id = f"ev{n:06d}", f"oc{n:06d}"
            start = now + timedelta(days=rng.randint(0, 300), hours=rng.randint(0, 12))
            session.add(
                Event(
                    id=event_id,
                    title=f"Veranstaltung {n}: Sinfonie, Lesung; Party",
                    title_key=str(n),
                    subtitle="Mit Gästen",
                    description="Beschreibung " * rng.randint(5, 60),
                    categories=rng.sample(CATEGORIES, 2),
                    language="de",
                    url=f"https://venue.example/{n}",
                    venue_slug=f"venue-{n % 20:02d}",
                )
            )
            session.add(
                Occurrence(
                    id=occurrence_id,
                    event_id=event_id,
                    start=start,
                    end=start + timedelta(hours=2),
                    sequence=rng.randint(0, 3),
                )
            )
            session.add(
                Offer(
                    occurrence_id=occurrence_id,
                    source="venue",
                    price_min=Decimal(12),
                    price_max=Decimal(rng.randint(12, 80)),
                    url=f"https://tickets.example/{n}",
                    availability=rng.choice(["available", "few_left", "sold_out"]),
                )
            )
            session.add(
                SourceRecord(
                    source="venue",
                    record_id=str(n),
                    url=f"https://venue.example/{n}",
                    fetched_at=now,
                    content_hash="x",
                    event_id=event_id,
                    occurrence_id=occurrence_id,
                )
            )
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def serve(url: str, port: int) -> Iterator[str]:
    """Run uvicorn with the app on 127.0.0.1:``port`` until the block ends."""
    env = {**os.environ, "STADTKALENDER_DATABASE_URL": url}
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "api_bench:make_app",
        "--app-dir",
        str(Path(__file__).parent),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    process = subprocess.Popen(command, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"uvicorn did not start on {base}") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


@dataclass(frozen=True)
class Scenario:
    """One request, repeated."""

    name: str
    path: str
    headers: dict[str, str]
    expect: int


@dataclass(frozen=True)
class Figures:
    """Throughput and latency of one scenario."""

    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    body_bytes: int


def _fetch(base: str, scenario: Scenario) -> tuple[int, dict[str, str], int]:
    request = urllib.request.Request(base + scenario.path, headers=scenario.headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, dict(response.headers), len(response.read())
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), len(error.read())


def run_wrk(base: str, scenario: Scenario, duration: int, connections: int, threads: int) -> Figures:
    """Drive ``scenario`` with wrk and read its summary."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}s", "--latency"]
    for name, value in scenario.headers.items():
        command += ["-H", f"{name}: {value}"]
    output = subprocess.run(
        [*command, base + scenario.path], capture_output=True, text=True, check=True
    ).stdout
    if "Non-2xx or 3xx responses" in output:
        raise RuntimeError(f"{scenario.name}: wrk saw errors:\n{output}")
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)$", output, re.MULTILINE)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p99 = percentiles.get("99", float("nan"))
    return Figures(rate, percentiles["50"], percentiles["90"], p99, _fetch(base, scenario)[2])


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


async def _client(
    host: str, port: int, request: bytes, until: float, latencies: list[float], expect: int
) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        while time.perf_counter() < until:
            started = time.perf_counter()
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            if status != expect:
                raise RuntimeError(f"expected {expect}, got {status}: {head.decode(errors='replace')}")
            length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
            if length:
                await reader.readexactly(int(length.group(1)))
            latencies.append(time.perf_counter() - started)
    finally:
        writer.close()


def run_python(base: str, scenario: Scenario, duration: int, connections: int) -> Figures:
    """Drive ``scenario`` with keep-alive asyncio connections (when wrk is not installed)."""
    host, port = base.removeprefix("http://").split(":")
    lines = [
        f"GET {scenario.path} HTTP/1.1",
        f"Host: {host}:{port}",
        *(f"{k}: {v}" for k, v in scenario.headers.items()),
    ]
    request = ("\r\n".join(lines) + "\r\n\r\n").encode()
    latencies: list[float] = []

    async def main() -> None:
        until = time.perf_counter() + duration
        await asyncio.gather(
            *(
                _client(host, int(port), request, until, latencies, scenario.expect)
                for _ in range(connections)
            )
        )

    started = time.perf_counter()
    asyncio.run(main())
    elapsed = time.perf_counter() - started
    cut = statistics.quantiles(latencies, n=100)
    return Figures(
        len(latencies) / elapsed, cut[49] * 1000, cut[89] * 1000, cut[98] * 1000, _fetch(base, scenario)[2]
    )


def main(argv: list[str] | None = None) -> int:
    """Build the data, serve it, measure every scenario and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--database", help="database URL to fill (default: a temporary SQLite file)")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    args = parser.parse_args(argv)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        populate(url, args.events)
        print(
            f"database: {args.events} events in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})"
        )
        with serve(url, _free_port()) as base:
            feed = Scenario("feed", "/feeds/events.ics", {"Accept-Encoding": "identity"}, 200)
            _status, headers, size = _fetch(base, feed)
            vevents = _fetch_count(base + feed.path)
            print(f"feed: {size} bytes, {vevents} VEVENTs, ETag {headers['etag']}")
            scenarios = [
                Scenario(
                    f"{args.events:,}-event feed, plain", feed.path, {"Accept-Encoding": "identity"}, 200
                ),
                Scenario(f"{args.events:,}-event feed, gzip", feed.path, {"Accept-Encoding": "gzip"}, 200),
                Scenario(
                    "feed, 304 (If-None-Match)",
                    feed.path,
                    {"If-None-Match": headers["etag"], "Accept-Encoding": "gzip"},
                    304,
                ),
                Scenario("filtered JSON query", FILTERED_QUERY, {"Accept-Encoding": "gzip"}, 200),
            ]
            rows = []
            for scenario in scenarios:
                _fetch(base, scenario)  # warm the cache
                if generator == "wrk":
                    figures = run_wrk(base, scenario, args.duration, args.connections, args.threads)
                else:
                    figures = run_python(base, scenario, args.duration, args.connections)
                rows.append((scenario, figures))
    print(
        f"\nload generator: {generator}, {args.connections} connections, {args.duration} s per scenario, "
        f"1 uvicorn worker, {os.cpu_count()} CPUs\n"
    )
    print("| scenario | requests/s | p50 ms | p90 ms | p99 ms | bytes |")
    print("|---|---:|---:|---:|---:|---:|")
    for scenario, f in rows:
        print(
            f"| {scenario.name} | {f.requests_per_second:,.0f} | {f.p50_ms:.1f} | {f.p90_ms:.1f} | "
            f"{f.p99_ms:.1f} | {f.body_bytes:,} |"
        )
    return 0


def _fetch_count(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: Any = response.read()
    return int(body.count(b"BEGIN:VEVENT"))


if __name__ == "__main__":
    sys.exit(main())
