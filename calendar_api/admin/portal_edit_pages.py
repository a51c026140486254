"""Editing an event the venue published itself (portal form, upload or push token) in the venue portal.

The form is the entry form (:mod:`calendar_api.admin.portal_entry_pages`) prefilled from the venue's
own push records of the event; saving sends every date again through the push API's one write path
(:func:`calendar_api.admin.portal_entry_pages.write`) under the records' own ids, so it is an update of
the same records — provenance stays ``push:<venue>``, SEQUENCE rises in the feeds. An upcoming date left
out of the form is sent as cancelled, as a venue's own system would push it; the page shows those dates
and asks for a confirmation first. Past dates are not in the form: they are sent again with the new
details and their own status, so every date of the event tells the same story.

Events the venue did not publish (read by the city's sources from its website) cannot be edited here:
the page says where they come from and what the venue can do instead.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import select
from starlette.responses import Response

from aggregator.listing import Listing
from aggregator.models import Event, SourceRecord
from aggregator.normalise.categories import CategoryVocabulary
from aggregator.serialise import listing_from_data
from aggregator.types import BERLIN, Status
from calendar_api.admin.console import PORTAL_PREFIX, VENUES, Console, Context, Problem, Texts
from calendar_api.admin.event_form import (
    AVAILABILITIES,
    STATUSES,
    EventInput,
    FormError,
    dates_of,
    documents,
)
from calendar_api.admin.portal_entry_pages import (
    FORM_FIELDS,
    account_venues,
    category_choices,
    ingest_context,
    write,
)
from calendar_api.push.batch import PAST
from calendar_api.push.push_problems import PushProblem
from calendar_api.push.tokens import default_source

TEXTS: Texts = {
    "edit_action": ("Bearbeiten", "Edit"),
    "edit_title": ("Veranstaltung bearbeiten", "Edit the event"),
    "edit_intro": (
        "Ändern Sie die Angaben und die kommenden Termine (einer pro Zeile). Ein Termin, den Sie aus der "
        "Liste löschen, wird abgesagt; vergangene Termine bleiben, wie sie sind.",
        "Change the details and the upcoming dates (one per line). A date you delete from the list is "
        "cancelled; past dates stay as they are.",
    ),
    "edit_save": ("Änderungen speichern", "Save the changes"),
    "edit_confirm_title": ("Diese Termine werden abgesagt", "These dates will be cancelled"),
    "edit_confirm_intro": (
        "Sie haben Termine aus der Liste gelöscht. Beim Speichern werden sie abgesagt (im Kalender und "
        "in den Feeds als abgesagt sichtbar):",
        "You deleted dates from the list. Saving cancels them (they show as cancelled in the calendar "
        "and the feeds):",
    ),
    "edit_confirm": ("Absagen und Änderungen speichern", "Cancel them and save the changes"),
    "edit_not_own_title": (
        "Diese Veranstaltung können Sie hier nicht bearbeiten",
        "You cannot edit this event here",
    ),
    "edit_not_own": (
        "Sie haben diese Veranstaltung nicht selbst veröffentlicht: Sie stammt aus {sources}, die der "
        "Stadtkalender z. B. von Ihrer Webseite liest. Ändern Sie sie dort, wo sie herkommt – die "
        "Änderung erscheint mit dem nächsten Abruf – oder schreiben Sie der Redaktion.",
        "You did not publish this event yourself: it comes from {sources}, which the calendar reads, "
        "e.g. from your website. Change it where it comes from – the change appears with the next "
        "fetch – or write to the editors.",
    ),
    "edit_push_wins": (
        "Was Sie selbst veröffentlichen (hier eintragen, als Datei hochladen oder per Push-Schnittstelle "
        "senden), geht den Angaben dieser Quellen vor und lässt sich hier bearbeiten.",
        "What you publish yourself (entered here, uploaded as a file or sent through the push API) "
        "takes precedence over these sources and can be edited here.",
    ),
    "edit_why": ("Warum kann ich das nicht bearbeiten?", "Why can't I edit this?"),
    "edit_back": ("Zurück zur Veranstaltung", "Back to the event"),
    "notice_event_updated": (
        "Gespeichert – die Änderungen stehen jetzt im Stadtkalender.",
        "Saved – the changes are in the calendar now.",
    ),
}

_PUSH_STATUS = {
    "scheduled": "https://schema.org/EventScheduled",
    "cancelled": "https://schema.org/EventCancelled",
    "postponed": "https://schema.org/EventPostponed",
    "rescheduled": "https://schema.org/EventRescheduled",
}


@dataclass(frozen=True, slots=True)
class OwnDate:
    """One of the venue's own records of the event: its id, its date (Berlin wall time) and details."""

    record_id: str
    start: datetime
    listing: Listing


@dataclass(frozen=True, slots=True)
class Owned:
    """The event as the venue's records tell it: its dates, and the id of their series."""

    event_id: str
    venue_slug: str
    dates: tuple[OwnDate, ...]
    series: str
    sources: tuple[str, ...]
    """Every active source of the event (for the explanation when none is the venue's)."""


