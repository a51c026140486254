"""Editors' duplicate decisions: merge, keep apart, pick, split — applied to the stored events at once.

Each action runs in one transaction under the ingest lock, stores a
:class:`~aggregator.models.DedupeDecision` with what it changed (``effect``), re-derives what it touched
(SEQUENCE rises where a subscriber sees a change), writes the audit entry (``dedupe.merge``,
``dedupe.keep_apart``, ``dedupe.pick``, ``dedupe.split``, ``dedupe.undo``; the events before and after)
and returns it as a :class:`Change`. Later ingests read the decisions back as merge rules and picks
(:mod:`aggregator.decisions`), so a decision holds through every run until it is undone; :func:`undo`
reverses the change at once and records who undid it.

- ``merge``: the younger event merges into the older (a redirect stays); their performances at the same
  slot become one.
- ``keep_apart``: two events never merge; given two keys inside one event, it is split
  (:func:`split_event` does that for records or occurrences an editor chose).
- ``pick``: two sources disagree on one performance's ``start``, ``venue``, ``status`` or ``price``; the
  chosen side's value wins over source priority. For a start, the two occurrences become one at the
  chosen time — or, when the editor says both performances are real (no winner), stay two.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator import audit, ids
from aggregator.audit import Actor
from aggregator.config import DedupeSettings
from aggregator.decisions import AUDIT_TARGET, Kind, describe, in_force, pick_of, sides
from aggregator.derive import PICK_FIELDS, Priority
from aggregator.ingest import lock_for_ingest
from aggregator.matching.rules import rooms_compatible, same_time
from aggregator.models import DedupeDecision, Event, EventRedirect, Occurrence, SourceRecord
from aggregator.review_queue import field_value, local_day, timed, value_groups
from aggregator.split import detach, record_key, record_keys, records_by_keys
from aggregator.store import merge_events, rederive

MAX_NOTE = 2000

Winner = Literal["a", "b"]


class DecisionError(Exception):
    """A decision could not be made or undone; ``field`` names the input that was wrong. Nothing changed."""

    def __init__(self, field: str, message: str, *, missing: bool = False) -> None:
        self.field = field
        self.message = message
        self.missing = missing
        """True when the thing named does not exist (a decision or event ID), not a bad choice."""
        super().__init__(f"{field}: {message}")


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What an editor decided.

    ``merge`` and ``keep_apart``: ``a`` and ``b`` name two events (an event ID, a merged-away ID, or a
    ``source:record_id`` of one of its records); two keys inside one event split it. ``pick``: ``a`` and
    ``b`` are ``source:record_id`` keys of records that disagree on ``field``; ``winner`` says whose
    value is right, ``None`` (``start`` only) that both performances are real.
    """

    kind: Kind
    a: str
    b: str
    field: str | None = None
    winner: Winner | None = None
    note: str | None = None


@dataclass(frozen=True, slots=True)
class Change:
    """What a decision or an undo did: the decision, and the events it touched before and after."""

    decision: dict[str, Any]
    before: dict[str, Any]
    after: dict[str, Any]


@dataclass(frozen=True, slots=True)
class DecisionView:
    """A stored decision as the console lists it, with the titles of the events its keys name now."""

    id: int
    kind: str
    key_a: str
    key_b: str
    field: str | None
    value: dict[str, Any] | None
    author: str
    author_id: int | None
    created_at: datetime
    undone_at: datetime | None
    undone_by: str | None
    note: str | None
    titles: tuple[str | None, str | None]
    events: tuple[str | None, str | None]

    @property
    def in_force(self) -> bool:
        """True until undone."""
        return self.undone_at is None


@dataclass(frozen=True, slots=True)
class DecisionList:
    """One page of decisions, newest first, and how many there are in all."""

    items: list[DecisionView]
    total: int


# -- entry points -------------------------------------------------------------------------------------------


def decide(
    factory: sessionmaker[Session],
    request: DecisionRequest,
    *,
    dedupe: DedupeSettings,
    actor: Actor,
    now: datetime,
) -> Change:
    """Store an editor's decision and apply it to the stored events at once.

    Raises :class:`DecisionError` (nothing changed) for keys that name nothing, a pair already decided,
    a pick whose records agree, and the like.
    """
    note = _note(request.note)
    with factory() as session, session.begin():
        lock_for_ingest(session)
        work = _Work(session, dedupe, now)
        if request.kind == Kind.PICK:
            row = work.pick(request)
        elif request.kind in (Kind.MERGE, Kind.KEEP_APART):
            row = work.pair(request)
        else:
            raise DecisionError("kind", f"unknown kind {request.kind!r}; one of {', '.join(Kind)}")
        row.author_id, row.author, row.note = actor.account_id, actor.label, note
        return work.finish(row, actor, f"dedupe.{row.kind}")


