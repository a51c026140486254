"""The whole path at city scale: listings of 50 sources through normalise → dedupe → store, then unchanged again.

The listings are those of ``dedupe_scale.py`` (30 % cross-source duplicates, venues growing with the size),
spread over 50 sources. For each size (default 10k, 100k) a fresh subprocess migrates a new schema of the
PostgreSQL database (``--database``, default the test server's ``test`` database), runs
:func:`aggregator.ingest.ingest` once per source (the first import), then once more per source with the
same listings (the unchanged re-import), and prints wall seconds of each, events, peak memory (max RSS), and
this process's CPU seconds and SQL statements of each pass (steadier than wall time on a shared machine).
Goals (issue 18): 100k first import < 60 s, unchanged re-import < 30 s, memory < 1 GiB.

    .venv/bin/python benchmarks/store_scale.py [--sizes 10000 100000 300000] [--database URL]
"""

from __future__ import annotations

import os
import sys
import time
from datetime import UTC, datetime

from dedupe_scale import synthesise
from scale_runs import ROOT, Row, main, peak_mib

SOURCES = 50
NOW = datetime(2026, 11, 21, tzinfo=UTC)
DATABASE = os.environ.get("STORE_SCALE_DATABASE", "postgresql://postgres@127.0.0.1:5432/test")


def by_fifty(total: int) -> dict[str, list[object]]:
    """``dedupe_scale``'s listings, dealt round-robin to 50 sources (record ids stay unique per source)."""
    from aggregator.listing import Listing

    spread: dict[str, list[object]] = {f"source_{n:02}": [] for n in range(SOURCES)}
    names = list(spread)
    for listings in synthesise(total).values():
        for index, listing in enumerate(listings):
            assert isinstance(listing, Listing)
            name = names[index % SOURCES]
            spread[name].append(listing.evolve(source=name))
    return spread


def run_size(total: int) -> Row:
    """Both passes of ``total`` listings into a fresh schema; the figures."""
    from sqlalchemy import create_engine, event, func, select, text

    from aggregator.clock import FixedClock
    from aggregator.config import load_settings
    from aggregator.db import make_engine, session_factory, upgrade
    from aggregator.ingest import ingest
    from aggregator.models import Event
    from aggregator.runs import IngestContext
    from aggregator.types import RunStatus

    spread = by_fifty(total)
    schema = f"store_scale_{total}"
    admin = create_engine(DATABASE.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine = make_engine(f"{DATABASE}?options=-csearch_path%3D{schema}")
    try:
        upgrade(engine)
        ctx = IngestContext(
            session_factory(engine), load_settings(ROOT / "settings.toml"), clock=FixedClock(NOW)
        )
        seconds, cpu, statements = [], [], []
        count = [0]

        def counted(*_args: object) -> None:
            count[0] += 1

        event.listen(engine, "before_cursor_execute", counted)
        for _pass in ("first", "unchanged"):
            count[0] = 0
            started, cpu_started = time.perf_counter(), time.process_time()
            for source, listings in spread.items():
                report = ingest(ctx, source, listings, now=NOW)  # type: ignore[arg-type]
                assert report.status == RunStatus.SUCCESS, (source, report.error, report.warnings[:3])
            seconds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - cpu_started)
            statements.append(count[0])
        with ctx.factory() as session:
            events = session.scalar(select(func.count()).select_from(Event)) or 0
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        admin.dispose()
    return {
        "listings": total,
        "events": events,
        "seconds": seconds[0],
        "again": seconds[1],
        "cpu": cpu[0],
        "again_cpu": cpu[1],
        "statements": statements[0],
        "again_statements": statements[1],
        "peak_mib": peak_mib(),
    }


def _line(row: Row) -> str:
    return (
        f"{row['listings']:>9,} {row['events']:>8,} {row['seconds']:>9.1f} "
        f"{row['listings'] / row['seconds']:>7,.0f} {row['again']:>9.1f} {row['peak_mib']:>9.0f} "
        f"{row['cpu']:>7.1f} {row['again_cpu']:>9.1f} {row['statements']:>8,} {row['again_statements']:>8,}"
    )


if __name__ == "__main__":
    sys.exit(
        main(
            __file__,
            __doc__ or "",
            run_size,
            sizes=[10_000, 100_000],
            header=f"{'listings':>9} {'events':>8} {'first s':>9} {'per s':>7} {'again s':>9} {'peak MiB':>9} "
            f"{'CPU s':>7} {'again CPU':>9} {'SQL':>8} {'again SQL':>8}",
            line=_line,
            growth=[("seconds", "first import "), ("again", "re-import ")],
            goal=(100_000, 60),
        )
    )
