"""The duplicate review queue: what the matcher nearly merged, and where the sources of one event disagree.

Computed from the store, from the local day of ``now`` on:

- **Near misses**: two events with a performance at the same venue, on the same local day, at a start the
  matcher takes for the same (within ``time_tolerance_minutes``, rooms compatible, no source listing
  both), whose titles :func:`aggregator.matching.rules.compare_titles` scores within :data:`NEAR_MISS_MARGIN`
  below the merge threshold — or above it, when a hard rule (qualifiers, numbers, years, a shared
  prefix) or the order the sources came in kept them apart — or, when they start at the same minute, for
  which some evidence beyond the titles' likeness spoke (shared names, a shared number) without deciding.
  Each near miss carries the evidence that spoke for and against the merge.
- **Conflicts** inside one event: two performances on one local day from disjoint sources whose starts
  lie further apart than the tolerance; or the records of one performance disagreeing on its start,
  venue, status or price.

Pairs a decision in force already covers are left out (:mod:`aggregator.decisions`); deciding is
:mod:`aggregator.review`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import combinations
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from aggregator.config import DedupeSettings
from aggregator.decisions import Kind, in_force, merge_rules, pick_of
from aggregator.dedupe import MergeRules
from aggregator.derive import PICK_FIELDS, Priority
from aggregator.listing import Listing
from aggregator.matching.rules import (
    Evidence,
    TitleVerdict,
    compare_titles,
    rooms_compatible,
    same_minute,
    same_time,
    time_known,
)
from aggregator.models import Event, Occurrence, SourceRecord
from aggregator.serialise import listing_from_data
from aggregator.split import record_key, record_keys
from aggregator.types import BERLIN, Status

NEAR_MISS_MARGIN = 20.0
"""How far below the title threshold a pair still counts as a near miss (the matcher's own candidate
cut-off lies as far below it)."""

ItemKind = Literal["near_miss", "conflict"]


@dataclass(frozen=True, slots=True)
class Side:
    """One side of a review item: an event (near misses), or the records of one event that agree."""

    event_id: str
    title: str
    venue_slug: str | None
    venue_name: str | None
    occurrence_ids: tuple[str, ...]
    starts: tuple[datetime, ...]
    sources: tuple[str, ...]
    records: tuple[str, ...]
    """``source:record_id`` keys, the highest-priority record first (name it when deciding)."""
    value: str | None
    """What this side says: the title (near misses), the start (ISO), the venue slug, the status, or the
    price (``"24.00–43.00 EUR"``)."""


@dataclass(frozen=True, slots=True)
class ReviewItem:
    """One thing for an editor to decide."""

    id: str
    """Stable while the store does not change: ``near:EVENT:EVENT``, ``start:OCC:OCC`` or ``FIELD:OCC``."""
    kind: ItemKind
    field: str | None
    """Conflicts: ``start``, ``venue``, ``status`` or ``price``; near misses: None."""
    day: date
    sides: tuple[Side, ...]
    score: float | None = None
    """Near misses: the title score (0..100) against :attr:`threshold`."""
    threshold: float | None = None
    rule: str | None = None
    """Near misses: the rule of :func:`aggregator.matching.rules.compare_titles` that said no, if any."""
    evidence_for: tuple[Evidence, ...] = ()
    """Near misses: what spoke for one performance (one slot, shared names, a shared number, ...)."""
    evidence_against: tuple[Evidence, ...] = ()
    """Near misses: what spoke against it (a qualifier, a number, a low title score, other names, ...)."""


def review_queue(
    session: Session, dedupe: DedupeSettings, now: datetime, *, margin: float = NEAR_MISS_MARGIN
) -> list[ReviewItem]:
    """Every near miss and every conflict from the local day of ``now`` on, by day; undecided only."""
    priority = Priority(dedupe.priority, {})
    occurrences = _upcoming(session, now)
    rules = merge_rules(session)
    picks = [pick_of(row) for row in in_force(session, (Kind.PICK,))]
    items = [
        *near_misses(occurrences, rules, dedupe, priority, margin),
        *conflicts(occurrences, picks, dedupe, priority),
    ]
    return sorted(items, key=lambda item: (item.day, item.kind != "near_miss", -(item.score or 0), item.id))


def _upcoming(session: Session, now: datetime) -> list[Occurrence]:
    today = datetime.combine(now.astimezone(BERLIN).date(), time(0), BERLIN).astimezone(UTC)
    return list(
        session.scalars(
            select(Occurrence)
            .where(Occurrence.start >= today)
            .options(selectinload(Occurrence.records), selectinload(Occurrence.event))
            .order_by(Occurrence.start, Occurrence.id)
        )
    )


def _active(occurrence: Occurrence) -> list[SourceRecord]:
    return [r for r in occurrence.records if r.active]


def _sources(records: Iterable[SourceRecord]) -> set[str]:
    return {r.source for r in records}


def local_day(moment: datetime) -> date:
    """The Europe/Berlin date of ``moment``."""
    return moment.astimezone(BERLIN).date()


def timed(occurrence: Occurrence) -> bool:
    """Whether the occurrence has a real start time (not all-day, not a bare date)."""
    if occurrence.all_day:
        return False
    texts = [r.data.get("time_text") for r in occurrence.records]
    return any(time_known(occurrence.start, str(t) if t else None) for t in texts or [None])


# -- near misses -------------------------------------------------------------------------------------------


def near_misses(
    occurrences: Sequence[Occurrence],
    rules: MergeRules,
    dedupe: DedupeSettings,
    priority: Priority,
    margin: float = NEAR_MISS_MARGIN,
) -> list[ReviewItem]:
    """Pairs of events the matcher kept apart although they share a performance slot (see the module)."""
    blocks: dict[tuple[str, date], list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        if occurrence.event.venue_slug and _active(occurrence):
            blocks[(occurrence.event.venue_slug, local_day(occurrence.start))].append(occurrence)
    verdicts: dict[tuple[str, str, bool], TitleVerdict | None] = {}
    found: dict[tuple[str, str], list[tuple[Occurrence, Occurrence]]] = defaultdict(list)
    chosen: dict[tuple[str, str], TitleVerdict] = {}
    for block in blocks.values():
        for first, second in combinations(block, 2):
            if first.event_id == second.event_id or not _same_slot(first, second, dedupe):
                continue
            a, b = sorted((first, second), key=lambda o: o.event_id)
            pair = (a.event_id, b.event_id)
            one_slot = same_minute(a.start, b.start, a_timed=timed(a), b_timed=timed(b))
            if (*pair, one_slot) not in verdicts:
                verdicts[(*pair, one_slot)] = _near(a.event, b.event, rules, dedupe, margin, one_slot)
            verdict = verdicts[(*pair, one_slot)]
            if verdict is not None:
                found[pair].append((a, b))
                if pair not in chosen or one_slot:  # the evidence of one slot says the most
                    chosen[pair] = verdict
    items = []
    for pair, slots in found.items():
        verdict = chosen[pair]
        left, right = [a for a, _ in slots], [b for _, b in slots]
        items.append(
            ReviewItem(
                id=f"near:{pair[0]}:{pair[1]}",
                kind="near_miss",
                field=None,
                day=local_day(slots[0][0].start),
                sides=(
                    _event_side(left[0].event, left, priority),
                    _event_side(right[0].event, right, priority),
                ),
                score=round(verdict.score, 1),
                threshold=dedupe.title_threshold,
                rule=verdict.rule,
                evidence_for=verdict.evidence_for,
                evidence_against=verdict.evidence_against,
            )
        )
    return items


def _same_slot(a: Occurrence, b: Occurrence, dedupe: DedupeSettings) -> bool:
    """Whether the matcher would take the two for one performance, titles aside."""
    if _sources(_active(a)) & _sources(_active(b)):
        return False  # a source never lists one performance twice
    if not rooms_compatible(a.room, b.room):
        return False
    return same_time(
        a.start,
        b.start,
        tolerance_minutes=dedupe.time_tolerance_minutes,
        a_all_day=a.all_day,
        b_all_day=b.all_day,
        a_time_known=timed(a) or a.all_day,
        b_time_known=timed(b) or b.all_day,
    )


def _near(
    a: Event, b: Event, rules: MergeRules, dedupe: DedupeSettings, margin: float, one_slot: bool = False
) -> TitleVerdict | None:
    """The title verdict of two events when they are a near miss nobody decided on, else None.

    ``one_slot``: a performance of each starts at the same minute (the venue is the same already), so the
    evidence beyond the titles' likeness is weighed, and any of it makes a near miss.
    """
    verdict = compare_titles(
        a.title,
        b.title,
        a_subtitle=a.subtitle,
        b_subtitle=b.subtitle,
        threshold=dedupe.title_threshold,
        same_slot=one_slot,
    )
    spoke = any(evidence.kind != "slot" for evidence in verdict.evidence_for)
    if verdict.score < dedupe.title_threshold - margin and not spoke:
        return None
    keys_a, keys_b = event_keys(a), event_keys(b)
    if rules.forbids(keys_a, keys_b):
        return None
    if any((x in keys_a and y in keys_b) or (y in keys_a and x in keys_b) for x, y in rules.always):
        return None
    return verdict


def event_keys(event: Event) -> set[str]:
    """Every rule key an event answers to: its ID and its records' keys."""
    return {event.id, *(key for record in event.records for key in record_keys(record))}