def split_event(
    factory: sessionmaker[Session],
    event_id: str,
    moving: Iterable[str],
    *,
    dedupe: DedupeSettings,
    actor: Actor,
    now: datetime,
    note: str | None = None,
) -> Change:
    """Move the records (``source:record_id``) and occurrences (IDs) ``moving`` out of an event into a new
    one, stored as a keep-apart decision so that later runs keep them apart."""
    text = _note(note)
    with factory() as session, session.begin():
        lock_for_ingest(session)
        work = _Work(session, dedupe, now)
        event = session.get(Event, event_id)
        if event is None:
            raise DecisionError("event", f"no event {event_id!r}", missing=True)
        wanted = set(moving)
        chosen = [r for r in event.records if record_key(r) in wanted or r.occurrence_id in wanted]
        named = {record_key(r) for r in chosen} | {r.occurrence_id for r in chosen}
        unknown = sorted(wanted - named)
        if unknown:
            raise DecisionError(
                "records", f"not records or occurrences of event {event_id}: {', '.join(unknown)}"
            )
        row = work.split(event, chosen)
        row.author_id, row.author, row.note = actor.account_id, actor.label, text
        return work.finish(row, actor, "dedupe.split")


def undo(
    factory: sessionmaker[Session], decision_id: int, *, dedupe: DedupeSettings, actor: Actor, now: datetime
) -> Change:
    """Undo a decision: reverse what it changed at once, and record who undid it and when."""
    with factory() as session, session.begin():
        lock_for_ingest(session)
        row = session.get(DedupeDecision, decision_id)
        if row is None:
            raise DecisionError("id", f"no decision {decision_id}", missing=True)
        if row.undone_at is not None:
            raise DecisionError(
                "id", f"decision {decision_id} was undone already ({row.undone_at:%Y-%m-%d %H:%M} UTC)"
            )
        work = _Work(session, dedupe, now)
        work.reverse(row)
        row.undone_at, row.undone_by_id, row.undone_by = now, actor.account_id, actor.label
        return work.finish(row, actor, "dedupe.undo")


def list_decisions(
    session: Session,
    *,
    in_force_only: bool = False,
    kind: Kind | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DecisionList:
    """Stored decisions, newest first, with the titles of the events their keys name now."""
    query = select(DedupeDecision)
    if in_force_only:
        query = query.where(DedupeDecision.undone_at.is_(None))
    if kind is not None:
        query = query.where(DedupeDecision.kind == kind.value)
    total = int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)
    rows = session.scalars(query.order_by(DedupeDecision.id.desc()).limit(limit).offset(offset)).all()
    return DecisionList([_view(session, row) for row in rows], total)


def _view(session: Session, row: DedupeDecision) -> DecisionView:
    events = (_find_event(session, row.key_a), _find_event(session, row.key_b))
    return DecisionView(
        id=row.id,
        kind=row.kind,
        key_a=row.key_a,
        key_b=row.key_b,
        field=row.field,
        value=row.value,
        author=row.author,
        author_id=row.author_id,
        created_at=row.created_at,
        undone_at=row.undone_at,
        undone_by=row.undone_by,
        note=row.note,
        titles=(events[0].title if events[0] else None, events[1].title if events[1] else None),
        events=(events[0].id if events[0] else None, events[1].id if events[1] else None),
    )


def _note(note: str | None) -> str | None:
    text = (note or "").strip()
    if len(text) > MAX_NOTE:
        raise DecisionError("note", f"a note has at most {MAX_NOTE} characters, got {len(text)}")
    return text or None


def _find_event(session: Session, key: str) -> Event | None:
    """The event a key names now: an event ID, a merged-away ID, or a record's ``source:record_id``."""
    event = session.get(Event, key)
    if event is not None:
        return event
    redirect = session.get(EventRedirect, key)
    if redirect is not None:
        return session.get(Event, redirect.event_id)
    record = records_by_keys(session, [key]).get(key)
    return session.get(Event, record.event_id) if record is not None else None


# -- the work of one transaction ----------------------------------------------------------------------------


