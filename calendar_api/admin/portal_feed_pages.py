"""Registering a feed URL in the venue portal: checked at once, saved as a scheduled source, its runs shown.

A venue gives the address of its calendar (iCalendar or webcal, a page with schema.org events, a WordPress
"The Events Calendar" site, an Eventim XML export). The check (:attr:`Console.feeds`, built in the wiring
from ``sources.probe``) reads it as the scheduler would and shows what it found; saving checks it again,
stores the source (:mod:`aggregator.venue_feeds`) and asks for its first run, which the scheduler starts at
its next poll. The venue then sees the feed's runs, counts and rejected entries; an editor can pause it
like any source. Places: a feed publishes only its venue's events — the check says which places its events
name and refuses a feed none of whose events are at the venue.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from aggregator.actions import ActionRefused
from aggregator.ingest import current_venues
from aggregator.models import SourceRun, VenueFeed
from aggregator.run_details import RunDetails, run_details
from aggregator.source_overview import SourceOverview, source_overview
from aggregator.venue_feeds import FeedCheck, add_feed, feeds_of, remove_feed, request_feed_run
from aggregator.venue_portal import venue_names
from calendar_api.admin.console import PORTAL_PREFIX, VENUES, Console, Context, NavItem, Problem, Texts
from calendar_api.admin.portal_entry_pages import ingest_context
from calendar_api.admin.source_pages import refusal

TEXTS: Texts = {
    "nav_portal_feeds": ("Feeds", "Feeds"),
    "feeds_title": ("Ihre Feeds", "Your feeds"),
    "feeds_intro": (
        "Hat Ihr Haus schon einen Kalender im Netz – eine iCalendar-Adresse (auch webcal), eine Seite mit "
        "schema.org-Veranstaltungen, eine WordPress-Seite mit „The Events Calendar“ oder einen "
        "Eventim-XML-Export –, dann tragen Sie seine Adresse ein. Der Stadtkalender prüft sie sofort und "
        "liest sie danach regelmäßig.",
        "If your venue already publishes a calendar – an iCalendar address (webcal too), a page with "
        "schema.org events, a WordPress site with “The Events Calendar”, or an Eventim XML export – enter "
        "its address. The Stadtkalender checks it at once and then reads it regularly.",
    ),
    "feeds_url": ("Adresse des Kalenders", "Address of the calendar"),
    "feeds_url_hint": (
        "Zum Beispiel https://www.ihr-haus.de/termine.ics oder die Seite Ihres Programms.",
        "For example https://www.your-venue.de/events.ics, or the page of your programme.",
    ),
    "feeds_venue": ("Für den Ort", "For the venue"),
    "feeds_check": ("Prüfen", "Check"),
    "feeds_none": ("Sie haben noch keinen Feed eingetragen.", "You have not registered a feed yet."),
    "feeds_source": ("Quelle", "Source"),
    "feeds_kind": ("Art", "Kind"),
    "feeds_added": ("Eingetragen", "Registered"),
    "feeds_details": ("Läufe ansehen", "See its runs"),
    "feeds_check_title": ("Prüfung von {url}", "Check of {url}"),
    "feeds_refused": ("Diese Adresse kann nicht gelesen werden:", "This address cannot be read:"),
    "feeds_not_allowed": (
        "Diese Adresse wird nicht abgerufen: nur öffentliche Adressen mit http oder https sind erlaubt, "
        "keine Adressen im eigenen Netz. Für einen Kalender im Intranet wenden Sie sich an die Redaktion.",
        "This address is not fetched: only public http or https addresses are allowed, none in a private "
        "network. For a calendar on an intranet, please contact the editors.",
    ),
    "feeds_nothing": (
        "Unter dieser Adresse wurden keine lesbaren Termine gefunden. Prüfen Sie die Adresse; eine Seite "
        "ohne Kalender oder strukturierte Daten braucht ein eigenes Programm der Redaktion.",
        "No readable events were found at this address. Check the address; a page without a calendar or "
        "structured data needs an adapter written by the editors.",
    ),
    "feeds_found": ("Gefunden", "Found"),
    "feeds_events": ("Termine", "Events"),
    "feeds_span": ("Zeitraum", "Period"),
    "feeds_missing": ("Fehlt oft", "Often missing"),
    "feeds_sample": ("Beispiele", "Examples"),
    "missing_end": ("Ende", "end"),
    "missing_price": ("Preis", "price"),
    "missing_location": ("Ort", "place"),
    "missing_description": ("Beschreibung", "description"),
    "missing_image": ("Bild", "image"),
    "missing_link": ("Link", "link"),
    "missing_events": ("Termine", "events"),
    "feeds_not_usable": ("nicht lesbar: {error}", "not readable: {error}"),
    "feeds_best": ("Gespeichert würde: {kind}", "What would be saved: {kind}"),
    "feeds_places": ("Orte, die die Termine nennen", "Places the events name"),
    "feeds_place_none": ("(kein Ort: {venue})", "(no place: {venue})"),
    "feeds_place_yours": ("Ihr Ort", "your venue"),
    "feeds_place_foreign": (
        "Ort „{venue}“ – diese Termine werden nicht übernommen",
        "the venue “{venue}” – these events are not taken",
    ),
    "feeds_place_unknown": (
        "unbekannter Ort – diese Termine werden nicht übernommen; die Redaktion kann ihn als Namen Ihres "
        "Ortes eintragen",
        "an unknown place – these events are not taken; the editors can add it as a name of your venue",
    ),
    "feeds_all_foreign": (
        "Keiner dieser Termine findet an Ihrem Ort statt; ein Feed liefert nur die Termine des eigenen "
        "Hauses.",
        "None of these events is at your venue; a feed delivers only its own venue's events.",
    ),
    "feeds_save": ("Als Feed speichern", "Save as a feed"),
    "feeds_discard": ("Verwerfen", "Discard"),
    "feeds_save_note": (
        "Beim Speichern wird die Adresse noch einmal geprüft; der erste Abruf beginnt gleich danach.",
        "Saving checks the address once more; the first run starts right after.",
    ),
    "feeds_feed_title": ("Feed {source}", "Feed {source}"),
    "feeds_url_label": ("Adresse", "Address"),
    "feeds_status": ("Zustand", "Health"),
    "feeds_paused": (
        "Von der Redaktion pausiert seit {when}.",
        "Paused by the editors since {when}.",
    ),
    "feeds_requested": (
        "Abruf angefordert um {when}; er beginnt in Kürze.",
        "Run asked for at {when}; it starts shortly.",
    ),
    "feeds_next": ("Nächster Abruf", "Next run"),
    "feeds_runs": ("Letzte Abrufe", "Recent runs"),
    "feeds_no_runs": ("Noch kein Abruf.", "No run yet."),
    "feeds_last_rejections": (
        "Nicht übernommene Einträge des letzten Abrufs",
        "Entries the last run did not take",
    ),
    "feeds_run_now": ("Jetzt abrufen", "Run now"),
    "feeds_remove": ("Feed entfernen", "Remove the feed"),
    "feeds_remove_note": (
        "Entfernen beendet die Abrufe; die Termine bleiben, wie der letzte Abruf sie hinterließ.",
        "Removing stops the runs; the events stay as the last run left them.",
    ),
    "feeds_unavailable": (
        "Diese Installation nimmt keine Feeds an; wenden Sie sich an die Redaktion.",
        "This installation takes no feeds; please contact the editors.",
    ),
    "feeds_no_url": ("Geben Sie eine Adresse ein.", "Enter an address."),
    "feeds_bad_venue": (
        "Dieser Ort gehört nicht zu Ihrem Zugang.",
        "This venue is not one of your account's.",
    ),
    "feeds_not_yours": (
        "Diesen Feed gibt es nicht oder er gehört nicht zu Ihren Orten.",
        "There is no such feed of yours.",
    ),
    "refused_already_registered": (
        "Diese Adresse ist für diesen Ort schon eingetragen.",
        "This address is registered for this venue already.",
    ),
    "refused_too_many_feeds": (
        "Dieser Ort hat schon die Höchstzahl an Feeds; entfernen Sie zuerst einen.",
        "This venue has the most feeds allowed; remove one first.",
    ),
    "refused_nothing_found": ("Die Prüfung hat keine Termine gefunden.", "The check found no events."),
    "refused_unknown_feed": (
        "Diesen Feed gibt es nicht oder er gehört nicht zu Ihren Orten.",
        "There is no such feed of yours.",
    ),
    "notice_feed_saved": (
        "Der Feed ist gespeichert; der erste Abruf beginnt in Kürze.",
        "The feed is saved; its first run starts shortly.",
    ),
    "notice_feed_removed": ("Der Feed ist entfernt.", "The feed is removed."),
    "notice_feed_run": ("Der Abruf ist angefordert.", "The run is asked for."),
}

NAV = [NavItem(f"{PORTAL_PREFIX}/feeds", "nav_portal_feeds", VENUES)]

_FEEDS = f"{PORTAL_PREFIX}/feeds"
RECENT_RUNS = 10
SHOWN_REJECTIONS = 20


@dataclass(frozen=True, slots=True)
class Place:
    """A place the checked feed's events name, and whether their events would be taken."""

    name: str
    verdict: str
    """``yours``, ``none`` (no place: the venue's), ``foreign`` or ``unknown``."""
    venue: str = ""


