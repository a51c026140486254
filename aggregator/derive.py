"""Derive what the public sees from the source records behind it.

Each field of an event or occurrence comes from the highest-priority active record that has it
(the venue's own data over the city portal over ticket shops, configurable), and the source of each
event field is recorded. An editor's pick (:class:`Picks`) puts the chosen records first for one
field; an editor's override (:mod:`aggregator.override_fields`) replaces a field's value outright,
and provenance then says ``editor``. A change in anything a subscriber sees raises SEQUENCE and the
updated time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from weakref import WeakKeyDictionary

from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, Offer, SourceRecord
from aggregator.normalise.titles import match_key
from aggregator.override_fields import EDITOR, HIDDEN, HIGHLIGHT
from aggregator.override_fields import EVENT_FIELDS as EVENT_OVERRIDES
from aggregator.override_fields import OCCURRENCE_FIELDS as OCCURRENCE_OVERRIDES
from aggregator.serialise import listing_from_data
from aggregator.types import Availability, Status

EVENT_FIELDS = ("title", "subtitle", "description", "language", "image", "url", "organiser")


class Priority:
    """Ranks sources: by configured kind order, then by when a record was first seen."""

    def __init__(self, kind_order: Sequence[str], kinds: Mapping[str, str]) -> None:
        self._order = {kind: rank for rank, kind in enumerate(kind_order)}
        self._kinds = dict(kinds)

    def kind(self, source: str) -> str:
        """The kind of a source (``venue``, ``city``, ``ticketing``, ``push``, ...)."""
        return self._kinds.get(source, source_kind_default(source))

    def rank(self, record: SourceRecord) -> tuple[int, datetime, int]:
        """Sort key: lower is better."""
        fallback = str(record.data.get("_kind", source_kind_default(record.source)))
        kind = self._kinds.get(record.source, fallback)
        return (self._order.get(kind, len(self._order)), record.first_seen, record.id or 0)


PICK_FIELDS = ("start", "venue", "status", "price")
"""The fields an editor can pick a source's value for, when the sources of one performance disagree."""


@dataclass(frozen=True, slots=True)
class Picks:
    """Editors' picks: for each field of :data:`PICK_FIELDS`, the records (``source:record_id``) whose
    value wins over source priority, and those set aside. A pick lapses while none of its winners is
    active; set-aside prices are left out only while a winner gives one."""

    winners: Mapping[str, frozenset[str]] = field(default_factory=dict)
    losers: Mapping[str, frozenset[str]] = field(default_factory=dict)

    def ranked(self, name: str, records: Sequence[SourceRecord]) -> list[SourceRecord]:
        """``records`` (in priority order) with the winners of field ``name`` first."""
        winners = self.winners.get(name, frozenset())
        if not winners:
            return list(records)
        first = [r for r in records if _key(r) in winners]
        return [*first, *(r for r in records if _key(r) not in winners)]

    def set_aside(self, name: str, records: Sequence[SourceRecord]) -> frozenset[str]:
        """The keys whose value of field ``name`` is left out: the losers, while a winner is present."""
        winners = self.winners.get(name, frozenset())
        if not any(_key(r) in winners for r in records):
            return frozenset()
        return self.losers.get(name, frozenset())


NO_PICKS = Picks()


def _key(record: SourceRecord) -> str:
    return f"{record.source}:{record.record_id}"


def source_kind_default(source: str) -> str:
    """The kind of a source nobody configured: a venue's push, a venue's registered feed, or an import."""
    if source.startswith("push:"):
        return "push"
    return "venue" if source.startswith("feed:") else "import"


_READ: WeakKeyDictionary[SourceRecord, tuple[dict[str, Any], Listing]] = WeakKeyDictionary()
"""Each record's data as last read, with the listing it reads as (one derivation reads a record up to six
times; data is replaced, never changed in place, so the same dict reads the same)."""


def _listing(record: SourceRecord) -> Listing:
    data = record.data
    read = _READ.get(record)
    if read is not None and read[0] is data:
        return read[1]
    listing = listing_from_data(data)
    _READ[record] = (data, listing)
    return listing


