"""Load benchmark of the public API: a 2,000-event feed (plain and gzip), a 304, a filtered JSON query.

Builds a database with synthetic events (SQLite in a temporary folder unless ``--database`` names
one), starts ``uvicorn`` on 127.0.0.1 with the real app, and drives it with ``wrk`` when installed
(``apt-get install wrk``) or with the small asyncio load generator below. Prints requests per second
and latency percentiles per scenario.

    .venv/bin/python benchmarks/api_bench.py [--events 2000] [--duration 10] [--connections 16]

``--side-by-side`` instead compares, per scenario (feed gzip 200, feed 304, filtered JSON query), nginx
serving the app's bytes from disk (``gzip_static``, one worker; ``apt-get install nginx``), the bare-ASGI
ceiling returning the same bytes under the same uvicorn, and the app (answering through its fast path),
with each one's ratio to nginx:

    .venv/bin/python benchmarks/api_bench.py --side-by-side --duration 5
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

from health_wait import wait_until_healthy
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


def make_bare_app() -> Any:
    """The ceiling: a minimal ASGI app answering GETs with the app's cached bytes (brotli or gzip when asked,
    304 on a matching If-None-Match), under the same server; no routing, middleware or database.

    It serves ``$API_BENCH_FEED_URL`` at every path, and each of ``$API_BENCH_PATHS`` (one per line, with
    its query) fetched from ``$API_BENCH_BASE`` at its own path and query."""
    from starlette.datastructures import Headers

    from calendar_api.caching import Rendered, choose_coding, not_modified, render_body

    def fetch(url: str, media_type: str) -> Rendered:
        with urllib.request.urlopen(url, timeout=30) as response:
            return render_body(response.read(), media_type, datetime.now(UTC))

    feed = fetch(os.environ["API_BENCH_FEED_URL"], "text/calendar; charset=utf-8")
    assert feed.gzipped is not None
    by_url: dict[tuple[str, bytes], Rendered] = {}
    for line in os.environ.get("API_BENCH_PATHS", "").splitlines():
        path, _, query = line.partition("?")
        by_url[(path, query.encode())] = fetch(os.environ["API_BENCH_BASE"] + line, "application/json")

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        rendered = by_url.get((scope["path"], scope["query_string"]), feed)
        common = [(b"etag", rendered.etag.encode()), (b"content-type", rendered.media_type.encode())]
        headers = Headers(scope=scope)
        if not_modified(headers, rendered.etag, rendered.last_modified):
            status, extra, body = 304, [], b""
        else:
            coding = choose_coding(headers.get("accept-encoding", ""), rendered)
            body = rendered.encoded(coding)
            status, extra = 200, [] if coding == "identity" else [(b"content-encoding", coding.encode())]
        length = [(b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": common + extra + length})
        await send({"type": "http.response.body", "body": body})

    return app


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
                created_at=now,
                updated_at=now,
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
                    created_at=now,
                    updated_at=now,
                )
            )
            session.add(
                Occurrence(
                    id=occurrence_id,
                    event_id=event_id,
                    start=start,
                    end=start + timedelta(hours=2),
                    sequence=rng.randint(0, 3),
                    created_at=now,
                    updated_at=now,
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
                    first_seen=now,
                    last_seen=now,
                )
            )
    engine.dispose()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


SERVERS = ("uvicorn", "granian")


def server_command(server: str, factory: str, port: int) -> list[str]:
    """The command line that serves ``api_bench:<factory>`` with one worker of ``server``."""
    here = str(Path(__file__).parent)
    if server == "granian":
        return [
            str(Path(sys.executable).with_name("granian")),
            "--interface",
            "asgi",
            "--factory",
            "--working-dir",
            here,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
            f"api_bench:{factory}",
        ]
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        f"api_bench:{factory}",
        "--app-dir",
        here,
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--log-level",
        "warning",
        "--no-access-log",
    ]


@contextmanager
def serve(
    url: str, port: int, server: str = "uvicorn", factory: str = "make_app", env: dict[str, str] | None = None
) -> Iterator[str]:
    """Run ``server`` with the app (or the bare ceiling) on 127.0.0.1:``port`` until the block ends."""
    environment = {**os.environ, "STADTKALENDER_DATABASE_URL": url, **(env or {})}
    process = subprocess.Popen(server_command(server, factory, port), env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_healthy(base, process, seconds=60, what=server)
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


def measure(base: str, scenario: Scenario, args: argparse.Namespace, generator: str) -> Figures:
    """One scenario against ``base``, with the cache warm."""
    _fetch(base, scenario)
    if generator == "wrk":
        return run_wrk(base, scenario, args.duration, args.connections, args.threads)
    return run_python(base, scenario, args.duration, args.connections)


NGINX_CONF = """\
{modules}
worker_processes 1;
daemon off;
pid {run}/nginx.pid;
error_log {run}/error.log warn;
{user}
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {run}/body;
    proxy_temp_path {run}/proxy;
    fastcgi_temp_path {run}/fastcgi;
    uwsgi_temp_path {run}/uwsgi;
    scgi_temp_path {run}/scgi;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    types {{ text/calendar ics; application/javascript js; }}
    default_type application/octet-stream;
    charset utf-8;
    charset_types text/calendar application/json application/javascript;
    gzip_static on;
    gzip_vary on;
    {brotli}
    server {{
        listen 127.0.0.1:{port};
        root {public};
        set $file $uri;
        if ($args) {{ set $file "$uri@$args"; }}  # a URL with a query has its own file, or none
        location = /healthz {{ return 200 "ok"; }}
        location /api/ {{
            default_type application/json;
            add_header Cache-Control "public, max-age=60";
            try_files $file =404;
        }}
        location /feeds/ {{
            add_header Cache-Control "public, max-age=3600";
            try_files $file =404;
        }}
    }}
}}
"""
_BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")


@contextmanager
def nginx(public: Path, port: int) -> Iterator[str]:
    """nginx (one worker) serving ``public`` as ``stadtkalender publish`` lays it out, until the block ends."""
    binary = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(binary).exists():
        raise RuntimeError("nginx is not installed (apt-get install -y nginx)")
    with tempfile.TemporaryDirectory() as run:
        brotli = _BROTLI_MODULE.exists()
        config = NGINX_CONF.format(
            modules=f"load_module {_BROTLI_MODULE};" if brotli else "",
            brotli="brotli_static on;" if brotli else "",
            user="user root root;" if os.geteuid() == 0 else "",
            run=run,
            port=port,
            public=public,
        )
        (Path(run) / "nginx.conf").write_text(config, encoding="utf-8")
        command = [binary, "-p", run, "-c", f"{run}/nginx.conf", "-e", f"{run}/error.log"]
        process = subprocess.Popen(command)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until_healthy(
                base,
                process,
                seconds=30,
                what="nginx",
                pause=0.1,
                detail=lambda: ":\n" + (Path(run) / "error.log").read_text(errors="replace"),
            )
            yield base
        finally:
            process.terminate()
            process.wait(timeout=30)


def _header(headers: dict[str, str], name: str) -> str:
    return next((v for k, v in headers.items() if k.lower() == name), "")


def _get(base: str, path: str, encoding: str) -> bytes:
    request = urllib.request.Request(base + path, headers={"Accept-Encoding": encoding})
    with urllib.request.urlopen(request, timeout=60) as response:
        sent = _header(dict(response.headers), "content-encoding") or "identity"
        if sent != encoding:
            raise RuntimeError(f"{path}: asked for {encoding}, got {sent}")
        body: bytes = response.read()
        return body


def side_by_side(url: str, args: argparse.Namespace, generator: str) -> None:
    """nginx from disk, the bare-ASGI ceiling and the app's fast path, per scenario, with ratios to nginx."""
    feed_path = "/feeds/events.ics"
    names = ["feed, gzip 200", "feed, 304 (If-None-Match)", "filtered JSON query, gzip"]
    results: dict[tuple[str, str], Figures] = {}
    with tempfile.TemporaryDirectory() as public, serve(url, _free_port()) as app:
        root = Path(public)
        os.chmod(root, 0o755)
        for path, name in (
            (feed_path, "feeds/events.ics"),
            (FILTERED_QUERY, "api/v1/events@" + FILTERED_QUERY.split("?", 1)[1]),
        ):
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            for encoding, suffix in (("identity", ""), ("gzip", ".gz"), ("br", ".br")):
                (root / (name + suffix)).write_bytes(_get(app, path, encoding))
        bare_env = {
            "API_BENCH_FEED_URL": app + feed_path,
            "API_BENCH_BASE": app,
            "API_BENCH_PATHS": FILTERED_QUERY,
        }
        with (
            nginx(root, _free_port()) as web,
            serve(url, _free_port(), "uvicorn", "make_bare_app", bare_env) as bare,
        ):
            for target, base in (("nginx", web), ("bare ASGI", bare), ("app", app)):
                feed = Scenario(names[0], feed_path, {"Accept-Encoding": "gzip"}, 200)
                etag = _header(_fetch(base, feed)[1], "etag")
                scenarios = [
                    feed,
                    Scenario(names[1], feed_path, {"If-None-Match": etag, "Accept-Encoding": "gzip"}, 304),
                    Scenario(names[2], FILTERED_QUERY, {"Accept-Encoding": "gzip"}, 200),
                ]
                for scenario in scenarios:
                    results[(scenario.name, target)] = measure(base, scenario, args, generator)
    print(
        f"\nload generator: {generator}, {args.connections} connections, {args.duration} s per scenario, "
        f"one nginx worker / one uvicorn worker, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at the end\n"
    )
    print(
        "| scenario | nginx req/s (p50 ms) | bare ASGI req/s (p50 ms) | × nginx | app req/s (p50 ms) | × nginx |"
    )
    print("|---|---:|---:|---:|---:|---:|")
    for name in names:
        ref, bare_f, app_f = (results[(name, t)] for t in ("nginx", "bare ASGI", "app"))
        print(
            f"| {name} | {ref.requests_per_second:,.0f} ({ref.p50_ms:.2f}) | "
            f"{bare_f.requests_per_second:,.0f} ({bare_f.p50_ms:.2f}) | "
            f"{bare_f.requests_per_second / ref.requests_per_second:.2f} | "
            f"{app_f.requests_per_second:,.0f} ({app_f.p50_ms:.2f}) | "
            f"{app_f.requests_per_second / ref.requests_per_second:.2f} |"
        )


