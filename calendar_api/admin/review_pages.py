"""Duplicates in the console: the review queue, the stored decisions with their undo, and splitting an event.

The work is :mod:`aggregator.review` (which also writes the audit log in the transaction of each change)
and :mod:`aggregator.review_queue`; this module turns requests into those calls and the results into
pages and JSON.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.orm import selectinload
from starlette.responses import JSONResponse, Response

from aggregator.decisions import Kind
from aggregator.matching.rules import Evidence
from aggregator.models import Event, Occurrence
from aggregator.review import (
    Change,
    DecisionError,
    DecisionList,
    DecisionRequest,
    DecisionView,
    decide,
    list_decisions,
    split_event,
    undo,
)
from aggregator.review_queue import ReviewItem, Side, review_queue
from aggregator.split import record_key
from calendar_api.admin.console import EDITORS, Console, Context, NavItem, Problem, Texts

PAGE_SIZE = 50

TEXTS: Texts = {
    "nav_review": ("Dubletten prüfen", "Review duplicates"),
    "nav_decisions": ("Dubletten-Entscheidungen", "Duplicate decisions"),
    "review_title": ("Dubletten prüfen", "Review duplicates"),
    "review_intro": (
        "Paare, die der Abgleich knapp nicht zusammengeführt hat, und Termine, bei denen sich die Quellen "
        "widersprechen. Jede Entscheidung gilt sofort, bleibt bei allen folgenden Abrufen bestehen und "
        "lässt sich unter „Dubletten-Entscheidungen“ rückgängig machen.",
        "Pairs the matcher nearly merged, and performances on which the sources disagree. Every decision "
        "applies at once, holds through every later run, and can be undone under “Duplicate decisions”.",
    ),
    "review_empty": ("Nichts zu prüfen.", "Nothing to review."),
    "review_count": ("{count} offene Punkte", "{count} open items"),
    "review_near_miss": ("Beinahe-Treffer am {day}", "Near miss on {day}"),
    "review_conflict_start": ("Beginnzeit strittig am {day}", "Start time disputed on {day}"),
    "review_conflict_venue": ("Ort strittig am {day}", "Venue disputed on {day}"),
    "review_conflict_status": ("Status strittig am {day}", "Status disputed on {day}"),
    "review_conflict_price": ("Preis strittig am {day}", "Price disputed on {day}"),
    "review_score": (
        "Titelähnlichkeit {score} von 100 (zusammengeführt wird ab {threshold}).",
        "Title similarity {score} of 100 (merged from {threshold}).",
    ),
    "review_rule_qualifiers": (
        "Ein Zusatz wie „für Kinder“ oder „Einführung“ hielt sie getrennt.",
        "A qualifier such as “for children” or “introduction” kept them apart.",
    ),
    "review_rule_numbers": (
        "Verschiedene Nummern hielten sie getrennt.",
        "Different numbers kept them apart.",
    ),
    "review_rule_years": ("Verschiedene Jahre hielten sie getrennt.", "Different years kept them apart."),
    "review_rule_prefix": (
        "Gleicher Reihentitel, aber verschiedene Untertitel hielten sie getrennt.",
        "The same series title with different subtitles kept them apart.",
    ),
    "review_for": ("Dafür spricht: {items}.", "For a merge: {items}."),
    "review_against": ("Dagegen spricht: {items}.", "Against: {items}."),
    "evidence_slot": ("gleicher Ort, gleicher Tag, gleiche Beginnzeit", "same venue, day and start time"),
    "evidence_score": ("Titelähnlichkeit {detail}", "title similarity {detail}"),
    "evidence_translation": (
        "gleicher Titel in der Übersetzung (Ähnlichkeit {detail})",
        "the same title in translation (similarity {detail})",
    ),
    "evidence_names": ("gemeinsame Namen: {detail}", "shared names: {detail}"),
    "evidence_number": ("gleiche Nummer: {detail}", "the same number: {detail}"),
    "evidence_work": ("dasselbe Werk: {detail}", "the same work: {detail}"),
    "evidence_qualifiers": ("verschiedene Zusätze: {detail}", "different qualifiers: {detail}"),
    "evidence_numbers": ("verschiedene Nummern: {detail}", "different numbers: {detail}"),
    "evidence_years": ("verschiedene Jahre: {detail}", "different years: {detail}"),
    "evidence_prefix": (
        "gleicher Reihentitel „{detail}“, verschiedene Untertitel",
        "the same series title “{detail}”, different subtitles",
    ),
    "evidence_low_score": ("Titelähnlichkeit nur {detail}", "title similarity only {detail}"),
    "evidence_other_names": ("Namen nur auf einer Seite: {detail}", "names on one side only: {detail}"),
    "review_conflict_intro": (
        "Eine Veranstaltung, verschiedene Angaben der Quellen zu einem Termin.",
        "One event; its sources say different things about one performance.",
    ),
    "review_side": ("Seite {n}", "Side {n}"),
    "review_row_title": ("Titel", "Title"),
    "review_row_venue": ("Ort", "Venue"),
    "review_row_dates": ("Termine", "Dates"),
    "review_row_sources": ("Quellen", "Sources"),
    "review_row_value": ("Angabe", "What it says"),
    "review_row_records": ("Einträge", "Records"),
    "review_merge": ("Zusammenführen", "Merge"),
    "review_keep_apart": ("Getrennt halten", "Keep apart"),
    "review_pick": ("Diese Angabe stimmt", "This is right"),
    "review_both_real": ("Beide Termine finden statt", "Both performances take place"),
    "review_split_link": ("Veranstaltung aufteilen", "Split the event"),
    "review_public_link": ("Öffentliche Seite", "Public page"),
    "review_note": ("Notiz zur Entscheidung (optional)", "Note on the decision (optional)"),
    "review_refused": ("Nicht gespeichert: {reason}", "Not stored: {reason}"),
    "status_scheduled": ("findet statt", "scheduled"),
    "status_cancelled": ("abgesagt", "cancelled"),
    "status_postponed": ("verschoben", "postponed"),
    "status_rescheduled": ("neu angesetzt", "rescheduled"),
    "notice_decided": (
        "Entschieden – die Veranstaltungen sind schon geändert.",
        "Decided – the events have changed already.",
    ),
    "notice_undone": (
        "Rückgängig gemacht – die Veranstaltungen sind wieder wie vorher.",
        "Undone – the events are as before.",
    ),
    "notice_split": (
        "Aufgeteilt – die gewählten Einträge sind jetzt eine eigene Veranstaltung.",
        "Split – the chosen records are an event of their own now.",
    ),
    "decisions_title": ("Dubletten-Entscheidungen", "Duplicate decisions"),
    "decisions_intro": (
        "Alle gespeicherten Entscheidungen, die neueste zuerst; auch die aus settings.toml übernommenen. "
        "Rückgängig machen wirkt sofort.",
        "Every stored decision, newest first, including those imported from settings.toml. An undo "
        "applies at once.",
    ),
    "decisions_count": ("{total} Entscheidungen", "{total} decisions"),
    "decisions_show": ("Anzeigen", "Show"),
    "decisions_all": ("alle", "all"),
    "decisions_in_force": ("nur geltende", "in force only"),
    "decisions_kind": ("Art", "Kind"),
    "decision_id": ("Nr.", "No."),
    "decision_subject": ("Betrifft", "Subject"),
    "decision_detail": ("Entscheidung", "Decision"),
    "decision_author": ("Von", "By"),
    "decision_when": ("Wann", "When"),
    "decision_state": ("Stand", "State"),
    "decision_live": ("gilt", "in force"),
    "decision_undone": ("zurückgenommen von {who}, {when}", "undone by {who}, {when}"),
    "decision_undo": ("Rückgängig machen", "Undo"),
    "kind_merge": ("zusammengeführt", "merged"),
    "kind_keep_apart": ("getrennt gehalten", "kept apart"),
    "kind_pick": ("Angabe gewählt", "value picked"),
    "kind_split": ("aufgeteilt", "split"),
    "pick_winner": ("{field}: richtig ist „{value}“", "{field}: “{value}” is right"),
    "pick_both": ("Beide Termine finden statt", "Both performances take place"),
    "field_start": ("Beginn", "Start"),
    "field_venue": ("Ort", "Venue"),
    "field_status": ("Status", "Status"),
    "field_price": ("Preis", "Price"),
    "split_title": ("Veranstaltung aufteilen", "Split an event"),
    "split_intro": (
        "Wählen Sie die Einträge, die nicht zu „{title}“ gehören: Sie werden sofort eine eigene "
        "Veranstaltung und bleiben bei allen folgenden Abrufen getrennt.",
        "Choose the records that do not belong to “{title}”: they become an event of their own at once "
        "and stay apart through every later run.",
    ),
    "split_choose": ("Herauslösen", "Move out"),
    "split_record": ("Eintrag der Quelle", "Source record"),
    "split_date": ("Termin", "Date"),
    "split_source_title": ("Titel bei der Quelle", "Title at the source"),
    "split_submit": ("Gewählte Einträge herauslösen", "Move the chosen records out"),
    "split_inactive": ("(nicht mehr gelistet)", "(no longer listed)"),
}

NAV = [
    NavItem("/admin/review", "nav_review", EDITORS),
    NavItem("/admin/decisions", "nav_decisions", EDITORS),
]


# -- JSON shapes ------------------------------------------------------------------------------------------


def side_json(side: Side) -> dict[str, Any]:
    """One side of a review item."""
    return {
        "event_id": side.event_id,
        "title": side.title,
        "venue_slug": side.venue_slug,
        "venue_name": side.venue_name,
        "occurrence_ids": list(side.occurrence_ids),
        "starts": [start.isoformat() for start in side.starts],
        "sources": list(side.sources),
        "records": list(side.records),
        "value": side.value,
    }


def item_json(item: ReviewItem) -> dict[str, Any]:
    """One review item."""
    return {
        "id": item.id,
        "kind": item.kind,
        "field": item.field,
        "day": item.day.isoformat(),
        "score": item.score,
        "threshold": item.threshold,
        "rule": item.rule,
        "evidence_for": [evidence_json(evidence) for evidence in item.evidence_for],
        "evidence_against": [evidence_json(evidence) for evidence in item.evidence_against],
        "sides": [side_json(side) for side in item.sides],
    }


def evidence_json(evidence: Evidence) -> dict[str, str]:
    """One piece of evidence for or against a merge: its kind and what the matcher saw (folded words)."""
    return {"kind": evidence.kind, "detail": evidence.detail}


def decision_json(view: DecisionView) -> dict[str, Any]:
    """One stored decision."""
    return {
        "id": view.id,
        "kind": view.kind,
        "key_a": view.key_a,
        "key_b": view.key_b,
        "field": view.field,
        "value": view.value,
        "author": view.author,
        "author_id": view.author_id,
        "created_at": view.created_at.isoformat(),
        "undone_at": view.undone_at.isoformat() if view.undone_at else None,
        "undone_by": view.undone_by,
        "note": view.note,
        "in_force": view.in_force,
        "events": list(view.events),
        "titles": list(view.titles),
    }


def change_json(change: Change) -> dict[str, Any]:
    """What a decision or an undo did."""
    return {"decision": change.decision, "before": change.before, "after": change.after}


# -- the review queue -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Action:
    """One button of a review item: a small form of hidden fields."""

    label: str
    aria: str
    fields: dict[str, str]
    secondary: bool = False


@dataclass(frozen=True, slots=True)
class _Row:
    heading: str
    cells: list[str]
    links: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _ItemView:
    id: str
    heading: str
    explain: list[str]
    sides: list[str]
    rows: list[_Row]
    actions: list[_Action]
    links: list[tuple[str, str]]


def _value_text(ctx: Context, name: str | None, value: str | None) -> str:
    if value is None:
        return "–"
    if name == "start":
        return ctx.when(datetime.fromisoformat(value))
    if name == "status":
        key = f"status_{value}"
        return ctx.t(key) if key in ctx.console.texts else value
    return value


def _evidence_text(ctx: Context, evidence: Evidence) -> str:
    key = f"evidence_{evidence.kind}"
    return ctx.t(key, detail=evidence.detail) if key in ctx.console.texts else evidence.kind


def _item_view(ctx: Context, number: int, item: ReviewItem) -> _ItemView:
    day = item.day.isoformat()
    sides = [ctx.t("review_side", n=index + 1) for index in range(len(item.sides))]
    rows = [
        _Row(ctx.t("review_row_title"), [side.title for side in item.sides]),
        _Row(
            ctx.t("review_row_venue"),
            [
                f"{side.venue_name} ({side.venue_slug})" if side.venue_name else side.venue_slug or "–"
                for side in item.sides
            ],
        ),
        _Row(
            ctx.t("review_row_dates"),
            [", ".join(ctx.when(start) for start in side.starts) for side in item.sides],
        ),
        _Row(ctx.t("review_row_sources"), [", ".join(side.sources) for side in item.sides]),
    ]
    if item.kind == "near_miss":
        heading = ctx.t("review_near_miss", day=day)
        explain = [ctx.t("review_score", score=f"{item.score:.0f}", threshold=f"{item.threshold:.0f}")]
        if item.rule:
            explain.append(ctx.t(f"review_rule_{item.rule}"))
        for key, evidence in (("review_for", item.evidence_for), ("review_against", item.evidence_against)):
            if evidence:
                explain.append(ctx.t(key, items="; ".join(_evidence_text(ctx, e) for e in evidence)))
        a, b = item.sides[0].event_id, item.sides[1].event_id
        pair = f"{item.sides[0].title} / {item.sides[1].title}"
        actions = [
            _Action(
                ctx.t("review_merge"), f"{ctx.t('review_merge')}: {pair}", {"kind": "merge", "a": a, "b": b}
            ),
            _Action(
                ctx.t("review_keep_apart"),
                f"{ctx.t('review_keep_apart')}: {pair}",
                {"kind": "keep_apart", "a": a, "b": b},
                secondary=True,
            ),
        ]
        links = [
            (f"/events/{quote(side.event_id, safe='')}", f"{ctx.t('review_public_link')}: {side.title}")
            for side in item.sides
        ]
    else:
        heading = ctx.t(f"review_conflict_{item.field}", day=day)
        explain = [ctx.t("review_conflict_intro")]
        rows.append(
            _Row(ctx.t("review_row_value"), [_value_text(ctx, item.field, side.value) for side in item.sides])
        )
        rows.append(_Row(ctx.t("review_row_records"), [", ".join(side.records) for side in item.sides]))
        actions = []
        for index, side in enumerate(item.sides):
            other = item.sides[1] if index == 0 else item.sides[0]
            value = _value_text(ctx, item.field, side.value)
            actions.append(
                _Action(
                    f"{ctx.t('review_pick')}: {value}",
                    f"{ctx.t('review_pick')}: {value} ({', '.join(side.sources)}) – {side.title}",
                    {
                        "kind": "pick",
                        "field": item.field or "",
                        "a": side.records[0],
                        "b": other.records[0],
                        "winner": "a",
                    },
                )
            )
        if item.field == "start":
            actions.append(
                _Action(
                    ctx.t("review_both_real"),
                    f"{ctx.t('review_both_real')}: {item.sides[0].title}, {day}",
                    {
                        "kind": "pick",
                        "field": "start",
                        "a": item.sides[0].records[0],
                        "b": item.sides[1].records[0],
                    },
                    secondary=True,
                )
            )
        event = item.sides[0].event_id
        links = [
            (f"/admin/events/{quote(event, safe='')}/split", ctx.t("review_split_link")),
            (f"/events/{quote(event, safe='')}", ctx.t("review_public_link")),
        ]
    return _ItemView(f"item-{number}", heading, explain, sides, rows, actions, links)


def _queue(ctx: Context) -> list[ReviewItem]:
    with ctx.factory() as session:
        return review_queue(session, ctx.console.settings.dedupe, ctx.now)


def review_page(ctx: Context, *, status: int = 200, error: str = "") -> Response:
    """``/admin/review``: each open item, its sides side by side, with the decisions it allows."""
    items = _queue(ctx)
    views = [_item_view(ctx, number, item) for number, item in enumerate(items, start=1)]
    return ctx.render("review.html", status=status, items=views, error=error)


def review_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/review``."""
    return JSONResponse({"items": [item_json(item) for item in _queue(ctx)]})


