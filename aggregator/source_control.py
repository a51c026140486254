"""Editors steer sources through the database: pause, resume, and ask for a run now.

The web process never runs a source. Pausing sets :attr:`SourceState.enabled` (the scheduler skips a
paused source's scheduled runs); "run now" stores a request (:attr:`SourceState.run_requested_at`)
that the scheduler service picks up at its next poll (``scheduler.request_poll_seconds``) and clears
when it starts the run, with trigger ``console``. A requested run runs once even while the source is
paused or backing off: the editor asked for it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator.actions import ActionRefused, Change, audited
from aggregator.audit import Actor
from aggregator.health import SourceInfo
from aggregator.models import SourceState

CONSOLE_TRIGGER = "console"
"""The trigger recorded on a run someone asked for in the console."""


@dataclass(frozen=True, slots=True)
class RunRequest:
    """A pending "run now" of one source."""

    source: str
    requested_at: datetime
    requested_by: str | None


def _state_data(state: SourceState | None) -> dict[str, Any]:
    """What the console steers of a source, JSON-ready (for the audit log)."""
    if state is None:
        return {"paused": False, "paused_by": None, "run_requested_at": None, "run_requested_by": None}
    return {
        "paused": not state.enabled,
        "paused_by": state.paused_by,
        "run_requested_at": state.run_requested_at.isoformat() if state.run_requested_at else None,
        "run_requested_by": state.run_requested_by,
    }


def _steerable(specs: Mapping[str, SourceInfo], name: str) -> SourceInfo:
    spec = specs.get(name)
    if spec is None:
        raise ActionRefused(
            "unknown_source",
            f"no configured source {name!r}: only scheduled sources can be steered",
            source=name,
        )
    if not spec.enabled:
        raise ActionRefused(
            "disabled_in_settings",
            f"source {name!r} is disabled in the settings (enabled = false); change settings.toml first",
            source=name,
        )
    return spec


def state_row(session: Session, name: str, now: datetime) -> SourceState:
    """The state row of source ``name`` (added to ``session`` when it has none yet)."""
    state = session.get(SourceState, name)
    if state is None:
        state = SourceState(
            source=name, consecutive_failures=0, last_listings=0, enabled=True, updated_at=now
        )
        session.add(state)
    return state


def pause_source(
    factory: sessionmaker[Session], specs: Mapping[str, SourceInfo], name: str, *, actor: Actor, now: datetime
) -> Change:
    """Stop the scheduled runs of ``name`` until it is resumed. Refused when it is paused already."""
    _steerable(specs, name)
    with factory() as session, session.begin():
        state = session.get(SourceState, name)
        before = _state_data(state)
        if state is not None and not state.enabled:
            raise ActionRefused(
                "already_paused", f"source {name!r} is paused already (by {state.paused_by})", source=name
            )
        state = state_row(session, name, now)
        state.enabled, state.paused_at, state.paused_by, state.updated_at = False, now, actor.label, now
        return audited(
            session, actor, Change("source.pause", "source", name, before, _state_data(state)), now=now
        )


def resume_source(
    factory: sessionmaker[Session], specs: Mapping[str, SourceInfo], name: str, *, actor: Actor, now: datetime
) -> Change:
    """Let the scheduler run ``name`` on its schedule again. Refused when it is not paused."""
    _steerable(specs, name)
    with factory() as session, session.begin():
        state = session.get(SourceState, name)
        before = _state_data(state)
        if state is None or state.enabled:
            raise ActionRefused("not_paused", f"source {name!r} is not paused", source=name)
        state.enabled, state.paused_at, state.paused_by, state.updated_at = True, None, None, now
        return audited(
            session, actor, Change("source.resume", "source", name, before, _state_data(state)), now=now
        )


def request_run(
    factory: sessionmaker[Session], specs: Mapping[str, SourceInfo], name: str, *, actor: Actor, now: datetime
) -> Change:
    """Ask the scheduler to run ``name`` now. Refused while an earlier request is still waiting."""
    _steerable(specs, name)
    with factory() as session, session.begin():
        state = session.get(SourceState, name)
        before = _state_data(state)
        if state is not None and state.run_requested_at is not None:
            raise ActionRefused(
                "already_requested",
                f"a run of {name!r} was requested at {state.run_requested_at.isoformat()} "
                f"by {state.run_requested_by}; the scheduler has not started it yet",
                source=name,
                requested_at=state.run_requested_at,
                requested_by=state.run_requested_by,
            )
        state = state_row(session, name, now)
        state.run_requested_at, state.run_requested_by = now, actor.label
        return audited(
            session, actor, Change("source.run", "source", name, before, _state_data(state)), now=now
        )


def run_requests(factory: sessionmaker[Session]) -> list[RunRequest]:
    """Every pending "run now", oldest first."""
    with factory() as session:
        query = (
            select(SourceState.source, SourceState.run_requested_at, SourceState.run_requested_by)
            .where(SourceState.run_requested_at.is_not(None))
            .order_by(SourceState.run_requested_at, SourceState.source)
        )
        return [RunRequest(source, at, by) for source, at, by in session.execute(query) if at is not None]


def take_run_request(factory: sessionmaker[Session], name: str) -> RunRequest | None:
    """Clear the pending request of ``name`` and return it (None when there is none: someone took it)."""
    with factory() as session, session.begin():
        state = session.get(SourceState, name)
        if state is None or state.run_requested_at is None:
            return None
        request = RunRequest(name, state.run_requested_at, state.run_requested_by)
        cleared = session.execute(
            update(SourceState)
            .where(SourceState.source == name, SourceState.run_requested_at == request.requested_at)
            .values(run_requested_at=None, run_requested_by=None)
            .execution_options(synchronize_session=False)
        )
        return request if cleared.rowcount else None  # type: ignore[attr-defined]
