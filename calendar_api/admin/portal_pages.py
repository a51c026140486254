"""The venue portal ``/venue``: a venue account's events as the public sees them, with the source of
every field and what editors changed, and the health of every source that feeds its venues.

The pages are the console's (sessions, CSRF, guard, texts) under :data:`PORTAL_PREFIX`, for the role
``venue`` only; every read is bounded to the account's venues — another venue's event is a 404.
"""

from __future__ import annotations

from starlette.responses import Response

from aggregator.health import source_health
from aggregator.venue_portal import venue_event, venue_events, venue_names, venue_sources
from calendar_api.admin.console import PORTAL_PREFIX, VENUES, Console, Context, NavItem, Problem, Texts
from calendar_api.push.tokens import default_source

TEXTS: Texts = {
    "nav_portal": ("Meine Termine", "My events"),
    "portal_title": ("Ihre Termine im Stadtkalender", "Your events in the Stadtkalender"),
    "portal_intro": (
        "So sieht das Publikum Ihre Termine. Jede Angabe nennt die Quelle, aus der sie stammt.",
        "This is how the public sees your events. Every detail names the source it came from.",
    ),
    "portal_venue": ("Ort", "Venue"),
    "portal_events": ("Termine", "Events"),
    "portal_no_events": ("Zurzeit keine kommenden Termine.", "No upcoming events at the moment."),
    "portal_event": ("Veranstaltung", "Event"),
    "portal_next": ("Nächster Termin", "Next date"),
    "portal_dates": ("Termine", "Dates"),
    "portal_cancelled_count": ("davon abgesagt", "of them cancelled"),
    "portal_sources": ("Quellen", "Sources"),
    "portal_sources_title": ("Quellen, die Ihre Orte speisen", "Sources that feed your venues"),
    "portal_no_sources": ("Noch speist keine Quelle Ihre Orte.", "No source feeds your venues yet."),
    "portal_source": ("Quelle", "Source"),
    "portal_health": ("Zustand", "Health"),
    "portal_last_run": ("Letzter Lauf", "Last run"),
    "portal_last_success": ("Letzter Erfolg", "Last success"),
    "portal_records": ("Einträge", "Records"),
    "portal_error": ("Meldung", "Message"),
    "portal_public_page": ("Öffentliche Seite", "Public page"),
    "portal_fields": ("Angaben und ihre Herkunft", "Details and where they come from"),
    "portal_field": ("Angabe", "Detail"),
    "portal_value": ("Wert", "Value"),
    "portal_from": ("Quelle", "Source"),
    "portal_categories": ("Kategorien", "Categories"),
    "portal_start": ("Beginn", "Start"),
    "portal_end": ("Ende", "End"),
    "portal_status": ("Status", "Status"),
    "portal_previous": ("ursprünglich {when}", "originally {when}"),
    "portal_room": ("Raum", "Room"),
    "portal_offers": ("Karten (Quelle)", "Tickets (source)"),
    "portal_records_title": ("Einträge der Quellen", "The sources' records"),
    "portal_record": ("Eintrag", "Record"),
    "portal_inactive": ("nicht mehr geliefert", "no longer delivered"),
    "portal_edits": ("Änderungen der Redaktion", "The editors' changes"),
    "portal_no_edits": ("Die Redaktion hat nichts geändert.", "The editors have changed nothing."),
    "portal_edit_by": ("Wer", "Who"),
    "portal_edit_action": ("Was", "What"),
    "portal_edit_when": ("Wann", "When"),
    "portal_back": ("Zurück zu Ihren Terminen", "Back to your events"),
    "portal_not_yours": (
        "Diese Veranstaltung gehört nicht zu Ihren Orten oder existiert nicht.",
        "This event is not at one of your venues, or does not exist.",
    ),
    "field_title": ("Titel", "Title"),
    "field_subtitle": ("Untertitel", "Subtitle"),
    "field_description": ("Beschreibung", "Description"),
    "field_language": ("Sprache", "Language"),
    "field_image": ("Bild", "Image"),
    "field_url": ("Webseite", "Web page"),
    "field_organiser": ("Veranstalter", "Organiser"),
}

NAV = [NavItem(f"{PORTAL_PREFIX}/", "nav_portal", VENUES)]


def _slugs(ctx: Context) -> tuple[str, ...]:
    assert ctx.account is not None
    return ctx.account.venues


def home(ctx: Context) -> Response:
    """``/venue/``: the account's events by venue, and the health of the sources feeding them."""
    slugs = _slugs(ctx)
    with ctx.factory() as session:
        names = venue_names(session, slugs)
        events = venue_events(session, slugs, now=ctx.now)
        feeding = set(venue_sources(session, slugs))
    health = [row for row in source_health(ctx.factory, ctx.console.runtime.specs) if row.name in feeding]
    by_venue = {slug: [e for e in events if e.venue_slug == slug] for slug in slugs}
    own_source = default_source(slugs)
    return ctx.render(
        "portal_home.html", names=names, by_venue=by_venue, health=health, own_source=own_source
    )


def event(ctx: Context) -> Response:
    """``/venue/events/{event_id}``: one event of the account's venues with its provenance."""
    with ctx.factory() as session:
        detail = venue_event(
            session,
            str(ctx.request.path_params["event_id"]),
            _slugs(ctx),
            own_source=default_source(_slugs(ctx)),
        )
        names = venue_names(session, _slugs(ctx))
    if detail is None:
        raise Problem(404, ctx.t("portal_not_yours"))
    return ctx.render("portal_event.html", event=detail, venue_name=names[detail.venue_slug])


def register(console: Console) -> None:
    """``/venue/`` and ``/venue/events/{event_id}``, for venue accounts."""
    console.page("/", home, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/events/{event_id}", event, roles=VENUES, prefix=PORTAL_PREFIX)
