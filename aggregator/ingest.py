"""The import pipeline: listings → normalise → deduplicate → upsert, one transaction per run.

:func:`ingest` takes the listings of one source run (already fetched and parsed by the caller,
who owns the network), records a :class:`~aggregator.models.SourceRun`, and either applies the whole
run or nothing. Listings that vanish are not deleted: a future occurrence that no source lists for
``missing_runs_before_cancel`` successful runs becomes cancelled, and a run that would drop a large
share of a source's future records at once is held back as suspicious until an operator confirms.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import or_, text, update
from sqlalchemy.orm import Session

from aggregator.actions import COMMAND_LINE, ActionRefused, Actor
from aggregator.listing import Listing, Rejection
from aggregator.models import SourceRun
from aggregator.normalise.pipeline import NormaliseResult, normalise
from aggregator.runs import (
    MAX_STORED_REJECTIONS,
    Held,
    IngestContext,
    RunReport,
    fail_run,
    finish_run,
    hold_run,
    keep_rejections,
    run_notes,
    start_run,
)
from aggregator.serialise import listing_from_data
from aggregator.store import apply_run
from aggregator.timeshift import shift_listing
from aggregator.types import RunStatus

__all__ = [
    "IngestContext",
    "RunReport",
    "confirm_run",
    "fail_run",
    "ingest",
    "run_notes",
    "start_run",
]

log = logging.getLogger(__name__)
INGEST_LOCK = ":stadtkalender-ingest"
CONFIRM_TRIGGER = "confirm"
"""The trigger of the run that applies a confirmed held-back run."""
STALE_CLAIM = timedelta(hours=1)
"""A decision still in progress after this long was interrupted (see :func:`claim_decision`)."""


def ingest(
    ctx: IngestContext,
    source: str,
    listings: Iterable[Listing],
    *,
    run_id: int | None = None,
    rejections: Sequence[Rejection] = (),
    warnings: Sequence[str] = (),
    complete: bool = True,
    force: bool = False,
    now: datetime | None = None,
) -> RunReport:
    """Apply one run of ``source``.

    ``complete`` says the listings are the source's whole current programme (so missing ones count
    as vanished); ``force`` applies a run even when the mass-cancellation guard would hold it.
    Raises nothing for bad data: the run ends failed or suspicious and says why.
    """
    now = now or ctx.clock()
    run_id = run_id if run_id is not None else start_run(ctx, source)
    try:
        valid, result = run_listings(ctx, source, listings, now=now)
    except Exception as exc:  # the source failed while producing listings, or a normalisation step broke
        log.exception("listings of %s could not be read or normalised", source)
        return fail_run(ctx, run_id, f"{type(exc).__name__}: {exc}")
    rejected = list(rejections) + list(result.rejected)
    notes = list(warnings)
    if len(rejected) > MAX_STORED_REJECTIONS:  # first, so that the cap on warnings never hides it
        notes.insert(0, f"{len(rejected) - MAX_STORED_REJECTIONS} more rejections not kept with the run")
    notes += [f"unknown venue: {name}" for name in result.unknown_venues]
    notes += [f"unknown category: {name}" for name in result.unknown_categories]
    if ctx.shift_weeks:
        notes.append(f"demo: every date moved {ctx.shift_weeks} weeks forward from the snapshot")
    duplicates = len(result.listings) - len(valid)
    if duplicates:
        notes.append(f"{duplicates} listings repeated a record id of this run; the last one of each was kept")
    total = len(valid) + len(rejected)
    if total and len(valid) / total < ctx.settings.ingest.min_valid_ratio:
        failed = fail_run(
            ctx,
            run_id,
            f"only {len(valid)} of {total} listings are valid (threshold "
            f"{ctx.settings.ingest.min_valid_ratio:.0%}); first problem: {rejected[0].reason}",
            listings=total,
        )
        failed.rejected, failed.rejections, failed.warnings = len(rejected), rejected, notes
        keep_rejections(ctx, failed)
        return failed
    report = RunReport(
        run_id,
        source,
        RunStatus.SUCCESS,
        listings=len(valid),
        rejected=len(rejected),
        warnings=notes,
        rejections=rejected,
    )
    try:
        with ctx.factory() as session, session.begin():
            _lock_for_ingest(session)
            apply_run(session, ctx, source, valid, report, complete=complete, force=force, now=now)
            finish_run(session, run_id, report, ctx.clock())
    except Held as held:
        try:
            return hold_run(ctx, run_id, source, valid, report, held, now)
        except Exception as exc:  # the held batch could not be stored: nothing applies, the run failed
            log.exception("holding back a run of %s failed", source)
            return fail_run(
                ctx,
                run_id,
                f"held back, but could not be stored: {type(exc).__name__}: {exc}",
                listings=len(valid),
            )
    except Exception as exc:
        log.exception("ingest of %s failed", source)
        return fail_run(ctx, run_id, f"{type(exc).__name__}: {exc}", listings=len(valid))
    return report


def run_listings(
    ctx: IngestContext, source: str, listings: Iterable[Listing], *, now: datetime
) -> tuple[list[Listing], NormaliseResult]:
    """The listings a run of ``source`` applies, and what normalising them found.

    Each usable listing is stamped with the source and moved by the demo's shift; a record id
    appears once (the last listing of each wins).
    """
    result = normalise(listings, venues=ctx.venues, categories=ctx.categories, now=now)
    valid = _one_per_record(
        shift_listing(listing.evolve(source=source), ctx.shift_weeks) for listing in result.listings
    )
    return valid, result


def _lock_for_ingest(session: Session) -> None:
    """One ingest at a time per database, across processes, for the whole read-modify-write.

    PostgreSQL: an advisory transaction lock per schema (not across installations sharing a server).
    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read (waiting up to
    the busy timeout), so no other process can commit between this run's reads and its writes.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :key))"), {"key": INGEST_LOCK}
        )
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def _one_per_record(listings: Iterable[Listing]) -> list[Listing]:
    """A record id appears once per run (a page listing one date twice must not write it twice)."""
    kept: dict[str, Listing] = {}
    for listing in listings:
        kept.pop(listing.record_id, None)
        kept[listing.record_id] = listing
    return list(kept.values())