def _venues(ctx: Context) -> tuple[str, ...]:
    assert ctx.account is not None
    return ctx.account.venues


def _chosen_venue(ctx: Context) -> str:
    venues = _venues(ctx)
    chosen = ctx.field("venue") or venues[0]
    if chosen not in venues:
        raise Problem(403, ctx.t("feeds_bad_venue"), field="venue")
    return chosen


def _names(ctx: Context) -> dict[str, str]:
    with ctx.factory() as session:
        return venue_names(session, _venues(ctx))


def _places(ctx: Context, check: FeedCheck, venue: str, names: dict[str, str]) -> list[Place]:
    registry = current_venues(ingest_context(ctx))
    places = []
    for name, address in check.places:
        if not (name or address):
            places.append(Place(ctx.t("feeds_place_none", venue=names[venue]), "none"))
            continue
        label = ", ".join(part for part in (name, address) if part)
        try:
            match = registry.resolve(name, address)
        except ValueError:
            places.append(Place(label, "unknown"))
            continue
        if match.venue.slug == venue:
            places.append(Place(label, "yours"))
        elif match.known:
            places.append(Place(label, "foreign", match.venue.name))
        else:
            places.append(Place(label, "unknown"))
    return places


def _check(ctx: Context, venue: str) -> tuple[FeedCheck, list[Place], bool]:
    """Check the form's URL for ``venue``: the check, its places, and whether it may be saved."""
    if ctx.console.feeds is None:
        raise Problem(404, ctx.t("feeds_unavailable"))
    url = ctx.field("url")
    if not url:
        raise Problem(400, ctx.t("feeds_no_url"), field="url")
    check = ctx.console.feeds.check(url[:2000])
    places = _places(ctx, check, venue, _names(ctx)) if check.usable else []
    savable = check.usable and any(place.verdict in ("yours", "none") for place in places)
    return check, places, savable


