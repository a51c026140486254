"""Entering events in the venue portal: a form for one date or a series, and per-date cancel and move.

Every write goes through the push API's one write path (:func:`calendar_api.push.handlers.apply_write`)
with the venue's portal token (:func:`calendar_api.push.tokens.portal_token`): the same validation,
the same venue check (a place that is another venue's is refused), the same source ``push:<venue>``
ranked as kind ``push``, and an entry in the venue's push log. The account's action is audited too.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from aggregator.audit import record
from aggregator.ingest import IngestContext
from aggregator.models import Event, Occurrence, SourceRecord
from aggregator.normalise.venues import load_venues
from calendar_api.admin.console import PORTAL_PREFIX, VENUES, Console, Context, NavItem, Problem, Texts
from calendar_api.admin.event_form import (
    AVAILABILITIES,
    STATUSES,
    EventInput,
    FormError,
    documents,
    new_series_id,
    parse_day,
    parse_time,
)
from calendar_api.push.audit import record_write
from calendar_api.push.handlers import Answer, apply_write
from calendar_api.push.push_problems import PushProblem
from calendar_api.push.tokens import PushToken, TokenError, default_source, portal_token

TEXTS: Texts = {
    "nav_portal_new": ("Termin eintragen", "Enter an event"),
    "entry_title": ("Termin eintragen", "Enter an event"),
    "entry_intro": (
        "Ein Termin oder eine Reihe: mehrere Daten (eines pro Zeile) oder wöchentlich. Der Termin steht "
        "sofort im Stadtkalender, im Widget und in den Feeds.",
        "One date or a series: several dates (one per line) or weekly. The event appears at once in the "
        "calendar, the widget and the feeds.",
    ),
    "entry_what": ("Was", "What"),
    "entry_when": ("Wann", "When"),
    "entry_where": ("Wo", "Where"),
    "entry_tickets": ("Karten", "Tickets"),
    "entry_more": ("Weitere Angaben", "More details"),
    "entry_name": ("Titel", "Title"),
    "entry_venue": ("Ort", "Venue"),
    "entry_room": ("Raum (optional)", "Room (optional)"),
    "entry_dates": (
        "Daten, eines pro Zeile (z. B. 05.12.2026 19:30 oder 2026-12-05 19:30)",
        "Dates, one per line (e.g. 2026-12-05 19:30 or 05.12.2026 19:30)",
    ),
    "entry_time": (
        "Beginn (Uhrzeit für Daten ohne Uhrzeit und für die Woche)",
        "Start time (for dates without one, and the weekly rule)",
    ),
    "entry_end_time": ("Ende (Uhrzeit, optional)", "End time (optional)"),
    "entry_weekly": ("Oder wöchentlich", "Or weekly"),
    "entry_weekly_from": ("Erster Tag", "First day"),
    "entry_weekly_until": ("Letzter Tag", "Last day"),
    "entry_weekly_except": (
        "Außer an diesen Tagen (durch Komma getrennt)",
        "Except on these days (comma-separated)",
    ),
    "entry_price_min": ("Preis ab (Euro)", "Price from (euros)"),
    "entry_price_max": ("Preis bis (Euro, optional)", "Price up to (euros, optional)"),
    "entry_ticket_url": ("Link zum Kartenkauf", "Ticket link"),
    "entry_availability": ("Verfügbarkeit", "Availability"),
    "availability_": ("keine Angabe", "not stated"),
    "availability_available": ("Karten erhältlich", "tickets available"),
    "availability_few_left": ("wenige Karten", "few tickets left"),
    "availability_sold_out": ("ausverkauft", "sold out"),
    "availability_waiting_list": ("Warteliste", "waiting list"),
    "entry_status": ("Status", "Status"),
    "entry_image": ("Bild (Adresse, https://…)", "Image (address, https://…)"),
    "entry_url": ("Webseite der Veranstaltung", "The event's web page"),
    "entry_description": ("Beschreibung", "Description"),
    "entry_language": ("Sprache (z. B. de, en; optional)", "Language (e.g. de, en; optional)"),
    "entry_categories": ("Kategorien", "Categories"),
    "entry_save": ("Veröffentlichen", "Publish"),
    "entry_refused": ("Nicht veröffentlicht:", "Not published:"),
    "notice_event_published": (
        "Veröffentlicht – der Termin steht jetzt im Stadtkalender.",
        "Published – the event is in the calendar now.",
    ),
    "notice_date_cancelled": ("Der Termin ist abgesagt.", "The date is cancelled."),
    "notice_date_moved": ("Der Termin ist verschoben.", "The date is moved."),
    "date_cancel": ("Absagen", "Cancel"),
    "date_move": ("Verschieben auf", "Move to"),
    "date_new_day": ("Neuer Tag", "New day"),
    "date_new_time": ("Neue Uhrzeit", "New time"),
    "date_not_yours": (
        "Diesen Termin haben Sie nicht selbst eingetragen; ändern Sie ihn dort, wo er herkommt, oder "
        "schreiben Sie der Redaktion.",
        "You did not enter this date yourself; change it where it comes from, or write to the editors.",
    ),
    "form_bad_day": ("„{value}“ ist kein Datum wie 05.12.2026.", "{value!r} is not a date like 2026-12-05."),
    "form_bad_time": ("„{value}“ ist keine Uhrzeit wie 19:30.", "{value!r} is not a time like 19:30."),
    "form_no_time": (
        "„{value}“ hat keine Uhrzeit; geben Sie eine an oder den Beginn unten.",
        "{value!r} has no time; add one, or the start time below.",
    ),
    "form_no_dates": ("Geben Sie mindestens ein Datum an.", "Give at least one date."),
    "form_too_many_dates": ("Höchstens {most} Daten auf einmal.", "At most {most} dates at once."),
    "form_until_before_from": ("Der letzte Tag liegt vor dem ersten.", "The last day is before the first."),
    "form_weekly_needs_time": (
        "Die wöchentliche Reihe braucht eine Uhrzeit (Beginn).",
        "The weekly rule needs a start time.",
    ),
    "form_bad_price": ("„{value}“ ist kein Preis wie 12,50.", "{value!r} is not a price like 12.50."),
    "form_price_order": (
        "Der Höchstpreis liegt unter dem Mindestpreis.",
        "The highest price is below the lowest.",
    ),
    "form_no_title": ("Der Titel fehlt.", "The title is missing."),
    "form_bad_choice": ("„{value}“ ist keine der Möglichkeiten.", "{value!r} is not one of the choices."),
    "form_not_your_venue": (
        "Sie können nur für Ihre eigenen Orte eintragen.",
        "You can enter events for your own venues only.",
    ),
}

NAV = [NavItem(f"{PORTAL_PREFIX}/new", "nav_portal_new", VENUES)]

FORM_FIELDS = tuple(name for name in EventInput.__dataclass_fields__ if name != "categories")
"""The form's single-valued fields (categories are repeated)."""