def confirm_run(
    ctx: IngestContext, run_id: int, *, actor: Actor = COMMAND_LINE, now: datetime | None = None
) -> RunReport:
    """Apply a run the guard held back, as ``actor`` decided at ``now``; returns the applying run's report.

    The run is replayed as of the moment it was held (its ``now``), so what counts as past, future
    and vanished is exactly what the operator was shown — however long the confirmation took. The
    decision is claimed first, so that two people deciding at once cannot both act; if the replay
    fails, the claim is released and the run stays held. Raises :class:`ActionRefused` for a run that
    does not exist, is not held, or was decided already.
    """
    decided = now or ctx.clock()
    with ctx.factory() as session, session.begin():
        run = claim_decision(session, run_id, "confirmed", actor=actor, now=decided)
        batch = run.held or {}
        listings = [listing_from_data(item) for item in batch["listings"]]
        source = run.source
        held_now = batch.get("now")
        as_of = datetime.fromisoformat(held_now) if held_now else run.started_at
    replay = replace(ctx, shift_weeks=0)  # the held listings were moved when they were held
    report = ingest(
        replay,
        source,
        listings,
        run_id=start_run(ctx, source, CONFIRM_TRIGGER, now=decided),
        force=True,
        now=as_of,
    )
    with ctx.factory() as session, session.begin():
        held = session.get_one(SourceRun, run_id)
        if report.status == RunStatus.SUCCESS:
            held.status = RunStatus.CONFIRMED.value
            held.held = None
            held.error = f"confirmed by {actor.label}; applied as run {report.run_id}"
        else:
            held.decision = held.decided_by = held.decided_at = None
    return report


def claim_decision(session: Session, run_id: int, decision: str, *, actor: Actor, now: datetime) -> SourceRun:
    """Record ``decision`` by ``actor`` on held run ``run_id``, unless someone decided before.

    The conditional update makes the first decision win on both databases (PostgreSQL re-checks the
    condition after a concurrent update commits; SQLite serialises writers). A claim older than
    :data:`STALE_CLAIM` belongs to a confirmation whose process died, and may be taken over. Raises
    :class:`ActionRefused` when there is nothing to decide.
    """
    claimed = session.execute(
        update(SourceRun)
        .where(
            SourceRun.id == run_id,
            SourceRun.status == RunStatus.SUSPICIOUS.value,
            or_(SourceRun.decision.is_(None), SourceRun.decided_at < now - STALE_CLAIM),
        )
        .values(decision=decision, decided_by=actor.label, decided_at=now)
        .execution_options(synchronize_session=False)
    )
    run = session.get(SourceRun, run_id, populate_existing=True)
    if run is None:
        raise ActionRefused("no_run", f"no run {run_id}", run=run_id)
    if not claimed.rowcount:  # type: ignore[attr-defined]
        if run.decision is not None and run.status == RunStatus.SUSPICIOUS.value:
            raise ActionRefused(
                "already_decided",
                f"run {run_id} is being {run.decision} by {run.decided_by}",
                run=run_id,
                decision=run.decision,
                decided_by=run.decided_by,
            )
        raise ActionRefused(
            "not_held",
            f"run {run_id} is {run.status}, only held runs can be confirmed or discarded",
            run=run_id,
            status=run.status,
        )
    if not run.held:
        raise ActionRefused("no_batch", f"run {run_id} no longer has its listings", run=run_id)
    return run