# -- deciding ---------------------------------------------------------------------------------------------


def _problem(ctx: Context, exc: DecisionError) -> Problem:
    return Problem(404 if exc.missing else 400, exc.message, field=exc.field)


def _request(ctx: Context) -> DecisionRequest:
    kind = ctx.field("kind")
    if kind not in {k.value for k in Kind}:
        raise Problem(
            400, f"kind must be one of {', '.join(k.value for k in Kind)}, not {kind!r}", field="kind"
        )
    winner = ctx.field("winner")
    if winner not in ("", "a", "b"):
        raise Problem(400, f"winner must be 'a', 'b' or empty, not {winner!r}", field="winner")
    for name in ("a", "b"):
        if not ctx.field(name):
            raise Problem(400, f"{name} is missing: an event ID or a source:record_id key", field=name)
    return DecisionRequest(
        Kind(kind),
        ctx.field("a"),
        ctx.field("b"),
        field=ctx.field("field") or None,
        winner="a" if winner == "a" else "b" if winner == "b" else None,
        note=ctx.field("note") or None,
    )


def _decide(ctx: Context) -> Change:
    request = _request(ctx)
    try:
        return decide(ctx.factory, request, dedupe=ctx.console.settings.dedupe, actor=ctx.actor, now=ctx.now)
    except DecisionError as exc:
        raise _problem(ctx, exc) from exc


