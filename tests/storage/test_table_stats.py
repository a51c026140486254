"""A run that grows the store a lot leaves PostgreSQL with statistics of what it wrote; small runs don't pay."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fixed_clock import NOW, clock
from listing_builders import numbered_concert
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.models import SourceRecord
from aggregator.table_stats import refresh_after_growth


def _known_rows(session: Session) -> float:
    return float(
        session.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = 'source_records'::regclass")
        ).scalar_one()
    )


def _fill(factory: sessionmaker[Session], settings: Settings, n: int) -> None:
    ctx = IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock())
    listings = [numbered_concert("konzerthaus", number, NOW + timedelta(days=1)) for number in range(n)]
    assert ingest(ctx, "konzerthaus", listings, now=NOW).status.value == "success"


@pytest.mark.parametrize("engine", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_large_run_analyses_what_it_wrote_and_a_small_one_does_not(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    _fill(factory, settings, 300)
    with factory() as session, session.begin():
        assert session.scalar(select(func.count()).select_from(SourceRecord)) == 300
        session.execute(text("ANALYZE source_records"))  # whatever earlier tests left: 300 rows known
        assert _known_rows(session) == 300
        assert not refresh_after_growth(session, 50, min_rows=20, growth=0.2)  # 50 < 20 % of 300
        assert not refresh_after_growth(session, 100, min_rows=200)  # below the minimum
        session.execute(text("DELETE FROM source_records WHERE record_id NOT IN ('r1', 'r2')"))
        assert refresh_after_growth(session, 100, min_rows=20, growth=0.2)
        assert _known_rows(session) == 2  # ANALYZE counted this transaction's own state


def test_only_postgresql_is_analysed(factory: sessionmaker[Session]) -> None:
    with factory() as session:
        analysed = refresh_after_growth(session, 1_000_000, min_rows=1)
    assert analysed is (session.get_bind().dialect.name == "postgresql")