def _wall(instant: datetime) -> datetime:
    """A stored instant as naive Berlin wall time to the minute (how the form writes dates)."""
    return instant.astimezone(BERLIN).replace(tzinfo=None, second=0, microsecond=0)


def _owned(ctx: Context) -> Owned:
    """The event of the path with the account's own records; 404 unless it is at one of its venues."""
    assert ctx.account is not None
    source = default_source(ctx.account.venues)
    event_id = str(ctx.request.path_params["event_id"])
    with ctx.factory() as session:
        event = session.get(Event, event_id)
        if event is None or event.venue_slug not in ctx.account.venues:
            raise Problem(404, ctx.t("portal_not_yours"))
        records = list(
            session.scalars(
                select(SourceRecord)
                .where(SourceRecord.event_id == event_id, SourceRecord.active.is_(True))
                .order_by(SourceRecord.record_id)
            )
        )
    dates = []
    for record in records:
        if record.source != source:
            continue
        listing = listing_from_data(record.data)
        if listing.start is not None:
            dates.append(OwnDate(record.record_id, _wall(listing.start), listing))
    dates.sort(key=lambda d: (d.start, d.record_id))
    keys = [d.listing.series_key for d in dates if d.listing.series_key]
    first = dates[0].record_id if dates else ""
    series = keys[0] if keys else (first.split("#", 1)[0] if "#" in first else first)
    sources = tuple(sorted({r.source for r in records}))
    return Owned(event_id, str(event.venue_slug), tuple(dates), series, sources)


def _upcoming(owned: Owned, now: datetime) -> list[OwnDate]:
    return [d for d in owned.dates if d.start >= _wall(now)]


def prefill(
    owned: Owned, now: datetime, vocabulary: CategoryVocabulary
) -> tuple[dict[str, str], tuple[str, ...]]:
    """The form's values from the venue's records: the upcoming dates not cancelled, the details of the
    first of them (or of the latest date when none is upcoming). Categories are those the venue sent
    (not those the title suggested), as the form's German values."""
    shown = [d for d in _upcoming(owned, now) if d.listing.status != Status.CANCELLED]
    model = (shown or list(owned.dates[-1:]))[0].listing if owned.dates else None
    values = {name: "" for name in FORM_FIELDS}
    values["venue"] = owned.venue_slug
    values["dates"] = "\n".join(d.start.strftime("%d.%m.%Y %H:%M") for d in shown)
    if model is None:
        return values, ()
    if model.end is not None and model.start is not None and not model.all_day:
        values["end_time"] = _wall(model.end).strftime("%H:%M")
    values["title"] = model.title
    values["room"] = model.room or ""
    values["status"] = "postponed" if model.status == Status.POSTPONED else "scheduled"
    for name in ("image", "url", "description", "language"):
        values[name] = str(getattr(model, name) or "")
    offer = model.offers[0] if model.offers else None
    if offer is not None:
        values["price_min"] = str(offer.price_min) if offer.price_min is not None else ""
        high = offer.price_max if offer.price_max != offer.price_min else None
        values["price_max"] = str(high) if high is not None else ""
        values["ticket_url"] = offer.url or ""
        available = offer.availability.value if offer.availability else ""
        values["availability"] = available if available in AVAILABILITIES else ""
    labels = {c.slug: c.de for c in vocabulary.all()}
    return values, tuple(labels[slug] for slug in vocabulary.map(model.categories))


@dataclass(frozen=True, slots=True)
class Plan:
    """What saving the form sends: every node, and the upcoming dates it cancels."""

    nodes: list[dict[str, Any]]
    cancelled: tuple[OwnDate, ...]