def decide_form(ctx: Context) -> Response:
    """A decision from the review page."""
    try:
        _decide(ctx)
    except Problem as problem:
        return review_page(ctx, status=problem.status, error=ctx.t("review_refused", reason=problem.message))
    return ctx.done("/admin/review", "decided")


def decide_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/decisions``."""
    return JSONResponse(change_json(_decide(ctx)), status_code=201)


# -- the stored decisions -------------------------------------------------------------------------------


def _listing(ctx: Context) -> tuple[DecisionList, dict[str, str], int, int]:
    query = ctx.request.query_params
    in_force = query.get("in_force", "") in ("1", "true", "on")
    kind = query.get("kind", "")
    page_text = query.get("page", "1")
    page = int(page_text) if page_text.isdigit() and int(page_text) > 0 else 1
    with ctx.factory() as session:
        found = list_decisions(
            session,
            in_force_only=in_force,
            kind=Kind(kind) if kind in {k.value for k in Kind} else None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    pages = max(1, -(-found.total // PAGE_SIZE))
    where = {"in_force": "1" if in_force else "", "kind": kind if kind in {k.value for k in Kind} else ""}
    return found, where, page, pages


def _detail(ctx: Context, view: DecisionView) -> str:
    value = view.value or {}
    if view.kind == Kind.PICK:
        name = ctx.t(f"field_{view.field}") if f"field_{view.field}" in ctx.console.texts else str(view.field)
        winner = value.get("winner")
        values = value.get("values") or [None, None]
        if winner is None:
            return ctx.t("pick_both")
        return ctx.t("pick_winner", field=name, value=_value_text(ctx, view.field, values[int(winner)]))
    if view.kind == Kind.KEEP_APART and value.get("split"):
        return ctx.t("kind_split")
    return ctx.t(f"kind_{view.kind}")


def decisions_page(ctx: Context, *, status: int = 200, error: str = "") -> Response:
    """``/admin/decisions``: the stored decisions, newest first, each in force with its undo button."""
    found, where, page, pages = _listing(ctx)
    rows = [(view, _detail(ctx, view)) for view in found.items]
    return ctx.render(
        "decisions.html",
        status=status,
        rows=rows,
        total=found.total,
        where=where,
        page=page,
        pages=pages,
        kinds=[k.value for k in Kind],
        error=error,
    )


def decisions_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/decisions``."""
    found, _where, page, pages = _listing(ctx)
    return JSONResponse(
        {
            "decisions": [decision_json(view) for view in found.items],
            "total": found.total,
            "page": page,
            "pages": pages,
        }
    )


