"""Held-back runs on SQLite and PostgreSQL: the preview names exactly what confirming cancels, confirm and
discard record who decided, and discarding changes nothing else."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from fixed_clock import NOW, clock
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.actions import ActionRefused
from aggregator.audit import Actor, entries
from aggregator.config import Settings
from aggregator.held_runs import HeldPreview, confirm_held, confirm_run, discard_held, held_preview
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import AuditEntry, Base, Occurrence, SourceRecord, SourceRun
from aggregator.run_details import run_details
from aggregator.types import RunStatus, Status

ANNA = Actor(7, "anna@dortmund.de")
BEN = Actor(8, "ben@dortmund.de")


def _listing(source: str, record_id: str, day: int, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": "Die Zauberflöte",
        "fetched_at": NOW,
        "start": datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
        "series_key": "zauberfloete",
    }
    values.update(extra)
    return Listing(**values)


def _programme(days: list[int], *, cancelled: frozenset[int] = frozenset()) -> list[Listing]:
    return [
        _listing("konzerthaus", f"zf-{day}", day, status=Status.CANCELLED if day in cancelled else None)
        for day in days
    ]


def _context(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return IngestContext(
        factory,
        settings,
        kinds={"konzerthaus": "venue", "dortmund_de": "city"},
        clock=clock(NOW + timedelta(hours=3)),
    )


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return _context(factory, settings)


def _held_after_history(ctx: IngestContext) -> int:
    """Twenty dates, one also listed by the city; a run drops 3, 19, 20; then a run lists only eight dates
    (one of them now cancelled) and is held back."""
    days = list(range(1, 21))
    assert ingest(ctx, "konzerthaus", _programme(days), now=NOW).status == RunStatus.SUCCESS
    city = [_listing("dortmund_de", "city-3", 3, title="DIE ZAUBERFLÖTE", venue_name="Konzerthaus")]
    assert ingest(ctx, "dortmund_de", city, now=NOW).status == RunStatus.SUCCESS
    fewer = [day for day in days if day not in (3, 19, 20)]
    assert (
        ingest(ctx, "konzerthaus", _programme(fewer), now=NOW + timedelta(hours=1)).status
        == RunStatus.SUCCESS
    )
    eight = [1, 2, 4, 5, 6, 7, 8]
    held = ingest(
        ctx, "konzerthaus", _programme(eight, cancelled=frozenset({5})), now=NOW + timedelta(hours=2)
    )
    assert held.status == RunStatus.SUSPICIOUS
    return held.run_id


def _statuses(factory: sessionmaker[Session]) -> dict[str, str]:
    with factory() as session:
        return dict(session.execute(select(Occurrence.id, Occurrence.status)).all())


def _missing_runs(factory: sessionmaker[Session]) -> dict[str, tuple[int, str]]:
    with factory() as session:
        rows = session.execute(
            select(SourceRecord.record_id, SourceRecord.missing_runs, SourceRecord.occurrence_id)
        )
        return {record_id: (missing, occurrence) for record_id, missing, occurrence in rows}


def _everything(engine: Engine, *, leave_out_run: int | None = None) -> dict[str, list[Any]]:
    """Every row of every table (a held run's own row and the audit log left out when asked)."""
    tables: dict[str, list[Any]] = {}
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            rows = [tuple(row) for row in connection.execute(table.select())]
            if table.name == "source_runs" and leave_out_run is not None:
                rows = [row for row in rows if row[0] != leave_out_run]
            if table.name == "audit_log" and leave_out_run is not None:
                continue
            tables[table.name] = sorted(rows, key=repr)
    return tables


def _audit(factory: sessionmaker[Session]) -> list[AuditEntry]:
    with factory() as session:
        return entries(session).entries


def _preview(ctx: IngestContext, run_id: int) -> HeldPreview:
    with ctx.factory() as session:
        return held_preview(session, ctx, run_id)


def _confirm_and_compare(ctx: IngestContext, run_id: int) -> HeldPreview:
    """Preview, confirm, and check that the preview named exactly what changed."""
    preview = _preview(ctx, run_id)
    statuses, missing = _statuses(ctx.factory), _missing_runs(ctx.factory)
    change = confirm_held(ctx, run_id, actor=ANNA, now=NOW + timedelta(hours=3))
    after, missing_after = _statuses(ctx.factory), _missing_runs(ctx.factory)
    newly_cancelled = {
        occurrence
        for occurrence, status in after.items()
        if status == Status.CANCELLED.value and statuses.get(occurrence) != Status.CANCELLED.value
    }
    assert {item.occurrence.id for item in preview.cancels} == newly_cancelled
    assert change.detail["cancelled"] == len(preview.cancels)
    counted = {
        record_id
        for record_id, (runs, occurrence) in missing_after.items()
        if runs > missing[record_id][0] and occurrence not in newly_cancelled
    }
    assert {item.record_id for item in preview.counts_missing} == counted
    for item in [*preview.cancels, *preview.counts_missing]:
        if item.record_id in missing_after and item.reason != "source":
            assert item.missing_runs == missing_after[item.record_id][0]
    return preview


def test_the_migration_adds_what_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if "source_state" in repr(diff) or "source_runs" in repr(diff)] == []