class _Work:
    """One decision or undo: what it touched, so that it re-derives and reports exactly that."""

    def __init__(self, session: Session, dedupe: DedupeSettings, now: datetime) -> None:
        self.session = session
        self.dedupe = dedupe
        self.now = now
        self.priority = Priority(dedupe.priority, {})
        self.tolerance = timedelta(minutes=dedupe.time_tolerance_minutes)
        self.events: set[str] = set()
        self.occurrences: set[str] = set()
        self.before: dict[str, Any] = {}

    def touch(self, *event_ids: str) -> None:
        """Note events about to change (their state before goes into the report once)."""
        for event_id in event_ids:
            if event_id not in self.before:
                self.before[event_id] = _snapshot(self.session, event_id)
            self.events.add(event_id)

    def finish(self, row: DedupeDecision, actor: Actor, action: str) -> Change:
        """Store ``row``, re-derive what changed, write the audit entry, and report."""
        if row.id is None:
            self.session.add(row)
        self.session.flush()
        self.session.expire_all()  # records moved by key: let every collection load afresh
        rederive(self.session, self.priority, self.events, self.occurrences, self.now)
        self.session.flush()
        self.session.expire_all()
        named = sorted(self.events | set(self.before))
        after = {event_id: _snapshot(self.session, event_id) for event_id in named}
        before = {event_id: self.before.get(event_id) for event_id in named}
        change = Change(describe(row), {"events": before}, {"events": after, "decision": describe(row)})
        audit.record(
            self.session,
            actor,
            action,
            AUDIT_TARGET,
            str(row.id),
            at=self.now,
            before=change.before,
            after=change.after,
            note=row.note,
        )
        return change

    # -- merge and keep apart -------------------------------------------------------------------------------

    def pair(self, request: DecisionRequest) -> DedupeDecision:
        a, b = self._event(request.a, "a"), self._event(request.b, "b")
        if a.id == b.id:
            if request.kind == Kind.MERGE:
                raise DecisionError("b", f"{request.a} and {request.b} are one event ({a.id}) already")
            return self._split_by_keys(a, request.a, request.b)
        self._no_pair_decided(a, b)
        if request.kind == Kind.KEEP_APART:
            keys = [sorted(record_key(r) for r in a.records), sorted(record_key(r) for r in b.records)]
            self.touch(a.id, b.id)
            return self._row(Kind.KEEP_APART, a.id, b.id, value={"sides": keys}, effect={})
        return self._merge(a, b)

    def _event(self, key: str, name: str) -> Event:
        event = _find_event(self.session, key.strip())
        if event is None:
            raise DecisionError(name, f"no event, merged-away event or record {key!r}")
        return event

    def _no_pair_decided(self, a: Event, b: Event) -> None:
        keys_a, keys_b = _keys(a), _keys(b)
        for row in in_force(self.session, (Kind.MERGE, Kind.KEEP_APART)):
            stored = sides(row)
            if len(stored) != 2:
                stored = [frozenset((row.key_a,)), frozenset((row.key_b,))]
            if (stored[0] & keys_a and stored[1] & keys_b) or (stored[1] & keys_a and stored[0] & keys_b):
                raise DecisionError("b", f"decision {row.id} ({row.kind}) stands between them; undo it first")

    def _merge(self, a: Event, b: Event) -> DedupeDecision:
        survivor, loser = sorted((a, b), key=lambda e: (e.created_at, e.id))
        self.touch(survivor.id, loser.id)
        kept = {o.id for o in survivor.occurrences}
        moved = list(loser.occurrences)
        effect: dict[str, Any] = {
            "survivor": survivor.id,
            "merged": loser.id,
            "created_at": loser.created_at.isoformat(),
            "records": {record_key(r): r.occurrence_id for r in loser.records},
            "sequences": {o.id: o.sequence for o in moved},
            "redirects": list(
                self.session.scalars(select(EventRedirect.old_id).where(EventRedirect.event_id == loser.id))
            ),
            "joined": {},
        }
        merge_events(self.session, loser.id, survivor.id, self.now)
        self.events.discard(loser.id)
        self.occurrences |= kept | set(effect["sequences"])
        targets = [self.session.get_one(Occurrence, o) for o in sorted(kept)]
        for occurrence_id in sorted(effect["sequences"]):
            occurrence = self.session.get_one(Occurrence, occurrence_id)
            same = next((t for t in targets if self._same_performance(occurrence, t)), None)
            if same is not None:
                effect["joined"][occurrence.id] = same.id
                self._join(list(occurrence.records), same)
        return self._row(Kind.MERGE, a.id, b.id, value=None, effect=effect)

    def _same_performance(self, a: Occurrence, b: Occurrence) -> bool:
        """Whether two occurrences of one event are one performance, as the matcher would have said."""
        sources_a = {r.source for r in a.records if r.active}
        if sources_a & {r.source for r in b.records if r.active}:
            return False
        return rooms_compatible(a.room, b.room) and same_time(
            a.start,
            b.start,
            tolerance_minutes=self.dedupe.time_tolerance_minutes,
            a_all_day=a.all_day,
            b_all_day=b.all_day,
            a_time_known=timed(a),
            b_time_known=timed(b),
        )

    def _join(self, records: Sequence[SourceRecord], into: Occurrence) -> None:
        """Move records into occurrence ``into``; an occurrence left without records goes."""
        emptied = {r.occurrence_id for r in records} - {into.id}
        for record in records:
            record.occurrence_id = into.id
            record.event_id = into.event_id
        self.session.flush()
        self.occurrences.add(into.id)
        for occurrence_id in emptied:
            self.session.expire_all()
            left = self.session.get(Occurrence, occurrence_id)
            if left is not None and not left.records:
                self.session.delete(left)
                self.occurrences.discard(occurrence_id)
        self.session.flush()

    # -- split ----------------------------------------------------------------------------------------------

    def _split_by_keys(self, event: Event, key_a: str, key_b: str) -> DedupeDecision:
        side_a = [r for r in event.records if key_a in record_keys(r)]
        side_b = [r for r in event.records if key_b in record_keys(r)]
        if not side_a or not side_b or set(side_a) == set(side_b):
            raise DecisionError("b", f"{key_a} and {key_b} do not name two parts of event {event.id}")
        row = self.split(event, [r for r in side_b if r not in side_a])
        row.key_a, row.key_b = key_a, key_b
        return row

    def split(self, event: Event, moving: list[SourceRecord]) -> DedupeDecision:
        """Move ``moving`` out of ``event`` now; the keep-apart decision that keeps them apart."""
        staying = [r for r in event.records if r not in moving]
        if not moving:
            raise DecisionError("records", "choose at least one record or occurrence to move out")
        if not staying:
            raise DecisionError("records", "choose fewer: at least one record must stay with the event")
        self.touch(event.id)
        origins = {record_key(r): r.occurrence_id for r in moving}
        new_id = detach(self.session, event.id, moving, self.now, self.occurrences)
        self.touch(new_id)
        self.before[new_id] = None
        value = {
            "sides": [sorted(record_key(r) for r in staying), sorted(origins)],
            "split": True,
        }
        effect = {"split": {"from": event.id, "to": new_id, "records": origins}}
        return self._row(Kind.KEEP_APART, event.id, new_id, value=value, effect=effect)

    # -- pick -----------------------------------------------------------------------------------------------

    def pick(self, request: DecisionRequest) -> DedupeDecision:
        name = (request.field or "").strip()
        if name not in PICK_FIELDS:
            raise DecisionError("field", f"pick one of {', '.join(PICK_FIELDS)}, not {name!r}")
        if request.winner is None and name != "start":
            raise DecisionError(
                "winner", "say which side is right (only a start can have both performances real)"
            )
        if request.winner not in (None, "a", "b"):
            raise DecisionError("winner", f"the winner is 'a' or 'b', not {request.winner!r}")
        found = records_by_keys(self.session, [request.a, request.b])
        for key, label in ((request.a, "a"), (request.b, "b")):
            if key not in found:
                raise DecisionError(label, f"no record {key!r} (a key reads source:record_id)")
        ra, rb = found[request.a], found[request.b]
        if ra.event_id != rb.event_id:
            raise DecisionError("b", f"{request.a} and {request.b} are in different events; merge them first")
        if ra.id == rb.id:
            raise DecisionError("b", "pick between two different records")
        if name == "start" and ra.occurrence_id != rb.occurrence_id:
            side_a = [r for r in ra.occurrence.records if r.active]
            side_b = [r for r in rb.occurrence.records if r.active]
            values: list[str | None] = [ra.occurrence.start.isoformat(), rb.occurrence.start.isoformat()]
        else:
            if ra.occurrence_id != rb.occurrence_id:
                raise DecisionError("b", f"pick a {name} between records of one performance")
            groups = value_groups(
                [r for r in ra.occurrence.records if r.active or r.id in (ra.id, rb.id)], name, self.tolerance
            )
            side_a = next((g for _v, g in groups if ra in g), [])
            side_b = next((g for _v, g in groups if rb in g), [])
            if not side_a or not side_b:
                raise DecisionError("b", f"both records must give a {name}")
            if side_a is side_b:
                raise DecisionError("b", f"{request.a} and {request.b} agree on the {name}")
            values = [field_value(ra, name), field_value(rb, name)]
        keys = [sorted(record_key(r) for r in side_a), sorted(record_key(r) for r in side_b)]
        self._no_pick_decided(name, keys)
        winner = None if request.winner is None else "ab".index(request.winner)
        self.touch(ra.event_id)
        self.occurrences |= {ra.occurrence_id, rb.occurrence_id}
        effect: dict[str, Any] = {}
        if name == "start" and ra.occurrence_id != rb.occurrence_id and winner is not None:
            into, away = (ra.occurrence, rb.occurrence) if winner == 0 else (rb.occurrence, ra.occurrence)
            effect["joined"] = {
                "from": away.id,
                "into": into.id,
                "sequence": away.sequence,
                "records": sorted(record_key(r) for r in away.records),
            }
            self._join(list(away.records), into)
        elif name == "start" and winner is None and ra.occurrence_id == rb.occurrence_id:
            origin = ra.occurrence_id
            new_id = self._separate(side_b, None)
            effect["separated"] = {"from": origin, "to": new_id, "records": keys[1]}
        value = {"sides": keys, "winner": winner, "values": values}
        row = self._row(Kind.PICK, request.a, request.b, value=value, effect=effect)
        row.field = name
        return row

    def _no_pick_decided(self, name: str, keys: list[list[str]]) -> None:
        wanted = [set(side) for side in keys]
        for row in in_force(self.session, (Kind.PICK,)):
            field, _winner, stored = pick_of(row)
            if field != name or len(stored) != 2:
                continue
            if (stored[0] & wanted[0] and stored[1] & wanted[1]) or (
                stored[0] & wanted[1] and stored[1] & wanted[0]
            ):
                raise DecisionError("b", f"decision {row.id} already picked the {name} here; undo it first")

    def _separate(self, records: Sequence[SourceRecord], wanted: str | None, sequence: int = -1) -> str:
        """Give ``records`` an occurrence of their own in the same event (ID ``wanted`` when free)."""
        like = self.session.get_one(Occurrence, records[0].occurrence_id)
        free = wanted is not None and self.session.get(Occurrence, wanted) is None
        first = records[0]
        occurrence_id = wanted if free and wanted is not None else _natural_occurrence_id(self.session, first)
        self.session.add(
            Occurrence(
                id=occurrence_id,
                event_id=like.event_id,
                start=like.start,
                end=like.end,
                all_day=like.all_day,
                status=like.status,
                room=like.room,
                created_at=self.now,
                updated_at=self.now,
                sequence=sequence + 1,
                visible_hash="",
            )
        )
        self.session.flush()
        for record in records:
            record.occurrence_id = occurrence_id
        self.session.flush()
        self.occurrences |= {like.id, occurrence_id}
        return occurrence_id

    # -- undo -----------------------------------------------------------------------------------------------

    def reverse(self, row: DedupeDecision) -> None:
        """Reverse what ``row`` changed (a decision that changed nothing is just withdrawn)."""
        effect = row.effect or {}
        for key in (row.key_a, row.key_b):
            event = _find_event(self.session, key)
            if event is not None:
                self.touch(event.id)
        if "merged" in effect:
            self._unmerge(effect)
        if "split" in effect:
            self._unsplit(effect["split"])
        if "joined" in effect and row.kind == Kind.PICK:
            self._unjoin(effect["joined"])
        if "separated" in effect:
            self._unseparate(effect["separated"])
        if row.kind == Kind.PICK:
            for record in records_by_keys(self.session, set().union(*sides(row))).values():
                self.touch(record.event_id)
                self.occurrences.add(record.occurrence_id)

    def _unmerge(self, effect: dict[str, Any]) -> None:
        survivor, merged = str(effect["survivor"]), str(effect["merged"])
        origins: dict[str, str] = {str(k): str(v) for k, v in effect.get("records", {}).items()}
        if self.session.get(Event, merged) is not None:
            raise DecisionError("id", f"event {merged} exists again; undo what brought it back first")
        moving = [r for r in records_by_keys(self.session, origins).values() if r.event_id == survivor]
        if not moving:
            return  # its records have gone elsewhere since: nothing left to take apart
        self.touch(survivor)
        wanted = {r.id: origins[record_key(r)] for r in moving}
        detach(
            self.session, survivor, moving, self.now, self.occurrences, new_id=merged, occurrence_ids=wanted
        )
        restored = self.session.get_one(Event, merged)
        restored.created_at = datetime.fromisoformat(str(effect["created_at"]))
        self.events.add(merged)
        self.before.setdefault(merged, None)
        sequences = {str(k): int(v) for k, v in effect.get("sequences", {}).items()}
        for occurrence_id in set(wanted.values()):
            occurrence = self.session.get(Occurrence, occurrence_id)
            if occurrence is not None and occurrence.event_id == merged and occurrence.visible_hash == "":
                occurrence.sequence = sequences.get(occurrence_id, -1) + 1
        old_ids = [str(old) for old in effect.get("redirects", ())]
        if old_ids:
            self.session.execute(
                update(EventRedirect)
                .where(EventRedirect.old_id.in_(old_ids), EventRedirect.event_id == survivor)
                .values(event_id=merged)
            )
        self.session.flush()

    def _unsplit(self, split: dict[str, Any]) -> None:
        origin, moved = str(split["from"]), str(split["to"])
        origins: dict[str, str] = {str(k): str(v) for k, v in split.get("records", {}).items()}
        if self.session.get(Event, origin) is None:
            raise DecisionError("id", f"event {origin} is gone; nothing to join back")
        if self.session.get(Event, moved) is None:
            return  # the part that left has gone since
        self.touch(origin, moved)
        self.occurrences |= {o.id for o in self.session.get_one(Event, moved).occurrences}
        merge_events(self.session, moved, origin, self.now)
        self.events.discard(moved)
        back = records_by_keys(self.session, origins)
        for key, occurrence_id in sorted(origins.items()):
            record = back.get(key)
            target = self.session.get(Occurrence, occurrence_id)
            if record is None or target is None or record.occurrence_id == occurrence_id:
                continue
            if target.event_id == origin:
                self._join([record], target)

    def _unjoin(self, joined: dict[str, Any]) -> None:
        into = str(joined["into"])
        keys = [str(k) for k in joined.get("records", ())]
        records = [r for r in records_by_keys(self.session, keys).values() if r.occurrence_id == into]
        if records:
            self.touch(records[0].event_id)
            self._separate(records, str(joined["from"]), int(joined.get("sequence", -1)))

    def _unseparate(self, separated: dict[str, Any]) -> None:
        origin, moved = str(separated["from"]), str(separated["to"])
        target = self.session.get(Occurrence, origin)
        if target is None:
            return
        keys = [str(k) for k in separated.get("records", ())]
        records = [r for r in records_by_keys(self.session, keys).values() if r.occurrence_id == moved]
        if records:
            self.touch(target.event_id)
            self._join(records, target)

    # -- rows -----------------------------------------------------------------------------------------------

    def _row(
        self, kind: Kind, key_a: str, key_b: str, *, value: dict[str, Any] | None, effect: dict[str, Any]
    ) -> DedupeDecision:
        return DedupeDecision(
            kind=kind.value,
            key_a=key_a,
            key_b=key_b,
            value=value,
            effect=effect,
            author="",
            created_at=self.now,
        )


def _keys(event: Event) -> set[str]:
    return {event.id, *(key for record in event.records for key in record_keys(record))}


def _natural_occurrence_id(session: Session, record: SourceRecord) -> str:
    return ids.first_free(
        ids.occurrence_id(record.source, record.record_id), lambda i: session.get(Occurrence, i) is not None
    )


def _snapshot(session: Session, event_id: str) -> dict[str, Any] | None:
    """What the audit log keeps of an event: title, venue, SEQUENCE, and its occurrences with records."""
    session.flush()
    event = session.get(Event, event_id)
    if event is None:
        return None
    return {
        "title": event.title,
        "venue": event.venue_slug,
        "sequence": event.sequence,
        "occurrences": [
            {
                "id": o.id,
                "start": o.start.isoformat(),
                "day": local_day(o.start).isoformat(),
                "status": o.status,
                "sequence": o.sequence,
                "records": sorted(record_key(r) for r in o.records),
            }
            for o in sorted(event.occurrences, key=lambda o: (o.start, o.id))
        ],
    }
