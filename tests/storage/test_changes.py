"""The change feed on SQLite and PostgreSQL: what ingest, merges and housekeeping record, and the cursor."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fixed_clock import NOW, clock
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.changes import ChangeKind, StaleCursor, prune_changes, read_changes, record_change
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Base, Change, ChangePrune, Event, Occurrence, SourceRecord
from aggregator.types import Status
from scheduler.housekeeping import purge_cancelled


def _listing(source: str, record_id: str, title: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
        "url": f"https://example.org/{record_id}",
    }
    values.update(extra)
    return Listing(**values)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return IngestContext(
        factory, settings, kinds={"konzerthaus": "venue", "dortmund_de": "city"}, clock=clock()
    )


def _feed(factory: sessionmaker[Session], since: int = 0, **filters: Any) -> list[Change]:
    with factory() as session:
        return read_changes(session, since, 500, **filters).changes


def _kinds(changes: list[Change]) -> list[tuple[str, list[Any]]]:
    return [(c.kind, c.fields) for c in changes]


def _event_id(factory: sessionmaker[Session], record_id: str) -> str:
    with factory() as session:
        return session.scalars(select(SourceRecord.event_id).where(SourceRecord.record_id == record_id)).one()


def test_the_migration_creates_the_tables_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = ("change", "webhook", "image_credit", "image_licence")
    assert [diff for diff in diffs if any(name in repr(diff) for name in mine)] == []


def test_a_new_event_is_created_once_and_an_unchanged_run_records_nothing(ctx: IngestContext) -> None:
    listings = [_listing("konzerthaus", f"r{day}", "Carmen", day, series_key="carmen") for day in (5, 6)]
    ingest(ctx, "konzerthaus", listings, now=NOW)
    ingest(ctx, "konzerthaus", listings, now=NOW + timedelta(hours=1))
    changes = _feed(ctx.factory)
    assert _kinds(changes) == [("created", [])]
    assert changes[0].venue == "konzerthaus-dortmund" and changes[0].sources == "|konzerthaus|"


def test_a_changed_title_is_an_update_naming_the_field(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen", 5)], now=NOW)
    changed = [_listing("konzerthaus", "r1", "Carmen (Premiere)", 5)]
    ingest(ctx, "konzerthaus", changed, now=NOW + timedelta(hours=1))
    changes = _feed(ctx.factory)
    assert _kinds(changes) == [("created", []), ("updated", ["title"])]
    assert changes[1].at == NOW + timedelta(hours=1)


def test_a_new_start_is_a_rescheduling_and_a_cancellation_is_its_own_change(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen", 5)], now=NOW)
    moved = _listing("konzerthaus", "r1", "Carmen", 5, start=datetime(2026, 12, 5, 20, 0, tzinfo=UTC))
    ingest(ctx, "konzerthaus", [moved], now=NOW + timedelta(hours=1))
    ingest(ctx, "konzerthaus", [moved.evolve(status=Status.CANCELLED)], now=NOW + timedelta(hours=2))
    _created, rescheduled, cancelled = _feed(ctx.factory)
    assert (rescheduled.kind, rescheduled.data) == (
        "rescheduled",
        {"previous_start": "2026-12-05T19:30:00+00:00", "start": "2026-12-05T20:00:00+00:00"},
    )
    assert rescheduled.occurrence_id is not None and cancelled.occurrence_id == rescheduled.occurrence_id
    assert cancelled.kind == "cancelled" and cancelled.fields == []


def test_a_merge_leaves_a_tombstone_pointing_at_the_survivor(ctx: IngestContext) -> None:
    first = _listing("konzerthaus", "r1", "Die Zauberflöte", 1, series_key="s1")
    second = _listing("konzerthaus", "r2", "Carmen", 2, series_key="s2")
    ingest(ctx, "konzerthaus", [first, second], now=NOW)
    both = {_event_id(ctx.factory, "r1"), _event_id(ctx.factory, "r2")}
    regrouped = [first, second.evolve(series_key="s1", title="Die Zauberflöte")]
    ingest(ctx, "konzerthaus", regrouped, now=NOW + timedelta(hours=1))
    survivor_id = _event_id(ctx.factory, "r1")
    (lost_id,) = both - {survivor_id}
    later = [c for c in _feed(ctx.factory) if c.at > NOW]
    merged = [c for c in later if c.kind == "merged"]
    assert [(c.event_id, c.data) for c in merged] == [(lost_id, {"into": survivor_id})]
    survivor = [c for c in later if c.event_id == survivor_id]
    assert survivor and "occurrences" in survivor[0].fields and survivor[0].data["added"]
    assert later.index(merged[0]) < later.index(survivor[0])


def test_an_event_whose_records_all_go_is_deleted(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen", 5)], now=NOW)
    event_id = _event_id(ctx.factory, "r1")
    with ctx.factory() as session, session.begin():
        occurrence = session.scalars(select(Occurrence)).one()
        occurrence.status = Status.CANCELLED.value
        occurrence.start = NOW - timedelta(days=60)
        occurrence.updated_at = NOW - timedelta(days=60)
    purge_cancelled(ctx.factory, retention=timedelta(days=30), now=NOW)
    last = _feed(ctx.factory)[-1]
    assert (last.kind, last.event_id, last.occurrence_id, last.venue) == (
        "deleted",
        event_id,
        None,
        "konzerthaus-dortmund",
    )


def test_filters_pick_venue_category_and_source_and_the_cursor_moves_past_the_rest(
    ctx: IngestContext,
) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen", 5, categories=["konzert"])], now=NOW)
    other = _listing("dortmund_de", "c1", "Lesung", 7, venue_name="Stadt- und Landesbibliothek")
    ingest(ctx, "dortmund_de", [other], now=NOW)
    assert len(_feed(ctx.factory)) == 2
    assert [c.sources for c in _feed(ctx.factory, sources=["dortmund_de"])] == ["|dortmund_de|"]
    assert [c.venue for c in _feed(ctx.factory, venues=["konzerthaus-dortmund"])] == ["konzerthaus-dortmund"]
    with ctx.factory() as session:
        categories = session.scalars(select(Event.categories)).all()
        wanted = next(c for c in categories if c)[0]
        page = read_changes(session, 0, 10, categories=[wanted])
        assert len(page.changes) == 1 and page.next_cursor == session.scalar(
            select(Change.id).order_by(Change.id.desc())
        )
        assert read_changes(session, 0, 10, venues=["nirgendwo"]).changes == []


def test_pruned_changes_make_an_older_cursor_stale(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen", 5)], now=NOW)
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen!", 5)], now=NOW + timedelta(days=100))
    first, second = _feed(ctx.factory)
    with ctx.factory() as session, session.begin():
        assert prune_changes(session, retention=timedelta(days=90), now=NOW + timedelta(days=100)) == 1
    with ctx.factory() as session:
        with pytest.raises(StaleCursor):
            read_changes(session, 0, 10)
        assert [c.id for c in read_changes(session, first.id, 10).changes] == [second.id]


def test_ids_are_never_reused_after_pruning(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen", 5)], now=NOW)
    (first,) = _feed(ctx.factory)
    with ctx.factory() as session, session.begin():
        prune_changes(session, retention=timedelta(days=1), now=NOW + timedelta(days=2))
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "r1", "Carmen!", 5)], now=NOW + timedelta(days=2))
    with ctx.factory() as session:
        (second,) = read_changes(session, first.id, 10).changes
    assert second.id > first.id


@pytest.mark.postgres
@pytest.mark.slow
def test_concurrent_writers_and_a_reader_following_the_cursor(postgres_schema_url: str) -> None:
    """4 writers × 200 changes on PostgreSQL while a reader follows the cursor: nothing missed or doubled."""
    from aggregator.db import make_engine, session_factory, upgrade

    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        session.execute(delete(Change))
        session.execute(delete(ChangePrune))
        since = 0
    writers, per_writer = 4, 200
    done = threading.Event()
    errors: list[BaseException] = []

    def write(number: int) -> None:
        try:
            event = Event(id=f"w{number}", title="x", title_key="x", categories=[], field_sources={})
            for step in range(per_writer):
                with factory() as session, session.begin():
                    record_change(session, ChangeKind.UPDATED, event, now=NOW, fields=[str(step)])
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    seen: list[tuple[str, int]] = []

    def read() -> None:
        nonlocal since
        while True:
            finished = done.is_set()
            with factory() as session:
                page = read_changes(session, since, 50)
            seen.extend((c.event_id, int(c.fields[0])) for c in page.changes)
            since = page.next_cursor
            if finished and not page.changes:
                return

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    reader = threading.Thread(target=read)
    reader.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done.set()
    reader.join()
    engine.dispose()
    assert errors == []
    assert len(seen) == len(set(seen)) == writers * per_writer
    for number in range(writers):
        assert [step for event_id, step in seen if event_id == f"w{number}"] == list(range(per_writer))


def test_hiding_and_showing_again_are_changes_and_a_hidden_event_tells_nothing_more(
    ctx: IngestContext,
) -> None:
    from aggregator.audit import Actor
    from aggregator.event_edits import hide_event, hide_occurrence, unhide_event

    editor = Actor(7, "anna.schmidt@dortmund.de")
    listings = [_listing("konzerthaus", f"r{day}", "Carmen", day, series_key="carmen") for day in (5, 6)]
    ingest(ctx, "konzerthaus", listings, now=NOW)
    event_id = _event_id(ctx.factory, "r5")
    later = NOW + timedelta(hours=1)
    with ctx.factory() as session, session.begin():
        hide_event(session, event_id, "Doppelt eingetragen", actor=editor, now=later, priority=ctx.priority)
    renamed = [listing.evolve(title="Carmen!") for listing in listings]
    ingest(ctx, "konzerthaus", renamed, now=later + timedelta(hours=1))
    with ctx.factory() as session, session.begin():
        unhide_event(session, event_id, actor=editor, now=later + timedelta(hours=2), priority=ctx.priority)
    with ctx.factory() as session:
        occurrence_id = session.scalars(
            select(SourceRecord.occurrence_id).where(SourceRecord.record_id == "r6")
        ).one()
    with ctx.factory() as session, session.begin():
        hide_occurrence(
            session,
            occurrence_id,
            "Fällt aus",
            actor=editor,
            now=later + timedelta(hours=3),
            priority=ctx.priority,
        )
    changes = [(c.kind, c.event_id, c.occurrence_id) for c in _feed(ctx.factory) if c.at > NOW]
    assert changes == [
        ("hidden", event_id, None),
        ("unhidden", event_id, None),
        ("hidden", event_id, occurrence_id),
    ]
