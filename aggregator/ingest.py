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
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.orm import Session

from aggregator.degraded import adopt_stored_ids, take_back_provisional
from aggregator.listing import Listing, Rejection
from aggregator.normalise.pipeline import NormaliseResult, normalise
from aggregator.normalise.venues import VenueRegistry
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
from aggregator.store import apply_run
from aggregator.timeshift import shift_listing
from aggregator.types import RunStatus
from aggregator.venue_feeds import keep_own_venue
from aggregator.venue_registry import load_registry, seed_venues

__all__ = [
    "IngestContext",
    "RunReport",
    "current_venues",
    "fail_run",
    "ingest",
    "lock_for_ingest",
    "run_notes",
    "start_run",
    "wait_for_ingest",
]

log = logging.getLogger(__name__)
INGEST_LOCK = ":stadtkalender-ingest"


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
    degraded: str | None = None,
    bound_to: Sequence[str] = (),
) -> RunReport:
    """Apply one run of ``source``.

    ``complete`` says the listings are the source's whole current programme (so missing ones count
    as vanished); ``force`` applies a run even when the mass-cancellation guard would hold it.
    ``degraded`` is why the adapter failed when the listings come from a fallback instead
    (:mod:`aggregator.degraded`): the run is never complete and ends ``degraded``.
    ``bound_to`` are the venues of a venue's own feed: listings placed anywhere else are rejected.
    Raises nothing for bad data: the run ends failed or suspicious and says why.
    """
    now = now or ctx.clock()
    run_id = run_id if run_id is not None else start_run(ctx, source)
    try:
        items = list(listings)
        venues = current_venues(ctx)
        valid, result = run_listings(ctx, source, items, venues=venues, now=now)
        if bound_to:
            valid, foreign = keep_own_venue(valid, bound_to, source)
            result.rejected.extend(foreign)
    except Exception as exc:  # the source failed while producing listings, or a normalisation step broke
        log.exception("listings of %s could not be read or normalised", source)
        return fail_run(ctx, run_id, f"{type(exc).__name__}: {exc}")
    rejected = list(rejections) + list(result.rejected)
    notes = list(warnings)
    if len(rejected) > MAX_STORED_REJECTIONS:  # first, so that the cap on warnings never hides it
        notes.insert(0, f"{len(rejected) - MAX_STORED_REJECTIONS} more rejections not kept with the run")
    notes += [f"venue registry: {conflict}" for conflict in venues.conflicts]
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
        RunStatus.DEGRADED if degraded else RunStatus.SUCCESS,
        listings=len(valid),
        rejected=len(rejected),
        warnings=notes,
        rejections=rejected,
        error=degraded,
    )
    try:
        with ctx.factory() as session, session.begin():
            lock_for_ingest(session)
            valid = _fallback_ids(session, ctx, source, valid, degraded=degraded is not None)
            complete = complete and degraded is None
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
    ctx: IngestContext, source: str, listings: Iterable[Listing], *, venues: VenueRegistry, now: datetime
) -> tuple[list[Listing], NormaliseResult]:
    """The listings a run of ``source`` applies, and what normalising them against ``venues`` found.

    Each usable listing is stamped with the source and moved by the demo's shift; a record id
    appears once (the last listing of each wins).
    """
    result = normalise(listings, venues=venues, categories=ctx.categories, now=now)
    valid = _one_per_record(
        shift_listing(listing.evolve(source=source), ctx.shift_weeks) for listing in result.listings
    )
    return valid, result


def current_venues(ctx: IngestContext) -> VenueRegistry:
    """The venue registry a run matches against: the venues table, first brought up to the seed.

    Seeding (:func:`~aggregator.venue_registry.seed_venues`) runs under the ingest lock, so two
    processes never add the same seed venue at once; it writes only when the seed or the table changed.
    """
    with ctx.factory() as session, session.begin():
        lock_for_ingest(session)
        seed_venues(session, ctx.venues, now=ctx.clock())
        return load_registry(session, ctx.venues)


def lock_for_ingest(session: Session) -> None:
    """One writer at a time per database (a run or an editor's change), across processes.

    Held for the whole read-modify-write of the transaction. Editors' duplicate decisions
    (:mod:`aggregator.review`) and their field edits (:mod:`aggregator.event_edits`) take it too.

    PostgreSQL: an advisory transaction lock per schema (not across installations sharing a server).
    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first read (waiting up to
    the busy timeout), so no other process can commit between this run's reads and its writes.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        wait_for_ingest(session)
    elif dialect == "sqlite":
        session.connection().exec_driver_sql("BEGIN IMMEDIATE")


def wait_for_ingest(session: Session) -> None:
    """On PostgreSQL, wait for a running ingest and keep the next one out until ``session``'s transaction
    ends: for an editor's change that rewrites stored records. (SQLite lets one writer in at a time anyway.)
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text("SELECT pg_advisory_xact_lock(hashtext(current_schema() || :key))"), {"key": INGEST_LOCK}
        )


def _fallback_ids(
    session: Session, ctx: IngestContext, source: str, listings: list[Listing], *, degraded: bool
) -> list[Listing]:
    """A degraded run's listings under the ids of the full records they are; a good run takes back the
    provisional records of an earlier degraded run (see :mod:`aggregator.degraded`)."""
    tolerance = timedelta(minutes=ctx.settings.dedupe.time_tolerance_minutes)
    threshold = ctx.settings.dedupe.title_threshold
    if degraded:
        return adopt_stored_ids(session, source, listings, tolerance=tolerance, threshold=threshold)
    take_back_provisional(session, source, listings, tolerance=tolerance, threshold=threshold)
    return listings


def _one_per_record(listings: Iterable[Listing]) -> list[Listing]:
    """A record id appears once per run (a page listing one date twice must not write it twice)."""
    kept: dict[str, Listing] = {}
    for listing in listings:
        kept.pop(listing.record_id, None)
        kept[listing.record_id] = listing
    return list(kept.values())
