"""Deduplication: which event and which occurrence each normalised listing belongs to.

An in-memory :class:`DedupeIndex` of known occurrences is blocked by (venue, local date, start slot) and
of known events by venue and title words, so each listing is compared with a bounded number of
candidates (see :data:`MAX_CANDIDATE_EVENTS`) and the cost grows linearly, even when one venue lists
50,000 performances under titles that share their few words. The decisions themselves (same
production? same performance?) are the pure rules in :mod:`aggregator.matching`. Nothing is deleted
here: the result says which records link where and which events merge into which (the older ID
survives).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import islice

from rapidfuzz import fuzz, process

from aggregator import ids
from aggregator.listing import Listing
from aggregator.matching.rules import occurrence_match_score, production_key, same_production, time_known
from aggregator.text import fold_key
from aggregator.types import BERLIN

EVENT_MATCH_WINDOW = timedelta(days=370)
BLOCKING_TOKENS = 3
SMALL_BLOCK = 16
"""A venue's day with at most this many occurrences is compared whole; a busier one by start slot."""
MAX_CANDIDATE_EVENTS = 64
"""At most this many events at a venue are compared with one listing's title.

Candidates are, in this order: events whose title has the same words (in any order), then
events sharing the title's rarest words (up to :data:`BLOCKING_TOKENS` of them), newest first. A word
that a hundred events at the venue share ("Führung") adds only its newest events, so a venue whose
titles share their few words costs a bounded comparison per listing instead of one per known event.
"""


@dataclass(slots=True)
class OccurrenceRef:
    """What the index knows of one occurrence: its IDs and a representative listing."""

    id: str
    event_id: str
    listing: Listing
    sources: set[str] = field(default_factory=set)


@dataclass(slots=True)
class EventRef:
    """What the index knows of one event."""

    id: str
    venue_slug: str | None
    title: str
    created_at: datetime
    first_start: datetime
    last_start: datetime
    keys: set[str] = field(default_factory=set)


@dataclass(slots=True)
class Assignment:
    """Where one listing goes."""

    listing: Listing
    event_id: str
    occurrence_id: str
    new_event: bool
    new_occurrence: bool


@dataclass(slots=True)
class DedupeResult:
    """The assignments of one source's listings and the event merges they imply."""

    assignments: list[Assignment]
    merges: list[tuple[str, str]]  # (merged away, surviving)


def parse_rule(line: str) -> tuple[str, str]:
    """Read one merge rule written as ``"A | B"`` (a key on each side of the bar)."""
    left, sep, right = line.partition("|")
    if not sep or not left.strip() or not right.strip():
        raise ValueError(f"merge rule {line!r} must read 'KEY | KEY'")
    return left.strip(), right.strip()


@dataclass(frozen=True, slots=True)
class MergeRules:
    """Operator and editor overrides: pairs of keys (event IDs or ``source:record``), and sides of records.

    ``never`` pairs and ``always`` pairs come from settings and stored decisions; ``apart`` rules are
    the editors' "keep apart" and "split" decisions: two sets of ``source:record_id`` keys whose records
    must not share an event.
    """

    never: frozenset[frozenset[str]] = frozenset()
    always: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[frozenset[str], frozenset[str]], ...] = ()

    @classmethod
    def parse(cls, never: Iterable[str], always: Iterable[str]) -> MergeRules:
        """Read rules written as ``"A | B"``."""
        return cls(
            never=frozenset(frozenset(parse_rule(line)) for line in never),
            always=tuple(parse_rule(line) for line in always),
        )

    def forbids(self, a: set[str], b: set[str]) -> bool:
        """True when a rule says the things with keys ``a`` and ``b`` must stay apart.

        A thing that already holds both sides of a rule is not kept from anything by it (a split
        separates it first, see :mod:`aggregator.split`).
        """
        if any(
            len(rule) == 2 and rule & a and rule & b and not rule <= a and not rule <= b
            for rule in self.never
        ):
            return True
        for left, right in self.apart:
            a_left, a_right, b_left, b_right = left & a, right & a, left & b, right & b
            if (a_left and a_right) or (b_left and b_right):
                continue
            if (a_left and b_right) or (a_right and b_left):
                return True
        return False


