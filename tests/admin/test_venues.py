"""The venue registry in the console: pages and JSON API, audited, with stored events moving at once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from _console import ConsoleRuntime, api_post, csrf, form_token, post
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.normalise.venues import load_venues
from aggregator.venue_registry import seed_venues

UNKNOWN = "Jazzkeller Hansastraße"
UNKNOWN_SLUG = "jazzkeller-hansastrasse"


def _send(
    runtime: ConsoleRuntime, clock: FixedClock, venue: str, n: int = 3, source: str = "dortmund_de"
) -> None:
    """A source's run naming ``venue`` on ``n`` days."""
    listings = [
        Listing(
            source=source,
            record_id=f"{source}-{day}",
            title=f"Session {day}",
            fetched_at=clock(),
            start=datetime(2026, 12, day, 19, 30, tzinfo=UTC),
            venue_name=venue,
        )
        for day in range(1, n + 1)
    ]
    report = ingest(IngestContext(runtime.factory, runtime.settings, clock=clock), source, listings)
    assert report.status.value == "success", report.error


@pytest.fixture
def seeded(runtime: ConsoleRuntime, clock: FixedClock) -> ConsoleRuntime:
    """The registry seeded from venues.toml, as `stadtkalender db upgrade` leaves it."""
    with runtime.factory() as session, session.begin():
        seed_venues(session, load_venues(), now=clock())
    return runtime


@pytest.fixture
def unknown_sent(seeded: ConsoleRuntime, clock: FixedClock) -> ConsoleRuntime:
    """Three events at a place the registry does not know."""
    _send(seeded, clock, UNKNOWN)
    return seeded


def _audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get(f"/api/v1/admin/audit?action={action}").json()["entries"]
    return entries


def _public_venues(client: TestClient) -> set[str]:
    events = client.get("/api/v1/events").json()["events"]
    return {event["venue"]["slug"] for event in events}


# -- pages ------------------------------------------------------------------------------------


def test_the_list_shows_venues_searchable_and_the_suggestions(
    unknown_sent: ConsoleRuntime, as_editor: TestClient
) -> None:
    page = as_editor.get("/admin/venues")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "Konzerthaus Dortmund" in page.text and "Vorschläge: unbekannte Orte" in page.text
    assert UNKNOWN in page.text and f'action="/admin/venues/suggestions/{UNKNOWN_SLUG}/alias"' in page.text
    found = as_editor.get("/admin/venues?q=jazzclub&lang=en")
    listed = found.text.split('id="suggestions"')[0]
    assert "domicil" in listed and "Konzerthaus Dortmund" not in listed
    assert "Suggestions: unknown venues" in found.text


def test_a_venue_edited_by_form_is_saved_and_audited(seeded: ConsoleRuntime, as_editor: TestClient) -> None:
    page = as_editor.get("/admin/venues/domicil")
    assert page.status_code == 200 and form_token(page.text)
    fields = {
        "name": "domicil",
        "street": "Hansastraße 7-11",
        "postcode": "44137",
        "city": "Dortmund",
        "lat": "51,5146",
        "lon": "7,4608",
        "district": "Innenstadt-West",
        "url": "https://www.domicil-dortmund.de/",
        "accessibility": "Aufzug zum Saal\r\nRollstuhlplätze auf Anfrage",
    }
    answer = post(as_editor, "/admin/venues/domicil", fields)
    assert (
        answer.status_code == 303 and answer.headers["location"] == "/admin/venues/domicil?done=venue_saved"
    )
    assert "Der Ort ist gespeichert." in as_editor.get(answer.headers["location"]).text
    venue = as_editor.get("/api/v1/admin/venues/domicil").json()
    assert (venue["lat"], venue["geo_approximate"], venue["accessibility"]) == (
        51.5146,
        False,
        "Aufzug zum Saal\nRollstuhlplätze auf Anfrage",
    )
    assert venue["edited_by"] == "editor@dortmund.de"
    [entry] = _audit(as_editor, "venue.update")
    assert (entry["target_id"], entry["before"]["lat"], entry["after"]["lat"]) == (
        "domicil",
        51.5145,
        51.5146,
    )


