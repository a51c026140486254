"""A city's programme end to end: 50 sources' calendars parsed, normalised, deduplicated, stored, then again.

For each size (default 10k, 100k listings) a fresh PostgreSQL database (``CREATE DATABASE bench_city_<n>``,
migrated with :func:`aggregator.db.upgrade`, dropped afterwards unless ``--keep``) receives the programme of
50 synthetic sources: ten venue sites with the registry's houses (series as one ``RRULE`` VEVENT), a city
portal and three ticket shops repeating a third of the productions date by date (the shops in capitals),
and 36 small organisers at venues the registry does not know. Each source's .ics is read by the real reader
(:func:`sources.platforms.detect.import_listings`) and applied with :func:`aggregator.ingest.ingest`; then
every source once more, unchanged (read again, applied again). A size runs in its own subprocess and stops
cleanly between two sources once ``--max-seconds`` are spent (the line then says how many sources it got).

Printed per size: wall and CPU seconds of this process (the machine is shared; PostgreSQL's own CPU is not
in them) for reading the documents and for storing them, first and unchanged; peak memory as the
subprocess's max RSS (``resource.getrusage``, which includes the documents and listings held); events and
occurrences stored. Goals (issue 18): 100k first import < 60 s, unchanged re-import < 30 s, memory < 1 GiB.

    .venv/bin/python benchmarks/city_scale.py [--sizes 10000 100000] [--max-seconds 900] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scale_runs import ROOT, Row, peak_mib

NOW = datetime(2026, 11, 21, tzinfo=UTC)
ADMIN_URL = os.environ.get("CITY_SCALE_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
VENUE_SITES, TICKET_SHOPS, ORGANISERS = 10, 3, 36
WINDOW = (NOW - timedelta(days=1), NOW + timedelta(days=400))
WORDS = (
    "Sinfonie",
    "Nacht",
    "Konzert",
    "Jazz",
    "Oper",
    "Traum",
    "Sommer",
    "Winter",
    "Klang",
    "Licht",
    "Stadt",
    "Hafen",
    "Wald",
    "Stern",
    "Liebe",
    "Reise",
    "Tanz",
    "Gala",
    "Lieder",
    "Abend",
    "Morgen",
    "Familie",
    "Rock",
    "Pop",
    "Soul",
    "Blues",
    "Zauber",
    "Märchen",
    "Bühne",
    "Welt",
    "Ballett",
    "Quartett",
    "Trio",
    "Orgel",
    "Chor",
    "Klavier",
    "Geige",
    "Revue",
    "Comedy",
    "Lesung",
    "Vortrag",
    "Führung",
    "Kohle",
    "Zeche",
    "Ruhr",
    "Revier",
    "Brücke",
    "Spiegel",
    "Fenster",
)
KINDS = (
    ("Konzert", 30),
    ("Theater", 15),
    ("Oper", 5),
    ("Kabarett", 8),
    ("Lesung", 10),
    ("Party", 8),
    ("Kinder", 8),
    ("Führung", 8),
    ("Ausstellung", 4),
    ("Vortrag", 4),
)
SMALL_PLACES = ("Bürgerhaus", "Kulturzentrum", "Galerie", "Kirche", "Jugendzentrum", "Bibliothek", "Club")
DISTRICTS = ("Hörde", "Aplerbeck", "Brackel", "Eving", "Huckarde", "Lütgendortmund", "Mengede", "Scharnhorst")
DATES_PER_PRODUCTION = (1, 1, 1, 1, 2, 2, 3, 4, 6, 8, 12, 20)


@dataclass
class Production:
    """One programme item: a title at a venue on one or more dates, owned by one source."""

    uid: str
    title: str
    kind: str
    venue: str
    starts: list[datetime]
    weekly: bool
    owner: str
    resellers: list[str] = field(default_factory=list)


def source_names() -> list[str]:
    """The 50 sources: venue sites, the city portal, ticket shops, small organisers."""
    return (
        [f"haus_{n:02}" for n in range(VENUE_SITES)]
        + ["stadtportal"]
        + [f"tickets_{n}" for n in range(TICKET_SHOPS)]
        + [f"verein_{n:02}" for n in range(ORGANISERS)]
    )


def plan(total: int, seed: int = 18) -> list[Production]:
    """Productions whose dates, counted once per source listing them, add up to about ``total`` listings."""
    from aggregator.normalise.venues import load_venues

    rng = random.Random(seed)
    registry = [venue.name for venue in load_venues().all()]
    # A bigger programme means more small places, not more shows per house and night (a city's density).
    small = [
        f"{SMALL_PLACES[n % len(SMALL_PLACES)]} {DISTRICTS[n % len(DISTRICTS)]} {n}"
        for n in range(max(20, total // 1500))
    ]
    names = source_names()
    houses, shops, organisers = names[:VENUE_SITES], names[VENUE_SITES + 1 : 14], names[14:]
    kinds = [kind for kind, weight in KINDS for _ in range(weight)]
    productions: list[Production] = []
    listed = 0
    while listed < total:
        n = len(productions)
        at_house = rng.random() < 0.55
        venue = rng.choice(registry) if at_house else rng.choice(small)
        owner = houses[registry.index(venue) % VENUE_SITES] if at_house else rng.choice(organisers)
        count = rng.choice(DATES_PER_PRODUCTION)
        weekly = count > 3 and rng.random() < 0.6
        first = NOW + timedelta(days=rng.randrange(1, 240), hours=rng.choice((10, 15, 18, 19, 20)))
        first += timedelta(minutes=rng.choice((0, 0, 30)))
        if weekly:
            starts = [first + timedelta(weeks=w) for w in range(count)]
        else:
            starts = sorted({first + timedelta(days=rng.randrange(0, 60)) for _ in range(count)} | {first})
        kind = rng.choice(kinds)
        title = f"{' '.join(rng.sample(WORDS, 2))} – {kind} {n}"
        resellers: list[str] = []
        if kind in ("Konzert", "Oper", "Kabarett", "Theater") and rng.random() < 0.45:
            resellers = rng.sample(["stadtportal", *shops], rng.choice((1, 1, 2)))
        elif rng.random() < 0.15:
            resellers = ["stadtportal"]
        productions.append(Production(f"p{n}", title, kind, venue, starts, weekly, owner, resellers))
        listed += len(starts) * (1 + len(resellers))
    return productions


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace(";", "\\;")


def _vevent(uid: str, title: str, start: datetime, production: Production, rrule: str = "") -> Iterator[str]:
    yield "BEGIN:VEVENT"
    yield f"UID:{uid}"
    yield f"DTSTAMP:{NOW:%Y%m%dT%H%M%SZ}"
    yield f"DTSTART;TZID=Europe/Berlin:{start:%Y%m%dT%H%M%S}"
    yield f"DTEND;TZID=Europe/Berlin:{start + timedelta(hours=2):%Y%m%dT%H%M%S}"
    if rrule:
        yield rrule
    yield f"SUMMARY:{_escape(title)}"
    yield f"DESCRIPTION:{_escape(production.kind)} im {_escape(production.venue)}. Einlass 30 Minuten vorher."
    yield f"LOCATION:{_escape(production.venue)}"
    yield f"CATEGORIES:{production.kind}"
    yield f"URL:https://example.org/{uid}"
    yield "END:VEVENT"


def calendars(productions: list[Production]) -> dict[str, bytes]:
    """Each source's .ics: owners list a weekly series as one RRULE VEVENT, resellers every date alone."""
    lines: dict[str, list[str]] = {
        name: ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//{name}//city-scale//DE"]
        for name in source_names()
    }
    for production in productions:
        own = lines[production.owner]
        if production.weekly:
            rule = f"RRULE:FREQ=WEEKLY;COUNT={len(production.starts)}"
            own += _vevent(production.uid, production.title, production.starts[0], production, rule)
        else:
            for n, start in enumerate(production.starts):
                own += _vevent(f"{production.uid}-{n}", production.title, start, production)
        for reseller in production.resellers:
            shown = production.title.upper() if reseller.startswith("tickets") else production.title
            for n, start in enumerate(production.starts):
                lines[reseller] += _vevent(f"{reseller}-{production.uid}-{n}", shown, start, production)
    return {  # a source without any date (possible below 10k listings) has no calendar to read
        name: ("\r\n".join([*text, "END:VCALENDAR"]) + "\r\n").encode()
        for name, text in lines.items()
        if len(text) > 3
    }


