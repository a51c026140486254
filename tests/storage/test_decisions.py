"""Duplicate decisions on SQLite and PostgreSQL: applied at once, held through later runs, undone at once."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from _decisions_data import (
    EDITOR,
    at,
    context,
    event_ids,
    event_of,
    layout,
    listing,
    occurrence_of,
    priced,
    run,
)
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import PasswordHasher
from fixed_clock import NOW
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator import accounts
from aggregator.audit import Actor
from aggregator.config import Settings
from aggregator.decisions import SETTINGS_AUTHOR, Kind
from aggregator.ingest import IngestContext
from aggregator.listing import Listing
from aggregator.models import AuditEntry, Base, DedupeDecision, Event, EventRedirect, Occurrence
from aggregator.review import (
    DecisionError,
    DecisionRequest,
    Winner,
    decide,
    list_decisions,
    split_event,
    undo,
)
from aggregator.types import Status

LATER = NOW + timedelta(hours=3)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return context(factory, settings)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield


def _decide(
    ctx: IngestContext,
    kind: Kind,
    a: str,
    b: str,
    *,
    field: str | None = None,
    winner: Winner | None = None,
    note: str | None = None,
) -> int:
    change = decide(
        ctx.factory,
        DecisionRequest(kind, a, b, field=field, winner=winner, note=note),
        dedupe=ctx.settings.dedupe,
        actor=EDITOR,
        now=LATER,
    )
    return int(change.decision["id"])


def _undo(ctx: IngestContext, decision_id: int) -> None:
    undo(ctx.factory, decision_id, dedupe=ctx.settings.dedupe, actor=EDITOR, now=LATER + timedelta(hours=1))


def _levit(ctx: IngestContext) -> tuple[list[Listing], list[Listing]]:
    """A near miss: the venue and the city portal list one recital under titles the matcher keeps apart
    (ten minutes apart: at the same minute the names they share would merge them)."""
    venue = [listing("konzerthaus", "k1", "Igor Levit spielt Beethoven", at(5, 19, 30))]
    city = [listing("dortmund_de", "c1", "Igor Levit: Beethoven-Sonaten", at(5, 19, 40))]
    run(ctx, "konzerthaus", venue)
    run(ctx, "dortmund_de", city)
    return venue, city


def _rerun(ctx: IngestContext, runs: dict[str, list[Listing]], hours: float = 5) -> None:
    for source, listings in runs.items():
        run(ctx, source, listings, hours=hours)


def _count(factory: sessionmaker[Session], model: type[Base]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_the_migration_creates_the_table_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if "dedupe_decisions" in repr(diff)] == []


# -- merge ------------------------------------------------------------------------------------------------


def test_a_merge_joins_the_two_events_and_their_performance_at_once(ctx: IngestContext) -> None:
    _levit(ctx)
    venue_event, city_event = event_of(ctx.factory, "konzerthaus:k1"), event_of(ctx.factory, "dortmund_de:c1")
    assert venue_event != city_event
    before = occurrence_of(ctx.factory, "konzerthaus:k1")

    _decide(ctx, Kind.MERGE, city_event, venue_event)

    survivor = min(venue_event, city_event)  # both were created at NOW: the smaller ID survives
    merged = max(venue_event, city_event)
    assert layout(ctx.factory) == {survivor: [["dortmund_de:c1", "konzerthaus:k1"]]}
    with ctx.factory() as session:
        assert session.get_one(EventRedirect, merged).event_id == survivor
    after = occurrence_of(ctx.factory, "konzerthaus:k1")
    assert after.sequence > before.sequence or after.id != before.id


def test_a_merge_holds_through_the_next_runs_and_its_undo_restores_both_events(ctx: IngestContext) -> None:
    venue, city = _levit(ctx)
    shape = layout(ctx.factory)
    decision = _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city})
    assert len(layout(ctx.factory)) == 1

    _undo(ctx, decision)
    assert layout(ctx.factory) == shape
    with ctx.factory() as session:
        assert session.scalar(select(func.count()).select_from(EventRedirect)) == 0
        row = session.get_one(DedupeDecision, decision)
        assert (row.undone_by, row.undone_at) == (EDITOR.label, LATER + timedelta(hours=1))
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city}, hours=8)
    assert layout(ctx.factory) == shape


def test_a_restored_occurrence_comes_back_with_a_higher_sequence(ctx: IngestContext) -> None:
    _levit(ctx)
    city_occurrence = occurrence_of(ctx.factory, "dortmund_de:c1")
    decision = _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    _undo(ctx, decision)
    restored = occurrence_of(ctx.factory, "dortmund_de:c1")
    assert restored.id == city_occurrence.id
    assert restored.sequence > city_occurrence.sequence


def test_a_merge_of_one_event_with_itself_is_refused_and_changes_nothing(ctx: IngestContext) -> None:
    _levit(ctx)
    shape = layout(ctx.factory)
    event = event_of(ctx.factory, "konzerthaus:k1")
    with pytest.raises(DecisionError, match="one event") as refused:
        _decide(ctx, Kind.MERGE, event, "konzerthaus:k1")
    assert refused.value.field == "b"
    assert layout(ctx.factory) == shape
    assert _count(ctx.factory, DedupeDecision) == 0


def test_keys_that_name_nothing_are_refused(ctx: IngestContext) -> None:
    _levit(ctx)
    with pytest.raises(DecisionError, match="no event") as refused:
        _decide(ctx, Kind.MERGE, "konzerthaus:k1", "nowhere:x")
    assert refused.value.field == "b"
    assert _count(ctx.factory, DedupeDecision) == 0


# -- keep apart and split ---------------------------------------------------------------------------------


def test_keep_apart_of_two_events_is_stored_and_refuses_a_later_merge(ctx: IngestContext) -> None:
    venue, city = _levit(ctx)
    shape = layout(ctx.factory)
    decision = _decide(ctx, Kind.KEEP_APART, "konzerthaus:k1", "dortmund_de:c1", note="zwei Abende")
    assert layout(ctx.factory) == shape
    with pytest.raises(DecisionError, match=f"decision {decision}"):
        _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city})
    assert layout(ctx.factory) == shape
    _undo(ctx, decision)
    _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    assert len(layout(ctx.factory)) == 1


def test_keep_apart_inside_one_event_splits_it_now_and_for_good(ctx: IngestContext) -> None:
    venue = [listing("konzerthaus", "k1", "Die Zauberflöte", at(5, 19, 30))]
    city = [listing("dortmund_de", "c1", "Die Zauberflöte", at(5, 19, 30))]
    run(ctx, "konzerthaus", venue)
    run(ctx, "dortmund_de", city)
    assert len(layout(ctx.factory)) == 1

    decision = _decide(ctx, Kind.KEEP_APART, "konzerthaus:k1", "dortmund_de:c1")
    apart = {event_of(ctx.factory, "konzerthaus:k1"), event_of(ctx.factory, "dortmund_de:c1")}
    assert len(apart) == 2 and _count(ctx.factory, Occurrence) == 2
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city})
    _rerun(ctx, {"dortmund_de": city, "konzerthaus": venue}, hours=6)
    assert set(layout(ctx.factory)) == apart

    _undo(ctx, decision)
    assert layout(ctx.factory) == {
        event_of(ctx.factory, "konzerthaus:k1"): [["dortmund_de:c1", "konzerthaus:k1"]]
    }


def _series(n: int = 4) -> list[Listing]:
    return [
        listing("konzerthaus", f"zf-{day}", "Die Zauberflöte", at(day, 19, 30), series_key="zauberfloete")
        for day in range(1, n + 1)
    ]


def test_splitting_dates_out_of_a_series_holds_through_the_next_run(ctx: IngestContext) -> None:
    programme = _series()
    run(ctx, "konzerthaus", programme)
    [event] = event_ids(ctx.factory)
    moving = ["konzerthaus:zf-3", occurrence_of(ctx.factory, "konzerthaus:zf-4").id]

    change = split_event(
        ctx.factory, event, moving, dedupe=ctx.settings.dedupe, actor=EDITOR, now=LATER, note="Gastspiel"
    )

    new_event = event_of(ctx.factory, "konzerthaus:zf-3")
    assert new_event != event and event_of(ctx.factory, "konzerthaus:zf-4") == new_event
    expected = {
        event: [["konzerthaus:zf-1"], ["konzerthaus:zf-2"]],
        new_event: [["konzerthaus:zf-3"], ["konzerthaus:zf-4"]],
    }
    assert layout(ctx.factory) == expected
    assert change.before["events"][new_event] is None
    assert len(change.after["events"][new_event]["occurrences"]) == 2
    assert change.decision["kind"] == "keep_apart" and change.decision["note"] == "Gastspiel"

    _rerun(ctx, {"konzerthaus": programme}, hours=5)  # one production in the source: the rule keeps it split
    assert layout(ctx.factory) == expected

    _undo(ctx, int(change.decision["id"]))
    assert layout(ctx.factory) == {event: [[f"konzerthaus:zf-{d}"] for d in range(1, 5)]}
    _rerun(ctx, {"konzerthaus": programme}, hours=8)
    assert len(layout(ctx.factory)) == 1


def test_a_split_must_leave_something_behind_and_name_only_the_events_own(ctx: IngestContext) -> None:
    run(ctx, "konzerthaus", _series(2))
    [event] = event_ids(ctx.factory)
    for moving, message in (
        (["konzerthaus:zf-1", "konzerthaus:zf-2"], "at least one record must stay"),
        ([], "at least one"),
        (["konzerthaus:zf-9"], "not records or occurrences"),
    ):
        with pytest.raises(DecisionError, match=message):
            split_event(ctx.factory, event, moving, dedupe=ctx.settings.dedupe, actor=EDITOR, now=LATER)
    assert _count(ctx.factory, DedupeDecision) == 0 and event_ids(ctx.factory) == [event]


# -- pick -------------------------------------------------------------------------------------------------


def _two_times(ctx: IngestContext) -> tuple[list[Listing], list[Listing]]:
    """One performance: the venue says 18:00, the city portal 19:30."""
    venue = [listing("konzerthaus", "k1", "Kosmos", at(5, 18))]
    city = [listing("dortmund_de", "c1", "Kosmos", at(5, 19, 30))]
    run(ctx, "konzerthaus", venue)
    run(ctx, "dortmund_de", city)
    assert len(layout(ctx.factory)) == 1 and _count(ctx.factory, Occurrence) == 2
    return venue, city


def test_picking_a_start_makes_one_performance_at_that_time_through_later_runs(ctx: IngestContext) -> None:
    venue, city = _two_times(ctx)
    shape = layout(ctx.factory)
    kept = occurrence_of(ctx.factory, "dortmund_de:c1")

    decision = _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field="start", winner="b")

    [event] = layout(ctx.factory)
    assert layout(ctx.factory) == {event: [["dortmund_de:c1", "konzerthaus:k1"]]}
    one = occurrence_of(ctx.factory, "konzerthaus:k1")
    assert (one.id, one.start) == (kept.id, at(5, 19, 30))  # the city's time beats the venue's priority
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city})
    assert occurrence_of(ctx.factory, "konzerthaus:k1").start == at(5, 19, 30)
    assert _count(ctx.factory, Occurrence) == 1

    _undo(ctx, decision)
    assert layout(ctx.factory) == shape
    assert occurrence_of(ctx.factory, "konzerthaus:k1").start == at(5, 18)
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city}, hours=8)
    assert layout(ctx.factory) == shape


def test_both_performances_real_keeps_them_and_records_the_decision(ctx: IngestContext) -> None:
    _two_times(ctx)
    shape = layout(ctx.factory)
    decision = _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field="start", winner=None)
    assert layout(ctx.factory) == shape
    with ctx.factory() as session:
        row = session.get_one(DedupeDecision, decision)
        assert (row.kind, row.field, row.value) == (
            "pick",
            "start",
            {
                "sides": [["konzerthaus:k1"], ["dortmund_de:c1"]],
                "winner": None,
                "values": ["2026-12-05T17:00:00+00:00", "2026-12-05T18:30:00+00:00"],  # UTC
            },
        )
    with pytest.raises(DecisionError, match="already picked"):
        _decide(ctx, Kind.PICK, "dortmund_de:c1", "konzerthaus:k1", field="start", winner="a")


def _one_performance(ctx: IngestContext, **city: Any) -> None:
    run(ctx, "konzerthaus", [listing("konzerthaus", "k1", "Kosmos", at(5, 20), offers=priced("24", "43"))])
    run(ctx, "dortmund_de", [listing("dortmund_de", "c1", "Kosmos", at(5, 20), **city)])
    assert _count(ctx.factory, Occurrence) == 1


def test_picking_a_status_wins_over_priority_at_once_and_through_runs(ctx: IngestContext) -> None:
    _one_performance(ctx, status=Status.CANCELLED)
    before = occurrence_of(ctx.factory, "konzerthaus:k1")
    assert before.status == "scheduled"  # the venue's word wins by priority

    decision = _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field="status", winner="b")

    picked = occurrence_of(ctx.factory, "konzerthaus:k1")
    assert (picked.status, picked.sequence) == ("cancelled", before.sequence + 1)
    run(ctx, "konzerthaus", [listing("konzerthaus", "k1", "Kosmos", at(5, 20), offers=priced("24", "43"))], 5)
    assert occurrence_of(ctx.factory, "konzerthaus:k1").status == "cancelled"
    _undo(ctx, decision)
    assert occurrence_of(ctx.factory, "konzerthaus:k1").status == "scheduled"


def test_picking_a_price_leaves_the_other_sides_price_out(ctx: IngestContext) -> None:
    _one_performance(ctx, offers=priced("19", "35"))
    with ctx.factory() as session:
        occurrence = session.scalars(select(Occurrence)).one()
        assert sorted((o.source, str(o.price_min)) for o in occurrence.offers) == [
            ("dortmund_de", "19.00"),
            ("konzerthaus", "24.00"),
        ]
    _decide(ctx, Kind.PICK, "dortmund_de:c1", "konzerthaus:k1", field="price", winner="b")
    with ctx.factory() as session:
        occurrence = session.scalars(select(Occurrence)).one()
        assert [(o.source, str(o.price_min)) for o in occurrence.offers] == [("konzerthaus", "24.00")]


def test_picking_a_venue_chooses_the_events_venue(ctx: IngestContext) -> None:
    _one_performance(ctx)
    moved = listing("dortmund_de", "c1", "Kosmos", at(5, 20), venue_name="Theater Dortmund")
    run(ctx, "dortmund_de", [moved], 1)  # a known record stays where it is, whatever it now says
    with ctx.factory() as session:
        assert session.scalars(select(Event.venue_slug)).one() == "konzerthaus-dortmund"
    _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", field="venue", winner="b")
    with ctx.factory() as session:
        assert session.scalars(select(Event.venue_slug)).one() == "theater-dortmund"


def test_bad_picks_are_refused_with_the_field_named(ctx: IngestContext) -> None:
    _one_performance(ctx, offers=priced("24", "43"))
    cases = [
        ({"field": "colour", "winner": "a"}, "field", "pick one of"),
        ({"field": "status", "winner": None}, "winner", "which side is right"),
        ({"field": "price", "winner": "a"}, "b", "agree"),
        ({"field": "status", "winner": "c"}, "winner", "'a' or 'b'"),
    ]
    for extra, field, message in cases:
        with pytest.raises(DecisionError, match=message) as refused:
            _decide(ctx, Kind.PICK, "konzerthaus:k1", "dortmund_de:c1", **extra)  # type: ignore[arg-type]
        assert refused.value.field == field
    assert _count(ctx.factory, DedupeDecision) == 0


# -- settings, authors, the list -----------------------------------------------------------------------------


def test_the_settings_rules_are_imported_once_and_an_undo_of_one_stands(ctx: IngestContext) -> None:
    dedupe = replace(
        ctx.settings.dedupe,
        never_merge=["konzerthaus:k1 | dortmund_de:c1"],
        always_merge=["konzerthaus:a1 | dortmund_de:b1"],
    )
    ctx.settings = replace(ctx.settings, dedupe=dedupe)
    venue, city = _levit(ctx)
    _rerun(ctx, {"konzerthaus": venue})
    with ctx.factory() as session:
        rows = session.scalars(select(DedupeDecision).order_by(DedupeDecision.id)).all()
        assert [(r.kind, r.key_a, r.key_b, r.author, r.author_id) for r in rows] == [
            ("keep_apart", "konzerthaus:k1", "dortmund_de:c1", SETTINGS_AUTHOR, None),
            ("merge", "konzerthaus:a1", "dortmund_de:b1", SETTINGS_AUTHOR, None),
        ]
        never = rows[0].id
    with pytest.raises(DecisionError, match=f"decision {never}"):
        _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    _undo(ctx, never)
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city}, hours=6)
    assert _count(ctx.factory, DedupeDecision) == 2
    _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    assert len(layout(ctx.factory)) == 1


def test_a_settings_rule_that_does_not_read_key_bar_key_fails_the_run_and_writes_nothing(
    ctx: IngestContext,
) -> None:
    ctx.settings = replace(ctx.settings, dedupe=replace(ctx.settings.dedupe, never_merge=["konzerthaus:k1"]))
    from aggregator.ingest import ingest

    report = ingest(ctx, "konzerthaus", [listing("konzerthaus", "k1", "Kosmos", at(5, 20))], now=NOW)
    assert "must read 'KEY | KEY'" in (report.error or "")
    assert _count(ctx.factory, DedupeDecision) == 0 and _count(ctx.factory, Event) == 0


def test_the_author_and_the_undoer_are_recorded_with_their_accounts(ctx: IngestContext) -> None:
    _levit(ctx)
    anna = accounts.add_account(
        ctx.factory, "anna@dortmund.de", role="editor", password="correct horse battery", now=NOW
    )
    ben = accounts.add_account(
        ctx.factory, "ben@dortmund.de", role="admin", password="correct horse battery", now=NOW
    )
    change = decide(
        ctx.factory,
        DecisionRequest(Kind.KEEP_APART, "konzerthaus:k1", "dortmund_de:c1"),
        dedupe=ctx.settings.dedupe,
        actor=Actor(anna.id, anna.email),
        now=LATER,
    )
    undone = undo(
        ctx.factory,
        int(change.decision["id"]),
        dedupe=ctx.settings.dedupe,
        actor=Actor(ben.id, ben.email),
        now=LATER + timedelta(minutes=5),
    )
    assert (change.decision["author_id"], change.decision["author"]) == (anna.id, "anna@dortmund.de")
    assert (undone.decision["undone_by_id"], undone.decision["undone_by"]) == (ben.id, "ben@dortmund.de")
    with pytest.raises(DecisionError, match="undone already"):
        _undo(ctx, int(change.decision["id"]))
    with pytest.raises(DecisionError, match="no decision"):
        _undo(ctx, 999_999)


def test_decisions_are_listed_newest_first_with_the_titles_of_their_events(ctx: IngestContext) -> None:
    _levit(ctx)
    first = _decide(ctx, Kind.KEEP_APART, "konzerthaus:k1", "dortmund_de:c1")
    _undo(ctx, first)
    second = _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    with ctx.factory() as session:
        listed = list_decisions(session)
        assert [(d.id, d.kind, d.in_force) for d in listed.items] == [
            (second, "merge", True),
            (first, "keep_apart", False),
        ]
        assert listed.total == 2
        assert set(listed.items[0].titles) == {
            "Igor Levit spielt Beethoven"
        }  # both keys lead to one event now
        assert [d.id for d in list_decisions(session, in_force_only=True).items] == [second]
        assert list_decisions(session, kind=Kind.PICK).total == 0


def test_a_too_long_note_is_refused(ctx: IngestContext) -> None:
    _levit(ctx)
    with pytest.raises(DecisionError, match="at most") as refused:
        _decide(ctx, Kind.KEEP_APART, "konzerthaus:k1", "dortmund_de:c1", note="x" * 2001)
    assert refused.value.field == "note"


def test_every_decision_undo_and_import_is_in_the_audit_log_with_before_and_after(ctx: IngestContext) -> None:
    ctx.settings = replace(
        ctx.settings, dedupe=replace(ctx.settings.dedupe, never_merge=["konzerthaus:x | dortmund_de:y"])
    )
    venue, _city = _levit(ctx)
    _rerun(ctx, {"konzerthaus": venue})
    decision = _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1", note="derselbe Abend")
    _undo(ctx, decision)
    with ctx.factory() as session:
        log = session.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.action, e.actor, e.target_type) for e in log] == [
            ("dedupe.import", "settings", "dedupe_decision"),
            ("dedupe.merge", EDITOR.label, "dedupe_decision"),
            ("dedupe.undo", EDITOR.label, "dedupe_decision"),
        ]
        merge, undone = log[1], log[2]
        assert merge.target_id == undone.target_id == str(decision)
        assert merge.note == "derselbe Abend"
        assert merge.before is not None and merge.after is not None
        assert len([e for e in merge.before["events"].values() if e]) == 2
        assert len([e for e in merge.after["events"].values() if e]) == 1
        assert merge.after["decision"]["kind"] == "merge"
        assert undone.after is not None and undone.after["decision"]["undone_by"] == EDITOR.label


def test_a_split_after_a_merge_wins_over_the_merge_in_later_runs(ctx: IngestContext) -> None:
    venue, city = _levit(ctx)
    _decide(ctx, Kind.MERGE, "konzerthaus:k1", "dortmund_de:c1")
    [merged] = event_ids(ctx.factory)
    split_event(ctx.factory, merged, ["dortmund_de:c1"], dedupe=ctx.settings.dedupe, actor=EDITOR, now=LATER)
    shape = layout(ctx.factory)
    assert len(shape) == 2
    _rerun(ctx, {"konzerthaus": venue, "dortmund_de": city})
    _rerun(ctx, {"dortmund_de": city, "konzerthaus": venue}, hours=6)
    assert layout(ctx.factory) == shape
