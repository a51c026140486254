"""Fresh planner statistics after a run that grew the store a lot (PostgreSQL).

A store filled by its first large imports has no statistics yet (autovacuum analyses a table only after
commits, and a minute later): PostgreSQL then prices ``occurrence_id IN (500 ids)`` at the default 0.5 %
per value, reads the whole of ``source_records`` for each of the run's re-derivation batches and spends
most of a city's first import on it (at 100,000 listings, 84 of 158 seconds of SQL). A run that adds
many records therefore analyses the three tables it reads back before it derives; ``ANALYZE`` counts the
rows its own transaction inserted. SQLite's planner uses the indexes without statistics.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.orm import Session

MIN_ROWS = 1000
"""A run adding fewer records than this never analyses (a sample costs about as much as it saves)."""
GROWTH = 0.2
"""... nor one adding less than this share of the records the statistics already know of."""
TABLES = "events, occurrences, source_records"


def refresh_after_growth(
    session: Session, added: int, *, min_rows: int = MIN_ROWS, growth: float = GROWTH
) -> bool:
    """Analyse the store's main tables when ``added`` new records are many for what the statistics know;
    whether it did."""
    if session.get_bind().dialect.name != "postgresql" or added < min_rows:
        return False
    known = session.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass('source_records')")
    ).scalar()
    if known is not None and known >= 0 and added < growth * known:  # -1: never analysed
        return False
    session.execute(text(f"ANALYZE {TABLES}"))
    return True