@dataclass
class Clocked:
    """Wall and CPU seconds of one phase, summed over the sources."""

    wall: float = 0.0
    cpu: float = 0.0

    def add(self, wall: float, cpu: float) -> None:
        self.wall += wall
        self.cpu += cpu


@dataclass
class SqlClock:
    """SQL statements and the seconds spent waiting for them, by the statement's first 90 characters."""

    by_statement: dict[str, list[float]] = field(default_factory=dict)
    _started: list[float] = field(default_factory=list)

    def watch(self, engine: Any) -> None:
        """Count and time every statement ``engine`` executes from now on."""
        from sqlalchemy import event

        def before(*_args: Any) -> None:
            self._started.append(time.perf_counter())

        def after(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            spent = time.perf_counter() - self._started.pop()
            entry = self.by_statement.setdefault(" ".join(statement.split())[:90], [0, 0.0])
            entry[0] += 1
            entry[1] += spent

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)

    def totals(self) -> tuple[int, float]:
        """Statements and seconds so far."""
        return int(sum(n for n, _ in self.by_statement.values())), sum(
            s for _, s in self.by_statement.values()
        )

    def since(self, before: dict[str, list[float]]) -> list[tuple[str, int, float]]:
        """Statements, counts and seconds since the snapshot ``before``, the slowest first."""
        spent = [
            (key, int(n - before.get(key, [0, 0.0])[0]), s - before.get(key, [0, 0.0])[1])
            for key, (n, s) in self.by_statement.items()
        ]
        return sorted((row for row in spent if row[1]), key=lambda row: -row[2])