def ingest_context(ctx: Context) -> IngestContext:
    """The runtime's ingest context (its source kinds rank the sources), or one of the settings."""
    context = getattr(ctx.console.runtime, "ingest_context", None)
    if isinstance(context, IngestContext):
        return context
    return IngestContext(ctx.factory, ctx.console.settings, clock=ctx.console.clock)


def portal_write_token(ctx: Context) -> PushToken:
    """The account's portal token (made at the first write); 409 when its push source is another's."""
    assert ctx.account is not None
    try:
        return portal_token(
            ctx.factory,
            ctx.account.venues,
            registry=load_venues(),
            reserved=set(ctx.console.runtime.specs),
            now=ctx.now,
        )
    except TokenError as exc:
        raise Problem(409, exc.message) from exc


def write(
    ctx: Context,
    action: str,
    record_id: str | None,
    nodes: list[dict[str, Any]] | bytes | None,
    audit: str,
    *,
    content_type: str = "application/ld+json",
) -> Answer:
    """Write through the push API's path with the portal token; log it as a push and audit it.

    ``nodes`` are schema.org Event objects, or a whole body of ``content_type`` (an uploaded file).
    Raises :class:`PushProblem` when the write is refused (nothing was written; the refusal is logged).
    """
    token = portal_write_token(ctx)
    if isinstance(nodes, bytes):
        body = nodes
    else:
        body = json.dumps(nodes, ensure_ascii=False).encode("utf-8") if nodes is not None else b""
    status, summary = 500, {"error": "push-write-failed"}
    try:
        answer = apply_write(ingest_context(ctx), token, action, record_id, body, content_type, ctx.now)
        status = answer.status
        summary = {k: answer.body[k] for k in ("run_id", "counts", "records") if k in answer.body}
        return answer
    except PushProblem as problem:
        status = problem.status
        summary = {
            "error": problem.kind,
            "detail": problem.detail,
            **{k: v for k, v in problem.extra.items() if k == "errors"},
        }
        raise
    finally:
        record_write(
            ctx.factory,
            token,
            method="POST",
            path=ctx.request.url.path,
            status=status,
            summary={**summary, "via": "portal", "account": ctx.actor.label},
            now=ctx.now,
        )
        with ctx.factory() as session, session.begin():
            record(
                session,
                ctx.actor,
                audit,
                "push_source",
                token.source,
                at=ctx.now,
                after={"status": status, **summary},
            )


def account_venues(ctx: Context) -> dict[str, str]:
    """The account's venues (slug → name from the registry), the form's choices."""
    assert ctx.account is not None
    registry = load_venues()
    names = {}
    for slug in ctx.account.venues:
        info = registry.get(slug)
        names[slug] = info.name if info else slug
    return names


def category_choices(ctx: Context) -> list[tuple[str, str]]:
    """The vocabulary's categories as (value, label in the request's language)."""
    vocabulary = ingest_context(ctx).categories
    return [(c.de, c.de if ctx.lang == "de" else c.en) for c in vocabulary.all()]