def feeds(ctx: Context) -> Response:
    """``/venue/feeds``: the account's feeds with their health, and the form to register one."""
    names = _names(ctx)
    with ctx.factory() as session:
        registered = feeds_of(session, _venues(ctx))
    overviews = {
        feed.source: source_overview(ctx.factory, ctx.console.runtime.specs, feed.source, now=ctx.now, runs=1)
        for feed in registered
    }
    return ctx.render(
        "portal_feeds.html",
        feeds=registered,
        overviews=overviews,
        names=names,
        available=ctx.console.feeds is not None,
    )


def check(ctx: Context) -> Response:
    """Check a URL and show what it offers (nothing is stored)."""
    venue = _chosen_venue(ctx)
    found, places, savable = _check(ctx, venue)
    return ctx.render(
        "portal_feed_check.html",
        check=found,
        places=places,
        savable=savable,
        venue=venue,
        venue_name=_names(ctx)[venue],
    )


def save(ctx: Context) -> Response:
    """Check the URL again and store it as a source of the venue; its first run is asked for."""
    venue = _chosen_venue(ctx)
    found, places, savable = _check(ctx, venue)
    if not savable:
        return ctx.render(
            "portal_feed_check.html",
            status=400,
            check=found,
            places=places,
            savable=False,
            venue=venue,
            venue_name=_names(ctx)[venue],
        )
    try:
        add_feed(
            ctx.factory,
            venue=venue,
            venue_name=_names(ctx)[venue],
            url=found.url,
            config=found.config,
            actor=ctx.actor,
            now=ctx.now,
            reserved=ctx.console.runtime.specs,
        )
    except ActionRefused as refused:
        raise refusal(ctx, refused) from refused
    assert ctx.console.feeds is not None
    ctx.console.feeds.changed()
    return ctx.done(_FEEDS, "feed_saved")