def _undo(ctx: Context) -> Change:
    raw = str(ctx.request.path_params["decision_id"])
    if not raw.isdigit():
        raise Problem(404, f"no decision {raw!r}", field="id")
    try:
        return undo(ctx.factory, int(raw), dedupe=ctx.console.settings.dedupe, actor=ctx.actor, now=ctx.now)
    except DecisionError as exc:
        raise _problem(ctx, exc) from exc


def undo_form(ctx: Context) -> Response:
    """Undo a decision from the list."""
    try:
        _undo(ctx)
    except Problem as problem:
        return decisions_page(
            ctx, status=problem.status, error=ctx.t("review_refused", reason=problem.message)
        )
    return ctx.done("/admin/decisions", "undone")


def undo_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/decisions/{id}/undo``."""
    return JSONResponse(change_json(_undo(ctx)))


# -- splitting an event ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _RecordRow:
    key: str
    source: str
    start: datetime
    title: str
    active: bool


def _event_rows(ctx: Context, event_id: str) -> tuple[Event, list[_RecordRow]]:
    with ctx.factory() as session:
        event = session.scalars(
            select(Event)
            .where(Event.id == event_id)
            .options(selectinload(Event.occurrences).selectinload(Occurrence.records))
        ).one_or_none()
        if event is None:
            raise Problem(404, f"no event {event_id!r}", field="event")
        rows = []
        for occurrence in sorted(event.occurrences, key=lambda o: (o.start, o.id)):
            for record in sorted(occurrence.records, key=record_key):
                title = str(record.data.get("title") or event.title)
                rows.append(
                    _RecordRow(record_key(record), record.source, occurrence.start, title, record.active)
                )
        session.expunge_all()
    return event, rows


def split_page(
    ctx: Context, *, status: int = 200, error: str = "", chosen: frozenset[str] = frozenset(), note: str = ""
) -> Response:
    """``/admin/events/{event_id}/split``: the event's records by date, each with a box to move it out."""
    event, rows = _event_rows(ctx, str(ctx.request.path_params["event_id"]))
    return ctx.render(
        "split.html", status=status, event=event, rows=rows, chosen=chosen, note=note, error=error
    )