def _form_page(
    ctx: Context,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    chosen: tuple[str, ...] = (),
    errors: list[str] | None = None,
    field: str | None = None,
) -> Response:
    names = account_venues(ctx)
    return ctx.render(
        "portal_new.html",
        status=status,
        values=values or {"venue": next(iter(names), ""), "status": "scheduled", "availability": ""},
        chosen=chosen,
        errors=errors or [],
        error_field=field,
        venues=names,
        statuses=STATUSES,
        availabilities=AVAILABILITIES,
        categories=category_choices(ctx),
    )


def new_event(ctx: Context) -> Response:
    """``/venue/new``: the event form."""
    return _form_page(ctx)


def add_event(ctx: Context) -> Response:
    """Publish the form's event (all its dates) through the push write path."""
    values = {name: ctx.field(name) for name in FORM_FIELDS}
    chosen = tuple(ctx.fields("categories"))
    form = EventInput.of(values, chosen)
    names = account_venues(ctx)
    try:
        if form.venue not in names:
            raise FormError("venue", "form_not_your_venue")
        nodes = documents(form, venue_name=names[form.venue], series=new_series_id())
    except FormError as exc:
        return _form_page(
            ctx,
            status=400,
            values=values,
            chosen=chosen,
            errors=[ctx.t(exc.key, **exc.values)],
            field=exc.field,
        )
    try:
        answer = write(ctx, "upsert", None, nodes, "portal.event_publish")
    except PushProblem as problem:
        errors = problem.extra.get("errors", [])[:20]
        reasons = [problem.detail, *(f"{e.get('path', '')}: {e.get('reason', '')}" for e in errors)]
        return _form_page(
            ctx,
            status=problem.status if problem.status in (403, 409) else 400,
            values=values,
            chosen=chosen,
            errors=reasons,
        )
    event_id = next((r.get("event_id") for r in answer.body["records"] if r.get("event_id")), None)
    return ctx.done(f"{PORTAL_PREFIX}/events/{event_id}", "event_published")


def _own_record(ctx: Context, occurrence_id: str) -> tuple[str, str, dict[str, Any]]:
    """The portal source's record of the date ``occurrence_id`` of one of the account's venues.

    404 for another venue's date or an unknown one; 403 for a date of the venue that another source gave.
    """
    assert ctx.account is not None
    source = default_source(ctx.account.venues)
    with ctx.factory() as session:
        row = session.execute(
            select(Occurrence.id, Event.id, Event.venue_slug)
            .join(Event, Event.id == Occurrence.event_id)
            .where(Occurrence.id == occurrence_id)
        ).one_or_none()
        if row is None or row[2] not in ctx.account.venues:
            raise Problem(404, ctx.t("portal_not_yours"))
        found = session.scalars(
            select(SourceRecord).where(
                SourceRecord.occurrence_id == occurrence_id, SourceRecord.source == source
            )
        ).first()
        if found is None:
            raise Problem(403, ctx.t("date_not_yours"))
        return str(row[1]), found.record_id, dict(found.raw.get("jsonld") or {})


def cancel_date(ctx: Context) -> Response:
    """Cancel one date the venue entered (its record says ``EventCancelled``)."""
    event_id, record_id, _node = _own_record(ctx, str(ctx.request.path_params["occurrence_id"]))
    try:
        write(ctx, "cancel", record_id, None, "portal.date_cancel")
    except PushProblem as problem:
        raise Problem(problem.status, problem.detail) from problem
    return ctx.done(f"{PORTAL_PREFIX}/events/{event_id}", "date_cancelled")


def move_date(ctx: Context) -> Response:
    """Move one date the venue entered to a new day and time (rescheduled, with its previous start)."""
    event_id, _record_id, node = _own_record(ctx, str(ctx.request.path_params["occurrence_id"]))
    try:
        day = parse_day(ctx.field("day"), "day")
        at = parse_time(ctx.field("time"), "time")
    except FormError as exc:
        raise Problem(400, ctx.t(exc.key, **exc.values), field=exc.field) from exc
    if not node:
        raise Problem(403, ctx.t("date_not_yours"))
    old_start = str(node.get("startDate", ""))
    new_start = f"{day.isoformat()}T{at.strftime('%H:%M')}"
    moved = {**node, "startDate": new_start, "previousStartDate": node.get("previousStartDate", old_start)}
    moved["eventStatus"] = "https://schema.org/EventRescheduled"
    if "endDate" in node:
        try:
            shift = datetime.fromisoformat(new_start) - datetime.fromisoformat(old_start)
            moved["endDate"] = (datetime.fromisoformat(str(node["endDate"])) + shift).isoformat(
                timespec="minutes"
            )
        except ValueError:
            moved.pop("endDate")
    try:
        write(ctx, "upsert", None, [moved], "portal.date_move")
    except PushProblem as problem:
        raise Problem(problem.status, problem.detail) from problem
    return ctx.done(f"{PORTAL_PREFIX}/events/{event_id}", "date_moved")


def register(console: Console) -> None:
    """``/venue/new`` and the per-date actions, for venue accounts."""
    console.page("/new", new_event, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/new", add_event, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
    console.page(
        "/dates/{occurrence_id}/cancel", cancel_date, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX
    )
    console.page(
        "/dates/{occurrence_id}/move", move_date, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX
    )