def plan(owned: Owned, form: EventInput, *, venue_name: str, now: datetime) -> Plan:
    """The nodes for the form over the venue's records; raises :class:`FormError`.

    A date in the form keeps the id of the record at that time (a new one gets ``<series>#<time>``);
    with one upcoming date before and one in the form, the date changed and the record keeps its id.
    Upcoming dates left out are sent cancelled; past dates (within the push API's range) are sent
    with their own status.
    """
    wanted = dates_of(form)
    past = [d for d in owned.dates if _wall(now - PAST) < d.start < _wall(now)]
    upcoming = _upcoming(owned, now)
    ids = {d.start: d.record_id for d in (*past, *upcoming)}
    live = [d for d in upcoming if d.listing.status != Status.CANCELLED]
    dropped = [d for d in upcoming if d.start not in wanted]
    if len(wanted) == 1 and len(live) == 1 and wanted[0] not in ids:
        ids[wanted[0]] = live[0].record_id  # the one date moved: the same record
        dropped = [d for d in dropped if d.record_id != live[0].record_id]
    starts = sorted({*wanted, *(d.start for d in past), *(d.start for d in dropped)})
    every = replace(
        form,
        dates="\n".join(s.strftime("%Y-%m-%d %H:%M") for s in starts),
        weekly_from="",
        weekly_until="",
        weekly_except="",
    )
    series = owned.series or "portal"
    by_start = {node["startDate"]: node for node in documents(every, venue_name=venue_name, series=series)}
    own_status = {d.start: d.listing for d in past} | {d.start: d.listing for d in dropped}
    nodes = []
    for start in starts:
        node = by_start[start.strftime("%Y-%m-%dT%H:%M")]
        if start in ids:
            node["@id"] = ids[start]
        if start in own_status and start not in wanted:
            old = own_status[start]
            status = "cancelled" if start not in {d.start for d in past} else (old.status or Status.SCHEDULED)
            node["eventStatus"] = _PUSH_STATUS[str(status)]
            if old.previous_start is not None and status == Status.RESCHEDULED:
                node["previousStartDate"] = _wall(old.previous_start).strftime("%Y-%m-%dT%H:%M")
        elif start in ids and form.status == "scheduled":
            old = next(d.listing for d in owned.dates if d.record_id == ids[start])
            if old.status == Status.RESCHEDULED and old.previous_start is not None:
                node["eventStatus"] = _PUSH_STATUS["rescheduled"]  # a moved date stays moved
                node["previousStartDate"] = _wall(old.previous_start).strftime("%Y-%m-%dT%H:%M")
        if len(starts) > 1:
            node["superEvent"] = series
        nodes.append(node)
    cancelled = tuple(d for d in dropped if d.listing.status != Status.CANCELLED)
    return Plan(nodes, cancelled)


def _not_own(ctx: Context, owned: Owned, *, status: int) -> Response:
    context = ingest_context(ctx)
    order = list(context.settings.dedupe.priority)

    def rank(kind: str) -> int:
        return order.index(kind) if kind in order else len(order)

    push_wins = all(rank("push") < rank(context.priority.kind(s)) for s in owned.sources)
    return ctx.render(
        "portal_edit_refused.html",
        status=status,
        event_id=owned.event_id,
        sources=", ".join(owned.sources) or "–",
        push_wins=push_wins,
    )


def _page(
    ctx: Context,
    owned: Owned,
    values: dict[str, str],
    chosen: tuple[str, ...],
    *,
    status: int = 200,
    errors: list[str] | None = None,
    field: str | None = None,
    cancelled: tuple[OwnDate, ...] = (),
) -> Response:
    return ctx.render(
        "portal_edit.html",
        status=status,
        event_id=owned.event_id,
        values=values,
        chosen=chosen,
        errors=errors or [],
        error_field=field,
        venues=account_venues(ctx),
        statuses=STATUSES,
        availabilities=AVAILABILITIES,
        categories=category_choices(ctx),
        cancelled=[d.start for d in cancelled],
        cancel_ids=[d.record_id for d in cancelled],
    )


def edit_form(ctx: Context) -> Response:
    """``/venue/events/{event_id}/edit``: the event form, prefilled (or why this event is not editable)."""
    owned = _owned(ctx)
    if not owned.dates:
        return _not_own(ctx, owned, status=200)
    values, chosen = prefill(owned, ctx.now, ingest_context(ctx).categories)
    return _page(ctx, owned, values, chosen)


def save_edit(ctx: Context) -> Response:
    """Save the form as an update of the venue's records; first show the dates it would cancel."""
    owned = _owned(ctx)
    if not owned.dates:
        return _not_own(ctx, owned, status=403)
    values = {name: ctx.field(name) for name in FORM_FIELDS}
    chosen = tuple(ctx.fields("categories"))
    form = EventInput.of(values, chosen)
    names = account_venues(ctx)
    try:
        if form.venue not in names:
            raise FormError("venue", "form_not_your_venue")
        planned = plan(owned, form, venue_name=names[form.venue], now=ctx.now)
    except FormError as exc:
        errors = [ctx.t(exc.key, **exc.values)]
        return _page(ctx, owned, values, chosen, status=400, errors=errors, field=exc.field)
    confirmed = ctx.fields("cancel_id")
    if planned.cancelled and sorted(confirmed) != sorted(d.record_id for d in planned.cancelled):
        return _page(ctx, owned, values, chosen, cancelled=planned.cancelled)
    try:
        write(ctx, "upsert", None, planned.nodes, "portal.event_edit")
    except PushProblem as problem:
        errors = problem.extra.get("errors", [])[:20]
        reasons = [problem.detail, *(f"{e.get('path', '')}: {e.get('reason', '')}" for e in errors)]
        status = problem.status if problem.status in (403, 409) else 400
        return _page(ctx, owned, values, chosen, status=status, errors=reasons)
    return ctx.done(f"{PORTAL_PREFIX}/events/{owned.event_id}", "event_updated")


def register(console: Console) -> None:
    """``/venue/events/{event_id}/edit`` (the form, and saving it), for venue accounts."""
    console.page("/events/{event_id}/edit", edit_form, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/events/{event_id}/edit", save_edit, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