def run_size(total: int, url: str, max_seconds: float) -> Row:
    """Both passes of about ``total`` listings into the empty database at ``url``; the figures."""
    from sqlalchemy import func, select

    from aggregator.clock import FixedClock
    from aggregator.config import load_settings
    from aggregator.db import make_engine, session_factory, upgrade
    from aggregator.ingest import ingest
    from aggregator.models import Event, Occurrence
    from aggregator.runs import IngestContext
    from aggregator.types import RunStatus
    from sources.platforms.detect import import_listings

    deadline = time.monotonic() + max_seconds
    documents = calendars(plan(total))
    engine = make_engine(url)
    upgrade(engine)
    ctx = IngestContext(session_factory(engine), load_settings(ROOT / "settings.toml"), clock=FixedClock(NOW))
    phases = {name: Clocked() for name in ("read", "store", "read_again", "store_again")}
    sql = SqlClock()
    sql.watch(engine)
    listings = done = 0
    sql_by_pass: list[tuple[int, float]] = []
    slowest_first: list[tuple[str, int, float]] = []
    snapshot: dict[str, list[float]] = {}
    for again in (False, True):
        if again:
            sql_by_pass.append(sql.totals())
            slowest_first = sql.since({})[:6]
            snapshot = {key: list(value) for key, value in sql.by_statement.items()}
        for source, data in documents.items():
            if time.monotonic() > deadline:
                break
            wall, cpu = time.perf_counter(), time.process_time()
            read = import_listings(data, source=source, fetched_at=NOW, window=WINDOW, origin=f"{source}.ics")
            phases["read_again" if again else "read"].add(
                time.perf_counter() - wall, time.process_time() - cpu
            )
            wall, cpu = time.perf_counter(), time.process_time()
            report = ingest(
                ctx, source, read.listings, rejections=read.rejections, warnings=read.warnings, now=NOW
            )
            phases["store_again" if again else "store"].add(
                time.perf_counter() - wall, time.process_time() - cpu
            )
            assert report.status == RunStatus.SUCCESS, (source, report.error, report.warnings[:3])
            listings += 0 if again else len(read.listings)
            done += 1
    total_sql = sql.totals()
    sql_by_pass.append((total_sql[0] - sql_by_pass[0][0], total_sql[1] - sql_by_pass[0][1]))
    slowest_again = sql.since(snapshot)[:6]
    with ctx.factory() as session:
        events = session.scalar(select(func.count()).select_from(Event)) or 0
        occurrences = session.scalar(select(func.count()).select_from(Occurrence)) or 0
    engine.dispose()
    row: Row = {
        "size": total,
        "listings": listings,
        "runs": done,
        "sources": len(documents),
        "events": events,
        "occurrences": occurrences,
        "peak_mib": peak_mib(),
        "sql": sql_by_pass,
        "slowest_first": slowest_first,
        "slowest_again": slowest_again,
    }
    for name, clocked in phases.items():
        row[name], row[f"{name}_cpu"] = clocked.wall, clocked.cpu
    return row