def _event_side(event: Event, occurrences: Sequence[Occurrence], priority: Priority) -> Side:
    records = sorted(event.records, key=lambda r: (not r.active, priority.rank(r)))
    return Side(
        event_id=event.id,
        title=event.title,
        venue_slug=event.venue_slug,
        venue_name=event.venue.name if event.venue else None,
        occurrence_ids=tuple(dict.fromkeys(o.id for o in occurrences)),
        starts=tuple(dict.fromkeys(o.start for o in occurrences)),
        sources=tuple(sorted(_sources(records))),
        records=tuple(record_key(r) for r in records),
        value=event.title,
    )


# -- conflicts inside one event ----------------------------------------------------------------------------


PickSides = tuple[str, int | None, list[frozenset[str]]]


def conflicts(
    occurrences: Sequence[Occurrence],
    picks: Sequence[PickSides],
    dedupe: DedupeSettings,
    priority: Priority,
) -> list[ReviewItem]:
    """Disagreements between the sources of one event (see the module), except those already picked."""
    tolerance = timedelta(minutes=dedupe.time_tolerance_minutes)
    by_event: dict[str, list[Occurrence]] = defaultdict(list)
    for occurrence in occurrences:
        if _active(occurrence):
            by_event[occurrence.event_id].append(occurrence)
    items: list[ReviewItem] = []
    for members in by_event.values():
        by_day: dict[date, list[Occurrence]] = defaultdict(list)
        for occurrence in members:
            by_day[local_day(occurrence.start)].append(occurrence)
        for day, same_day in by_day.items():
            for a, b in combinations(same_day, 2):
                if not (timed(a) and timed(b)) or abs(a.start - b.start) <= tolerance:
                    continue
                if _sources(_active(a)) & _sources(_active(b)):
                    continue  # one source lists both: two real performances
                sides = (
                    _side(a, _active(a), a.start.isoformat(), priority),
                    _side(b, _active(b), b.start.isoformat(), priority),
                )
                if not _picked("start", sides, picks):
                    items.append(ReviewItem(f"start:{a.id}:{b.id}", "conflict", "start", day, sides))
        for occurrence in members:
            if len(_active(occurrence)) < 2:
                continue  # one record cannot disagree with itself
            for name in PICK_FIELDS:
                groups = value_groups(_active(occurrence), name, tolerance)
                if len(groups) < 2:
                    continue
                said = tuple(_side(occurrence, group, value, priority) for value, group in groups)
                if not _picked(name, said, picks):
                    items.append(
                        ReviewItem(
                            f"{name}:{occurrence.id}", "conflict", name, local_day(occurrence.start), said
                        )
                    )
    return items