def test_bad_input_is_refused_with_the_reason_and_nothing_typed_is_lost(
    seeded: ConsoleRuntime, as_editor: TestClient
) -> None:
    answer = post(
        as_editor,
        "/admin/venues/domicil",
        {"name": "domicil", "street": "Neue Straße 1", "lat": "95", "lon": "7"},
    )
    assert answer.status_code == 400
    assert "Breitengrad: zwischen −90 und 90 Grad" in answer.text and 'value="Neue Straße 1"' in answer.text
    assert as_editor.get("/api/v1/admin/venues/domicil").json()["street"] == "Hansastraße 7-11"
    english = as_editor.patch(
        "/api/v1/admin/venues/domicil",
        json={"postcode": "123"},
        headers={"x-csrftoken": csrf(as_editor), "accept-language": "en"},
    )
    assert english.status_code == 400 and english.json()["field"] == "postcode"
    assert "five digits" in english.json()["title"]
    alias = post(as_editor, "/admin/venues/domicil/aliases", {"alias": "Konzerthaus"})
    assert alias.status_code == 400 and "bezeichnet schon konzerthaus-dortmund" in alias.text
    assert 'value="Konzerthaus"' in alias.text
    assert _audit(as_editor, "venue.update") == [] and _audit(as_editor, "venue.alias.add") == []


def test_an_alias_added_in_the_console_moves_stored_events_at_once(
    unknown_sent: ConsoleRuntime, as_editor: TestClient
) -> None:
    assert _public_venues(as_editor) == {UNKNOWN_SLUG}
    answer = post(as_editor, "/admin/venues/domicil/aliases", {"alias": UNKNOWN})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/venues/domicil?moved=3&done=alias_added"
    assert (
        "3 gespeicherte Einträge von Quellen sind dadurch umgezogen."
        in as_editor.get(answer.headers["location"]).text
    )
    assert _public_venues(as_editor) == {"domicil"}
    [entry] = _audit(as_editor, "venue.alias.add")
    assert entry["after"]["aliases"][-1] == UNKNOWN
    assert entry["after"]["stored_records"]["records_moved"] == 3
    removed = post(as_editor, "/admin/venues/domicil/aliases/remove", {"alias": UNKNOWN})
    assert removed.status_code == 303 and _public_venues(as_editor) == {UNKNOWN_SLUG}
    assert len(_audit(as_editor, "venue.alias.remove")) == 1


def test_rooms_are_added_and_removed_by_form(unknown_sent: ConsoleRuntime, as_editor: TestClient) -> None:
    answer = post(
        as_editor,
        "/admin/venues/domicil/rooms",
        {"room": "Kellerbühne", "room_aliases": "Keller\nKellerbuehne", "standalone": UNKNOWN},
    )
    assert answer.status_code == 303
    room = as_editor.get("/api/v1/admin/venues/domicil").json()["rooms"][-1]
    assert room == {"name": "Kellerbühne", "aliases": ["Keller", "Kellerbuehne"], "standalone": [UNKNOWN]}
    event = as_editor.get("/api/v1/events").json()["events"][0]
    assert event["venue"]["slug"] == "domicil" and event["occurrences"][0]["room"] == "Kellerbühne"
    assert post(as_editor, "/admin/venues/domicil/rooms/remove", {"room": "Kellerbühne"}).status_code == 303
    assert as_editor.get("/api/v1/admin/venues/domicil").json()["rooms"] == []
    assert [e["action"] for e in as_editor.get("/api/v1/admin/audit").json()["entries"]] == [
        "venue.room.remove",
        "venue.room.save",
    ]