def _own(ctx: Context, session: Session) -> VenueFeed:
    try:
        feed_id = int(str(ctx.request.path_params["feed_id"]))
    except ValueError:
        raise Problem(404, ctx.t("feeds_not_yours")) from None
    feed = session.get(VenueFeed, feed_id)
    if feed is None or feed.venue_slug not in _venues(ctx) or feed.removed_at is not None:
        raise Problem(404, ctx.t("feeds_not_yours"))
    return feed


def feed(ctx: Context) -> Response:
    """``/venue/feeds/{feed_id}``: one feed, its recent runs and what its last run did not take."""
    with ctx.factory() as session:
        own = _own(ctx, session)
        session.expunge(own)
        last_id = session.scalar(
            select(SourceRun.id).where(SourceRun.source == own.source).order_by(SourceRun.id.desc()).limit(1)
        )
        details: RunDetails | None = run_details(session, last_id) if last_id is not None else None
    overview: SourceOverview | None = source_overview(
        ctx.factory, ctx.console.runtime.specs, own.source, now=ctx.now, runs=RECENT_RUNS
    )
    return ctx.render(
        "portal_feed.html",
        feed=own,
        overview=overview,
        rejections=details.rejections[:SHOWN_REJECTIONS] if details else [],
        venue_name=_names(ctx)[own.venue_slug],
    )


def _act(ctx: Context, act: Callable[..., VenueFeed], notice: str) -> Response:
    with ctx.factory() as session:
        feed_id = _own(ctx, session).id
    try:
        act(ctx.factory, feed_id, venues=_venues(ctx), actor=ctx.actor, now=ctx.now)
    except ActionRefused as refused:
        raise refusal(ctx, refused) from refused
    return ctx.done(_FEEDS if notice == "feed_removed" else f"{_FEEDS}/{feed_id}", notice)


def remove(ctx: Context) -> Response:
    """Stop reading a feed."""
    response = _act(ctx, remove_feed, "feed_removed")
    if ctx.console.feeds is not None:
        ctx.console.feeds.changed()
    return response


def run_now(ctx: Context) -> Response:
    """Ask for a run of a feed now."""
    return _act(ctx, request_feed_run, "feed_run")


def register(console: Console) -> None:
    """``/venue/feeds`` (list, check, save) and ``/venue/feeds/{feed_id}`` (runs, run now, remove)."""
    console.page("/feeds", feeds, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/feeds", save, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
    console.page("/feeds/check", check, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
    console.page("/feeds/{feed_id}", feed, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/feeds/{feed_id}/run", run_now, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
    console.page("/feeds/{feed_id}/remove", remove, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
