"""Events in the console: search, per-field provenance, editors' values, hiding and highlights.

HTML pages under ``/admin/events`` and the same actions as JSON under ``/api/v1/admin/events``.

Every change goes through :mod:`aggregator.event_edits` in one transaction with its audit entry
(:func:`aggregator.audit.record`), so the public pages, the JSON API and the feeds show it with
their next request and the log says who did what, before and after. Splitting an event is another
part's page (``/admin/events/{id}/split``); this one links to it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import quote, urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from aggregator.audit import record
from aggregator.derive import Priority
from aggregator.event_edits import (
    Change,
    EditNotFound,
    edit_event,
    edit_occurrence,
    editing,
    hide_event,
    hide_occurrence,
    set_highlight,
    unhide_event,
    unhide_occurrence,
)
from aggregator.event_search import EventRow, EventSearch, SearchPage, search_events
from aggregator.models import Event, Occurrence, Venue
from aggregator.normalise.categories import load_categories
from aggregator.override_fields import EVENT_FIELDS, OCCURRENCE_FIELDS, OverrideError
from aggregator.provenance import EventState, FieldState, Mark, OccurrenceState, event_state
from aggregator.types import BERLIN, Status
from aggregator.urls import web_url
from calendar_api.admin.console import EDITORS, Console, Context, NavItem, Problem, Texts
from calendar_api.queries import redirect_target

TEXTS: Texts = {
    "nav_events": ("Veranstaltungen", "Events"),
    "ev_title": ("Veranstaltungen", "Events"),
    "ev_intro": (
        "Alle Veranstaltungen, auch verborgene und vergangene. Ohne Datum stehen die kommenden vorn.",
        "Every event, hidden and past ones too. Without dates, upcoming ones come first.",
    ),
    "ev_q": (
        "Suche (Titel, Text, Ort, Veranstalter oder ID)",
        "Search (title, text, venue, organiser or id)",
    ),
    "ev_venue": ("Ort", "Venue"),
    "ev_any_venue": ("alle Orte", "all venues"),
    "ev_from": ("Termine ab", "Dates from"),
    "ev_to": ("Termine bis", "Dates to"),
    "ev_hidden": ("Verborgen", "Hidden"),
    "ev_highlight": ("Tipp der Redaktion", "Editors' pick"),
    "ev_edited": ("Von der Redaktion bearbeitet", "Edited by the editors"),
    "ev_either": ("egal", "either"),
    "ev_yes": ("ja", "yes"),
    "ev_no": ("nein", "no"),
    "ev_count": ("{total} Veranstaltungen", "{total} events"),
    "ev_col_title": ("Titel", "Title"),
    "ev_col_next": ("Nächster Termin", "Next date"),
    "ev_col_dates": ("Termine", "Dates"),
    "ev_col_marks": ("Markierungen", "Marks"),
    "ev_hidden_dates": ("{n} Termine verborgen", "{n} dates hidden"),
    "ev_none_found": ("Keine Veranstaltung passt zu dieser Suche.", "No event matches this search."),
    "ev_field": ("Feld", "Field"),
    "ev_shown": ("Öffentlich sichtbar", "What the public sees"),
    "ev_source": ("Quelle", "Source"),
    "ev_sources_say": ("Die Quellen sagen", "The sources say"),
    "ev_by_editor": ("Redaktion: {by}, {at}", "Editors: {by}, {at}"),
    "ev_from_source": ("aus {source}", "from {source}"),
    "ev_no_source": ("keine Quelle", "no source"),
    "ev_empty": ("(leer)", "(empty)"),
    "ev_reset": ("Wert der Quellen wiederherstellen", "Give back to the sources"),
    "ev_edit": ("Felder bearbeiten", "Edit fields"),
    "ev_edit_hint": (
        "Ein geänderter Wert gilt vor allen Quellen, bis er zurückgegeben wird. Ein leeres Feld heißt "
        "„keine Angabe“.",
        "A changed value wins over every source until it is given back. An empty field means “none”.",
    ),
    "ev_save": ("Speichern", "Save"),
    "ev_public_page": ("Öffentliche Seite", "Public page"),
    "ev_split": ("Veranstaltung aufteilen", "Split this event"),
    "ev_audit": ("Protokoll dieser Veranstaltung", "Audit log of this event"),
    "ev_hide_title": ("Verbergen", "Hide"),
    "ev_hide_intro": (
        "Verborgen erscheint die Veranstaltung auf keiner öffentlichen Seite, in keiner Liste, keinem "
        "Widget und keinem Kalender-Feed. Gespeichert bleibt alles.",
        "Hidden, the event shows on no public page, list, widget or calendar feed. Everything stays stored.",
    ),
    "ev_reason": ("Grund (Pflicht)", "Reason (required)"),
    "ev_hide": ("Verbergen", "Hide"),
    "ev_unhide": ("Wieder zeigen", "Show again"),
    "ev_is_hidden": ("Verborgen von {by} am {at}: {reason}", "Hidden by {by} on {at}: {reason}"),
    "ev_highlight_title": ("Tipp der Redaktion", "Editors' pick"),
    "ev_highlight_intro": (
        "Tipps können die Seite und das Widget zuerst zeigen (sort=highlights) oder allein (highlight=true).",
        "Picks can come first on the page and in the widget (sort=highlights), or alone (highlight=true).",
    ),
    "ev_until": ("Bis einschließlich (leer: ohne Ende)", "Through (empty: no end)"),
    "ev_highlight_on": ("Als Tipp markieren", "Mark as a pick"),
    "ev_highlight_off": ("Markierung entfernen", "Remove the mark"),
    "ev_is_highlight": ("Tipp seit {at} ({by})", "A pick since {at} ({by})"),
    "ev_is_highlight_until": ("Tipp bis {until} ({by})", "A pick through {until} ({by})"),
    "ev_occurrences": ("Termine", "Dates"),
    "ev_col_start": ("Beginn", "Start"),
    "ev_col_status": ("Status", "Status"),
    "ev_col_sequence": ("SEQUENCE", "SEQUENCE"),
    "ev_col_edited": ("Bearbeitet", "Edited"),
    "ev_edit_date": ("Termin bearbeiten", "Edit date"),
    "ev_records": ("Datensätze der Quellen", "Source records"),
    "ev_col_record": ("Datensatz", "Record"),
    "ev_col_active": ("Aktiv", "Active"),
    "ev_col_seen": ("Zuletzt gesehen", "Last seen"),
    "ev_back": ("Zurück zur Veranstaltung", "Back to the event"),
    "ev_back_list": ("Zurück zur Suche", "Back to the search"),
    "ev_date_title": ("Termin am {when}", "Date on {when}"),
    "ev_date_hide_intro": (
        "Ein verborgener Termin verschwindet aus allen öffentlichen Listen und Feeds (Abonnenten "
        "verlieren ihn beim nächsten Abruf; er wird nicht als abgesagt gemeldet).",
        "A hidden date leaves every public list and feed (subscribers lose it at their next refresh; "
        "it is not reported as cancelled).",
    ),
    "ev_no_change": ("Nichts geändert.", "Nothing changed."),
    "ev_not_found": ("Diese Veranstaltung gibt es nicht.", "There is no such event."),
    "ev_date_not_found": (
        "Diesen Termin gibt es bei dieser Veranstaltung nicht.",
        "This event has no such date.",
    ),
    "ev_bad_date": ("{field}: kein Datum wie 2026-12-24", "{field}: not a date like 2026-12-24"),
    "ev_bad_choice": ("{field}: nur true oder false", "{field}: only true or false"),
    "ev_bad_page": ("page: eine ganze Zahl ab 1", "page: a whole number from 1"),
    "ev_bad_body": (
        'Erwartet wird {{"fields": {{…}}, "reset": […]}}',
        'Expected {{"fields": {{…}}, "reset": […]}}',
    ),
    "ev_field_title": ("Titel", "Title"),
    "ev_field_subtitle": ("Untertitel", "Subtitle"),
    "ev_field_description": ("Beschreibung", "Description"),
    "ev_field_categories": ("Kategorien", "Categories"),
    "ev_field_url": ("Link zur Veranstaltung", "Event link"),
    "ev_field_image": ("Bild (Link)", "Image (link)"),
    "ev_field_organiser": ("Veranstalter", "Organiser"),
    "ev_field_venue": ("Ort", "Venue"),
    "ev_field_start": ("Beginn", "Start"),
    "ev_field_end": ("Ende", "End"),
    "ev_field_status": ("Status", "Status"),
    "ev_field_room": ("Saal / Raum", "Room"),
    "ev_status_scheduled": ("findet statt", "scheduled"),
    "ev_status_cancelled": ("abgesagt", "cancelled"),
    "ev_status_postponed": ("verschoben", "postponed"),
    "ev_status_rescheduled": ("verlegt", "rescheduled"),
    "notice_event_saved": (
        "Gespeichert; die öffentlichen Seiten zeigen es jetzt.",
        "Saved; the public pages show it now.",
    ),
    "notice_event_unchanged": ("Nichts geändert.", "Nothing changed."),
    "notice_event_hidden": ("Verborgen.", "Hidden."),
    "notice_event_shown": ("Wieder sichtbar.", "Shown again."),
    "notice_event_highlighted": ("Als Tipp markiert.", "Marked as a pick."),
    "notice_event_unhighlighted": ("Markierung entfernt.", "Mark removed."),
}

NAV = [NavItem("/admin/events", "nav_events", EDITORS)]
PER_PAGE = 50


# -- reading requests ------------------------------------------------------------------------------


def _priority(ctx: Context) -> Priority:
    """Source priority as runs apply it: configured order, configured sources' kinds."""
    kinds = {spec.name: spec.kind for spec in ctx.console.runtime.specs.values()}
    return Priority(ctx.console.settings.dedupe.priority, kinds)