def value_groups(
    records: Sequence[SourceRecord], name: str, tolerance: timedelta
) -> list[tuple[str, list[SourceRecord]]]:
    """The records that give field ``name`` grouped by what they say, as (value, records), in order of
    the values; starts within ``tolerance`` of each other say the same."""
    said = [(value, record) for record in records if (value := field_value(record, name)) is not None]
    if name != "start":
        groups: dict[str, list[SourceRecord]] = {}
        for value, record in said:
            groups.setdefault(value, []).append(record)
        return sorted(groups.items())
    clusters: list[tuple[str, list[SourceRecord]]] = []
    last: datetime | None = None
    for value, record in sorted(said, key=lambda pair: pair[0]):
        moment = datetime.fromisoformat(value)
        if last is None or moment - last > tolerance:
            clusters.append((value, []))
        clusters[-1][1].append(record)
        last = moment
    return clusters


def field_value(record: SourceRecord, name: str) -> str | None:
    """What one record says about field ``name`` of its performance (None: nothing comparable)."""
    listing = listing_from_data(record.data)
    if name == "start":
        if listing.start is None or listing.all_day or not time_known(listing.start, listing.time_text):
            return None
        return listing.start.astimezone(UTC).isoformat()
    if name == "venue":
        return listing.venue_slug
    if name == "status":
        return (listing.status or Status.SCHEDULED).value
    if name == "price":
        return price_range(listing)
    raise ValueError(f"no field {name!r} to compare; one of {', '.join(PICK_FIELDS)}")


def price_range(listing: Listing) -> str | None:
    """A listing's prices as ``"MIN–MAX CUR"`` (or one amount), None when it gives none."""
    amounts = [
        (amount, offer.currency)
        for offer in listing.offers
        for amount in (offer.price_min, offer.price_max)
        if amount is not None
    ]
    if not amounts:
        return None
    low, high = min(a for a, _ in amounts), max(a for a, _ in amounts)
    currency = amounts[0][1]
    if low == high:
        return f"{_money(low)} {currency}"
    return f"{_money(low)}–{_money(high)} {currency}"


def _money(amount: Decimal) -> str:
    return f"{Decimal(amount):.2f}"


def _side(occurrence: Occurrence, records: Sequence[SourceRecord], value: str, priority: Priority) -> Side:
    event = occurrence.event
    ordered = sorted(records, key=priority.rank)
    return Side(
        event_id=event.id,
        title=event.title,
        venue_slug=event.venue_slug,
        venue_name=event.venue.name if event.venue else None,
        occurrence_ids=(occurrence.id,),
        starts=(occurrence.start,),
        sources=tuple(sorted(_sources(ordered))),
        records=tuple(record_key(r) for r in ordered),
        value=value,
    )


def _picked(name: str, sides: Sequence[Side], picks: Sequence[PickSides]) -> bool:
    """Whether a pick in force covers these sides: each touches one of its sides, not all the same one."""
    for field, _winner, stored in picks:
        if field != name:
            continue
        touched: set[int] = set()
        for side in sides:
            keys = set(side.records)
            hits = [index for index, picked in enumerate(stored) if picked & keys]
            if not hits:
                break
            touched.update(hits)
        else:
            if len(touched) >= 2:
                return True
    return False
