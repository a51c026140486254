"""Steering sources from the console on SQLite and PostgreSQL: pause, resume and run-now requests, and the
overview that shows health, recent runs, next run, backoff and what waits for a decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fixed_clock import NOW, clock
from sqlalchemy.orm import Session, sessionmaker

from aggregator.actions import ActionRefused
from aggregator.audit import Actor, entries
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest, start_run
from aggregator.listing import Listing, Rejection
from aggregator.models import SourceRun, SourceState
from aggregator.run_details import run_details
from aggregator.schedules import next_scheduled_run
from aggregator.source_control import (
    pause_source,
    request_run,
    resume_source,
    run_requests,
    take_run_request,
)
from aggregator.source_overview import source_overview, sources_overview

ANNA = Actor(7, "anna@dortmund.de")


@dataclass(frozen=True)
class Spec:
    name: str
    kind: str = "venue"
    schedule: str = "interval:6h"
    enabled: bool = True


SPECS = {
    "fzw": Spec("fzw"),
    "domicil": Spec("domicil", schedule="cron:15 4 * * *"),
    "old_club": Spec("old_club", enabled=False),
    "by_hand": Spec("by_hand", schedule="manual"),
}


def _state(factory: sessionmaker[Session], name: str) -> SourceState | None:
    with factory() as session:
        return session.get(SourceState, name)


def _audit(factory: sessionmaker[Session]) -> list[tuple[object, ...]]:
    with factory() as session:
        found = entries(session).entries
    return [(e.action, e.target_id, e.account_id, e.actor, e.at, e.before, e.after) for e in reversed(found)]


def test_pause_and_resume_say_who_and_what_changed(factory: sessionmaker[Session]) -> None:
    paused = pause_source(factory, SPECS, "fzw", actor=ANNA, now=NOW)
    assert (paused.action, paused.target_type, paused.target_id) == ("source.pause", "source", "fzw")
    assert paused.before["paused"] is False
    assert (paused.after["paused"], paused.after["paused_by"]) == (True, "anna@dortmund.de")
    state = _state(factory, "fzw")
    assert state is not None and (state.enabled, state.paused_at) == (False, NOW)
    with pytest.raises(ActionRefused) as again:
        pause_source(factory, SPECS, "fzw", actor=ANNA, now=NOW)
    assert again.value.code == "already_paused"
    resumed = resume_source(factory, SPECS, "fzw", actor=ANNA, now=NOW + timedelta(hours=1))
    assert (resumed.before["paused"], resumed.after["paused"], resumed.after["paused_by"]) == (
        True,
        False,
        None,
    )
    state = _state(factory, "fzw")
    assert state is not None and state.enabled
    with pytest.raises(ActionRefused) as not_paused:
        resume_source(factory, SPECS, "fzw", actor=ANNA, now=NOW)
    assert not_paused.value.code == "not_paused"
    assert _audit(factory) == [
        ("source.pause", "fzw", 7, "anna@dortmund.de", NOW, paused.before, paused.after),
        (
            "source.resume",
            "fzw",
            7,
            "anna@dortmund.de",
            NOW + timedelta(hours=1),
            resumed.before,
            resumed.after,
        ),
    ]


@pytest.mark.parametrize(
    ("name", "code"), [("nowhere", "unknown_source"), ("old_club", "disabled_in_settings")]
)
def test_only_configured_enabled_sources_can_be_steered(
    factory: sessionmaker[Session], name: str, code: str
) -> None:
    for act in (pause_source, resume_source, request_run):
        with pytest.raises(ActionRefused) as refused:
            act(factory, SPECS, name, actor=ANNA, now=NOW)
        assert (refused.value.code, refused.value.params["source"]) == (code, name)
    assert _state(factory, name) is None
    assert _audit(factory) == []


def test_a_run_request_waits_once_and_is_taken_once(factory: sessionmaker[Session]) -> None:
    change = request_run(factory, SPECS, "domicil", actor=ANNA, now=NOW)
    assert change.before["run_requested_at"] is None
    assert (change.after["run_requested_at"], change.after["run_requested_by"]) == (
        NOW.isoformat(),
        "anna@dortmund.de",
    )
    with pytest.raises(ActionRefused) as twice:
        request_run(factory, SPECS, "domicil", actor=ANNA, now=NOW + timedelta(seconds=5))
    assert twice.value.code == "already_requested" and "anna@dortmund.de" in twice.value.message
    [pending] = run_requests(factory)
    assert (pending.source, pending.requested_at, pending.requested_by) == (
        "domicil",
        NOW,
        "anna@dortmund.de",
    )
    assert take_run_request(factory, "domicil") == pending
    assert take_run_request(factory, "domicil") is None
    assert run_requests(factory) == []
    request_run(factory, SPECS, "domicil", actor=ANNA, now=NOW + timedelta(seconds=5))
    assert [r.requested_at for r in run_requests(factory)] == [NOW + timedelta(seconds=5)]
    assert [(action, target) for action, target, *_ in _audit(factory)] == [("source.run", "domicil")] * 2


def _listing(record_id: str, day: int) -> Listing:
    return Listing(
        source="fzw",
        record_id=record_id,
        title=f"Konzert {day}",
        fetched_at=NOW,
        start=datetime(2026, 12, day, 20, 0, tzinfo=UTC),
        venue_name="FZW",
    )


def test_the_overview_shows_runs_next_run_backoff_pause_requests_and_held_runs(
    factory: sessionmaker[Session], settings: Settings
) -> None:
    ctx = IngestContext(factory, settings, kinds={"fzw": "venue"}, clock=clock(NOW + timedelta(minutes=2)))
    bad = Rejection("fzw", "fzw-x", "no start date", "start", "dates")
    first = ingest(
        ctx,
        "fzw",
        [_listing(f"fzw-{d}", d) for d in range(1, 11)],
        rejections=[bad],
        warnings=["slow"],
        run_id=start_run(ctx, "fzw", "schedule", now=NOW),
        now=NOW,
    )
    held = ingest(ctx, "fzw", [_listing("fzw-1", 1)], now=NOW + timedelta(hours=1))
    assert held.status.value == "suspicious"
    with factory() as session, session.begin():
        session.add(
            SourceRun(source="domicil", started_at=NOW, finished_at=NOW, status="failed", error="HTTP 503")
        )
        session.add(
            SourceState(
                source="domicil",
                consecutive_failures=2,
                last_listings=0,
                enabled=True,
                next_attempt_at=NOW + timedelta(hours=30),
                updated_at=NOW,
            )
        )
    pause_source(factory, SPECS, "by_hand", actor=ANNA, now=NOW)
    request_run(factory, SPECS, "by_hand", actor=ANNA, now=NOW)

    rows = {row.name: row for row in sources_overview(factory, SPECS, now=NOW, runs=1)}
    assert set(rows) == set(SPECS)
    fzw = rows["fzw"]
    assert (fzw.health, fzw.records, fzw.held_runs, fzw.can_steer) == ("suspicious", 10, [held.run_id], True)
    assert [run.id for run in fzw.runs] == [held.run_id]
    assert fzw.runs[0].awaiting_decision
    assert fzw.next_run == next_scheduled_run("interval:6h", name="fzw", now=NOW)
    domicil = rows["domicil"]
    assert (domicil.health, domicil.consecutive_failures) == ("failing", 2)
    assert domicil.backoff_until == NOW + timedelta(hours=30)
    assert domicil.next_run is not None and domicil.next_run >= NOW + timedelta(hours=18)
    assert domicil.runs[0].error == "HTTP 503" and domicil.runs[0].duration == timedelta(0)
    by_hand = rows["by_hand"]
    assert (by_hand.health, by_hand.paused, by_hand.paused_by, by_hand.next_run) == (
        "disabled",
        True,
        "anna@dortmund.de",
        None,
    )
    assert (by_hand.run_requested_at, by_hand.run_requested_by) == (NOW, "anna@dortmund.de")
    old = rows["old_club"]
    assert (old.health, old.enabled_in_settings, old.can_steer, old.next_run) == (
        "disabled",
        False,
        False,
        None,
    )

    one = source_overview(factory, SPECS, "fzw", now=NOW)
    assert one is not None
    assert [run.id for run in one.runs] == [held.run_id, first.run_id]
    assert one.runs[1].counts == {
        "listings": 10,
        "added": 10,
        "updated": 0,
        "unchanged": 0,
        "cancelled": 0,
        "rejected": 1,
    }
    assert (one.runs[1].duration, one.runs[1].trigger) == (timedelta(minutes=2), "schedule")
    assert source_overview(factory, SPECS, "nowhere", now=NOW) is None

    with factory() as session:
        details = run_details(session, first.run_id)
        held_details = run_details(session, held.run_id)
    assert details is not None and held_details is not None
    assert details.rejections == [bad] and details.warnings == ["slow"]
    assert details.held_listings is None and held_details.held_listings == 1
    assert held_details.run.awaiting_decision and not details.run.awaiting_decision


def test_a_source_with_runs_but_no_configuration_is_shown_but_not_steerable(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, session.begin():
        session.add(SourceRun(source="import", started_at=NOW, finished_at=NOW, status="success"))
    one = source_overview(factory, SPECS, "import", now=NOW)
    assert one is not None
    assert (one.configured, one.can_steer, one.next_run, one.schedule) == (False, False, None, "manual")


def test_a_source_whose_only_run_is_still_running_has_a_page(factory: sessionmaker[Session]) -> None:
    with factory() as session, session.begin():
        session.add(SourceRun(source="push:fzw", started_at=NOW, status="running"))
    one = source_overview(factory, SPECS, "push:fzw", now=NOW)
    assert one is not None
    assert (one.health, one.kind, [run.status for run in one.runs]) == ("never_run", "push", ["running"])