def test_the_preview_names_exactly_what_confirming_cancels(ctx: IngestContext) -> None:
    run_id = _held_after_history(ctx)
    preview = _confirm_and_compare(ctx, run_id)
    by_day = {item.occurrence.start.day: item.reason for item in preview.cancels}
    assert by_day == {5: "source", 19: "vanished", 20: "vanished"}
    counted = {item.occurrence.start.day: item.reason for item in preview.counts_missing}
    assert counted == {3: "listed_elsewhere"} | dict.fromkeys(range(9, 19), "counted")
    assert (preview.listings, preview.future, preview.missing_runs_before_cancel) == (7, 20, 2)
    assert preview.as_of == NOW + timedelta(hours=2)
    first = preview.cancels[1]
    assert (first.occurrence.title, first.occurrence.venue, first.occurrence.status) == (
        "Die Zauberflöte",
        "Konzerthaus Dortmund",
        "scheduled",
    )
    assert (first.record_id, first.missing_runs, first.last_seen) == ("zf-19", 2, NOW)
    assert preview.newer_runs == []


def test_the_preview_is_exact_when_one_missing_run_cancels(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    eager = replace(settings, ingest=replace(settings.ingest, missing_runs_before_cancel=1))
    ctx = _context(factory, eager)
    run_id = _held_after_history(ctx)
    preview = _confirm_and_compare(ctx, run_id)
    # 3, 19 and 20 went with the run before (3 stays: the city lists it); now 9 to 18, and 5 by the source
    assert [item.occurrence.start.day for item in preview.cancels] == [5, *range(9, 19)]
    assert preview.counts_missing == []


def test_the_preview_changes_nothing_and_warns_of_newer_runs(ctx: IngestContext, engine: Engine) -> None:
    run_id = _held_after_history(ctx)
    before = _everything(engine)
    _preview(ctx, run_id)
    assert _everything(engine) == before
    later = ingest(ctx, "konzerthaus", _programme(list(range(1, 19))), now=NOW + timedelta(hours=4))
    assert later.status == RunStatus.SUCCESS
    assert [run.id for run in _preview(ctx, run_id).newer_runs] == [later.run_id]


def test_confirming_records_the_decision_and_its_author(ctx: IngestContext) -> None:
    run_id = _held_after_history(ctx)
    change = confirm_held(ctx, run_id, actor=ANNA, now=NOW + timedelta(hours=3))
    assert change.before["status"] == "suspicious" and change.before["decision"] is None
    assert change.before["held_listings"] == 7
    assert change.after == {
        "status": "confirmed",
        "decision": "confirmed",
        "decided_by": "anna@dortmund.de",
        "decided_at": (NOW + timedelta(hours=3)).isoformat(),
        "held_listings": 0,
    }
    with ctx.factory() as session:
        applied = session.get_one(SourceRun, change.detail["applied_as"])
        assert (applied.trigger, applied.status) == ("confirm", "success")
    [entry] = _audit(ctx.factory)
    assert (entry.action, entry.target_type, entry.target_id, entry.account_id) == (
        "run.confirm",
        "run",
        str(run_id),
        7,
    )
    assert (entry.before, entry.after) == (change.before, change.after)
    assert f"applied_as={applied.id}" in (entry.note or "")
    with pytest.raises(ActionRefused) as refused:
        discard_held(ctx.factory, run_id, actor=BEN, now=NOW + timedelta(hours=4))
    assert refused.value.code == "not_held"


def test_discarding_drops_the_batch_and_changes_nothing_else(ctx: IngestContext, engine: Engine) -> None:
    run_id = _held_after_history(ctx)
    before = _everything(engine, leave_out_run=run_id)
    change = discard_held(ctx.factory, run_id, actor=BEN, now=NOW + timedelta(hours=3))
    assert _everything(engine, leave_out_run=run_id) == before
    assert (change.action, change.target_type, change.target_id) == ("run.discard", "run", str(run_id))
    [entry] = _audit(ctx.factory)
    assert (entry.action, entry.target_id, entry.account_id, entry.actor) == (
        "run.discard",
        str(run_id),
        8,
        "ben@dortmund.de",
    )
    assert (entry.before, entry.after) == (change.before, change.after)
    assert (change.before["status"], change.before["held_listings"]) == ("suspicious", 7)
    assert change.after["status"] == "discarded" and change.after["decided_by"] == "ben@dortmund.de"
    with ctx.factory() as session:
        details = run_details(session, run_id)
    assert details is not None and details.held_listings is None
    assert (details.run.status, details.run.decision, details.run.decided_by) == (
        "discarded",
        "discarded",
        "ben@dortmund.de",
    )
    assert details.run.decided_at == NOW + timedelta(hours=3)
    assert "discarded by ben@dortmund.de" in (details.run.error or "")
    with pytest.raises(ActionRefused) as refused:
        confirm_held(ctx, run_id, actor=ANNA, now=NOW + timedelta(hours=4))
    assert refused.value.code == "not_held"
    with pytest.raises(ActionRefused) as twice:
        discard_held(ctx.factory, run_id, actor=ANNA, now=NOW + timedelta(hours=4))
    assert twice.value.code == "not_held"
    with ctx.factory() as session, pytest.raises(ActionRefused, match="not held back"):
        held_preview(session, ctx, run_id)


def test_a_decision_in_progress_blocks_a_second_one(ctx: IngestContext) -> None:
    run_id = _held_after_history(ctx)
    with ctx.factory() as session, session.begin():
        run = session.get_one(SourceRun, run_id)
        run.decision, run.decided_by, run.decided_at = (
            "confirmed",
            "anna@dortmund.de",
            NOW + timedelta(hours=3),
        )
    with pytest.raises(ActionRefused) as refused:
        discard_held(ctx.factory, run_id, actor=BEN, now=NOW + timedelta(hours=3, minutes=1))
    assert refused.value.code == "already_decided"
    assert "being confirmed by anna@dortmund.de" in refused.value.message
    # an hour later the confirmation is taken for dead: the run can be decided again
    change = discard_held(ctx.factory, run_id, actor=BEN, now=NOW + timedelta(hours=4, minutes=1))
    assert change.after["decision"] == "discarded"


def test_a_failed_confirmation_leaves_the_run_held(
    ctx: IngestContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = _held_after_history(ctx)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("aggregator.ingest.apply_run", broken)
    with pytest.raises(ActionRefused) as refused:
        confirm_held(ctx, run_id, actor=ANNA, now=NOW + timedelta(hours=3))
    assert refused.value.code == "confirm_failed" and "disk full" in refused.value.message
    with ctx.factory() as session:
        run = session.get_one(SourceRun, run_id)
        assert (run.status, run.decision, bool(run.held)) == ("suspicious", None, True)
    assert _audit(ctx.factory) == []
    monkeypatch.undo()
    assert confirm_run(ctx, run_id).status == RunStatus.SUCCESS
    with ctx.factory() as session:
        assert session.get_one(SourceRun, run_id).decided_by == "cli"
    assert [(e.action, e.actor, e.account_id) for e in _audit(ctx.factory)] == [("run.confirm", "cli", None)]


def test_nothing_to_decide_is_refused_with_a_reason(ctx: IngestContext) -> None:
    report = ingest(ctx, "konzerthaus", _programme([1, 2]), now=NOW)
    with pytest.raises(ActionRefused) as refused:
        confirm_held(ctx, report.run_id, actor=ANNA, now=NOW)
    assert (refused.value.code, refused.value.params["status"]) == ("not_held", "success")
    with pytest.raises(ActionRefused) as missing:
        discard_held(ctx.factory, 999, actor=ANNA, now=NOW)
    assert missing.value.code == "no_run"
    with ctx.factory() as session, pytest.raises(ActionRefused, match="no run 999"):
        held_preview(session, ctx, 999)


def test_confirming_in_the_demo_does_not_move_the_dates_twice(ctx: IngestContext) -> None:
    demo = replace(ctx, shift_weeks=2)
    assert ingest(demo, "konzerthaus", _programme(list(range(1, 21))), now=NOW).status == RunStatus.SUCCESS
    starts = set(_starts(demo.factory))
    held = ingest(demo, "konzerthaus", _programme([1, 2, 3]), now=NOW + timedelta(hours=1))
    assert held.status == RunStatus.SUSPICIOUS
    preview = _preview(demo, held.run_id)
    assert (len(preview.cancels), len(preview.counts_missing)) == (0, 17)
    confirm_held(demo, held.run_id, actor=ANNA, now=NOW + timedelta(hours=2))
    assert set(_starts(demo.factory)) == starts
    assert min(starts) == datetime(2026, 12, 15, 19, 30, tzinfo=UTC)


def _starts(factory: sessionmaker[Session]) -> list[datetime]:
    with factory() as session:
        return list(session.scalars(select(Occurrence.start)))