def main(argv: list[str] | None = None) -> int:
    """Build the data; serve it with each server (and the bare ceiling) in turn, round after round; print
    the median of each scenario."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per scenario")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--database", help="database URL to fill (default: a temporary SQLite file)")
    parser.add_argument("--generator", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=["uvicorn"])
    parser.add_argument("--rounds", type=int, default=1, help="rounds over all servers; medians are printed")
    parser.add_argument("--bare", action="store_true", help="also the bare-ASGI ceiling under each server")
    parser.add_argument(
        "--side-by-side", action="store_true", help="nginx from disk vs bare ASGI vs the app (fast path)"
    )
    args = parser.parse_args(argv)
    generator = args.generator
    if generator == "auto":
        generator = "wrk" if shutil.which("wrk") else "python"
    if args.side_by_side:
        with tempfile.TemporaryDirectory() as folder:
            url = args.database or f"sqlite:///{folder}/bench.db"
            populate(url, args.events)
            side_by_side(url, args, generator)
        return 0
    results: dict[tuple[str, str], list[Figures]] = {}
    with tempfile.TemporaryDirectory() as folder:
        url = args.database or f"sqlite:///{folder}/bench.db"
        started = time.perf_counter()
        populate(url, args.events)
        print(
            f"database: {args.events} events in {time.perf_counter() - started:.1f} s ({url.split(':')[0]})"
        )
        for _round in range(args.rounds):
            for server in args.servers:
                with serve(url, _free_port(), server) as base:
                    feed = Scenario("feed", "/feeds/events.ics", {"Accept-Encoding": "identity"}, 200)
                    _status, headers, _size = _fetch(base, feed)
                    etag = headers.get("etag") or headers["ETag"]
                    scenarios = [
                        Scenario(
                            f"{args.events:,}-event feed, plain",
                            feed.path,
                            {"Accept-Encoding": "identity"},
                            200,
                        ),
                        Scenario(
                            f"{args.events:,}-event feed, gzip", feed.path, {"Accept-Encoding": "gzip"}, 200
                        ),
                        Scenario(
                            "feed, 304 (If-None-Match)",
                            feed.path,
                            {"If-None-Match": etag, "Accept-Encoding": "gzip"},
                            304,
                        ),
                        Scenario("filtered JSON query", FILTERED_QUERY, {"Accept-Encoding": "gzip"}, 200),
                    ]
                    for scenario in scenarios:
                        results.setdefault((scenario.name, server), []).append(
                            measure(base, scenario, args, generator)
                        )
                    feed_url = base + feed.path
                    if not args.bare:
                        continue
                    with serve(
                        url, _free_port(), server, "make_bare_app", {"API_BENCH_FEED_URL": feed_url}
                    ) as bare:
                        bare_etag = _fetch(bare, feed)[1].get("etag", "")
                        for scenario in (
                            Scenario("bare ASGI ceiling, gzip", "/", {"Accept-Encoding": "gzip"}, 200),
                            Scenario("bare ASGI ceiling, 304", "/", {"If-None-Match": bare_etag}, 304),
                        ):
                            results.setdefault((scenario.name, server), []).append(
                                measure(bare, scenario, args, generator)
                            )
    print(
        f"\nload generator: {generator}, {args.connections} connections, {args.duration} s per scenario, "
        f"1 worker, {os.cpu_count()} CPUs, median of {args.rounds} round(s)\n"
    )
    print("| scenario | server | requests/s | p50 ms | p90 ms | p99 ms | bytes |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for (name, server), runs in results.items():
        f = _median(runs)
        print(
            f"| {name} | {server} | {f.requests_per_second:,.0f} | {f.p50_ms:.1f} | {f.p90_ms:.1f} | "
            f"{f.p99_ms:.1f} | {f.body_bytes:,} |"
        )
    return 0


def _median(runs: list[Figures]) -> Figures:
    def middle(values: list[float]) -> float:
        return statistics.median(values)

    return Figures(
        middle([r.requests_per_second for r in runs]),
        middle([r.p50_ms for r in runs]),
        middle([r.p90_ms for r in runs]),
        middle([r.p99_ms for r in runs]),
        runs[0].body_bytes,
    )


def _fetch_count(url: str) -> int:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: Any = response.read()
    return int(body.count(b"BEGIN:VEVENT"))


if __name__ == "__main__":
    sys.exit(main())