def _day(ctx: Context, name: str) -> date | None:
    value = ctx.request.query_params.get(name, "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Problem(400, ctx.t("ev_bad_date", field=name), field=name) from None


def _berlin_midnight(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=BERLIN)


def _choice(ctx: Context, name: str) -> bool | None:
    value = ctx.request.query_params.get(name, "").strip()
    if value in ("", "any"):
        return None
    if value not in ("true", "false"):
        raise Problem(400, ctx.t("ev_bad_choice", field=name), field=name)
    return value == "true"


def _search(ctx: Context) -> EventSearch:
    query = ctx.request.query_params
    page = query.get("page", "1").strip() or "1"
    if not page.isdigit() or int(page) < 1:
        raise Problem(400, ctx.t("ev_bad_page"), field="page")
    start, end = _day(ctx, "from"), _day(ctx, "to")
    return EventSearch(
        q=query.get("q", "").strip()[:200],
        venue=query.get("venue", "").strip() or None,
        start=_berlin_midnight(start) if start else None,
        end=_berlin_midnight(end + timedelta(days=1)) if end else None,
        hidden=_choice(ctx, "hidden"),
        highlight=_choice(ctx, "highlight"),
        edited=_choice(ctx, "edited"),
        page=min(int(page), 100_000),
        per_page=PER_PAGE,
    )


def _state(ctx: Context, event_id: str) -> EventState:
    with ctx.factory() as session:
        state = event_state(session, event_id, _priority(ctx))
    if state is None:
        raise Problem(404, ctx.t("ev_not_found"))
    return state


def _occurrence(ctx: Context, state: EventState) -> OccurrenceState:
    wanted = str(ctx.request.path_params["oid"])
    found = next((o for o in state.occurrences if o.id == wanted), None)
    if found is None:
        raise Problem(404, ctx.t("ev_date_not_found"))
    return found


def _change(ctx: Context, act: Callable[[Session], Change], note: str | None = None) -> Change:
    """Run one edit and its audit entry in one transaction; domain errors become 400/404 problems."""
    try:
        with editing(ctx.factory) as session:
            change = act(session)
            if change.changed:
                record(
                    session,
                    ctx.actor,
                    change.action,
                    change.target_kind,
                    change.target_id,
                    at=ctx.now,
                    before=change.before,
                    after=change.after,
                    note=note if note is not None else f"event {change.event_id}",
                )
    except OverrideError as exc:
        raise Problem(400, exc.text(ctx.lang), field=exc.field) from exc
    except EditNotFound as exc:
        raise Problem(404, ctx.t("ev_not_found" if exc.kind == "event" else "ev_date_not_found")) from exc
    return change


def _event_id(ctx: Context) -> str:
    return str(ctx.request.path_params["id"])


# -- JSON shapes ------------------------------------------------------------------------------------


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(BERLIN).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _mark_json(mark: Mark | None) -> dict[str, Any] | None:
    if mark is None:
        return None
    return {"by": mark.by, "at": _value(mark.at), "reason": mark.reason}


def _field_json(state: FieldState) -> dict[str, Any]:
    return {
        "value": _value(state.value),
        "source": state.source,
        "edited": state.edited,
        "override": _mark_json(state.override),
        "source_value": _value(state.source_value),
        "source_name": state.source_name,
    }


def row_json(row: EventRow) -> dict[str, Any]:
    """One search result."""
    return {
        "id": row.id,
        "title": row.title,
        "venue": row.venue,
        "next_start": _value(row.next_start),
        "last_start": _value(row.last_start),
        "occurrences": row.occurrences,
        "hidden": row.hidden,
        "hidden_occurrences": row.hidden_occurrences,
        "highlight": row.highlight,
        "edited": row.edited,
        "links": {"self": f"/api/v1/admin/events/{quote(row.id, safe='')}"},
    }


def occurrence_json(occurrence: OccurrenceState) -> dict[str, Any]:
    """One occurrence with per-field provenance."""
    return {
        "id": occurrence.id,
        "start": _value(occurrence.start),
        "status": occurrence.status,
        "sequence": occurrence.sequence,
        "hidden": _mark_json(occurrence.hidden),
        "fields": {f.name: _field_json(f) for f in occurrence.fields},
    }


def event_json(state: EventState) -> dict[str, Any]:
    """The event as the console's JSON API gives it: every field with its provenance."""
    highlight = None
    if state.highlight is not None:
        until = state.highlight_last_day
        highlight = {"by": state.highlight.by, "at": _value(state.highlight.at), "until": _value(until)}
    event_id = quote(state.id, safe="")
    return {
        "id": state.id,
        "title": state.title,
        "sequence": state.sequence,
        "updated_at": _value(state.updated_at),
        "hidden": _mark_json(state.hidden),
        "highlight": highlight,
        "fields": {f.name: _field_json(f) for f in state.fields},
        "occurrences": [occurrence_json(o) for o in state.occurrences],
        "records": [
            {
                "source": r.source,
                "record_id": r.record_id,
                "url": r.url,
                "active": r.active,
                "occurrence_id": r.occurrence_id,
                "last_seen": _value(r.last_seen),
            }
            for r in state.records
        ],
        "links": {
            "public": f"/events/{event_id}",
            "api": f"/api/v1/events/{event_id}",
            "split": f"/admin/events/{event_id}/split",
        },
    }


def change_json(change: Change) -> dict[str, Any]:
    """What one action did."""
    return {
        "action": change.action,
        "target_type": change.target_kind,
        "target_id": change.target_id,
        "event_id": change.event_id,
        "changed": change.changed,
        "before": change.before,
        "after": change.after,
    }


# -- the search ------------------------------------------------------------------------------------


def _venues(ctx: Context, *, registered_or: str | None = "") -> list[tuple[str, str]]:
    """Venues by name: every one (``registered_or=""``), or the registered ones and this slug."""
    query = select(Venue.slug, Venue.name).order_by(Venue.name)
    if registered_or != "":
        query = query.where((Venue.known.is_(True)) | (Venue.slug == registered_or))
    with ctx.factory() as session:
        return [(slug, name) for slug, name in session.execute(query)]


def events_page(ctx: Context) -> Response:
    """``/admin/events``: the search form and one page of results."""
    search = _search(ctx)
    with ctx.factory() as session:
        found = search_events(session, search, now=ctx.now)
    query = {k: v for k, v in ctx.request.query_params.items() if k not in ("page", "done", "lang")}
    base = "/admin/events?" + urlencode(query)
    return ctx.render(
        "events.html",
        found=found,
        form=dict(ctx.request.query_params),
        venues=_venues(ctx),
        page_url=lambda page: f"{base}&page={page}",
    )


def events_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/events``: the same search as JSON."""
    search = _search(ctx)
    per_page = ctx.request.query_params.get("per_page", "").strip()
    if per_page:
        if not per_page.isdigit() or not 1 <= int(per_page) <= 100:
            raise Problem(400, "per_page: 1–100", field="per_page")
        search = replace(search, per_page=int(per_page))
    with ctx.factory() as session:
        found: SearchPage = search_events(session, search, now=ctx.now)
    return JSONResponse(
        {
            "events": [row_json(row) for row in found.rows],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
        }
    )


# -- one event -------------------------------------------------------------------------------------


def _form_values(state: EventState) -> dict[str, str]:
    """What the edit form shows in each field."""
    values: dict[str, str] = {}
    for field in state.fields:
        if field.name == "categories":
            values[field.name] = ",".join(str(c) for c in field.value or [])
        else:
            values[field.name] = "" if field.value is None else str(field.value)
    return values


def event_page(ctx: Context, *, status: int = 200, error: str = "", error_field: str = "") -> Response:
    """``/admin/events/{id}``: every field with its provenance, the edit form, hiding and highlight.

    The id of an event the matcher merged away leads to the event it became part of.
    """
    if status == 200:
        with ctx.factory() as session:
            merged = _merged_into(session, _event_id(ctx))
        if merged is not None:
            return ctx.done(f"/admin/events/{quote(merged, safe='')}")
    state = _state(ctx, _event_id(ctx))
    categories = [(c.slug, c.de if ctx.lang == "de" else c.en) for c in load_categories().all()]
    values = _form_values(state)
    chosen = [str(c) for c in next(f.value for f in state.fields if f.name == "categories") or []]
    if error and ctx.form is not None:  # show what was sent, so that nothing typed is lost
        values.update({name: ctx.field(name) for name in EVENT_FIELDS if ctx.form.get(name) is not None})
        if ctx.form.get("title") is not None:  # the edit form (not the hide or highlight form)
            chosen = ctx.fields("categories")
    return ctx.render(
        "event_edit.html",
        status=status,
        ev=state,
        values=values,
        chosen_categories=chosen,
        reason=ctx.field("reason") if error else "",
        until=ctx.field("until") if error else "",
        categories=categories,
        venues=_venues(ctx, registered_or=values["venue"] or None),
        error=error,
        error_field=error_field,
        event_url=f"/admin/events/{quote(state.id, safe='')}",
        public_url=f"/events/{quote(state.id, safe='')}",
        split_url=f"/admin/events/{quote(state.id, safe='')}/split",
        audit_url="/admin/audit?" + urlencode({"target_type": "event", "target_id": state.id}),
        shown=_shown(ctx),
        web_url=web_url,
    )


def _merged_into(session: Session, event_id: str) -> str | None:
    if session.get(Event, event_id) is not None:
        return None
    return redirect_target(session, event_id)


def _shown(ctx: Context) -> Callable[[Any], str]:
    def shown(value: Any) -> str:
        if value is None or value == "" or value == []:
            return ctx.t("ev_empty")
        if isinstance(value, datetime):
            return ctx.when(value)
        if isinstance(value, list):
            return ", ".join(str(v) for v in value)
        return str(value)

    return shown


def _form_changes(ctx: Context, state: EventState) -> tuple[dict[str, Any], list[str]]:
    """The fields the form changed (compared with what it showed) and those given back to the sources."""
    assert ctx.form is not None
    shown = _form_values(state)
    values: dict[str, Any] = {}
    reset = [name for name in EVENT_FIELDS if ctx.field(f"reset_{name}") == "on"]
    for name in EVENT_FIELDS:
        if name in reset:
            continue
        if name == "categories":
            chosen = ",".join(ctx.fields("categories"))
            if chosen != shown[name]:
                values[name] = ctx.fields("categories")
            continue
        raw = ctx.form.get(name)
        if isinstance(raw, str) and raw.replace("\r\n", "\n").strip() != shown[name].strip():
            values[name] = raw
    return values, reset


def _redo(ctx: Context, problem: Problem, page: Callable[..., Response]) -> Response:
    return page(ctx, status=problem.status, error=problem.message, error_field=problem.field or "")


def save_event(ctx: Context) -> Response:
    """The edit form: changed fields become the editor's values, ticked ones go back to the sources."""
    event_id = _event_id(ctx)
    state = _state(ctx, event_id)
    values, reset = _form_changes(ctx, state)
    if not values and not reset:
        return ctx.done(f"/admin/events/{quote(event_id, safe='')}", "event_unchanged")
    priority = _priority(ctx)
    try:
        _change(
            ctx,
            lambda s: edit_event(s, event_id, values, reset, actor=ctx.actor, now=ctx.now, priority=priority),
        )
    except Problem as problem:
        if problem.status != 400:
            raise
        return _redo(ctx, problem, event_page)
    return ctx.done(f"/admin/events/{quote(event_id, safe='')}", "event_saved")


def _edit_body(ctx: Context) -> tuple[Mapping[str, Any], list[str]]:
    body = ctx.body if isinstance(ctx.body, dict) else None
    fields = body.get("fields", {}) if body is not None else None
    reset = body.get("reset", []) if body is not None else None
    if (
        not isinstance(fields, dict)
        or not isinstance(reset, list)
        or not all(isinstance(name, str) for name in reset)
        or set(body or {}) - {"fields", "reset"}
    ):
        raise Problem(400, ctx.t("ev_bad_body"), field="fields")
    return fields, [str(name) for name in reset]


def event_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/events/{id}``: the event with per-field provenance."""
    return JSONResponse(event_json(_state(ctx, _event_id(ctx))))


def patch_event_api(ctx: Context) -> Response:
    """``PATCH /api/v1/admin/events/{id}`` with ``{"fields": {name: value}, "reset": [name]}``."""
    event_id = _event_id(ctx)
    values, reset = _edit_body(ctx)
    priority = _priority(ctx)
    change = _change(
        ctx, lambda s: edit_event(s, event_id, values, reset, actor=ctx.actor, now=ctx.now, priority=priority)
    )
    return JSONResponse({"change": change_json(change), "event": event_json(_state(ctx, event_id))})


def _reason(ctx: Context) -> str:
    return ctx.field("reason")


def _hide_event(ctx: Context) -> Change:
    event_id, priority, reason = _event_id(ctx), _priority(ctx), _reason(ctx)
    return _change(
        ctx,
        lambda s: hide_event(s, event_id, reason, actor=ctx.actor, now=ctx.now, priority=priority),
        note=reason,
    )


def _unhide_event(ctx: Context) -> Change:
    event_id, priority = _event_id(ctx), _priority(ctx)
    return _change(ctx, lambda s: unhide_event(s, event_id, actor=ctx.actor, now=ctx.now, priority=priority))


def _highlight(ctx: Context) -> Change:
    event_id, priority = _event_id(ctx), _priority(ctx)
    body = ctx.body if isinstance(ctx.body, dict) else {}
    on = ctx.field("on") == "true" if ctx.form is not None else body.get("on") is True
    until: Any = ctx.field("until") or None
    return _change(
        ctx,
        lambda s: set_highlight(s, event_id, on, until, actor=ctx.actor, now=ctx.now, priority=priority),
    )


def _form_action(
    action: Callable[[Context], Change], notice: str, page: Callable[..., Response]
) -> Callable[[Context], Response]:
    """A form handler: run ``action``, then back to its page with ``notice`` (or the form with the error)."""

    def handler(ctx: Context) -> Response:
        try:
            change = action(ctx)
        except Problem as problem:
            if problem.status != 400:
                raise
            return _redo(ctx, problem, page)
        back = f"/admin/events/{quote(change.event_id, safe='')}"
        if change.target_kind == "occurrence":
            back += f"/occurrences/{quote(change.target_id, safe='')}"
        return ctx.done(back, notice if change.changed else "event_unchanged")

    return handler


def _api_action(action: Callable[[Context], Change]) -> Callable[[Context], Response]:
    def handler(ctx: Context) -> Response:
        change = action(ctx)
        return JSONResponse(
            {"change": change_json(change), "event": event_json(_state(ctx, change.event_id))}
        )

    return handler


# -- one occurrence --------------------------------------------------------------------------------


def _checked_occurrence(ctx: Context) -> str:
    """The occurrence id of the path, checked to belong to the event of the path."""
    event_id, occurrence_id = _event_id(ctx), str(ctx.request.path_params["oid"])
    with ctx.factory() as session:
        occurrence = session.get(Occurrence, occurrence_id)
        if occurrence is None or occurrence.event_id != event_id:
            raise Problem(404, ctx.t("ev_date_not_found"))
    return occurrence_id


def _local(value: datetime | None) -> str:
    """A datetime-local input's value (Berlin wall-clock time)."""
    return "" if value is None else value.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")


def occurrence_page(ctx: Context, *, status: int = 200, error: str = "", error_field: str = "") -> Response:
    """``/admin/events/{id}/occurrences/{oid}``: the date's fields with provenance, editing, hiding."""
    state = _state(ctx, _event_id(ctx))
    occurrence = _occurrence(ctx, state)
    values = {
        f.name: _local(f.value) if f.name in ("start", "end") else ("" if f.value is None else str(f.value))
        for f in occurrence.fields
    }
    if error and ctx.form is not None:  # show what was sent, so that nothing typed is lost
        values.update({name: ctx.field(name) for name in OCCURRENCE_FIELDS if ctx.form.get(name) is not None})
    event_url = f"/admin/events/{quote(state.id, safe='')}"
    return ctx.render(
        "occurrence_edit.html",
        status=status,
        ev=state,
        occ=occurrence,
        values=values,
        statuses=[s.value for s in Status],
        error=error,
        error_field=error_field,
        event_url=event_url,
        occurrence_url=f"{event_url}/occurrences/{quote(occurrence.id, safe='')}",
        reason=ctx.field("reason") if error else "",
        shown=_shown(ctx),
    )


def _occurrence_form_changes(ctx: Context, occurrence: OccurrenceState) -> tuple[dict[str, Any], list[str]]:
    assert ctx.form is not None
    reset = [name for name in OCCURRENCE_FIELDS if ctx.field(f"reset_{name}") == "on"]
    values: dict[str, Any] = {}
    for field in occurrence.fields:
        if field.name in reset:
            continue
        raw = ctx.field(field.name)
        current = _local(field.value) if field.name in ("start", "end") else (field.value or "")
        if raw != current:
            values[field.name] = raw
    return values, reset


def save_occurrence(ctx: Context) -> Response:
    """The date's edit form."""
    occurrence_id = _checked_occurrence(ctx)
    occurrence = _occurrence(ctx, _state(ctx, _event_id(ctx)))
    values, reset = _occurrence_form_changes(ctx, occurrence)
    back = f"/admin/events/{quote(_event_id(ctx), safe='')}/occurrences/{quote(occurrence_id, safe='')}"
    if not values and not reset:
        return ctx.done(back, "event_unchanged")
    priority = _priority(ctx)
    try:
        _change(
            ctx,
            lambda s: edit_occurrence(
                s, occurrence_id, values, reset, actor=ctx.actor, now=ctx.now, priority=priority
            ),
        )
    except Problem as problem:
        if problem.status != 400:
            raise
        return _redo(ctx, problem, occurrence_page)
    return ctx.done(back, "event_saved")


def patch_occurrence_api(ctx: Context) -> Response:
    """``PATCH /api/v1/admin/events/{id}/occurrences/{oid}`` with ``{"fields": …, "reset": […]}``."""
    occurrence_id = _checked_occurrence(ctx)
    values, reset = _edit_body(ctx)
    priority = _priority(ctx)
    change = _change(
        ctx,
        lambda s: edit_occurrence(
            s, occurrence_id, values, reset, actor=ctx.actor, now=ctx.now, priority=priority
        ),
    )
    return JSONResponse({"change": change_json(change), "event": event_json(_state(ctx, change.event_id))})


def _hide_occurrence(ctx: Context) -> Change:
    occurrence_id, priority, reason = _checked_occurrence(ctx), _priority(ctx), _reason(ctx)
    return _change(
        ctx,
        lambda s: hide_occurrence(s, occurrence_id, reason, actor=ctx.actor, now=ctx.now, priority=priority),
        note=reason,
    )


def _unhide_occurrence(ctx: Context) -> Change:
    occurrence_id, priority = _checked_occurrence(ctx), _priority(ctx)
    return _change(
        ctx, lambda s: unhide_occurrence(s, occurrence_id, actor=ctx.actor, now=ctx.now, priority=priority)
    )


def _highlight_notice(ctx: Context) -> Response:
    on = ctx.field("on") == "true"
    return _form_action(_highlight, "event_highlighted" if on else "event_unhighlighted", event_page)(ctx)


# -- registration ----------------------------------------------------------------------------------


def register(console: Console) -> None:
    """The event pages under ``/admin/events`` and their JSON API under ``/api/v1/admin/events``."""
    one = "/events/{id}"
    date_path = "/events/{id}/occurrences/{oid}"
    console.page("/events", events_page, roles=EDITORS)
    console.page(one, event_page, roles=EDITORS)
    console.page(one, save_event, roles=EDITORS, methods=("POST",))
    console.page(
        f"{one}/hide", _form_action(_hide_event, "event_hidden", event_page), roles=EDITORS, methods=("POST",)
    )
    console.page(
        f"{one}/unhide",
        _form_action(_unhide_event, "event_shown", event_page),
        roles=EDITORS,
        methods=("POST",),
    )
    console.page(f"{one}/highlight", _highlight_notice, roles=EDITORS, methods=("POST",))
    console.page(date_path, occurrence_page, roles=EDITORS)
    console.page(date_path, save_occurrence, roles=EDITORS, methods=("POST",))
    console.page(
        f"{date_path}/hide",
        _form_action(_hide_occurrence, "event_hidden", occurrence_page),
        roles=EDITORS,
        methods=("POST",),
    )
    console.page(
        f"{date_path}/unhide",
        _form_action(_unhide_occurrence, "event_shown", occurrence_page),
        roles=EDITORS,
        methods=("POST",),
    )

    console.api("/events", events_api, roles=EDITORS)
    console.api(one, event_api, roles=EDITORS)
    console.api(one, patch_event_api, roles=EDITORS, methods=("PATCH",))
    console.api(f"{one}/hide", _api_action(_hide_event), roles=EDITORS, methods=("POST",))
    console.api(f"{one}/unhide", _api_action(_unhide_event), roles=EDITORS, methods=("POST",))
    console.api(f"{one}/highlight", _api_action(_highlight), roles=EDITORS, methods=("POST",))
    console.api(date_path, patch_occurrence_api, roles=EDITORS, methods=("PATCH",))
    console.api(f"{date_path}/hide", _api_action(_hide_occurrence), roles=EDITORS, methods=("POST",))
    console.api(f"{date_path}/unhide", _api_action(_unhide_occurrence), roles=EDITORS, methods=("POST",))


# -- OpenAPI ---------------------------------------------------------------------------------------

_SECURITY: list[dict[str, list[str]]] = [{"consoleSession": []}, {"personalKey": []}]
_REFUSALS = {
    "401": {"description": "not signed in"},
    "403": {"description": "not an editor or admin, or no valid CSRF token"},
}
_ID = {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}, "description": "Event id."}
_OID = {
    "name": "oid",
    "in": "path",
    "required": True,
    "schema": {"type": "string"},
    "description": "Occurrence id (of this event).",
}
_EDIT_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {
                    "fields": {
                        "type": "object",
                        "description": 'Field → the editor\'s value; it wins over every source (null or "" '
                        "means none).",
                    },
                    "reset": {
                        "type": "array",
                        "items": {"type": "string"},
                        "description": "Fields given back to the sources.",
                    },
                },
                "additionalProperties": False,
            }
        }
    },
}
_REASON_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "properties": {"reason": {"type": "string", "minLength": 1, "maxLength": 1000}},
                "required": ["reason"],
            }
        }
    },
}
_CHANGED = {
    "200": {"description": "change (action, before, after) and the event with per-field provenance"},
    "400": {"description": "bad input; `field` names it, nothing was changed"},
    "404": {"description": "no such event (or date of it)"},
    **_REFUSALS,
}


