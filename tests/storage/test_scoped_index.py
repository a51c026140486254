"""A run's dedupe index holds only the venues its listings name — and assigns exactly as the whole index does.

The labelled set (nine sources, 397 listings at many venues, traps included) is ingested source by source;
before each run, the run's listings are assigned once against the index of every venue and once against the
index scoped to the run's venues: the same events, occurrences and merges, every time.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import clock
from labelled_set import FETCHED, KINDS, MATCH_PAST_DAYS, items, to_listing
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings, load_settings
from aggregator.dedupe import DedupeIndex, DedupeResult, MergeRules
from aggregator.ingest import IngestContext, current_venues, ingest, run_listings
from aggregator.listing import Listing
from aggregator.stored_index import load_index, rule_venues

ROOT = Path(__file__).parents[2]


@pytest.fixture
def ctx(factory: sessionmaker[Session]) -> IngestContext:
    settings = load_settings(
        ROOT / "settings.toml", env={"STADTKALENDER_INGEST_MATCH_PAST_DAYS": MATCH_PAST_DAYS}
    )
    return IngestContext(factory, settings, kinds=KINDS, clock=clock())


def _outcome(result: DedupeResult) -> list[tuple[Any, ...]]:
    return [
        (a.listing.record_id, a.event_id, a.occurrence_id, a.new_event, a.new_occurrence)
        for a in result.assignments
    ] + [("merge", loser, survivor) for loser, survivor in result.merges]


def _both(
    session: Session, ctx: IngestContext, source: str, listings: list[Listing], rules: MergeRules
) -> tuple[DedupeIndex, DedupeIndex]:
    whole, _ = load_index(session, ctx, source, FETCHED, rules)
    scoped, _ = load_index(session, ctx, source, FETCHED, rules, listings)
    return whole, scoped


def test_the_scoped_index_assigns_every_run_of_the_labelled_set_as_the_whole_index_does(
    ctx: IngestContext,
) -> None:
    by_source: dict[str, list[Listing]] = {}
    for item in items():
        by_source.setdefault(item["source"], []).append(to_listing(item))
    smaller = 0
    for source, raw in by_source.items():
        listings, _ = run_listings(ctx, source, raw, venues=current_venues(ctx), now=FETCHED)
        with ctx.factory() as session:
            whole, scoped = _both(session, ctx, source, listings, MergeRules())
            smaller += len(scoped.occurrences) < len(whole.occurrences)
            assert _outcome(scoped.assign(listings, now=FETCHED)) == _outcome(
                whole.assign(listings, now=FETCHED)
            ), source
        assert ingest(ctx, source, raw, now=FETCHED).status.value == "success"
    assert smaller >= 5, "the scoped index should be smaller than the whole one for most runs"


def test_an_always_rule_brings_the_venue_of_its_other_side_into_the_index(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ctx = IngestContext(factory, settings, kinds={"a": "venue", "b": "venue"}, clock=clock())
    start = FETCHED + timedelta(days=3)
    at_u = Listing(
        source="b", record_id="x", title="Lesung", fetched_at=FETCHED, start=start, venue_name="Dortmunder U"
    )
    ingest(ctx, "b", [at_u], now=FETCHED)
    elsewhere = Listing(
        source="a", record_id="y", title="Lesung", fetched_at=FETCHED, start=start, venue_name="Konzerthaus"
    )
    listings, _ = run_listings(ctx, "a", [elsewhere], venues=current_venues(ctx), now=FETCHED)
    rules = MergeRules(always=(("a:y", "b:x"),))
    with factory() as session:
        assert len(rule_venues(session, rules)) == 1
        whole, scoped = _both(session, ctx, "a", listings, rules)
        assert len(scoped.events) == len(whole.events) == 1
        assert not scoped.occurrences  # another venue's dates are never compared: the event is enough
        without_rule, _ = load_index(session, ctx, "a", FETCHED, MergeRules(), listings)
        assert not without_rule.events  # the other venue is not read for nothing
        merged = scoped.assign(listings, now=FETCHED)
        assert merged.merges and _outcome(merged) == _outcome(whole.assign(listings, now=FETCHED))
