"""The duplicate review queue on SQLite and PostgreSQL: near misses, conflicts, and what decisions take out."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from _decisions_data import EDITOR, at, context, event_of, listing, priced, run
from fixed_clock import NOW
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.decisions import Kind
from aggregator.ingest import IngestContext
from aggregator.matching.rules import Evidence
from aggregator.review import DecisionRequest, Winner, decide, undo
from aggregator.review_queue import NEAR_MISS_MARGIN, ReviewItem, review_queue
from aggregator.types import Status

LATER = NOW + timedelta(hours=3)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return context(factory, settings)


def _queue(ctx: IngestContext, now: datetime = LATER) -> list[ReviewItem]:
    with ctx.factory() as session:
        return review_queue(session, ctx.settings.dedupe, now)


def _decide(
    ctx: IngestContext, kind: Kind, a: str, b: str, *, field: str | None = None, winner: Winner | None = None
) -> int:
    request = DecisionRequest(kind, a, b, field=field, winner=winner)
    change = decide(ctx.factory, request, dedupe=ctx.settings.dedupe, actor=EDITOR, now=LATER)
    return int(change.decision["id"])


def _pair(
    ctx: IngestContext, venue_title: str, city_title: str, city_hour: int = 19, minute: int = 40
) -> None:
    """The venue's and the city portal's listing of one evening, the city's ten minutes later by default
    (at the same minute, the evidence beyond title likeness decides more pairs)."""
    run(ctx, "konzerthaus", [listing("konzerthaus", "k1", venue_title, at(5, 19, 30))])
    run(ctx, "dortmund_de", [listing("dortmund_de", "c1", city_title, at(5, city_hour, minute))])


def test_a_near_miss_is_found_with_its_score_and_both_sides(ctx: IngestContext) -> None:
    _pair(ctx, "Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten", 19, 40)
    [item] = _queue(ctx)
    assert (item.kind, item.field, item.rule, item.threshold) == ("near_miss", None, None, 88.0)
    assert item.score is not None and 88.0 - NEAR_MISS_MARGIN <= item.score < 88.0
    assert item.day.isoformat() == "2026-12-05"
    by_source = {side.sources: side for side in item.sides}
    venue, city = by_source[("konzerthaus",)], by_source[("dortmund_de",)]
    assert (venue.title, venue.records, venue.starts) == (
        "Igor Levit spielt Beethoven",
        ("konzerthaus:k1",),
        (at(5, 19, 30),),
    )
    assert (city.title, city.value, city.starts) == (
        "Igor Levit: Beethoven-Sonaten",
        "Igor Levit: Beethoven-Sonaten",
        (at(5, 19, 40),),
    )
    assert venue.venue_slug == city.venue_slug == "konzerthaus-dortmund"
    assert venue.venue_name == "Konzerthaus Dortmund"
    assert item.id == f"near:{min(venue.event_id, city.event_id)}:{max(venue.event_id, city.event_id)}"


@pytest.mark.parametrize(
    ("venue_title", "city_title", "hour", "minute"),
    [
        ("Carmen", "Bizet-Abend", 19, 30),  # titles far apart
        ("Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten", 21, 0),  # another performance
    ],
)
def test_pairs_the_matcher_rightly_kept_apart_are_not_near_misses(
    ctx: IngestContext, venue_title: str, city_title: str, hour: int, minute: int
) -> None:
    _pair(ctx, venue_title, city_title, hour, minute)
    assert [item for item in _queue(ctx) if item.kind == "near_miss"] == []


def test_a_pair_a_hard_rule_kept_apart_shows_the_rule(ctx: IngestContext) -> None:
    _pair(ctx, "Die Zauberflöte", "Die Zauberflöte für Kinder")
    [item] = _queue(ctx)
    assert (item.kind, item.rule, item.score) == ("near_miss", "qualifiers", 100.0)


def test_a_pair_in_one_slot_the_evidence_cannot_decide_is_a_near_miss_with_what_spoke_for_and_against(
    ctx: IngestContext,
) -> None:
    _pair(ctx, "Tribute to Hans Zimmer", "The Music of Hans Zimmer & Others", 19, 30)
    [item] = _queue(ctx)
    assert (item.kind, item.rule) == ("near_miss", None)
    assert item.evidence_for == (Evidence("slot"), Evidence("names", "hans zimmer"))
    low, other = item.evidence_against
    assert low == Evidence("low_score", "73") and other.kind == "other_names"
    assert set(other.detail.split(" / ")) == {"tribute", "others"}  # in the order of the sides


def test_shared_names_far_below_the_title_score_make_a_near_miss_in_one_slot_only(ctx: IngestContext) -> None:
    _pair(ctx, "Cityring-Konzerte: Filmmusikgala", "Filmmusikgala: Die Musik von John Williams", 19, 30)
    [item] = _queue(ctx)
    assert item.score is not None and item.score < 88.0 - NEAR_MISS_MARGIN
    assert Evidence("names", "filmmusikgala") in item.evidence_for


def test_a_pair_the_slot_evidence_decided_is_merged_and_no_near_miss(ctx: IngestContext) -> None:
    _pair(ctx, "Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten", 19, 30)
    assert _queue(ctx) == []


def test_a_near_miss_outside_one_slot_has_no_slot_evidence(ctx: IngestContext) -> None:
    _pair(ctx, "Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten")
    [item] = _queue(ctx)
    assert item.evidence_for == () and [e.kind for e in item.evidence_against] == ["low_score"]


def test_two_titles_one_source_lists_at_the_same_time_are_no_near_miss(ctx: IngestContext) -> None:
    run(
        ctx,
        "konzerthaus",
        [
            listing("konzerthaus", "k1", "Igor Levit spielt Beethoven", at(5, 19, 30)),
            listing("konzerthaus", "k2", "Igor Levit: Beethoven-Sonaten", at(5, 19, 30)),
        ],
    )
    assert _queue(ctx) == []


def test_past_days_are_not_in_the_queue(ctx: IngestContext) -> None:
    _pair(ctx, "Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten")
    assert _queue(ctx, now=at(6, 0, 30)) == []
    assert len(_queue(ctx, now=at(5, 23))) == 1  # the whole local day counts


@pytest.mark.parametrize("kind", [Kind.KEEP_APART, Kind.MERGE])
def test_a_decided_pair_leaves_the_queue_and_an_undo_brings_it_back(ctx: IngestContext, kind: Kind) -> None:
    _pair(ctx, "Igor Levit spielt Beethoven", "Igor Levit: Beethoven-Sonaten")
    decision = _decide(ctx, kind, "konzerthaus:k1", "dortmund_de:c1")
    assert _queue(ctx) == []
    undo(ctx.factory, decision, dedupe=ctx.settings.dedupe, actor=EDITOR, now=LATER)
    assert [item.kind for item in _queue(ctx)] == ["near_miss"]


def test_two_times_for_one_performance_are_a_start_conflict(ctx: IngestContext) -> None:
    run(ctx, "konzerthaus", [listing("konzerthaus", "k1", "Kosmos", at(5, 18))])
    run(ctx, "dortmund_de", [listing("dortmund_de", "c1", "Kosmos", at(5, 19, 30))])
    [item] = _queue(ctx)
    assert (item.kind, item.field, item.score) == ("conflict", "start", None)
    assert [(s.sources, s.starts, s.records) for s in item.sides] == [
        (("konzerthaus",), (at(5, 18),), ("konzerthaus:k1",)),
        (("dortmund_de",), (at(5, 19, 30),), ("dortmund_de:c1",)),
    ]
    assert {s.event_id for s in item.sides} == {event_of(ctx.factory, "konzerthaus:k1")}

    _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field="start", winner=None)
    assert _queue(ctx) == []


def test_a_matinee_and_an_evening_of_one_source_are_no_conflict(ctx: IngestContext) -> None:
    run(
        ctx,
        "konzerthaus",
        [
            listing("konzerthaus", "k1", "Kosmos", at(5, 15), series_key="kosmos"),
            listing("konzerthaus", "k2", "Kosmos", at(5, 19, 30), series_key="kosmos"),
        ],
    )
    run(ctx, "dortmund_de", [listing("dortmund_de", "c1", "Kosmos", at(5, 19, 30))])
    assert _queue(ctx) == []


def _one_performance(ctx: IngestContext, **city: Any) -> None:
    run(ctx, "konzerthaus", [listing("konzerthaus", "k1", "Kosmos", at(5, 20), offers=priced("24", "43"))])
    run(ctx, "dortmund_de", [listing("dortmund_de", "c1", "Kosmos", at(5, 20), **city)])


@pytest.mark.parametrize(
    ("city", "field", "values"),
    [
        ({"status": Status.CANCELLED}, "status", {"cancelled", "scheduled"}),
        ({"offers": priced("19", "19")}, "price", {"24.00–43.00 EUR", "19.00 EUR"}),
    ],
)
def test_one_performances_records_that_disagree_are_a_conflict_with_each_sides_value(
    ctx: IngestContext, city: dict[str, Any], field: str, values: set[str]
) -> None:
    _one_performance(ctx, **city)
    [item] = _queue(ctx)
    assert (item.kind, item.field) == ("conflict", field)
    assert {side.value for side in item.sides} == values
    assert {side.records for side in item.sides} == {("konzerthaus:k1",), ("dortmund_de:c1",)}
    assert len({side.occurrence_ids for side in item.sides}) == 1
    _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field=field, winner="a")
    assert _queue(ctx) == []


def test_a_venue_conflict_and_a_third_opinion_after_a_pick(ctx: IngestContext) -> None:
    _one_performance(ctx)
    run(
        ctx,
        "dortmund_de",
        [listing("dortmund_de", "c1", "Kosmos", at(5, 20), venue_name="Theater Dortmund")],
        1,
    )
    [item] = _queue(ctx)
    assert (item.field, {s.value for s in item.sides}) == (
        "venue",
        {"konzerthaus-dortmund", "theater-dortmund"},
    )
    _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field="venue", winner="a")
    assert _queue(ctx) == []
    run(ctx, "reservix", [listing("reservix", "r1", "Kosmos", at(5, 20))], 2)
    run(ctx, "reservix", [listing("reservix", "r1", "Kosmos", at(5, 20), venue_name="Westfalenhalle")], 3)
    [again] = _queue(ctx)
    assert {s.value for s in again.sides} == {"konzerthaus-dortmund", "theater-dortmund", "westfalenhallen"}
