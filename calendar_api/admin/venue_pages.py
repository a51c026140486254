"""The venue registry in the console: venues, their aliases and rooms, and the suggestions (HTML and JSON).

Editors search and edit the registered venues, add new ones, and settle the places sources keep sending
that the registry does not know: add one as a venue, or make it an alias of a venue. The work is done by
:mod:`aggregator.venue_editing` and :mod:`aggregator.venue_suggestions`; every change is audited with the
venue before and after, and with the stored records it moved (they move at once).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import cache
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.responses import JSONResponse, Response

from aggregator.audit import record
from aggregator.derive import Priority
from aggregator.models import Event, Venue
from aggregator.normalise.venues import VenueRegistry, load_venues
from aggregator.text import fold_key
from aggregator.venue_editing import (
    DISTRICTS,
    FIELDS,
    VenueChange,
    VenueError,
    VenueNotFound,
    add_alias,
    create_venue,
    remove_alias,
    remove_room,
    save_room,
    update_venue,
)
from aggregator.venue_registry import load_registry, venue_snapshot
from aggregator.venue_rematch import RematchContext
from aggregator.venue_suggestions import Suggestion, add_as_venue, alias_to_venue, suggestions
from calendar_api.admin.console import EDITORS, Console, Context, NavItem, Problem, Texts

TEXTS: Texts = {
    "nav_venues": ("Orte", "Venues"),
    "venues_title": ("Veranstaltungsorte", "Venues"),
    "venues_intro": (
        "Das Verzeichnis der Orte, mit dem die Termine aller Quellen zugeordnet werden. Ein neuer Alias "
        "gilt sofort für gespeicherte Termine und ab dem nächsten Lauf jeder Quelle.",
        "The registry of venues that every source's events are matched against. A new alias applies at "
        "once to stored events and from the next run of every source.",
    ),
    "venues_search": ("Suchen (Name, Alias, Kürzel, Stadtbezirk)", "Search (name, alias, slug, district)"),
    "venues_count": ("{count} Orte", "{count} venues"),
    "venues_none": ("Kein Ort passt zur Suche.", "No venue matches the search."),
    "venues_new": ("Neuen Ort anlegen", "Add a venue"),
    "venue_slug": ("Kürzel (Slug, unveränderlich)", "Slug (never changes)"),
    "venue_name": ("Name", "Name"),
    "venue_street": ("Straße und Hausnummer", "Street and number"),
    "venue_postcode": ("Postleitzahl", "Postcode"),
    "venue_city": ("Ort", "City"),
    "venue_lat": ("Breitengrad (z. B. 51,5155)", "Latitude (e.g. 51.5155)"),
    "venue_lon": ("Längengrad (z. B. 7,4630)", "Longitude (e.g. 7.4630)"),
    "venue_geo_approximate": (
        "Position nur ungefähr (von Hand gesetzt)",
        "Position approximate (set by hand)",
    ),
    "venue_district": ("Stadtbezirk", "District"),
    "venue_no_district": ("– keiner (außerhalb Dortmunds) –", "– none (outside Dortmund) –"),
    "venue_url": ("Website", "Website"),
    "venue_accessibility": ("Hinweise zur Barrierefreiheit", "Accessibility notes"),
    "venue_aliases": ("Aliasse", "Aliases"),
    "venue_aliases_lines": (
        "Weitere Schreibweisen der Quellen (eine je Zeile)",
        "Other spellings sources use (one a line)",
    ),
    "venue_aliases_intro": (
        "Schreibweisen, unter denen Quellen diesen Ort nennen; "
        "sie werden auch innerhalb längerer Namen erkannt.",
        "Spellings under which sources name this venue; they are recognised inside longer names too.",
    ),
    "venue_alias": ("Neuer Alias", "New alias"),
    "venue_alias_add": ("Alias hinzufügen", "Add alias"),
    "venue_alias_remove": ("Entfernen", "Remove"),
    "venue_rooms": ("Räume", "Rooms"),
    "venue_room": ("Raum", "Room"),
    "venue_room_aliases": (
        "Raum-Aliasse (eine je Zeile; zählen nur zusammen mit dem Ortsnamen)",
        "Room aliases (one a line; count only together with the venue's name)",
    ),
    "venue_room_standalone": (
        "Eigenständige Schreibweisen (eine je Zeile; nennen Ort und Raum allein, z. B. „Opernfoyer“)",
        "Standalone spellings (one a line; name venue and room on their own, e.g. 'Opernfoyer')",
    ),
    "venue_room_save": ("Raum speichern", "Save room"),
    "venue_room_remove": ("Entfernen", "Remove"),
    "venue_room_intro": (
        "Ein Raum gleichen Namens wird mit den neuen Schreibweisen überschrieben.",
        "A room of the same name gets the new spellings.",
    ),
    "venue_events": ("Termine", "Events"),
    "venue_edited": ("Zuletzt geändert", "Last changed"),
    "venue_edited_by": ("{when} von {who}", "{when} by {who}"),
    "venue_from_seed": ("wie in venues.toml", "as in venues.toml"),
    "venue_save": ("Speichern", "Save"),
    "venue_create": ("Ort anlegen", "Add venue"),
    "venue_fields": ("Angaben", "Details"),
    "venue_moved": (
        "{count} gespeicherte Einträge von Quellen sind dadurch umgezogen.",
        "{count} stored source records moved with this change.",
    ),
    "venue_back": ("Alle Orte", "All venues"),
    "suggestions_title": ("Vorschläge: unbekannte Orte", "Suggestions: unknown venues"),
    "suggestions_intro": (
        "Orte, die Quellen nennen, die das Verzeichnis aber nicht kennt – die häufigsten zuerst.",
        "Places sources name that the registry does not know – the most frequent first.",
    ),
    "suggestions_none": ("Keine unbekannten Orte.", "No unknown venues."),
    "suggestions_more": (
        "{shown} von {total} Vorschlägen gezeigt.",
        "{shown} of {total} suggestions shown.",
    ),
    "suggestion_place": ("Unbekannter Ort", "Unknown venue"),
    "suggestion_records": ("Einträge", "Records"),
    "suggestion_sources": ("Quellen", "Sources"),
    "suggestion_spellings": ("Schreibweisen", "Spellings"),
    "suggestion_closest": ("Ähnliche Orte", "Similar venues"),
    "suggestion_actions": ("Erledigen", "Settle"),
    "suggestion_alias_to": ("Alias von", "Alias of"),
    "suggestion_alias": ("Als Alias zuordnen", "Make it an alias"),
    "suggestion_add": ("Als neuen Ort aufnehmen", "Add as a new venue"),
    "suggestion_new_slug": ("Kürzel (leer: {slug})", "Slug (empty: {slug})"),
    "suggestion_closest_group": ("Ähnlichste", "Most similar"),
    "suggestion_all_group": ("Alle Orte", "All venues"),
    "suggestion_score": ("{name} ({score} %)", "{name} ({score} %)"),
    "notice_venue_saved": ("Der Ort ist gespeichert.", "The venue is saved."),
    "notice_venue_created": ("Der Ort ist angelegt.", "The venue is added."),
    "notice_alias_added": ("Der Alias ist hinzugefügt.", "The alias is added."),
    "notice_alias_removed": ("Der Alias ist entfernt.", "The alias is removed."),
    "notice_room_saved": ("Der Raum ist gespeichert.", "The room is saved."),
    "notice_room_removed": ("Der Raum ist entfernt.", "The room is removed."),
    "notice_suggestion_aliased": (
        "Der unbekannte Ort ist jetzt ein Alias; seine Termine sind umgezogen.",
        "The unknown venue is an alias now; its events have moved.",
    ),
    "notice_suggestion_added": ("Der Ort ist ins Verzeichnis aufgenommen.", "The venue is registered."),
    "problem_no_venue": ("Es gibt keinen Ort {slug!r}.", "There is no venue {slug!r}."),
    "problem_reserved_slug": (
        "Das Kürzel {slug!r} ist für Seiten der Konsole reserviert.",
        "The slug {slug!r} is reserved for pages of the console.",
    ),
    "problem_json_object": ("Bitte ein JSON-Objekt senden.", "Send a JSON object."),
}

NAV = [NavItem("/admin/venues", "nav_venues", EDITORS)]

SUGGESTIONS_SHOWN = 50
RESERVED_SLUGS = frozenset({"new", "suggestions"})
"""Slugs that are console URLs under ``/admin/venues/``."""


@cache
def _seed() -> VenueRegistry:
    """The shipped seed (``venues.toml``), read once."""
    return load_venues()


def rematch_context(ctx: Context) -> RematchContext:
    """What moving stored records needs, from the running installation's settings and sources."""
    runtime = ctx.console.runtime
    kinds = {name: spec.kind for name, spec in runtime.specs.items()}
    return RematchContext(Priority(runtime.settings.dedupe.priority, kinds), _seed())