def test_a_new_venue_is_added_by_form_and_a_bad_slug_keeps_the_form(
    unknown_sent: ConsoleRuntime, as_editor: TestClient
) -> None:
    assert as_editor.get("/admin/venues/new").status_code == 200
    bad = post(
        as_editor, "/admin/venues/new", {"slug": "Jazz Keller", "name": "Jazzkeller", "postcode": "44137"}
    )
    assert bad.status_code == 400 and "ist kein Kurzname" in bad.text and 'value="Jazzkeller"' in bad.text
    reserved = post(as_editor, "/admin/venues/new", {"slug": "new", "name": "Neu"})
    assert reserved.status_code == 400 and "reserviert" in reserved.text
    answer = post(
        as_editor, "/admin/venues/new", {"slug": "jazzkeller", "name": "Jazzkeller", "aliases": UNKNOWN}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/venues/jazzkeller?moved=3&done=venue_created"
    assert _public_venues(as_editor) == {"jazzkeller"}
    [entry] = _audit(as_editor, "venue.create")
    assert entry["before"] is None and entry["after"]["aliases"] == [UNKNOWN]


def test_a_suggestion_is_settled_as_an_alias_from_the_list(
    unknown_sent: ConsoleRuntime, as_editor: TestClient
) -> None:
    answer = post(as_editor, f"/admin/venues/suggestions/{UNKNOWN_SLUG}/alias", {"target": "domicil"})
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/venues/domicil?moved=3&done=suggestion_aliased"
    assert _public_venues(as_editor) == {"domicil"}
    assert UNKNOWN not in as_editor.get("/admin/venues").text.split("suggestions")[-1]
    [entry] = _audit(as_editor, "venue.suggestion.alias")
    assert entry["note"] == f"unknown venue {UNKNOWN_SLUG} → domicil"
    gone = post(as_editor, f"/admin/venues/suggestions/{UNKNOWN_SLUG}/alias", {"target": "domicil"})
    assert gone.status_code == 404


def test_a_suggestion_is_added_as_a_venue_from_the_list(
    unknown_sent: ConsoleRuntime, as_editor: TestClient
) -> None:
    bad = post(
        as_editor, f"/admin/venues/suggestions/{UNKNOWN_SLUG}/add", {"name": "Jazzkeller", "slug": "-x"}
    )
    assert bad.status_code == 400 and "Kurzname" in bad.text
    answer = post(
        as_editor, f"/admin/venues/suggestions/{UNKNOWN_SLUG}/add", {"name": "Jazzkeller", "slug": ""}
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/venues/{UNKNOWN_SLUG}?done=suggestion_added"
    venue = as_editor.get(f"/api/v1/admin/venues/{UNKNOWN_SLUG}").json()
    assert (venue["known"], venue["name"], venue["aliases"], venue["events"]) == (
        True,
        "Jazzkeller",
        [UNKNOWN],
        3,
    )
    assert len(_audit(as_editor, "venue.suggestion.add")) == 1


# -- JSON API ---------------------------------------------------------------------------------


def test_the_json_api_lists_reads_creates_and_patches_venues(
    unknown_sent: ConsoleRuntime, as_editor: TestClient
) -> None:
    listed = as_editor.get("/api/v1/admin/venues").json()
    assert (
        listed["count"] == len(load_venues().all())
        and listed["venues"][0]["name"] <= listed["venues"][1]["name"]
    )
    assert [v["slug"] for v in as_editor.get("/api/v1/admin/venues?q=hansastr").json()["venues"]] == []
    east = sorted(
        (v for v in load_venues().all() if v.district == "Innenstadt-Ost"), key=lambda v: v.name.casefold()
    )
    assert len(east) == 2
    by_district = as_editor.get("/api/v1/admin/venues?q=innenstadt-ost").json()["venues"]
    assert [v["slug"] for v in by_district] == [v.slug for v in east]
    created = api_post(
        as_editor,
        "/api/v1/admin/venues",
        {"slug": "jazzkeller", "name": "Jazzkeller", "lat": 51.51, "lon": 7.46, "aliases": [UNKNOWN]},
    )
    assert created.status_code == 201, created.text
    assert created.json()["rematch"]["records_moved"] == 3 and created.json()["venue"]["lat"] == 51.51
    patched = as_editor.patch(
        "/api/v1/admin/venues/jazzkeller",
        json={"district": "Innenstadt-West", "url": None},
        headers={"x-csrftoken": csrf(as_editor)},
    )
    assert patched.status_code == 200 and patched.json()["venue"]["district"] == "Innenstadt-West"
    assert as_editor.get("/api/v1/admin/venues/jazzkeller").json()["events"] == 3
    missing = as_editor.get("/api/v1/admin/venues/nirgendwo")
    assert missing.status_code == 404 and missing.json()["field"] == "slug"
    unknown_field = as_editor.patch(
        "/api/v1/admin/venues/jazzkeller", json={"colour": "blau"}, headers={"x-csrftoken": csrf(as_editor)}
    )
    assert unknown_field.status_code == 400 and unknown_field.json()["field"] == "colour"
    not_object = as_editor.patch(
        "/api/v1/admin/venues/jazzkeller", json=["x"], headers={"x-csrftoken": csrf(as_editor)}
    )
    assert not_object.status_code == 400
    assert [e["action"] for e in as_editor.get("/api/v1/admin/audit").json()["entries"]] == [
        "venue.update",
        "venue.create",
    ]


def test_the_json_api_edits_aliases_and_rooms(unknown_sent: ConsoleRuntime, as_admin: TestClient) -> None:
    added = api_post(as_admin, "/api/v1/admin/venues/fzw/aliases", {"alias": UNKNOWN})
    assert added.status_code == 200 and added.json()["rematch"]["moves"] == {f"{UNKNOWN_SLUG} → fzw": 3}
    room = api_post(
        as_admin,
        "/api/v1/admin/venues/fzw/rooms",
        {"name": "Club", "aliases": ["Clubraum"], "standalone": []},
    )
    assert room.json()["venue"]["rooms"] == [{"name": "Club", "aliases": ["Clubraum"], "standalone": []}]
    assert (
        api_post(as_admin, "/api/v1/admin/venues/fzw/rooms/remove", {"name": "club"}).json()["venue"]["rooms"]
        == []
    )
    removed = api_post(as_admin, "/api/v1/admin/venues/fzw/aliases/remove", {"alias": UNKNOWN})
    assert removed.json()["rematch"]["unknown_venues_added"] == [UNKNOWN_SLUG]
    again = api_post(as_admin, "/api/v1/admin/venues/fzw/aliases/remove", {"alias": UNKNOWN})
    assert again.status_code == 400 and again.json()["field"] == "alias"


def test_the_json_api_lists_and_settles_suggestions(
    seeded: ConsoleRuntime, clock: FixedClock, as_editor: TestClient
) -> None:
    _send(seeded, clock, "Domizil Jazzkeller", n=2)
    _send(seeded, clock, "Kulturort Depot", n=1, source="tickets")
    found = as_editor.get("/api/v1/admin/venues/suggestions").json()
    assert [(s["slug"], s["records"], s["sources"]) for s in found["suggestions"]] == [
        ("domizil-jazzkeller", 2, ["dortmund_de"]),
        ("kulturort-depot", 1, ["tickets"]),
    ]
    assert found["suggestions"][0]["closest"][0]["slug"] == "domicil"
    aliased = api_post(
        as_editor, "/api/v1/admin/venues/suggestions/domizil-jazzkeller/alias", {"target": "domicil"}
    )
    assert aliased.status_code == 200 and aliased.json()["venue"]["aliases"][-1] == "Domizil Jazzkeller"
    wrong = api_post(
        as_editor, "/api/v1/admin/venues/suggestions/kulturort-depot/alias", {"target": "nirgendwo"}
    )
    assert wrong.status_code == 404
    added = api_post(
        as_editor, "/api/v1/admin/venues/suggestions/kulturort-depot/add", {"slug": "depot", "name": "Depot"}
    )
    assert added.status_code == 201 and added.json()["venue"]["slug"] == "depot"
    assert as_editor.get("/api/v1/admin/venues/suggestions").json() == {"suggestions": [], "count": 0}


# -- who may ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/admin/venues"),
        ("GET", "/admin/venues/domicil"),
        ("POST", "/admin/venues/domicil/aliases"),
        ("GET", "/api/v1/admin/venues"),
        ("PATCH", "/api/v1/admin/venues/domicil"),
        ("GET", "/api/v1/admin/venues/suggestions"),
    ],
)
def test_a_venue_account_may_not_touch_the_registry(
    seeded: ConsoleRuntime, as_venue: TestClient, method: str, path: str
) -> None:
    answer = as_venue.request(
        method,
        path,
        headers={"x-csrftoken": csrf(as_venue)},
        data={"alias": "x"} if method == "POST" else None,
    )
    assert answer.status_code == 403


def test_a_change_without_the_csrf_token_is_refused(seeded: ConsoleRuntime, as_editor: TestClient) -> None:
    answer = as_editor.post("/admin/venues/domicil/aliases", data={"alias": "Domizil"})
    assert answer.status_code == 403
    assert "Domizil" not in as_editor.get("/api/v1/admin/venues/domicil").json()["aliases"]