def derive_event(
    event: Event,
    records: Sequence[SourceRecord],
    priority: Priority,
    picks: Picks = NO_PICKS,
    overrides: Mapping[str, Any] | None = None,
) -> bool:
    """Choose the event's fields from its active records, then apply the editor's ``overrides``.

    ``overrides`` maps a field of :data:`~aggregator.override_fields.EVENT_FIELDS` (or the marks
    ``hidden`` and ``highlight``) to its value as :func:`~aggregator.override_fields.from_json` reads it;
    an overridden field's provenance is ``editor``. A field whose override was removed goes back to
    the sources (to the inactive records when no record is active). True when anything changed.
    """
    overrides = overrides or {}
    active = sorted((r for r in records if r.active), key=priority.rank)
    reverted = {
        name
        for name, source in (event.field_sources or {}).items()
        if source == EDITOR and name not in overrides
    }
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    if active:
        values, sources = source_values(active, picks)
    else:
        sources = {k: str(v) for k, v in (event.field_sources or {}).items() if v != EDITOR}
    if reverted:
        fallback_values, fallback_sources = source_values(active or sorted(records, key=priority.rank), picks)
        for name in reverted:
            column = EVENT_OVERRIDES[name].column if name in EVENT_OVERRIDES else name
            values[column] = fallback_values.get(column)
            if name in fallback_sources:
                sources[name] = fallback_sources[name]
    for name, value in overrides.items():
        if name in EVENT_OVERRIDES:
            values[EVENT_OVERRIDES[name].column] = value
            sources[name] = EDITOR
    if "image" in overrides:  # an editor's image is not the one the sources credit
        values["image_credit"] = values["image_licence"] = None
    values[HIDDEN] = HIDDEN in overrides
    values[HIGHLIGHT] = HIGHLIGHT in overrides
    values["highlight_until"] = overrides.get(HIGHLIGHT)
    changed = False
    for name, value in values.items():
        if getattr(event, name) != value:
            setattr(event, name, value)
            changed = True
    title_key = match_key(event.title)
    if event.title_key != title_key:
        event.title_key = title_key
    if event.field_sources != sources:
        event.field_sources = sources
    return changed


def source_values(
    ranked: Sequence[SourceRecord], picks: Picks = NO_PICKS
) -> tuple[dict[str, Any], dict[str, str]]:
    """An event's field values (by model attribute) and their sources (by field) from ``ranked`` records.

    ``ranked`` is best first (:meth:`Priority.rank`); an editor's pick of a venue puts its records
    first for the venue. Fields no record has are left out.
    """
    listings = [(r.source, _listing(r)) for r in ranked]
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for name in EVENT_FIELDS:
        for source, listing in listings:
            value = getattr(listing, name)
            if value:
                values[name] = value
                sources[name] = source
                break
    pictured = next((listing for _source, listing in listings if listing.image), None)
    values["image_credit"] = pictured.image_credit if pictured is not None else None  # of the image shown
    values["image_licence"] = pictured.image_licence if pictured is not None else None
    categories: list[str] = []
    for _source, listing in listings:
        categories.extend(c for c in listing.category_slugs if c not in categories)
    values["categories"] = categories
    values["venue_slug"] = None
    for record in picks.ranked("venue", ranked):
        slug = _listing(record).venue_slug
        if slug:
            values["venue_slug"] = slug
            sources["venue"] = record.source
            break
    return values, sources


def status_of(records: Sequence[SourceRecord], priority: Priority) -> tuple[str, str | None]:
    """The status an occurrence gets from its records, and why it is cancelled if it is.

    No active record left: cancelled because it ``vanished``; else the best active record's status
    (``source`` when that says cancelled).
    """
    active = sorted((r for r in records if r.active), key=priority.rank)
    return _status(_listing(active[0]) if active else None)


def _status(best: Listing | None) -> tuple[str, str | None]:
    if best is None:
        return Status.CANCELLED.value, "vanished"
    status = (best.status or Status.SCHEDULED).value
    return status, "source" if status == Status.CANCELLED else None


def occurrence_source_values(
    records: Sequence[SourceRecord], priority: Priority, picks: Picks = NO_PICKS
) -> tuple[dict[str, Any], dict[str, str]]:
    """An occurrence's start, end, all-day flag, previous start, room and status as its records give
    them (the active ones, or all when none is active; picks first), and the source of each."""
    active = sorted((r for r in records if r.active), key=priority.rank)
    ranked = active or sorted(records, key=priority.rank)
    if not ranked:
        return {}, {}
    timed = picks.ranked("start", ranked)[0]
    best = _listing(timed)
    assert best.start is not None
    values: dict[str, Any] = {
        "start": best.start,
        "end": best.end,
        "all_day": best.all_day,
        "previous_start": best.previous_start,
        "room": None,
    }
    sources = {"start": timed.source, "end": timed.source}
    for record in ranked:
        room = _listing(record).room
        if room:
            values["room"] = room
            sources["room"] = record.source
            break
    if active:
        told = picks.ranked("status", active)[0]
        values["status"], values["cancel_reason"] = _status(_listing(told))
        sources["status"] = told.source
    else:
        values["status"], values["cancel_reason"] = _status(None)
    return values, sources