def _post(
    summary: str, parameters: list[dict[str, Any]], body: dict[str, Any] | None = None
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": ["admin"],
        "summary": summary,
        "security": _SECURITY,
        "parameters": parameters,
        "responses": _CHANGED,
    }
    if body is not None:
        operation["requestBody"] = body
    return {"post": operation}


def _query(name: str, schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "schema": schema, "description": description}


_CHOICE = {"type": "string", "enum": ["true", "false"]}
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/events": {
        "get": {
            "tags": ["admin"],
            "summary": "Search every event, hidden and past ones too (50 a page)",
            "security": _SECURITY,
            "parameters": [
                _query(
                    "q",
                    {"type": "string", "maxLength": 200},
                    "Words in title, text, venue, organiser; or an id.",
                ),
                _query("venue", {"type": "string"}, "Venue slug."),
                _query("from", {"type": "string", "format": "date"}, "Dates from this Berlin day."),
                _query("to", {"type": "string", "format": "date"}, "Dates through this Berlin day."),
                _query("hidden", _CHOICE, "true: the event or a date of it is hidden; false: not hidden."),
                _query("highlight", _CHOICE, "An editors' pick today, or not."),
                _query("edited", _CHOICE, "An editor set a field of it, or not."),
                _query("page", {"type": "integer", "minimum": 1}, "Page number."),
                _query("per_page", {"type": "integer", "minimum": 1, "maximum": 100}, "Results a page."),
            ],
            "responses": {
                "200": {"description": "events, total, page, pages"},
                "400": {"description": "a bad filter; `field` names it"},
                **_REFUSALS,
            },
        }
    },
    "/api/v1/admin/events/{id}": {
        "get": {
            "tags": ["admin"],
            "summary": "One event with per-field provenance, marks, dates and source records",
            "security": _SECURITY,
            "parameters": [_ID],
            "responses": {
                "200": {"description": "the event"},
                "404": {"description": "no such event"},
                **_REFUSALS,
            },
        },
        "patch": {
            "tags": ["admin"],
            "summary": "Set editors' values of fields (title, subtitle, description, categories, url, image, "
            "organiser, venue) or give them back to the sources",
            "security": _SECURITY,
            "parameters": [_ID],
            "requestBody": _EDIT_BODY,
            "responses": _CHANGED,
        },
    },
    "/api/v1/admin/events/{id}/hide": _post(
        "Hide the event from every public page, list, widget and feed", [_ID], _REASON_BODY
    ),
    "/api/v1/admin/events/{id}/unhide": _post("Show a hidden event again", [_ID]),
    "/api/v1/admin/events/{id}/highlight": _post(
        "Mark the event as an editors' pick (through `until`, a date, or without end) or unmark it",
        [_ID],
        {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "on": {"type": "boolean"},
                            "until": {"type": ["string", "null"], "format": "date"},
                        },
                        "required": ["on"],
                    }
                }
            },
        },
    ),
    "/api/v1/admin/events/{id}/occurrences/{oid}": {
        "patch": {
            "tags": ["admin"],
            "summary": "Set editors' values of a date's fields (start, end, status, room) or give them back",
            "security": _SECURITY,
            "parameters": [_ID, _OID],
            "requestBody": _EDIT_BODY,
            "responses": _CHANGED,
        }
    },
    "/api/v1/admin/events/{id}/occurrences/{oid}/hide": _post(
        "Hide one date from every public list and feed (it leaves feeds; not reported as cancelled)",
        [_ID, _OID],
        _REASON_BODY,
    ),
    "/api/v1/admin/events/{id}/occurrences/{oid}/unhide": _post("Show a hidden date again", [_ID, _OID]),
}