def _admin() -> Any:
    from sqlalchemy import create_engine

    return create_engine(
        ADMIN_URL.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


def database_url(name: str) -> str:
    """The URL of database ``name`` on the admin URL's server."""
    return ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"


def recreate(name: str) -> None:
    """Drop database ``name`` if it is there and create it empty."""
    from sqlalchemy import text

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def drop(name: str) -> None:
    """Drop database ``name`` (connections still open are ended)."""
    from sqlalchemy import text

    admin = _admin()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


HEADER = (
    f"{'size':>8} {'listings':>8} {'runs':>6} {'events':>7} {'occurr.':>8} | {'read s':>7} {'cpu':>6} "
    f"{'store s':>8} {'cpu':>6} {'first s':>8} | {'read s':>7} {'store s':>8} {'cpu':>6} {'again s':>8} | "
    f"{'RSS MiB':>8}"
)


def line(row: Row) -> str:
    """One size's figures under :data:`HEADER` (first = read + store; again likewise)."""
    first, again = row["read"] + row["store"], row["read_again"] + row["store_again"]
    return (
        f"{row['size']:>8,} {row['listings']:>8,} {row['runs']:>3}/{2 * row['sources']:<3}{row['events']:>7,} "
        f"{row['occurrences']:>8,} | {row['read']:>7.1f} {row['read_cpu']:>6.1f} {row['store']:>8.1f} "
        f"{row['store_cpu']:>6.1f} {first:>8.1f} | {row['read_again']:>7.1f} {row['store_again']:>8.1f} "
        f"{row['store_again_cpu']:>6.1f} {again:>8.1f} | {row['peak_mib']:>8.0f}"
    )


def main() -> int:
    """Run each size in a fresh subprocess and database; print a line a size, the growth and the goals."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--max-seconds", type=float, default=900, help="per size; stops between two sources")
    parser.add_argument("--keep", action="store_true", help="keep the last size's database (bench_city_<n>)")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_size(args.one, args.url, args.max_seconds)))
        return 0
    print(
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start; seconds are this process's"
    )
    print(HEADER)
    rows: list[Row] = []
    for size in args.sizes:
        name = f"bench_city_{size}"
        recreate(name)
        try:
            out = subprocess.run(
                [
                    *(sys.executable, __file__, "--one", str(size), "--url", database_url(name)),
                    *("--max-seconds", str(args.max_seconds)),
                ],
                capture_output=True,
                text=True,
                timeout=args.max_seconds + 300,
            )
            if out.returncode:
                print(out.stderr[-3000:], file=sys.stderr)
                return out.returncode
        finally:
            if not (args.keep and size == args.sizes[-1]):
                drop(name)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(line(rows[-1]), f"(load {os.getloadavg()[0]:.1f})", flush=True)
    for row in rows:
        (first_n, first_s), (again_n, again_s) = row["sql"]
        print(
            f"{row['size']:,}: SQL statements (seconds waiting for them) first {first_n:,} ({first_s:.1f} s), "
            f"again {again_n:,} ({again_s:.1f} s)"
        )
        for label, key in (("first import", "slowest_first"), ("re-import", "slowest_again")):
            print(f"  the {label}'s slowest:")
            for statement, count, seconds in row[key]:
                print(f"    {seconds:7.1f} s {count:>7,} × {statement}")
    complete = [row for row in rows if row["runs"] == 2 * row["sources"]]
    for before, after in itertools.pairwise(complete):
        scale = after["listings"] / before["listings"]
        growth = ", ".join(
            f"{label} ×{(after[a] + after[b]) / (before[a] + before[b]) / scale:.2f}"
            for label, a, b in (("first", "read", "store"), ("again", "read_again", "store_again"))
        )
        memory = after["peak_mib"] / before["peak_mib"]
        print(f"{before['size']:,} → {after['size']:,}: seconds per listing {growth}; memory ×{memory:.2f}")
    for row in complete:
        if row["size"] == 100_000:
            first, again = row["read"] + row["store"], row["read_again"] + row["store_again"]
            print(
                f"goals at 100k: first {first:.0f} s < 60 s {'met' if first < 60 else 'NOT met'}; "
                f"again {again:.0f} s < 30 s {'met' if again < 30 else 'NOT met'}; "
                f"{row['peak_mib']:.0f} MiB < 1024 {'met' if row['peak_mib'] < 1024 else 'NOT met'}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
