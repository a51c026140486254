"""Load test of the public site at city scale: 100,000 events in PostgreSQL, 4 uvicorn workers, wrk.

Builds a fresh PostgreSQL database (``CREATE DATABASE bench_load``, migrated with
:func:`aggregator.db.upgrade`; dropped afterwards unless ``--keep``; ``--reuse`` serves a kept one) with
``--events`` events written as bulk rows (the shapes of ``city_scale.py``: the registry's houses and a
growing number of small places, one to twelve dates an event, categories, a price, a source record).
Rows, not :func:`aggregator.ingest.ingest`: ``city_scale.py`` shows what the import costs, and 100k
events through it would be about 350k listings. Then serves the real app with ``uvicorn --workers N
--factory load_test:make_app`` (the factory reads ``LOAD_TEST_DATABASE_URL``) and drives the five most
common requests with ``wrk --latency`` (``apt-get install wrk``), each ``--duration`` seconds, twice:

- ``hot``: one URL over and over (after the response cache has it);
- ``varied``: a wrk Lua script picks each request's URL at random from a pool (other days, venues,
  categories, words, events), so most requests miss the per-worker response cache.

Prints requests/s, p50/p90/p99 ms, non-2xx responses and socket errors per scenario; the machine's CPUs
and load. The whole run stops once ``--max-seconds`` are spent (remaining scenarios are skipped and said).

    .venv/bin/python benchmarks/load_test.py [--events 100000] [--duration 10] [--connections 32]
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import quote

from city_scale import DISTRICTS, KINDS, SMALL_PLACES, WORDS, database_url, drop, recreate
from health_wait import wait_until_healthy

HERE = Path(__file__).resolve().parent
CATEGORY_OF = {
    "Konzert": "konzert",
    "Theater": "schauspiel",
    "Oper": "oper",
    "Kabarett": "kabarett",
    "Lesung": "lesung",
    "Party": "party",
    "Kinder": "kinder-familie",
    "Führung": "fuehrung",
    "Ausstellung": "ausstellung",
    "Vortrag": "vortrag",
}
DATES = (1, 1, 1, 1, 1, 2, 2, 3, 4, 6, 8, 12)
CHUNK = 5_000


def make_app() -> Any:
    """The app as ``stadtkalender serve`` builds it, on the database ``LOAD_TEST_DATABASE_URL`` names."""
    from dataclasses import replace

    from aggregator.config import load_settings
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS
    from stadtkalender.runtime import Runtime

    settings = load_settings()
    settings = replace(
        settings, database=replace(settings.database, url=os.environ["LOAD_TEST_DATABASE_URL"])
    )
    runtime = Runtime.open(settings)
    return create_app(runtime, clock=runtime.clock, extensions=EXTENSIONS)


def _slug(name: str) -> str:
    for umlaut, spelled in (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("ß", "ss")):
        name = name.lower().replace(umlaut, spelled)
    return "-".join(name.split())


def _chunks(rows: list[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def build(url: str, events: int, now: datetime, seed: int = 18) -> tuple[list[str], list[str]]:
    """A migrated database with ``events`` events from ``now`` on; their venue slugs and some event ids."""
    from sqlalchemy import insert

    from aggregator.db import make_engine, session_factory, upgrade
    from aggregator.models import Event, Occurrence, Offer, SourceRecord, Venue
    from aggregator.normalise.venues import load_venues
    from aggregator.venue_registry import seed_venues

    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    with factory() as session, session.begin():
        seed_venues(session, load_venues(), now=now)
        houses = list(session.scalars(Venue.__table__.select().with_only_columns(Venue.slug)))
        small = [
            f"{SMALL_PLACES[n % len(SMALL_PLACES)]} {DISTRICTS[n % len(DISTRICTS)]} {n}"
            for n in range(max(20, events // 300))
        ]
        session.execute(
            insert(Venue),
            [
                {
                    "slug": _slug(name),
                    "name": name,
                    "city": "Dortmund",
                    "district": name.split()[1],
                    "known": False,
                    "created_at": now,
                    "updated_at": now,
                }
                for name in small
            ],
        )
    slugs = houses + [_slug(name) for name in small]
    rows: dict[str, list[dict[str, Any]]] = {"events": [], "occurrences": [], "offers": [], "records": []}
    for n in range(events):
        kind = rng.choice(kinds)
        event_id = f"ev{n:07d}"
        venue = rng.choice(houses) if rng.random() < 0.45 else rng.choice(slugs)
        rows["events"].append(
            {
                "id": event_id,
                "title": f"{' '.join(rng.sample(WORDS, 2))} – {kind} {n}",
                "title_key": f"{n}",
                "description": f"{kind} mit {' '.join(rng.sample(WORDS, 12))}. Einlass 30 Minuten vorher.",
                "categories": [CATEGORY_OF[kind]],
                "language": "de",
                "url": f"https://example.org/{event_id}",
                "venue_slug": venue,
                "created_at": now,
                "updated_at": now,
            }
        )
        first = now.replace(hour=17, minute=0, second=0, microsecond=0) + timedelta(
            days=rng.randrange(0, 300), hours=rng.choice((-7, 0, 1, 2, 3))
        )
        for d in range(rng.choice(DATES)):
            occurrence_id = f"oc{n:07d}{d:02d}"
            start = first + timedelta(weeks=d)
            rows["occurrences"].append(
                {
                    "id": occurrence_id,
                    "event_id": event_id,
                    "start": start,
                    "end": start + timedelta(hours=2),
                    "created_at": now,
                    "updated_at": now,
                }
            )
            rows["offers"].append(
                {
                    "occurrence_id": occurrence_id,
                    "source": "bench",
                    "price_min": Decimal(rng.choice((0, 8, 12, 15))),
                    "price_max": Decimal(rng.choice((15, 25, 40))),
                    "availability": rng.choice(("available", "available", "few_left", "sold_out")),
                }
            )
            rows["records"].append(
                {
                    "source": "bench",
                    "record_id": occurrence_id,
                    "url": f"https://example.org/{occurrence_id}",
                    "fetched_at": now,
                    "content_hash": "x",
                    "event_id": event_id,
                    "occurrence_id": occurrence_id,
                    "first_seen": now,
                    "last_seen": now,
                }
            )
    with factory() as session, session.begin():
        for model, key in (
            (Event, "events"),
            (Occurrence, "occurrences"),
            (Offer, "offers"),
            (SourceRecord, "records"),
        ):
            for chunk in _chunks(rows[key]):
                session.execute(insert(model), chunk)
    engine.dispose()
    print(f"built {events:,} events, {len(rows['occurrences']):,} occurrences at {len(slugs)} venues")
    return slugs, [row["id"] for row in rng.sample(rows["events"], min(5_000, events))]


@contextmanager
def serve(url: str, port: int, workers: int, healthcheck: int) -> Iterator[str]:
    """uvicorn with ``workers`` processes of :func:`make_app` on 127.0.0.1:``port`` until the block ends.

    uvicorn's supervisor kills a worker that does not answer its ping within ``healthcheck`` seconds
    (default 5): a worker busy with a long render on a loaded machine is killed mid-request.
    """
    command = [
        *(sys.executable, "-m", "uvicorn", "--factory", "load_test:make_app", "--app-dir", str(HERE)),
        *("--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)),
        *("--log-level", "warning", "--no-access-log"),
    ]
    command += ["--timeout-worker-healthcheck", str(healthcheck)]
    environment = {**os.environ, "LOAD_TEST_DATABASE_URL": url}
    process = subprocess.Popen(command, env=environment, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, seconds=120, what="uvicorn", pause=0.5)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # workers still rendering: end uvicorn's own process group
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


@dataclass(frozen=True)
class Scenario:
    """One of the common requests: the URL hot runs repeat, and the pool varied runs pick from."""

    name: str
    hot: str
    pool: list[str]


@dataclass(frozen=True)
class Figures:
    """What wrk measured for one scenario."""

    requests_per_second: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    non_2xx: int
    socket_errors: str


def scenarios(venues: list[str], event_ids: list[str], now: datetime, seed: int = 5) -> list[Scenario]:
    """The five common requests (the upcoming page both as HTML and JSON); the feeds last, being the heaviest."""
    rng = random.Random(seed)
    days = [(now + timedelta(days=d)).date().isoformat() for d in range(0, 120)]
    words = [quote(word.lower()) for word in WORDS]
    return [
        Scenario("upcoming, HTML /", "/", [f"/?from={day}" for day in days]),
        Scenario(
            "upcoming, JSON limit=50",
            "/api/v1/events?limit=50",
            [f"/api/v1/events?limit=50&from={day}" for day in days],
        ),
        Scenario(
            "text search q=",
            "/api/v1/events?q=jazz&limit=50",
            [f"/api/v1/events?q={rng.choice(words)}+{rng.choice(words)}&limit=50" for _ in range(500)]
            + [f"/api/v1/events?q={word}&limit=50" for word in words],
        ),
        Scenario("event page", f"/events/{event_ids[0]}", [f"/events/{event_id}" for event_id in event_ids]),
        Scenario(
            "venue feed", f"/feeds/venues/{venues[0]}.ics", [f"/feeds/venues/{slug}.ics" for slug in venues]
        ),
        Scenario(
            "category feed",
            "/feeds/categories/konzert.ics",
            [f"/feeds/categories/{slug}.ics" for slug in sorted(set(CATEGORY_OF.values()))],
        ),
    ]


_LUA = """
local paths = {%s}
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
request = function() return wrk.format("GET", paths[math.random(#paths)]) end
"""


def run_wrk(base: str, paths: list[str], args: argparse.Namespace, folder: Path) -> Figures:
    """wrk over ``paths`` (one: that URL; several: a random one per request) for ``--duration`` seconds."""
    command = ["wrk", "-t2", f"-c{args.connections}", f"-d{args.duration}s", "--timeout", "30s", "--latency"]
    command += ["-H", "Accept-Encoding: gzip"]
    if len(paths) > 1:
        script = folder / "paths.lua"
        script.write_text(_LUA % ", ".join(f'"{path}"' for path in paths))
        command += ["-s", str(script)]
    output = subprocess.run(
        [*command, base + paths[0]], capture_output=True, text=True, check=True, timeout=args.duration + 60
    ).stdout
    percentiles = {p: _ms(v) for p, v in re.findall(r"^\s+(\d+)%\s+(\S+)\s*$", output, re.MULTILINE)}
    if "99" not in percentiles:
        print(f"wrk printed no 99th percentile for {paths[0]}:\n{output}", file=sys.stderr)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", output)
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    errors = re.search(r"Socket errors:\s+(.*)$", output, re.MULTILINE)
    return Figures(
        float(rate.group(1)) if rate else 0.0,
        percentiles.get("50", float("nan")),
        percentiles.get("90", float("nan")),
        percentiles.get("99", float("nan")),
        int(bad.group(1)) if bad else 0,
        errors.group(1) if errors else "",
    )


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def first_fetch(base: str, path: str) -> tuple[int, int, float]:
    """Status, body bytes and seconds of one request (the first render for a hot URL); 0 after 60 s."""
    started = time.perf_counter()
    request = urllib.request.Request(base + path, headers={"Accept-Encoding": "gzip"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, len(response.read()), time.perf_counter() - started
    except urllib.error.HTTPError as error:
        return error.code, len(error.read()), time.perf_counter() - started
    except OSError:  # no answer within the timeout, or the connection dropped (a worker killed): status 0
        return 0, 0, time.perf_counter() - started


def main() -> int:
    """Build (or reuse) the database, serve it, drive each scenario hot and varied, print the table."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario and mode")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--healthcheck", type=int, default=5, help="uvicorn --timeout-worker-healthcheck")
    parser.add_argument("--max-seconds", type=float, default=900, help="the whole run, building included")
    parser.add_argument("--database", default="bench_load", help="database name on the test server")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="serve the kept database as it is")
    args = parser.parse_args()
    deadline = time.monotonic() + args.max_seconds
    now = datetime.now(UTC)  # the app's clock is the wall clock: the data starts today
    url = database_url(args.database)
    results: list[tuple[str, str, Figures | None, tuple[int, int, float]]] = []
    if not args.reuse:
        recreate(args.database)
    try:
        started = time.perf_counter()
        if args.reuse:
            venues, event_ids = _stored(url)
        else:
            venues, event_ids = build(url, args.events, now)
        print(f"database ready in {time.perf_counter() - started:.1f} s")
        with (
            tempfile.TemporaryDirectory() as folder,
            serve(url, 18_000 + os.getpid() % 1000, args.workers, args.healthcheck) as base,
        ):
            for scenario in scenarios(venues, event_ids, now):
                for mode, paths in (("varied", scenario.pool), ("hot", [scenario.hot])):
                    if time.monotonic() + args.duration + 30 > deadline:
                        results.append((scenario.name, mode, None, (0, 0, 0.0)))
                        continue
                    first = first_fetch(base, paths[0])
                    figures = run_wrk(base, paths, args, Path(folder))
                    label = f"{scenario.name} ({len(paths)} URLs)" if len(paths) > 1 else paths[0]
                    results.append((label, mode, figures, first))
                    print(f"{scenario.name}, {mode}: {figures}", flush=True)
    finally:
        if not (args.keep or args.reuse):
            drop(args.database)
    load = os.getloadavg()
    print(
        f"\nwrk, 2 threads, {args.connections} connections, {args.duration} s per line; uvicorn --workers "
        f"{args.workers}; {os.cpu_count()} CPUs shared with wrk, PostgreSQL and other jobs (load average "
        f"{load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} at the end)\n"
    )
    print(
        "| request | mode | first status, bytes, s | requests/s | p50 ms | p90 ms | p99 ms | non-2xx | socket errors |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---|")
    for name, mode, measured, (status, size, seconds) in results:
        if measured is None:
            print(f"| {name} | {mode} | skipped: --max-seconds spent | | | | | | |")
            continue
        print(
            f"| {name} | {mode} | {status}, {size:,}, {seconds:.2f} | {measured.requests_per_second:,.1f} | "
            f"{measured.p50_ms:.1f} | {measured.p90_ms:.1f} | {measured.p99_ms:.1f} | {measured.non_2xx} | "
            f"{measured.socket_errors or '-'} |"
        )
    return 0


def _stored(url: str) -> tuple[list[str], list[str]]:
    """The venue slugs with events (the busiest first) and some event ids of a kept database."""
    from sqlalchemy import text

    from aggregator.db import make_engine

    engine = make_engine(url)
    with engine.connect() as conn:
        venues = list(
            conn.scalars(
                text(
                    "SELECT venue_slug FROM events WHERE venue_slug IS NOT NULL "
                    "GROUP BY venue_slug ORDER BY count(*) DESC, venue_slug"
                )
            )
        )
        ids = list(conn.scalars(text("SELECT id FROM events ORDER BY random() LIMIT 5000")))
    engine.dispose()
    return venues, ids


if __name__ == "__main__":
    raise SystemExit(main())
