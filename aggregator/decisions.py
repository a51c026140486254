"""Duplicate decisions as the matcher reads them: the stored merge, keep-apart and pick decisions.

Every ingest first imports the ``[dedupe]`` ``never_merge`` / ``always_merge`` settings into the
``dedupe_decisions`` table (author ``settings``, once per rule: an editor's undo of an imported rule
stands, and removing a line from settings.toml does not undo it), then builds its
:class:`~aggregator.dedupe.MergeRules` from every decision in force (:func:`merge_rules`) and lets the
editors' picks choose values (:func:`load_picks`). Making and undoing decisions is
:mod:`aggregator.review`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from aggregator.audit import Actor, record
from aggregator.config import DedupeSettings
from aggregator.dedupe import MergeRules, parse_rule
from aggregator.derive import Picks
from aggregator.models import DedupeDecision, EventRedirect

SETTINGS_AUTHOR = "settings"
"""The author of a rule imported from settings.toml."""
AUDIT_TARGET = "dedupe_decision"
"""The audit log's target type of every decision (``dedupe.<kind>``, ``dedupe.undo``, ``dedupe.import``)."""


class Kind(StrEnum):
    """What a decision says."""

    MERGE = "merge"
    """The two sides are one event."""
    KEEP_APART = "keep_apart"
    """The two sides must never share an event (also what splitting an event stores)."""
    PICK = "pick"
    """Inside one event, the sources disagree on one performance: the value of one side is right, or
    (``start`` only) both performances are real."""


SETTINGS = Actor.machine(SETTINGS_AUTHOR)


def import_settings(session: Session, dedupe: DedupeSettings, now: datetime) -> list[DedupeDecision]:
    """Store each ``never_merge`` / ``always_merge`` rule of the settings that is not stored yet.

    A rule counts as stored when a decision of the same kind on the same two keys came from settings
    before, undone or not; so importing is idempotent and an editor's undo is not reverted by the next
    run. Each import is written to the audit log. Raises :class:`ValueError` naming a rule that does not
    read ``KEY | KEY``.
    """
    stored = {
        (row.kind, frozenset((row.key_a, row.key_b)))
        for row in session.scalars(
            select(DedupeDecision).where(
                DedupeDecision.author == SETTINGS_AUTHOR, DedupeDecision.author_id.is_(None)
            )
        )
    }
    added: list[DedupeDecision] = []
    for kind, setting, lines in (
        (Kind.KEEP_APART, "never_merge", dedupe.never_merge),
        (Kind.MERGE, "always_merge", dedupe.always_merge),
    ):
        for line in lines:
            a, b = parse_rule(line)
            if a == b or (kind.value, frozenset((a, b))) in stored:
                continue
            stored.add((kind.value, frozenset((a, b))))
            row = DedupeDecision(
                kind=kind.value,
                key_a=a,
                key_b=b,
                value=None,
                effect={},
                author=SETTINGS_AUTHOR,
                author_id=None,
                created_at=now,
                note=f"settings.toml [dedupe] {setting}",
            )
            session.add(row)
            session.flush()
            record(
                session,
                SETTINGS,
                "dedupe.import",
                AUDIT_TARGET,
                str(row.id),
                at=now,
                after={"decision": describe(row)},
                note=row.note,
            )
            added.append(row)
    return added


def in_force(session: Session, kinds: Iterable[Kind] = tuple(Kind)) -> list[DedupeDecision]:
    """The decisions not undone, oldest first."""
    return list(
        session.scalars(
            select(DedupeDecision)
            .where(DedupeDecision.undone_at.is_(None), DedupeDecision.kind.in_([k.value for k in kinds]))
            .order_by(DedupeDecision.id)
        )
    )


def sides(row: DedupeDecision) -> list[frozenset[str]]:
    """The ``source:record_id`` keys of each side a decision stored (empty for a settings rule)."""
    value = row.value or {}
    return [frozenset(str(key) for key in side) for side in value.get("sides", ())]


def current_ids(session: Session, keys: Iterable[str]) -> dict[str, str]:
    """Each key that is a merged-away event ID, mapped to the event it now redirects to."""
    wanted = sorted(set(keys))
    found: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        query = select(EventRedirect.old_id, EventRedirect.event_id).where(
            EventRedirect.old_id.in_(wanted[start : start + 500])
        )
        found.update({str(old): str(new) for old, new in session.execute(query)})
    return found


def merge_rules(session: Session) -> MergeRules:
    """The merge rules of every decision in force, for the matcher and the split step.

    A keep-apart decision with stored sides becomes an ``apart`` rule of its records; one imported from
    settings a ``never`` pair of its keys. A merge becomes an ``always`` pair of its keys, an event ID
    that was merged away read as the event it redirects to.
    """
    rows = in_force(session, (Kind.MERGE, Kind.KEEP_APART))
    merges = [row for row in rows if row.kind == Kind.MERGE]
    redirected = current_ids(session, (key for row in merges for key in (row.key_a, row.key_b)))
    never: set[frozenset[str]] = set()
    apart: list[tuple[frozenset[str], frozenset[str]]] = []
    always: list[tuple[str, str]] = []
    for row in rows:
        if row.kind == Kind.MERGE:
            always.append((redirected.get(row.key_a, row.key_a), redirected.get(row.key_b, row.key_b)))
            continue
        stored = sides(row)
        if len(stored) == 2 and all(stored):
            apart.append((stored[0], stored[1]))
        else:
            never.add(frozenset((row.key_a, row.key_b)))
    return MergeRules(never=frozenset(never), always=tuple(always), apart=tuple(apart))


def pick_of(row: DedupeDecision) -> tuple[str, int | None, list[frozenset[str]]]:
    """A pick's field, the index of the side that is right (``None``: both performances are real), and
    its sides."""
    value = row.value or {}
    winner = value.get("winner")
    return str(row.field or value.get("field") or ""), None if winner is None else int(winner), sides(row)


def load_picks(session: Session, rows: Sequence[DedupeDecision] | None = None) -> Picks:
    """The picks of every pick decision in force that names a winner, for re-deriving."""
    winners: dict[str, set[str]] = {}
    losers: dict[str, set[str]] = {}
    for row in in_force(session, (Kind.PICK,)) if rows is None else rows:
        field, winner, stored = pick_of(row)
        if winner is None or not field or winner >= len(stored):
            continue
        winners.setdefault(field, set()).update(stored[winner])
        for index, side in enumerate(stored):
            if index != winner:
                losers.setdefault(field, set()).update(side)
    return Picks(
        winners={name: frozenset(keys) for name, keys in winners.items()},
        losers={name: frozenset(keys - winners.get(name, set())) for name, keys in losers.items()},
    )


def describe(row: DedupeDecision) -> dict[str, Any]:
    """A decision as a JSON-ready dict (for the API and the audit log)."""
    return {
        "id": row.id,
        "kind": row.kind,
        "key_a": row.key_a,
        "key_b": row.key_b,
        "field": row.field,
        "value": row.value,
        "author": row.author,
        "author_id": row.author_id,
        "created_at": row.created_at.isoformat(),
        "undone_at": row.undone_at.isoformat() if row.undone_at else None,
        "undone_by": row.undone_by,
        "undone_by_id": row.undone_by_id,
        "note": row.note,
    }