def derive_occurrence(
    occurrence: Occurrence,
    records: Sequence[SourceRecord],
    priority: Priority,
    picks: Picks = NO_PICKS,
    overrides: Mapping[str, Any] | None = None,
) -> bool:
    """Choose the occurrence's time, status, room and offers, then apply the editor's ``overrides``.

    ``overrides`` maps ``start``, ``end``, ``status``, ``room`` (and the mark ``hidden``) to values.
    Without an active record the occurrence is cancelled as vanished (unless an editor set its status)
    and its time and room are those of its inactive records. True when anything changed.
    """
    overrides = overrides or {}
    active = sorted((r for r in records if r.active), key=priority.rank)
    values, _sources = occurrence_source_values(records, priority, picks)
    if not active:
        values.pop("previous_start", None)  # a vanished date keeps what it last said
        kept = occurrence.status == Status.CANCELLED and occurrence.cancel_reason not in (None, "editor")
        values["cancel_reason"] = occurrence.cancel_reason if kept else "vanished"
    for name in OCCURRENCE_OVERRIDES:
        if name in overrides:
            values[name] = overrides[name]
    if "status" in overrides:
        values["cancel_reason"] = "editor" if overrides["status"] == Status.CANCELLED else None
    end = values.get("end")
    if "start" in overrides and "end" not in overrides and end is not None and end <= overrides["start"]:
        values["end"] = None  # a source's end before the editor's start fits nothing
    values[HIDDEN] = HIDDEN in overrides
    changed = False
    for name, value in values.items():
        if getattr(occurrence, name) != value:
            setattr(occurrence, name, value)
            changed = True
    if not active:
        return changed
    listings = [(r.source, _listing(r)) for r in active]
    aside = picks.set_aside("price", active)
    wanted = [
        (source, offer)
        for record, (source, listing) in zip(active, listings, strict=True)
        for offer in listing.offers
        if offer.price_min is not None or offer.price_max is not None or offer.url or offer.availability
        if _key(record) not in aside or (offer.price_min is None and offer.price_max is None)
    ]
    current = [offer_values(o) for o in occurrence.offers]
    new = [
        (
            s,
            _dec(o.price_min),
            _dec(o.price_max),
            o.currency,
            o.url,
            o.vendor,
            o.availability.value if o.availability else None,
            o.price_text,
            o.on_sale,
        )
        for s, o in wanted
    ]
    if current != new:
        occurrence.offers = [
            Offer(
                source=s,
                price_min=pmin,
                price_max=pmax,
                currency=cur,
                url=url,
                vendor=vendor,
                availability=avail,
                price_text=text,
                on_sale=on_sale,
            )
            for s, pmin, pmax, cur, url, vendor, avail, text, on_sale in new
        ]
        changed = True
    return changed


def _dec(value: Decimal | None) -> Decimal | None:
    return None if value is None else Decimal(value).quantize(Decimal("0.01"))


def _instant(moment: datetime | None) -> str | None:
    # the same instant reads back from the database in UTC: hash the instant, not its zone
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else f"{Decimal(value):.2f}"


def offer_values(offer: Offer) -> tuple[Any, ...]:
    """What an offer says, as a comparable tuple (source, prices, currency, link, vendor, availability, …)."""
    return (
        offer.source,
        offer.price_min,
        offer.price_max,
        offer.currency,
        offer.url,
        offer.vendor,
        offer.availability,
        offer.price_text,
        offer.on_sale,
    )


def visible_hash(event: Event, occurrence: Occurrence) -> str:
    """A hash of everything a subscriber sees of one occurrence (feeds, pages and the JSON API).

    Every field those render is in it — the offers' price text and source, the previous start of a
    rescheduled date, the source records' links — so that any visible change raises SEQUENCE and the
    updated time, and with them the data version and every ETag.
    """
    data: dict[str, Any] = {
        "event": [
            event.title,
            event.subtitle,
            event.description,
            event.categories,
            event.image,
            event.url,
            event.venue_slug,
            event.language,
            event.organiser,
            # only when set: events without image credits keep their hash (and SEQUENCE)
            *([event.image_credit, event.image_licence] if event.image_credit or event.image_licence else []),
        ],
        "when": [
            _instant(occurrence.start),
            _instant(occurrence.end),
            occurrence.all_day,
            occurrence.status,
            occurrence.room,
            _instant(occurrence.previous_start),
        ],
        "offers": [
            [
                _amount(o.price_min),
                _amount(o.price_max),
                o.currency,
                o.url,
                o.availability,
                o.vendor,
                o.price_text,
                o.source,
                _instant(o.on_sale),
            ]
            for o in occurrence.offers
        ],
        "sources": sorted([r.source, r.record_id, r.url or ""] for r in event.records),
    }
    if (
        event.hidden or occurrence.hidden
    ):  # only when set: hashes from before hiding existed stay as they were
        data["hidden"] = [event.hidden, occurrence.hidden]
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def availability_of(offers: Sequence[Offer]) -> Availability | None:
    """The best availability across offers (any available beats sold out)."""
    order = [
        Availability.FREE,
        Availability.AVAILABLE,
        Availability.FEW_LEFT,
        Availability.NOT_BOOKABLE_ONLINE,
        Availability.WAITING_LIST,
        Availability.SOLD_OUT,
    ]
    present = {o.availability for o in offers if o.availability}
    return next((a for a in order if a.value in present), None)