# -- reading ---------------------------------------------------------------------------------


def _event_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(Event.venue_slug, func.count()).group_by(Event.venue_slug))
    return {slug: count for slug, count in rows if slug}


def venue_json(row: Venue, events: int) -> dict[str, Any]:
    """A venue as the admin API gives it."""
    return {
        **venue_snapshot(row),
        "events": events,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


def _matches(row: Venue, query: str) -> bool:
    """Whether the folded ``query`` stands in the venue's name, an alias, its slug or its district."""
    texts = (row.name, *(str(a) for a in row.aliases), row.slug.replace("-", " "), row.district or "")
    return any(query in fold_key(text) for text in texts)


def _venues(session: Session, query: str) -> list[Venue]:
    """The registered venues, by name; those matching ``query`` when one is given."""
    rows = session.scalars(select(Venue).where(Venue.known.is_(True))).all()
    wanted = fold_key(query)
    found = [row for row in rows if not wanted or _matches(row, wanted)]
    return sorted(found, key=lambda row: (row.name.casefold(), row.slug))


def _registered(session: Session, slug: str, ctx: Context) -> Venue:
    row = session.get(Venue, slug)
    if row is None or not row.known:
        raise Problem(404, ctx.t("problem_no_venue", slug=slug), field="slug")
    return row


def _suggestions(ctx: Context, session: Session) -> list[Suggestion]:
    return suggestions(session, load_registry(session, _seed()))


# -- changing --------------------------------------------------------------------------------

Action = Callable[[Session, RematchContext], VenueChange]


def _apply(ctx: Context, action: str, act: Action, *, note: str | None = None) -> VenueChange:
    """Run one editing action and its audit entry in one transaction; bad input is a 400 with the reason
    (404 for a venue that does not exist)."""
    try:
        with ctx.factory() as session, session.begin():
            change = act(session, rematch_context(ctx))
            after = change.after
            moved = change.rematch
            if after is not None and (moved.moves or moved.added_unknown or moved.removed_unknown):
                after = {**after, "stored_records": moved.summary()}
            record(
                session,
                ctx.actor,
                action,
                "venue",
                change.slug,
                at=ctx.now,
                before=change.before,
                after=after,
                note=note,
            )
    except VenueError as error:
        status = 404 if isinstance(error, VenueNotFound) else 400
        raise Problem(status, error.message(ctx.lang), field=error.field) from error
    return change


def _form_values(ctx: Context, names: tuple[str, ...]) -> dict[str, object]:
    """The venue fields of a form: every field is sent, so an unticked checkbox reads as "no"."""
    values: dict[str, object] = {name: ctx.field(name) for name in names if name != "geo_approximate"}
    if "geo_approximate" in names:
        values["geo_approximate"] = "1" if ctx.field("geo_approximate") else "0"
    if "accessibility" in values and ctx.form is not None:
        raw = ctx.form.get("accessibility")
        values["accessibility"] = raw if isinstance(raw, str) else ""
    return values


def _body(ctx: Context) -> dict[str, Any]:
    if not isinstance(ctx.body, dict):
        raise Problem(400, ctx.t("problem_json_object"))
    return ctx.body


def _lines(ctx: Context, name: str) -> list[str]:
    """A list from the JSON body, or the lines of a form's text area."""
    if ctx.form is None:
        return ctx.fields(name)
    raw = ctx.form.get(name)
    return [line.strip() for line in raw.splitlines() if line.strip()] if isinstance(raw, str) else []


def _check_slug(ctx: Context, slug: str) -> None:
    if slug in RESERVED_SLUGS:
        raise Problem(400, ctx.t("problem_reserved_slug", slug=slug), field="slug")


def _moved_url(url: str, change: VenueChange) -> str:
    count = len(change.rematch.moves)
    return f"{url}?moved={count}" if count else url


def _slug(ctx: Context) -> str:
    return str(ctx.request.path_params["slug"])


def _do_update(ctx: Context, values: Mapping[str, object]) -> VenueChange:
    slug = _slug(ctx)
    return _apply(
        ctx,
        "venue.update",
        lambda session, context: update_venue(
            session, slug, values, actor=ctx.actor, now=ctx.now, context=context
        ),
    )


def _do_create(ctx: Context, values: Mapping[str, object], aliases: list[str]) -> VenueChange:
    _check_slug(ctx, str(values.get("slug", "")))
    return _apply(
        ctx,
        "venue.create",
        lambda session, context: create_venue(
            session, values, actor=ctx.actor, now=ctx.now, context=context, aliases=aliases
        ),
    )


def _do_add_alias(ctx: Context, alias: str) -> VenueChange:
    slug = _slug(ctx)
    return _apply(
        ctx,
        "venue.alias.add",
        lambda session, context: add_alias(
            session, slug, alias, actor=ctx.actor, now=ctx.now, context=context
        ),
    )


def _do_remove_alias(ctx: Context, alias: str) -> VenueChange:
    slug = _slug(ctx)
    return _apply(
        ctx,
        "venue.alias.remove",
        lambda session, context: remove_alias(
            session, slug, alias, actor=ctx.actor, now=ctx.now, context=context
        ),
    )


def _do_save_room(ctx: Context, name: str, aliases: list[str], standalone: list[str]) -> VenueChange:
    slug = _slug(ctx)
    return _apply(
        ctx,
        "venue.room.save",
        lambda session, context: save_room(
            session,
            slug,
            name,
            aliases=aliases,
            standalone=standalone,
            actor=ctx.actor,
            now=ctx.now,
            context=context,
        ),
    )


def _do_remove_room(ctx: Context, name: str) -> VenueChange:
    slug = _slug(ctx)
    return _apply(
        ctx,
        "venue.room.remove",
        lambda session, context: remove_room(
            session, slug, name, actor=ctx.actor, now=ctx.now, context=context
        ),
    )


def _do_alias_suggestion(ctx: Context, target: str) -> VenueChange:
    slug = _slug(ctx)
    return _apply(
        ctx,
        "venue.suggestion.alias",
        lambda session, context: alias_to_venue(
            session, slug, target, actor=ctx.actor, now=ctx.now, context=context
        ),
        note=f"unknown venue {slug} → {target}",
    )


def _do_add_suggestion(ctx: Context, values: Mapping[str, object]) -> VenueChange:
    slug = _slug(ctx)
    new_slug = str(values.get("slug") or "")
    if new_slug:
        _check_slug(ctx, new_slug)
    return _apply(
        ctx,
        "venue.suggestion.add",
        lambda session, context: add_as_venue(
            session, slug, values, actor=ctx.actor, now=ctx.now, context=context
        ),
        note=f"unknown venue {slug} registered",
    )


# -- pages -----------------------------------------------------------------------------------


def venues_page(ctx: Context, *, status: int = 200, error: str = "", failed: str = "") -> Response:
    """``/admin/venues``: the registered venues (searchable) and the suggestions."""
    query = ctx.request.query_params.get("q", "").strip()
    with ctx.factory() as session:
        rows = _venues(session, query)
        counts = _event_counts(session)
        found = _suggestions(ctx, session)
        choices = [(row.slug, row.name) for row in _venues(session, "")]
        for row in rows:
            session.expunge(row)
    return ctx.render(
        "venues.html",
        status=status,
        venues=rows,
        counts=counts,
        query=query,
        suggestions=found[:SUGGESTIONS_SHOWN],
        suggestion_total=len(found),
        choices=choices,
        error=error,
        failed=failed,
    )


def _draft(row: Venue) -> dict[str, str]:
    """A venue's fields as the edit form shows them."""
    snapshot = venue_snapshot(row)
    draft = {name: "" if snapshot[name] is None else str(snapshot[name]) for name in FIELDS}
    draft["geo_approximate"] = "1" if row.geo_approximate else ""
    return draft


def venue_page(
    ctx: Context, *, status: int = 200, error: str = "", draft: Mapping[str, str] | None = None
) -> Response:
    """``/admin/venues/{slug}``: the venue's details, aliases and rooms, each with its form."""
    slug = _slug(ctx)
    with ctx.factory() as session:
        row = _registered(session, slug, ctx)
        events = _event_counts(session).get(slug, 0)
        snapshot, edited_at = venue_snapshot(row), row.edited_at
        values = {**_draft(row), **(draft or {})}
    moved = ctx.request.query_params.get("moved", "")
    return ctx.render(
        "venue.html",
        status=status,
        venue=snapshot,
        edited_at=edited_at,
        events=events,
        values=values,
        districts=DISTRICTS,
        error=error,
        moved=int(moved) if moved.isdigit() else 0,
    )


def new_venue_page(
    ctx: Context, *, status: int = 200, error: str = "", draft: Mapping[str, str] | None = None
) -> Response:
    """``/admin/venues/new``: the form for a new venue."""
    values = {name: "" for name in ("slug", "aliases", *FIELDS)}
    values["geo_approximate"] = "1"
    return ctx.render(
        "venue_new.html",
        status=status,
        values={**values, **(draft or {})},
        districts=DISTRICTS,
        error=error,
    )


def _submitted(ctx: Context, names: tuple[str, ...]) -> dict[str, str]:
    """What the form sent, to show it again after an error (nothing typed is lost)."""
    if ctx.form is None:
        return {}
    return {name: value for name in names if isinstance(value := ctx.form.get(name, ""), str)}


def update_form(ctx: Context) -> Response:
    """Save the venue's details from the form."""
    try:
        change = _do_update(ctx, _form_values(ctx, FIELDS))
    except Problem as problem:
        draft = _submitted(ctx, FIELDS)
        return venue_page(ctx, status=problem.status, error=problem.message, draft=draft)
    return ctx.done(_moved_url(f"/admin/venues/{change.slug}", change), "venue_saved")


def create_form(ctx: Context) -> Response:
    """Add a venue from the form."""
    values = {"slug": ctx.field("slug"), **_form_values(ctx, FIELDS)}
    try:
        change = _do_create(ctx, values, _lines(ctx, "aliases"))
    except Problem as problem:
        draft = _submitted(ctx, ("slug", "aliases", *FIELDS))
        return new_venue_page(ctx, status=problem.status, error=problem.message, draft=draft)
    return ctx.done(_moved_url(f"/admin/venues/{change.slug}", change), "venue_created")


def _on_venue_page(
    ctx: Context, run: Callable[[], VenueChange], notice: str, draft: tuple[str, ...]
) -> Response:
    """Run a form's action; on bad input show the venue page again with the reason and what was typed."""
    try:
        change = run()
    except Problem as problem:
        if problem.status == 404:
            raise
        return venue_page(ctx, status=problem.status, error=problem.message, draft=_submitted(ctx, draft))
    return ctx.done(_moved_url(f"/admin/venues/{change.slug}", change), notice)


def add_alias_form(ctx: Context) -> Response:
    """Add an alias from the venue page."""
    return _on_venue_page(ctx, lambda: _do_add_alias(ctx, ctx.field("alias")), "alias_added", ("alias",))


def remove_alias_form(ctx: Context) -> Response:
    """Remove an alias from the venue page."""
    return _on_venue_page(ctx, lambda: _do_remove_alias(ctx, ctx.field("alias")), "alias_removed", ())


def save_room_form(ctx: Context) -> Response:
    """Add a room, or give one new spellings, from the venue page."""
    return _on_venue_page(
        ctx,
        lambda: _do_save_room(ctx, ctx.field("room"), _lines(ctx, "room_aliases"), _lines(ctx, "standalone")),
        "room_saved",
        ("room", "room_aliases", "standalone"),
    )


def remove_room_form(ctx: Context) -> Response:
    """Remove a room from the venue page."""
    return _on_venue_page(ctx, lambda: _do_remove_room(ctx, ctx.field("room")), "room_removed", ())


def alias_suggestion_form(ctx: Context) -> Response:
    """Make an unknown venue an alias of the venue chosen in the suggestions block."""
    try:
        change = _do_alias_suggestion(ctx, ctx.field("target"))
    except Problem as problem:
        return venues_page(ctx, status=problem.status, error=problem.message, failed=_slug(ctx))
    return ctx.done(_moved_url(f"/admin/venues/{change.slug}", change), "suggestion_aliased")


def add_suggestion_form(ctx: Context) -> Response:
    """Register an unknown venue from the suggestions block (under its slug or the one typed)."""
    values = {"name": ctx.field("name"), "slug": ctx.field("slug")}
    try:
        change = _do_add_suggestion(ctx, {k: v for k, v in values.items() if v})
    except Problem as problem:
        return venues_page(ctx, status=problem.status, error=problem.message, failed=_slug(ctx))
    return ctx.done(_moved_url(f"/admin/venues/{change.slug}", change), "suggestion_added")


# -- JSON API --------------------------------------------------------------------------------


def _changed(change: VenueChange, *, status: int = 200) -> Response:
    """A change's answer: the venue as it is now and what stored records moved."""
    return JSONResponse({"venue": change.after, "rematch": change.rematch.summary()}, status_code=status)


def venues_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/venues``: the registered venues (``?q=`` searches)."""
    query = ctx.request.query_params.get("q", "").strip()
    with ctx.factory() as session:
        counts = _event_counts(session)
        found = [venue_json(row, counts.get(row.slug, 0)) for row in _venues(session, query)]
    return JSONResponse({"venues": found, "count": len(found)})


def venue_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/venues/{slug}``."""
    slug = _slug(ctx)
    with ctx.factory() as session:
        row = _registered(session, slug, ctx)
        return JSONResponse(venue_json(row, _event_counts(session).get(slug, 0)))


def create_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues``: ``slug``, ``name``, any venue field, and ``aliases`` (a list)."""
    body = _body(ctx)
    values = {name: value for name, value in body.items() if name != "aliases"}
    return _changed(_do_create(ctx, values, ctx.fields("aliases")), status=201)


def update_api(ctx: Context) -> Response:
    """``PATCH /api/v1/admin/venues/{slug}``: the fields given change; ``null`` or ``""`` clears one."""
    return _changed(_do_update(ctx, _body(ctx)))


def add_alias_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues/{slug}/aliases`` with ``{"alias": …}``."""
    return _changed(_do_add_alias(ctx, str(_body(ctx).get("alias") or "")))


def remove_alias_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues/{slug}/aliases/remove`` with ``{"alias": …}``."""
    return _changed(_do_remove_alias(ctx, str(_body(ctx).get("alias") or "")))


def save_room_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues/{slug}/rooms`` with ``name``, ``aliases`` and ``standalone`` (lists)."""
    body = _body(ctx)
    name = str(body.get("name") or "")
    return _changed(_do_save_room(ctx, name, ctx.fields("aliases"), ctx.fields("standalone")))


def remove_room_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues/{slug}/rooms/remove`` with ``{"name": …}``."""
    return _changed(_do_remove_room(ctx, str(_body(ctx).get("name") or "")))


def suggestions_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/venues/suggestions``: unknown venues sources keep sending, most frequent first."""
    with ctx.factory() as session:
        found = _suggestions(ctx, session)
    return JSONResponse({"suggestions": [s.as_json() for s in found], "count": len(found)})


def alias_suggestion_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues/suggestions/{slug}/alias`` with ``{"target": slug}``."""
    return _changed(_do_alias_suggestion(ctx, str(_body(ctx).get("target") or "")))


def add_suggestion_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/venues/suggestions/{slug}/add``: any venue field and optionally a new ``slug``."""
    return _changed(_do_add_suggestion(ctx, _body(ctx)), status=201)


def register(console: Console) -> None:
    """The venue pages and their JSON API, for editors and admins (fixed paths before ``{slug}``)."""
    console.page("/venues", venues_page, roles=EDITORS)
    console.page("/venues/new", new_venue_page, roles=EDITORS)
    console.page("/venues/new", create_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/suggestions/{slug}/alias", alias_suggestion_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/suggestions/{slug}/add", add_suggestion_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/{slug}", venue_page, roles=EDITORS)
    console.page("/venues/{slug}", update_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/{slug}/aliases", add_alias_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/{slug}/aliases/remove", remove_alias_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/{slug}/rooms", save_room_form, roles=EDITORS, methods=("POST",))
    console.page("/venues/{slug}/rooms/remove", remove_room_form, roles=EDITORS, methods=("POST",))
    console.api("/venues", venues_api, roles=EDITORS)
    console.api("/venues", create_api, roles=EDITORS, methods=("POST",))
    console.api("/venues/suggestions", suggestions_api, roles=EDITORS)
    console.api("/venues/suggestions/{slug}/alias", alias_suggestion_api, roles=EDITORS, methods=("POST",))
    console.api("/venues/suggestions/{slug}/add", add_suggestion_api, roles=EDITORS, methods=("POST",))
    console.api("/venues/{slug}", venue_api, roles=EDITORS)
    console.api("/venues/{slug}", update_api, roles=EDITORS, methods=("PATCH",))
    console.api("/venues/{slug}/aliases", add_alias_api, roles=EDITORS, methods=("POST",))
    console.api("/venues/{slug}/aliases/remove", remove_alias_api, roles=EDITORS, methods=("POST",))
    console.api("/venues/{slug}/rooms", save_room_api, roles=EDITORS, methods=("POST",))
    console.api("/venues/{slug}/rooms/remove", remove_room_api, roles=EDITORS, methods=("POST",))


# -- OpenAPI ---------------------------------------------------------------------------------

_SECURITY: list[dict[str, list[str]]] = [{"consoleSession": []}, {"personalKey": []}]
_TEXT_OR_NULL = {"type": ["string", "null"]}
_VENUE_FIELDS: dict[str, Any] = {
    "name": {"type": "string", "maxLength": 300},
    "street": {**_TEXT_OR_NULL, "maxLength": 300},
    "postcode": {**_TEXT_OR_NULL, "pattern": "^[0-9]{5}$"},
    "city": {**_TEXT_OR_NULL, "maxLength": 120},
    "lat": {"type": ["number", "string", "null"], "minimum": -90, "maximum": 90},
    "lon": {"type": ["number", "string", "null"], "minimum": -180, "maximum": 180},
    "geo_approximate": {"type": ["boolean", "string", "null"]},
    "district": {"type": ["string", "null"], "enum": [*DISTRICTS, "", None]},
    "url": {**_TEXT_OR_NULL, "format": "uri"},
    "accessibility": {**_TEXT_OR_NULL, "maxLength": 4000},
}
_SLUG = {"type": "string", "pattern": "^[a-z0-9]+(-[a-z0-9]+)*$", "maxLength": 100}
_STRINGS = {"type": "array", "items": {"type": "string"}}
_ERRORS = {
    "400": {"description": "bad input: title (German or English, by Accept-Language) and field"},
    "401": {"description": "not signed in"},
    "403": {"description": "not an editor or admin"},
}


def _op(
    summary: str,
    ok: str,
    *,
    body: dict[str, Any] | None = None,
    slug: bool = False,
    query: bool = False,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": ["admin"],
        "summary": summary,
        "security": _SECURITY,
        "responses": {ok: {"description": "done"}, **_ERRORS},
    }
    parameters = []
    if slug:
        parameters.append({"name": "slug", "in": "path", "required": True, "schema": {"type": "string"}})
        op["responses"]["404"] = {"description": "no such venue"}
    if query:
        parameters.append({"name": "q", "in": "query", "required": False, "schema": {"type": "string"}})
    if parameters:
        op["parameters"] = parameters
    if body is not None:
        op["requestBody"] = {"required": True, "content": {"application/json": {"schema": body}}}
    return op


def _object(properties: dict[str, Any], required: list[str] | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/venues": {
        "get": _op(
            "The registered venues, by name (q searches name, aliases, slug, district)", "200", query=True
        ),
        "post": _op(
            "Register a new venue; stored records that name it move to it at once",
            "201",
            body=_object({"slug": _SLUG, **_VENUE_FIELDS, "aliases": _STRINGS}, ["slug", "name"]),
        ),
    },
    "/api/v1/admin/venues/suggestions": {
        "get": _op(
            "Unknown venues sources keep sending, with counts, sources, spellings and the closest venues",
            "200",
        ),
    },
    "/api/v1/admin/venues/suggestions/{slug}/alias": {
        "post": _op(
            "Make an unknown venue's spellings aliases of a venue; its records move at once",
            "200",
            body=_object({"target": _SLUG}, ["target"]),
            slug=True,
        ),
    },
    "/api/v1/admin/venues/suggestions/{slug}/add": {
        "post": _op(
            "Register an unknown venue (under its slug, or a new one given as slug)",
            "201",
            body=_object({"slug": _SLUG, **_VENUE_FIELDS}),
            slug=True,
        ),
    },
    "/api/v1/admin/venues/{slug}": {
        "get": _op("One registered venue", "200", slug=True),
        "patch": _op(
            "Change a venue's fields (a new name keeps the old one as an alias)",
            "200",
            body=_object(_VENUE_FIELDS),
            slug=True,
        ),
    },
    "/api/v1/admin/venues/{slug}/aliases": {
        "post": _op(
            "Add an alias; stored records that name it move to the venue at once",
            "200",
            body=_object({"alias": {"type": "string"}}, ["alias"]),
            slug=True,
        ),
    },
    "/api/v1/admin/venues/{slug}/aliases/remove": {
        "post": _op(
            "Remove an alias; records only it matched become an unknown venue again",
            "200",
            body=_object({"alias": {"type": "string"}}, ["alias"]),
            slug=True,
        ),
    },
    "/api/v1/admin/venues/{slug}/rooms": {
        "post": _op(
            "Add a room, or give the room of that name new spellings",
            "200",
            body=_object({"name": {"type": "string"}, "aliases": _STRINGS, "standalone": _STRINGS}, ["name"]),
            slug=True,
        ),
    },
    "/api/v1/admin/venues/{slug}/rooms/remove": {
        "post": _op(
            "Remove a room",
            "200",
            body=_object({"name": {"type": "string"}}, ["name"]),
            slug=True,
        ),
    },
}