def _start(listing: Listing) -> datetime:
    if listing.start is None:
        raise ValueError(f"listing {listing.source}:{listing.record_id} has no start after normalisation")
    return listing.start


def _local_day(start: datetime) -> date:
    return start.astimezone(BERLIN).date()


def block_of(venue_slug: str | None, start: datetime) -> tuple[str | None, date]:
    """The (venue, local day) under which the index keeps an occurrence starting at ``start``: a listing is
    only ever compared with the occurrences of its own block."""
    return venue_slug, _local_day(start)


def _timed(listing: Listing) -> bool:
    """Whether a listing has a start time the matching rules' ``same_time`` compares within the tolerance."""
    return not listing.all_day and time_known(_start(listing), listing.time_text)


def _signature(key: str) -> str:
    """A match key's distinct words, sorted: equal for titles that differ only in case, order, punctuation."""
    return " ".join(sorted(set(key.split())))


def listing_keys(listing: Listing) -> set[str]:
    """The rule keys one listing brings to an event."""
    keys = {f"{listing.source}:{listing.record_id}"}
    if listing.series_key:
        keys.add(f"{listing.source}:{listing.series_key}")
    return keys


class DedupeIndex:
    """Known events and occurrences, blocked for cheap candidate lookup."""

    def __init__(
        self, *, rules: MergeRules | None = None, title_threshold: float = 88.0, tolerance_minutes: int = 20
    ) -> None:
        self.rules = rules or MergeRules()
        self.title_threshold = title_threshold
        self.tolerance_minutes = tolerance_minutes
        self.events: dict[str, EventRef] = {}
        self.occurrences: dict[str, OccurrenceRef] = {}
        self.records: dict[tuple[str, str], str] = {}  # (source, record_id) -> occurrence id
        self.series: dict[tuple[str, str], str] = {}  # (source, series/production key) -> event id
        # Occurrences by (venue, local day); on a day busier than SMALL_BLOCK also those with a time by
        # start slot (as wide as the tolerance) and the all-day or time-unknown ones apart: a timed
        # listing can only match its own and the neighbouring slots, or an untimed occurrence of the day.
        self._slot_minutes = max(1, tolerance_minutes)
        self._blocks: dict[tuple[str | None, date], list[OccurrenceRef]] = defaultdict(list)
        self._timed: dict[tuple[str | None, date, int], list[OccurrenceRef]] = defaultdict(list)
        self._untimed: dict[tuple[str | None, date], list[OccurrenceRef]] = defaultdict(list)
        self._sequence: dict[str, int] = {}  # occurrence id -> order added, so ties break as before
        # event id -> its occurrences and series keys, so a merge touches only the loser's own
        self._event_occurrences: dict[str, list[OccurrenceRef]] = defaultdict(list)
        self._event_series: dict[str, set[tuple[str, str]]] = defaultdict(set)
        self._venue_events: dict[str | None, dict[str, str]] = defaultdict(dict)  # event id -> key
        # (venue, token) -> events, oldest first (dicts as ordered sets)
        self._tokens: dict[tuple[str | None, str], dict[str, None]] = defaultdict(dict)
        # (venue, sorted words of a title) -> events listed under that title; and back
        self._signatures: dict[tuple[str | None, str], dict[str, None]] = defaultdict(dict)
        self._event_signatures: dict[str, set[tuple[str | None, str]]] = defaultdict(set)
        self.widest_event_lookup = 0
        """The most candidate events one title lookup compared (bounded by MAX_CANDIDATE_EVENTS)."""
        self.widest_occurrence_lookup = 0
        """The most candidate occurrences one listing was compared with."""

    # -- building ---------------------------------------------------------------------------
    def add_event(self, ref: EventRef) -> None:
        """Make an event known (or refresh what is known of it)."""
        known = self.events.get(ref.id)
        if known is not None:
            self._unindex_event(known)
        self.events[ref.id] = ref
        key = fold_key(ref.title)
        self._venue_events[ref.venue_slug][ref.id] = key
        for token in set(key.split()):
            self._tokens[(ref.venue_slug, token)][ref.id] = None
        self._add_signature((ref.venue_slug, _signature(key)), ref.id)

    def _unindex_event(self, ref: EventRef) -> None:
        """Forget an event's title in the lookup tables (it merged away or was renamed)."""
        key = self._venue_events[ref.venue_slug].pop(ref.id, None) or fold_key(ref.title)
        for token in set(key.split()):
            self._tokens[(ref.venue_slug, token)].pop(ref.id, None)
        for signature in self._event_signatures.pop(ref.id, ()):
            self._signatures[signature].pop(ref.id, None)

    def add_occurrence(self, ref: OccurrenceRef) -> None:
        """Make an occurrence known under its venue and local day (and start slot, once the day is busy)."""
        self.occurrences[ref.id] = ref
        self._sequence.setdefault(ref.id, len(self._sequence))
        self._event_occurrences[ref.event_id].append(ref)
        start = _start(ref.listing)
        day = block_of(ref.listing.venue_slug, start)
        block = self._blocks[day]
        block.append(ref)
        if len(block) > SMALL_BLOCK:
            for busy in block if len(block) == SMALL_BLOCK + 1 else (ref,):
                if _timed(busy.listing):
                    self._timed[(*day, self._slot(_start(busy.listing)))].append(busy)
                else:
                    self._untimed[day].append(busy)
        event = self.events.get(ref.event_id)
        if event is not None:
            event.first_start = min(event.first_start, start)
            event.last_start = max(event.last_start, start)

    def add_record(self, source: str, record_id: str, occurrence: str, series_key: str | None) -> None:
        """Remember which occurrence a source record built."""
        self.records[(source, record_id)] = occurrence
        if series_key and (source, series_key) not in self.series:
            self._set_series((source, series_key), self.occurrences[occurrence].event_id)

    def _set_series(self, key: tuple[str, str], event_id: str) -> None:
        """Point a (source, series key) at an event."""
        previous = self._event_series.get(self.series.get(key, ""))
        if previous is not None:
            previous.discard(key)
        self.series[key] = event_id
        self._event_series[event_id].add(key)

    # -- lookups ----------------------------------------------------------------------------
    def _slot(self, start: datetime) -> int:
        """The start slot: two timed starts within the tolerance are at most one slot apart."""
        return int(start.timestamp() // (60 * self._slot_minutes))

    def _occurrence_candidates(self, listing: Listing) -> list[OccurrenceRef]:
        """Occurrences at the listing's venue and local day that the rules' ``same_time`` may accept."""
        start = _start(listing)
        day = block_of(listing.venue_slug, start)
        block = self._blocks.get(day, [])
        if len(block) <= SMALL_BLOCK:
            found = block  # a city's usual density: comparing with the whole day is cheapest
        elif _timed(listing):
            slot = self._slot(start)
            near = (self._timed.get((*day, at)) for at in (slot - 1, slot, slot + 1))
            lists = [part for part in (self._untimed.get(day), *near) if part]
            if len(lists) == 1:
                found = lists[0]
            else:
                found = [ref for part in lists for ref in part]
                found.sort(key=lambda ref: self._sequence[ref.id])
        else:
            found = self._blocks[day]  # a listing without a time can be any performance of the day
        self.widest_occurrence_lookup = max(self.widest_occurrence_lookup, len(found))
        return found

    def _match_occurrence(self, listing: Listing, within: str | None) -> OccurrenceRef | None:
        best: tuple[float, OccurrenceRef] | None = None
        for candidate in self._occurrence_candidates(listing):
            if within is not None and candidate.event_id != within:
                continue
            if listing.source in candidate.sources:
                continue  # a source never lists one performance twice under two keys
            score = occurrence_match_score(
                listing,
                candidate.listing,
                threshold=self.title_threshold,
                tolerance_minutes=self.tolerance_minutes,
            )
            if score is None or self._forbidden(listing, candidate.event_id):
                continue
            if best is None or score > best[0]:
                best = (score, candidate)
        return best[1] if best else None

    def _candidate_events(self, venue: str | None, key: str) -> dict[str, str]:
        """At most :data:`MAX_CANDIDATE_EVENTS` events at ``venue`` to compare with a title's match key.

        Same words first, then the events of the title's rarest words (token blocking), newest first.
        """
        titles = self._venue_events.get(venue)
        if not titles:
            return {}
        empty: dict[str, None] = {}
        distinct = sorted(set(key.split()))  # sorted: ties between candidates break the same in every process
        words = sorted((self._tokens.get((venue, t), empty) for t in distinct), key=len)
        rarest = [posting for posting in words if posting][:BLOCKING_TOKENS]
        postings = [self._signatures.get((venue, " ".join(sorted(distinct))), empty), *rarest]
        if sum(len(posting) for posting in postings) <= MAX_CANDIDATE_EVENTS:
            every = {event: titles[event] for posting in postings for event in posting if event in titles}
            self.widest_event_lookup = max(self.widest_event_lookup, len(every))
            return every
        candidates: dict[str, str] = {}
        for posting in postings:
            for event_id in islice(reversed(posting), MAX_CANDIDATE_EVENTS):
                if len(candidates) >= MAX_CANDIDATE_EVENTS:
                    break
                if event_id in titles:
                    candidates.setdefault(event_id, titles[event_id])
        self.widest_event_lookup = max(self.widest_event_lookup, len(candidates))
        return candidates

    def _match_event(self, listing: Listing) -> str | None:
        key = fold_key(listing.title)
        titles = self._candidate_events(listing.venue_slug, key)
        if not titles:
            return None
        start = _start(listing)
        found = process.extract(
            key,
            titles,
            scorer=fuzz.token_set_ratio,
            score_cutoff=max(60.0, self.title_threshold - 20),
            limit=5,
        )
        for _key, _score, event_id in found:
            event = self.events[event_id]
            if not (event.first_start - EVENT_MATCH_WINDOW <= start <= event.last_start + EVENT_MATCH_WINDOW):
                continue
            if self._forbidden(listing, event_id):
                continue
            if same_production(listing.title, event.title, threshold=self.title_threshold):
                return event_id
        return None

    def _forbidden(self, listing: Listing, event_id: str) -> bool:
        event = self.events.get(event_id)
        return event is not None and self.rules.forbids(listing_keys(listing), event.keys | {event_id})

    # -- assignment -------------------------------------------------------------------------
    def assign(self, listings: Sequence[Listing], *, now: datetime) -> DedupeResult:
        """Assign one source run's normalised listings to events and occurrences."""
        groups: dict[str, list[Listing]] = defaultdict(list)
        for listing in listings:
            groups[listing.series_key or production_key(listing)].append(listing)
        assignments: list[Assignment] = []
        merges: list[tuple[str, str]] = []
        for group_key, members in groups.items():
            event_id, new_event, group_merges, kept_apart = self._event_for_group(group_key, members, now)
            merges.extend(group_merges)
            for listing in members:
                home = self._home(listing)
                if home is not None and home in kept_apart:  # a rule split this production's dates
                    assignments.append(self._place(listing, home, False, now))
                else:
                    assignments.append(self._place(listing, event_id, new_event, now))
        merges.extend(self._apply_always_rules())
        return DedupeResult(assignments, merges)

    def _event_for_group(
        self, group_key: str, members: list[Listing], now: datetime
    ) -> tuple[str, bool, list[tuple[str, str]], set[str]]:
        """The event of one source's production, the merges it implies, and the events a rule keeps apart."""
        source = members[0].source
        found: list[str] = []

        def note(event_id: str | None) -> None:
            if event_id and event_id in self.events and event_id not in found:
                found.append(event_id)

        note(self.series.get((source, group_key)))
        for listing in members:
            occurrence = self.records.get((listing.source, listing.record_id))
            if occurrence is not None:
                note(self.occurrences[occurrence].event_id)
        if not found:
            for listing in members:
                match = self._match_occurrence(listing, None)
                if match is not None:
                    note(match.event_id)
        if not found:
            note(self._match_event(members[0]))
        if not found:
            first = members[0]
            base = ids.event_id(source, first.series_key or first.record_id)
            event_id = ids.first_free(base, self.events.__contains__)
            starts = [_start(m) for m in members]
            self.add_event(EventRef(event_id, first.venue_slug, first.title, now, min(starts), max(starts)))
            self.events[event_id].keys |= {k for m in members for k in listing_keys(m)}
            self._set_series((source, group_key), event_id)
            self._index_titles(event_id, members)
            return event_id, True, [], set()
        survivor, merges, kept_apart = self._merge(found)
        self.events[survivor].keys |= {
            k for m in members if self._home(m) not in kept_apart for k in listing_keys(m)
        }
        self._set_series((source, group_key), survivor)
        self._index_titles(survivor, members)
        return survivor, False, merges, kept_apart

    def _home(self, listing: Listing) -> str | None:
        """The event the listing's record is in, when the record is known."""
        occurrence = self.records.get((listing.source, listing.record_id))
        return None if occurrence is None else self.occurrences[occurrence].event_id

    def _index_titles(self, event_id: str, members: list[Listing]) -> None:
        """Let an event be found by the words of every title it was listed under, not only its own."""
        event = self.events[event_id]
        for venue, title in {(m.venue_slug, m.title) for m in members} - {(event.venue_slug, event.title)}:
            self._add_signature((venue, _signature(fold_key(title))), event_id)

    def _add_signature(self, signature: tuple[str | None, str], event_id: str) -> None:
        """Make ``event_id`` a candidate for titles with this venue and these words."""
        self._signatures[signature][event_id] = None
        self._event_signatures[event_id].add(signature)

    def _merge(self, event_ids: list[str]) -> tuple[str, list[tuple[str, str]], set[str]]:
        """Merge events into the oldest; returns it, the merges, and the events a rule kept apart."""
        ordered = sorted(event_ids, key=lambda e: (self.events[e].created_at, e))
        survivor, merges, kept_apart = ordered[0], [], set()
        for other in ordered[1:]:
            if self.rules.forbids(self.events[survivor].keys | {survivor}, self.events[other].keys | {other}):
                kept_apart.add(other)
                continue
            merges.append((other, survivor))
            self._absorb(other, survivor)
        return survivor, merges, kept_apart

    def _absorb(self, loser: str, survivor: str) -> None:
        lost = self.events.pop(loser)
        target = self.events[survivor]
        target.keys |= lost.keys | {loser}
        target.first_start = min(target.first_start, lost.first_start)
        target.last_start = max(target.last_start, lost.last_start)
        signatures = set(self._event_signatures.get(loser, ()))
        self._unindex_event(lost)
        for signature in signatures:
            self._add_signature(signature, survivor)
        moved = self._event_occurrences.pop(loser, [])
        for ref in moved:
            if ref.event_id == loser:
                ref.event_id = survivor
        self._event_occurrences[survivor].extend(moved)
        for key in list(self._event_series.pop(loser, ())):
            self._set_series(key, survivor)

    def _apply_always_rules(self) -> list[tuple[str, str]]:
        merges: list[tuple[str, str]] = []
        for left, right in self.rules.always:
            a, b = self._resolve_key(left), self._resolve_key(right)
            if a and b and a != b:
                _survivor, done, _kept = self._merge([a, b])
                merges.extend(done)
        return merges

    def _resolve_key(self, key: str) -> str | None:
        if key in self.events:
            return key
        return next((e.id for e in self.events.values() if key in e.keys), None)

    def _place(self, listing: Listing, event_id: str, new_event: bool, now: datetime) -> Assignment:
        known = self.records.get((listing.source, listing.record_id))
        if known is not None and self.occurrences[known].event_id == event_id:
            ref = self.occurrences[known]
            ref.sources.add(listing.source)
            return Assignment(listing, event_id, known, new_event, False)
        match = None if new_event else self._match_occurrence(listing, event_id)
        if match is not None:
            match.sources.add(listing.source)
            self.records[(listing.source, listing.record_id)] = match.id
            return Assignment(listing, event_id, match.id, False, False)
        occurrence_id = ids.first_free(
            ids.occurrence_id(listing.source, listing.record_id), self.occurrences.__contains__
        )
        ref = OccurrenceRef(occurrence_id, event_id, listing, {listing.source})
        self.add_occurrence(ref)
        self.records[(listing.source, listing.record_id)] = occurrence_id
        return Assignment(listing, event_id, occurrence_id, new_event, True)