def _split(ctx: Context) -> Change:
    event_id = str(ctx.request.path_params["event_id"])
    try:
        return split_event(
            ctx.factory,
            event_id,
            ctx.fields("move"),
            dedupe=ctx.console.settings.dedupe,
            actor=ctx.actor,
            now=ctx.now,
            note=ctx.field("note") or None,
        )
    except DecisionError as exc:
        raise _problem(ctx, exc) from exc


def split_form(ctx: Context) -> Response:
    """Split an event from its split page; a refusal shows the page again with the choices kept."""
    try:
        _split(ctx)
    except Problem as problem:
        if problem.status == 404:
            raise
        return split_page(
            ctx,
            status=problem.status,
            error=ctx.t("review_refused", reason=problem.message),
            chosen=frozenset(ctx.fields("move")),
            note=ctx.field("note"),
        )
    return ctx.done("/admin/decisions", "split")


def split_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/events/{event_id}/split`` with ``{"move": [...], "note": …}``."""
    return JSONResponse(change_json(_split(ctx)), status_code=201)


def register(console: Console) -> None:
    """The review queue, the decisions and the split page (editors and admins), as pages and JSON."""
    console.page("/review", review_page, roles=EDITORS)
    console.page("/review", decide_form, roles=EDITORS, methods=("POST",))
    console.page("/decisions", decisions_page, roles=EDITORS)
    console.page("/decisions/{decision_id}/undo", undo_form, roles=EDITORS, methods=("POST",))
    console.page("/events/{event_id}/split", split_page, roles=EDITORS)
    console.page("/events/{event_id}/split", split_form, roles=EDITORS, methods=("POST",))
    console.api("/review", review_api, roles=EDITORS)
    console.api("/decisions", decisions_api, roles=EDITORS)
    console.api("/decisions", decide_api, roles=EDITORS, methods=("POST",))
    console.api("/decisions/{decision_id}/undo", undo_api, roles=EDITORS, methods=("POST",))
    console.api("/events/{event_id}/split", split_api, roles=EDITORS, methods=("POST",))


# -- OpenAPI ----------------------------------------------------------------------------------------------

_SECURITY: list[dict[str, list[str]]] = [{"consoleSession": []}, {"personalKey": []}]
_ERRORS = {
    "400": {"description": "bad input (title, field); nothing changed"},
    "401": {"description": "not signed in"},
    "403": {"description": "not an editor or admin (or no CSRF header with a session)"},
}
_CHANGE = {"description": "the decision, and the events it touched before and after"}


def _path(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


_DECISION_BODY = {
    "type": "object",
    "required": ["kind", "a", "b"],
    "properties": {
        "kind": {"type": "string", "enum": [k.value for k in Kind]},
        "a": {
            "type": "string",
            "description": "merge/keep_apart: an event ID or source:record_id; pick: source:record_id",
        },
        "b": {"type": "string"},
        "field": {
            "type": "string",
            "enum": ["start", "venue", "status", "price"],
            "description": "pick only",
        },
        "winner": {
            "type": ["string", "null"],
            "enum": ["a", "b", None],
            "description": "pick: whose value is right; null (start only): both performances are real",
        },
        "note": {"type": "string", "maxLength": 2000},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/review": {
        "get": {
            "tags": ["admin"],
            "summary": "The duplicate review queue: near misses and conflicts inside one event",
            "security": _SECURITY,
            "responses": {"200": {"description": "items, by day"}, **_ERRORS},
        }
    },
    "/api/v1/admin/decisions": {
        "get": {
            "tags": ["admin"],
            "summary": "Stored duplicate decisions, newest first (50 a page)",
            "security": _SECURITY,
            "parameters": [
                {
                    "name": "in_force",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["", "1"]},
                },
                {
                    "name": "kind",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "enum": ["", *[k.value for k in Kind]]},
                },
                {
                    "name": "page",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "responses": {"200": {"description": "decisions, total, page, pages"}, **_ERRORS},
        },
        "post": {
            "tags": ["admin"],
            "summary": "Decide on duplicates (merge, keep apart, pick); applies to the stored events at once",
            "security": _SECURITY,
            "requestBody": {"content": {"application/json": {"schema": _DECISION_BODY}}},
            "responses": {"201": _CHANGE, **_ERRORS},
        },
    },
    "/api/v1/admin/decisions/{decision_id}/undo": {
        "post": {
            "tags": ["admin"],
            "summary": "Undo a duplicate decision at once",
            "security": _SECURITY,
            "parameters": [_path("decision_id")],
            "responses": {"200": _CHANGE, "404": {"description": "no such decision"}, **_ERRORS},
        }
    },
    "/api/v1/admin/events/{event_id}/split": {
        "post": {
            "tags": ["admin"],
            "summary": "Move records or occurrences out of an event into a new one, kept apart in later runs",
            "security": _SECURITY,
            "parameters": [_path("event_id")],
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["move"],
                            "properties": {
                                "move": {
                                    "type": "array",
                                    "items": {"type": "string"},
                                    "description": "source:record_id keys or occurrence IDs",
                                },
                                "note": {"type": "string", "maxLength": 2000},
                            },
                        }
                    }
                }
            },
            "responses": {"201": _CHANGE, "404": {"description": "no such event"}, **_ERRORS},
        }
    },
}
