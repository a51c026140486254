"""Degraded runs: what a run read from structured data when its adapter failed, kept apart and handed back.

A site adapter whose parser no longer understands a page can still deliver the events the same pages
embed as structured data (``sources/fallback.py``). Such a run ends ``degraded``. Its listings carry
record ids of their own (``fallback:…``); before they are written, each one that is a performance the
source's full parser already stored (same start within the dedupe tolerance, same title or link) takes
that record's id, so it updates that record instead of doubling it; it keeps the record's title and the
record's values where it has none (:data:`KEPT_FIELDS`: prices, room, a cancellation). The rest stay
provisional. A degraded
run is never complete: what the full parser found before but the fallback cannot see is not vanished.

The next good run takes the provisional records back: a listing of it that is such a record's
performance renames that record to its own id (same occurrence, no cancellation, no duplicate), and its
full data replaces the fallback's. A provisional record no good run lists vanishes like any other.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.listing import Listing
from aggregator.models import SourceRecord, SourceRun
from aggregator.normalise.titles import match_key
from aggregator.serialise import listing_from_data
from aggregator.types import RunStatus, Status

FALLBACK_PREFIX = "fallback:"
"""The record ids (and series keys) of listings a fallback read, until a full record adopts them."""

GOOD = (RunStatus.SUCCESS.value, RunStatus.CONFIRMED.value)


def last_good_listings(factory: sessionmaker[Session], source: str) -> int | None:
    """How many listings the source's last successful (or confirmed) run applied; None if it never had one."""
    with factory() as session:
        return session.scalar(
            select(SourceRun.listings)
            .where(SourceRun.source == source, SourceRun.status.in_(GOOD))
            .order_by(SourceRun.id.desc())
            .limit(1)
        )


def is_provisional(record_id: str) -> bool:
    """Whether a record id is one a fallback gave (no full record has adopted it yet)."""
    return record_id.startswith(FALLBACK_PREFIX)


def adopt_stored_ids(
    session: Session,
    source: str,
    listings: Sequence[Listing],
    *,
    tolerance: timedelta,
    threshold: float,
) -> list[Listing]:
    """A degraded run's listings, each matching a stored full record of ``source`` under that record's ids."""
    stored = [
        record
        for record in session.scalars(
            select(SourceRecord).where(SourceRecord.source == source, SourceRecord.active.is_(True))
        )
        if not is_provisional(record.record_id)
    ]
    taken: set[str] = set()
    adopted = []
    for listing in listings:
        record = (
            _best(listing, stored, taken, tolerance, threshold) if is_provisional(listing.record_id) else None
        )
        if record is None:
            adopted.append(listing)
            continue
        taken.add(record.record_id)
        adopted.append(_filled(listing, record))
    return adopted


KEPT_FIELDS = (
    "url",
    "subtitle",
    "description",
    "categories",
    "category_slugs",
    "language",
    "image",
    "organiser",
    "venue_address",
    "venue_url",
    "room",
    "geo",
    "offers",
    "previous_start",
)
"""What a degraded listing that names none keeps of the full record it updates (structured data rarely
carries a cancellation, a room or the prices, and must not seem to undo them)."""


def _filled(listing: Listing, record: SourceRecord) -> Listing:
    """``listing`` under the record's ids, with the record's values where the fallback had none."""
    stored = listing_from_data(record.data)
    changes: dict[str, object] = {
        "record_id": record.record_id,
        "series_key": stored.series_key,
        "title": stored.title,  # the adapter's title: structured data may append dates and places to it
    }
    for name in KEPT_FIELDS:
        if not getattr(listing, name) and getattr(stored, name):
            changes[name] = getattr(stored, name)
    if listing.end is None and listing.start == stored.start:
        changes["end"] = stored.end
    unsaid = listing.status in (None, Status.SCHEDULED) and not listing.status_text
    if unsaid and stored.status not in (None, Status.SCHEDULED):  # no word on it is no un-cancellation
        changes["status"], changes["status_text"] = stored.status, stored.status_text
    return listing.evolve(**changes)


def take_back_provisional(
    session: Session,
    source: str,
    listings: Sequence[Listing],
    *,
    tolerance: timedelta,
    threshold: float,
) -> int:
    """Rename each provisional record of ``source`` that a listing of this good run is, to that listing's id.

    Only listings whose id has no record yet take one over. Returns how many records were renamed
    (inside the caller's transaction: a run that is held back or fails renames nothing).
    """
    provisional = [
        record
        for record in session.scalars(
            select(SourceRecord).where(
                SourceRecord.source == source, SourceRecord.record_id.startswith(FALLBACK_PREFIX)
            )
        )
    ]
    if not provisional:
        return 0
    wanted = {listing.record_id for listing in listings}
    known = set(
        session.scalars(
            select(SourceRecord.record_id).where(
                SourceRecord.source == source, SourceRecord.record_id.in_(list(wanted))
            )
        )
    )
    renamed = 0
    taken: set[str] = set()
    for listing in listings:
        if listing.record_id in known or is_provisional(listing.record_id):
            continue
        record = _best(listing, provisional, taken, tolerance, threshold)
        if record is None:
            continue
        taken.add(record.record_id)
        record.record_id = listing.record_id
        known.add(listing.record_id)
        renamed += 1
    session.flush()
    return renamed


def _best(
    listing: Listing,
    records: Sequence[SourceRecord],
    taken: set[str],
    tolerance: timedelta,
    threshold: float,
) -> SourceRecord | None:
    """The record that is ``listing``'s performance: the closest start within ``tolerance`` with the same
    title or link, else the only record at the very same start and venue (a renamed event)."""
    if listing.start is None:
        return None
    best: tuple[timedelta, SourceRecord] | None = None
    same_slot: list[SourceRecord] = []
    for record in records:
        if record.record_id in taken:
            continue
        start = _start(record)
        if start is None:
            continue
        distance = abs(start - listing.start)
        if distance > tolerance:
            continue
        if not distance and record.data.get("venue_slug") == listing.venue_slug:
            same_slot.append(record)
        if not _same_event(listing, record, threshold):
            continue
        if best is None or distance < best[0]:
            best = (distance, record)
    if best is not None:
        return best[1]
    return same_slot[0] if len(same_slot) == 1 else None


def _start(record: SourceRecord) -> datetime | None:
    value = record.data.get("start")
    return datetime.fromisoformat(str(value)) if value else None


def _same_event(listing: Listing, record: SourceRecord, threshold: float) -> bool:
    """Same link, or titles alike (one folded title inside the other, or similar by token set)."""
    if listing.url and listing.url == record.data.get("url"):
        return True
    ours, theirs = match_key(listing.title), match_key(str(record.data.get("title") or ""))
    if not ours or not theirs:
        return False
    return ours in theirs or theirs in ours or fuzz.token_set_ratio(ours, theirs) >= threshold
