"""Import benchmark: one synthetic .ics with N events, its bare parse against the whole import into the store.

Writes a calendar of ``--events`` VEVENTs at the registry's venues (a fixed seed), then times, each
``--repeat`` times on a fresh database (SQLite in a temporary folder unless ``--database`` names one):

- ``bare parse``: ``icalendar.Calendar.from_ical`` of the file, nothing else;
- ``listings``: the file read into listings (``sources.platforms.detect.import_listings``);
- ``first import``: :func:`aggregator.ingest.ingest` of those listings into an empty store;
- ``re-import``: the same listings once more (nothing changed);
- ``changed``: every tenth listing with a new title.

It prints the median seconds, CPU seconds and SQL statements of each phase, and the ratio of the bare parse
to the import (listings + first import; the issue's goal is ≥ 0.5) in wall and in CPU seconds. The machine
is shared, so medians.

    .venv/bin/python benchmarks/import_bench.py [--events 2000] [--repeat 5] [--database URL]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
WORDS = [
    "Abend",
    "Nacht",
    "Konzert",
    "Sinfonie",
    "Jazz",
    "Lesung",
    "Theater",
    "Oper",
    "Kabarett",
    "Tanz",
    "Revue",
    "Kammer",
    "Musik",
    "Sommer",
    "Winter",
    "Herbst",
    "Frühling",
    "Klassik",
    "Rock",
    "Pop",
    "Gala",
    "Premiere",
    "Matinee",
    "Quartett",
    "Trio",
    "Duo",
    "Orchester",
    "Chor",
    "Blues",
    "Swing",
]


def make_calendar(events: int, seed: int = 11) -> bytes:
    """A VCALENDAR of ``events`` VEVENTs over the next ~300 days at the seeded venues, with prices and URLs."""
    from aggregator.normalise.venues import load_venues

    venues = [v.name for v in load_venues().all()][:40]
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//stadtkalender//import-bench//DE"]
    for n in range(events):
        start = NOW + timedelta(days=rng.randrange(1, 300), hours=rng.randrange(0, 12))
        title = " ".join(rng.sample(WORDS, 3)) + f" {n}"
        lines += [
            "BEGIN:VEVENT",
            f"UID:bench-{n}@example.org",
            f"DTSTAMP:{NOW:%Y%m%dT%H%M%SZ}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{start + timedelta(hours=2):%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{title}",
            f"DESCRIPTION:{' '.join(rng.choices(WORDS, k=40))}",
            f"LOCATION:{rng.choice(venues)}",
            f"URL:https://example.org/events/{n}",
            "CATEGORIES:Konzert",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@dataclass
class Phase:
    """The seconds and SQL statements of one phase, over the repeats."""

    seconds: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)
    statements: list[int] = field(default_factory=list)

    def line(self, name: str) -> str:
        sql = f"{int(statistics.median(self.statements)):>8,}" if self.statements else f"{'':>8}"
        cpu = f"{statistics.median(self.cpu):>8.3f}" if self.cpu else f"{'':>8}"
        return f"{name:<14} {statistics.median(self.seconds):>8.3f} {min(self.seconds):>8.3f} {cpu} {sql}"


@contextmanager
def counted(engine: Any, phase: Phase) -> Iterator[None]:
    """Time the block and count the SQL statements ``engine`` executes in it."""
    from sqlalchemy import event

    count = [0]

    def before(*_args: Any) -> None:
        count[0] += 1

    event.listen(engine, "before_cursor_execute", before)
    started, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        phase.seconds.append(time.perf_counter() - started)
        phase.cpu.append(time.process_time() - cpu)
        event.remove(engine, "before_cursor_execute", before)
        phase.statements.append(count[0])


def fresh_database(url: str | None, folder: Path, n: int) -> tuple[str, Callable[[], None]]:
    """A migrated empty database: a new SQLite file, or a new schema of the PostgreSQL ``url``."""
    if url is None:
        return f"sqlite:///{folder / f'bench-{n}.db'}", lambda: None
    from sqlalchemy import create_engine, text

    schema = f"import_bench_{n}"
    admin = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))

    def drop() -> None:
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()

    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}", drop


def run(args: argparse.Namespace) -> dict[str, Phase]:
    """Every phase ``args.repeat`` times, each on a fresh database."""
    import icalendar

    from aggregator.clock import FixedClock
    from aggregator.config import load_settings
    from aggregator.db import make_engine, session_factory, upgrade
    from aggregator.ingest import ingest
    from aggregator.runs import IngestContext
    from aggregator.types import RunStatus
    from sources.platforms.detect import import_listings

    data = make_calendar(args.events)
    print(f"{args.events:,} events, {len(data) / 1e6:.2f} MB; median and best of {args.repeat} runs")
    phases = {name: Phase() for name in ("bare parse", "listings", "first import", "re-import", "changed")}
    settings = load_settings(ROOT / "settings.toml")
    window = (NOW - timedelta(days=1), NOW + timedelta(days=400))
    with tempfile.TemporaryDirectory() as folder:
        for n in range(args.repeat):
            started, cpu = time.perf_counter(), time.process_time()
            icalendar.Calendar.from_ical(data)
            phases["bare parse"].seconds.append(time.perf_counter() - started)
            phases["bare parse"].cpu.append(time.process_time() - cpu)
            started, cpu = time.perf_counter(), time.process_time()
            listings = import_listings(data, source="bench", fetched_at=NOW, window=window).listings
            phases["listings"].seconds.append(time.perf_counter() - started)
            phases["listings"].cpu.append(time.process_time() - cpu)
            url, drop = fresh_database(args.database, Path(folder), n)
            engine = make_engine(url)
            try:
                upgrade(engine)
                ctx = IngestContext(session_factory(engine), settings, clock=FixedClock(NOW))
                changed = [
                    lst.evolve(title=f"{lst.title} (neu)") if i % 10 == 0 else lst
                    for i, lst in enumerate(listings)
                ]
                for name, batch in (
                    ("first import", listings),
                    ("re-import", listings),
                    ("changed", changed),
                ):
                    with counted(engine, phases[name]):
                        report = ingest(ctx, "bench", batch, now=NOW)
                    assert report.status == RunStatus.SUCCESS, report.error
            finally:
                engine.dispose()
                drop()
    return phases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--database", help="a PostgreSQL URL (each repeat in a new schema); default SQLite")
    args = parser.parse_args()
    phases = run(args)
    print(f"{'phase':<14} {'median s':>8} {'best s':>8} {'CPU s':>8} {'SQL':>8}")
    for name, phase in phases.items():
        print(phase.line(name))
    bare = statistics.median(phases["bare parse"].seconds)
    first = statistics.median(phases["first import"].seconds)
    whole = statistics.median(phases["listings"].seconds) + first
    print(f"bare parse / import (listings + first import): {bare / whole:.2f} (goal ≥ 0.5)")
    cpu = {name: statistics.median(phase.cpu) for name, phase in phases.items()}
    ratio = cpu["bare parse"] / (cpu["listings"] + cpu["first import"])
    print(f"the same in this process's CPU seconds (steadier on a shared machine): {ratio:.2f}")
    print(f"events/s, first import: {args.events / whole:,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
