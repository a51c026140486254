"""Events in the console: search, provenance, edits, hiding and highlights through forms and JSON, audited."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _console import ConsoleRuntime, api_post, client_for, csrf, post
from fixed_clock import NOW
from fixed_clock import clock as make_clock
from icalendar import Calendar
from sqlalchemy import select
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, EventOverride, Occurrence


def _listing(
    record_id: str, title: str, day: int, venue: str = "Konzerthaus Dortmund", **extra: Any
) -> Listing:
    return Listing(
        source="konzerthaus",
        record_id=record_id,
        title=title,
        fetched_at=NOW,
        start=datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        venue_name=venue,
        url=f"https://example.org/{record_id}",
        **extra,
    )


@pytest.fixture
def calendar(runtime: ConsoleRuntime, clock: FixedClock) -> dict[str, Any]:
    """Two events from one run, an hour before the console's clock; their ids and the first's dates."""
    ctx = IngestContext(runtime.factory, runtime.settings, clock=make_clock(NOW - timedelta(hours=1)))
    programme = [
        _listing(f"zf-{day}", "Die Zauberflöte", day, series_key="zf", subtitle="Oper") for day in (1, 2, 3)
    ]
    programme.append(_listing("jazz-1", "Jazz im Foyer", 10))
    ingest(ctx, "konzerthaus", programme, now=NOW - timedelta(hours=1))
    with runtime.factory() as session:
        ids = dict(session.execute(select(Event.title, Event.id)).all())
        dates = list(
            session.scalars(
                select(Occurrence.id)
                .where(Occurrence.event_id == ids["Die Zauberflöte"])
                .order_by(Occurrence.start)
            )
        )
    return {"zf": ids["Die Zauberflöte"], "jazz": ids["Jazz im Foyer"], "dates": dates}


def _audit(client: TestClient, action: str) -> list[dict[str, Any]]:
    entries: list[dict[str, Any]] = client.get(f"/api/v1/admin/audit?action={action}").json()["entries"]
    return entries


def _sequences(client: TestClient, path: str) -> dict[str, int]:
    feed = Calendar.from_ical(client.get(path).content)
    return {str(e["UID"]).split("@")[0]: int(str(e["SEQUENCE"])) for e in feed.walk("VEVENT")}


# --- search ---------------------------------------------------------------------------------------


def test_the_search_page_lists_filters_and_links(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    page = as_editor.get("/admin/events")
    assert page.status_code == 200
    assert page.text.index("Die Zauberflöte") < page.text.index("Jazz im Foyer")
    assert f'href="/admin/events/{calendar["zf"]}"' in page.text
    only = as_editor.get("/admin/events?q=jazz&hidden=&highlight=&edited=&from=2026-12-01&to=2026-12-31").text
    assert "Jazz im Foyer" in only and "Die Zauberflöte" not in only
    english = as_editor.get("/admin/events?lang=en").text
    assert "Events" in english and "Dates from" in english


def test_the_search_api(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    body = as_editor.get("/api/v1/admin/events?q=zauber").json()
    assert (body["total"], body["pages"]) == (1, 1)
    (row,) = body["events"]
    assert {k: row[k] for k in ("id", "title", "occurrences", "hidden", "highlight", "edited")} == {
        "id": calendar["zf"],
        "title": "Die Zauberflöte",
        "occurrences": 3,
        "hidden": False,
        "highlight": False,
        "edited": False,
    }
    assert row["next_start"] == "2026-12-01T20:30:00+01:00"
    paged = as_editor.get("/api/v1/admin/events?per_page=1&page=2").json()
    assert ([e["title"] for e in paged["events"]], paged["pages"]) == (["Jazz im Foyer"], 2)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=gestern", "from"),
        ("hidden=vielleicht", "hidden"),
        ("page=0", "page"),
        ("per_page=500", "per_page"),
    ],
)
def test_a_bad_search_is_refused_with_the_field(as_editor: TestClient, query: str, field: str) -> None:
    answer = as_editor.get(f"/api/v1/admin/events?{query}")
    assert answer.status_code == 400
    assert answer.json()["field"] == field
    if field != "per_page":
        page = as_editor.get(f"/admin/events?{query}")
        assert page.status_code == 400 and field in page.text


# --- one event: provenance and edits --------------------------------------------------------------


def test_the_event_page_shows_provenance_forms_and_the_split_link(
    as_editor: TestClient, calendar: dict[str, Any]
) -> None:
    page = as_editor.get(f"/admin/events/{calendar['zf']}")
    assert page.status_code == 200
    text = page.text
    assert "aus konzerthaus" in text
    assert f'href="/admin/events/{calendar["zf"]}/split"' in text
    assert f'href="/events/{calendar["zf"]}"' in text
    assert text.count('name="csrftoken"') >= 4  # sign out, edit, hide, highlight
    for form in re.findall(r"<form[^>]*method=\"post\".*?</form>", text, re.S):
        assert 'name="csrftoken"' in form
    for name in ("title", "subtitle", "description", "url", "image", "organiser", "venue"):
        assert f'<label for="field-{name}">' in text, name
    assert "<legend>Kategorien</legend>" in text
    assert as_editor.get("/admin/events/evnope").status_code == 404


def test_a_title_edit_by_form_shows_publicly_once_and_is_audited(
    as_editor: TestClient, calendar: dict[str, Any]
) -> None:
    event_id = calendar["zf"]
    before = _sequences(as_editor, f"/events/{event_id}.ics")
    page = as_editor.get(f"/admin/events/{event_id}").text
    values = dict(re.findall(r'<input id="field-(\w+)" name="\w+" value="([^"]*)"', page))
    answer = post(
        as_editor,
        f"/admin/events/{event_id}",
        {**values, "title": "Die Zauberflöte (Premiere)", "venue": "konzerthaus-dortmund", "description": ""},
    )
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/admin/events/{event_id}?done=event_saved"
    assert "Gespeichert" in as_editor.get(answer.headers["location"]).text
    public = as_editor.get(f"/api/v1/events/{event_id}").json()
    assert (public["title"], public["subtitle"]) == ("Die Zauberflöte (Premiere)", "Oper")
    assert _sequences(as_editor, f"/events/{event_id}.ics") == {k: v + 1 for k, v in before.items()}
    (entry,) = _audit(as_editor, "event.edit")
    assert (entry["actor"], entry["target_type"], entry["target_id"]) == (
        "editor@dortmund.de",
        "event",
        event_id,
    )
    assert entry["before"] == {"title": {"value": "Die Zauberflöte", "source": "konzerthaus"}}
    assert entry["after"] == {"title": {"value": "Die Zauberflöte (Premiere)", "source": "editor"}}
    shown = as_editor.get(f"/api/v1/admin/events/{event_id}").json()["fields"]["title"]
    assert (shown["source"], shown["source_value"], shown["override"]["by"]) == (
        "editor",
        "Die Zauberflöte",
        "editor@dortmund.de",
    )


def test_an_unchanged_form_changes_nothing(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    page = as_editor.get(f"/admin/events/{calendar['zf']}").text
    values = dict(re.findall(r'<input id="field-(\w+)" name="\w+" value="([^"]*)"', page))
    answer = post(as_editor, f"/admin/events/{calendar['zf']}", {**values, "venue": "konzerthaus-dortmund"})
    assert answer.headers["location"].endswith("done=event_unchanged")
    assert _audit(as_editor, "event.edit") == []


def test_a_bad_value_is_refused_and_what_was_typed_stays(
    as_editor: TestClient, calendar: dict[str, Any]
) -> None:
    answer = post(
        as_editor,
        f"/admin/events/{calendar['zf']}",
        {"title": "Neuer Titel", "url": "javascript:alert(1)", "organiser": "Stadt Dortmund"},
    )
    assert answer.status_code == 400
    assert "http(s)-Link" in answer.text
    assert 'value="Neuer Titel"' in answer.text and 'value="Stadt Dortmund"' in answer.text
    assert 'id="field-url" name="url" value="javascript:alert(1)" type="url"' in answer.text
    assert as_editor.get(f"/api/v1/events/{calendar['zf']}").json()["title"] == "Die Zauberflöte"
    assert _audit(as_editor, "event.edit") == []


def test_a_field_given_back_by_form(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    event_id = calendar["zf"]
    answer = as_editor.patch(
        f"/api/v1/admin/events/{event_id}",
        json={"fields": {"title": "Zauberflöte"}},
        headers={"x-csrftoken": csrf(as_editor)},
    )
    assert answer.status_code == 200
    assert 'name="reset_title"' in as_editor.get(f"/admin/events/{event_id}").text
    page = as_editor.get(f"/admin/events/{event_id}").text
    values = dict(re.findall(r'<input id="field-(\w+)" name="\w+" value="([^"]*)"', page))
    post(
        as_editor,
        f"/admin/events/{event_id}",
        {**values, "venue": "konzerthaus-dortmund", "reset_title": "on"},
    )
    assert as_editor.get(f"/api/v1/events/{event_id}").json()["title"] == "Die Zauberflöte"
    with_reset = _audit(as_editor, "event.edit")[0]
    assert with_reset["after"]["title"] == {"value": "Die Zauberflöte", "source": "konzerthaus"}


def test_patch_event_api(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    path = f"/api/v1/admin/events/{calendar['jazz']}"
    headers = {"x-csrftoken": csrf(as_editor)}
    answer = as_editor.patch(
        path, json={"fields": {"categories": ["konzert"], "organiser": "Jazzclub"}}, headers=headers
    )
    assert answer.status_code == 200
    body = answer.json()
    assert body["change"]["action"] == "event.edit"
    assert body["event"]["fields"]["categories"]["value"] == ["konzert"]
    assert as_editor.get(f"/api/v1/events/{calendar['jazz']}").json()["organiser"] == "Jazzclub"
    for bad, field in (
        ({"fields": {"language": "en"}}, "language"),
        ({"fields": {"categories": ["quatsch"]}}, "categories"),
        ({"fields": {"title": "x"}, "reset": ["title"]}, "title"),
        ({"title": "x"}, "fields"),
        ([1, 2], "fields"),
    ):
        refused = as_editor.patch(path, json=bad, headers=headers)
        assert (refused.status_code, refused.json()["field"]) == (400, field), bad
    assert (
        as_editor.patch(
            "/api/v1/admin/events/evnope", json={"fields": {"title": "x"}}, headers=headers
        ).status_code
        == 404
    )
    english = as_editor.patch(f"{path}?lang=en", json={"fields": {"venue": "nowhere"}}, headers=headers)
    assert "there is no venue 'nowhere'" in english.json()["title"]


# --- hiding ---------------------------------------------------------------------------------------


def test_hiding_an_event_by_form_needs_a_reason_and_is_audited(
    as_editor: TestClient, calendar: dict[str, Any]
) -> None:
    event_id = calendar["zf"]
    refused = post(as_editor, f"/admin/events/{event_id}/hide", {"reason": "  "})
    assert refused.status_code == 400 and "Grund" in refused.text
    answer = post(as_editor, f"/admin/events/{event_id}/hide", {"reason": "Dublette von Jazz"})
    assert answer.headers["location"] == f"/admin/events/{event_id}?done=event_hidden"
    assert as_editor.get(f"/api/v1/events/{event_id}").status_code == 410
    assert "Dublette von Jazz" in as_editor.get(f"/admin/events/{event_id}").text
    (entry,) = _audit(as_editor, "event.hide")
    assert (entry["after"]["reason"], entry["note"]) == ("Dublette von Jazz", "Dublette von Jazz")
    listed = as_editor.get("/api/v1/admin/events?hidden=true").json()["events"]
    assert [e["id"] for e in listed] == [event_id]
    post(as_editor, f"/admin/events/{event_id}/unhide")
    assert as_editor.get(f"/api/v1/events/{event_id}").status_code == 200
    assert len(_audit(as_editor, "event.unhide")) == 1


def test_hide_and_unhide_through_the_api(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    path = f"/api/v1/admin/events/{calendar['jazz']}"
    assert api_post(as_editor, f"{path}/hide", {}).json()["field"] == "reason"
    answer = api_post(as_editor, f"{path}/hide", {"reason": "Nicht öffentlich"})
    assert answer.status_code == 200
    assert answer.json()["event"]["hidden"]["reason"] == "Nicht öffentlich"
    assert "Jazz im Foyer" not in [e["title"] for e in as_editor.get("/api/v1/events").json()["events"]]
    assert api_post(as_editor, f"{path}/unhide").json()["change"]["after"] == {"hidden": False}
    again = api_post(as_editor, f"{path}/unhide").json()["change"]
    assert again["changed"] is False
    assert len(_audit(as_editor, "event.unhide")) == 1  # nothing done, nothing logged


def test_a_date_is_edited_and_hidden_on_its_page(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    event_id, (first, second, third) = calendar["zf"], calendar["dates"]
    url = f"/admin/events/{event_id}/occurrences/{first}"
    page = as_editor.get(url)
    assert page.status_code == 200
    assert 'value="2026-12-01T20:30"' in page.text
    saved = post(as_editor, url, {"start": "2026-12-01T19:00", "end": "", "status": "cancelled", "room": ""})
    assert saved.headers["location"] == f"{url}?done=event_saved"
    occurrence = as_editor.get(f"/api/v1/events/{event_id}").json()["occurrences"][0]
    assert (occurrence["start"], occurrence["status"]) == ("2026-12-01T19:00:00+01:00", "cancelled")
    bad = post(
        as_editor, url, {"start": "2026-12-01T19:00", "end": "2026-12-01T18:00", "status": "cancelled"}
    )
    assert bad.status_code == 400 and 'value="2026-12-01T18:00"' in bad.text

    hidden = post(as_editor, f"{url}/hide", {"reason": "Probe"})
    assert hidden.headers["location"] == f"{url}?done=event_hidden"
    assert first not in _sequences(as_editor, "/feeds/events.ics")
    shown = [o["id"] for o in as_editor.get(f"/api/v1/events/{event_id}").json()["occurrences"]]
    assert shown == [second, third]
    assert "Probe" in as_editor.get(f"/admin/events/{event_id}").text
    assert [e["target_id"] for e in _audit(as_editor, "occurrence.hide")] == [first]
    post(as_editor, f"{url}/unhide")
    assert first in _sequences(as_editor, "/feeds/events.ics")
    wrong = as_editor.get(f"/admin/events/{calendar['jazz']}/occurrences/{first}")
    assert wrong.status_code == 404


def test_a_date_through_the_api(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    event_id, first = calendar["zf"], calendar["dates"][0]
    path = f"/api/v1/admin/events/{event_id}/occurrences/{first}"
    headers = {"x-csrftoken": csrf(as_editor)}
    answer = as_editor.patch(path, json={"fields": {"room": "Großer Saal"}}, headers=headers)
    assert answer.status_code == 200
    fields = next(o for o in answer.json()["event"]["occurrences"] if o["id"] == first)["fields"]
    assert fields["room"]["value"] == "Großer Saal" and fields["room"]["source"] == "editor"
    assert (
        as_editor.patch(path, json={"fields": {"status": "gone"}}, headers=headers).json()["field"]
        == "status"
    )
    assert api_post(as_editor, f"{path}/hide", {"reason": "Probe"}).status_code == 200
    assert api_post(as_editor, f"{path}/unhide").status_code == 200
    other = f"/api/v1/admin/events/{calendar['jazz']}/occurrences/{first}/hide"
    assert api_post(as_editor, other, {"reason": "x"}).status_code == 404


# --- highlights -----------------------------------------------------------------------------------


def test_a_highlight_by_form_and_api(as_editor: TestClient, calendar: dict[str, Any]) -> None:
    event_id = calendar["jazz"]
    answer = post(as_editor, f"/admin/events/{event_id}/highlight", {"on": "true", "until": "2026-12-24"})
    assert answer.headers["location"].endswith("done=event_highlighted")
    assert "2026-12-24" in as_editor.get(f"/admin/events/{event_id}").text
    titles = [e["title"] for e in as_editor.get("/api/v1/events?sort=highlights").json()["events"]]
    assert titles[0] == "Jazz im Foyer"
    past = post(as_editor, f"/admin/events/{event_id}/highlight", {"on": "true", "until": "2026-11-01"})
    assert past.status_code == 400 and 'value="2026-11-01"' in past.text
    off = api_post(as_editor, f"/api/v1/admin/events/{event_id}/highlight", {"on": False})
    assert off.json()["change"]["after"] == {"highlight": False, "until": None}
    assert as_editor.get("/api/v1/events?highlight=true").json()["events"] == []
    assert [e["after"]["highlight"] for e in _audit(as_editor, "event.highlight")] == [False, True]


# --- who may ----------------------------------------------------------------------------------------


def test_venue_accounts_and_strangers_are_refused(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient, calendar: dict[str, Any]
) -> None:
    event_id = calendar["zf"]
    assert as_venue.get("/admin/events").status_code == 403
    assert as_venue.get(f"/api/v1/admin/events/{event_id}").status_code == 403
    assert api_post(as_venue, f"/api/v1/admin/events/{event_id}/hide", {"reason": "x"}).status_code == 403
    with client_for(runtime, clock) as stranger:
        assert stranger.get(f"/admin/events/{event_id}").status_code == 303
        assert stranger.get("/api/v1/admin/events").status_code == 401
    with runtime.factory() as session:
        assert session.scalars(select(EventOverride)).all() == []


def test_an_admin_may_edit_too(as_admin: TestClient, calendar: dict[str, Any]) -> None:
    answer = api_post(as_admin, f"/api/v1/admin/events/{calendar['jazz']}/hide", {"reason": "Test"})
    assert answer.status_code == 200
    assert _audit(as_admin, "event.hide")[0]["actor"] == "admin@dortmund.de"


def test_the_openapi_document_lists_the_event_api(as_editor: TestClient) -> None:
    paths = as_editor.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/admin/events",
        "/api/v1/admin/events/{id}",
        "/api/v1/admin/events/{id}/hide",
        "/api/v1/admin/events/{id}/unhide",
        "/api/v1/admin/events/{id}/highlight",
        "/api/v1/admin/events/{id}/occurrences/{oid}",
        "/api/v1/admin/events/{id}/occurrences/{oid}/hide",
        "/api/v1/admin/events/{id}/occurrences/{oid}/unhide",
    ):
        assert path in paths, path
    assert "patch" in paths["/api/v1/admin/events/{id}"]


def test_a_records_link_is_only_ever_http(
    runtime: ConsoleRuntime, as_editor: TestClient, calendar: dict[str, Any]
) -> None:
    from aggregator.models import SourceRecord

    with runtime.factory() as session, session.begin():
        record = session.scalars(select(SourceRecord).where(SourceRecord.event_id == calendar["jazz"])).one()
        record.url = "javascript:alert(1)"
    page = as_editor.get(f"/admin/events/{calendar['jazz']}").text
    assert 'href="javascript:' not in page
    assert "<code>javascript:alert(1)</code>" in page


def test_a_merged_away_id_leads_to_the_surviving_event(
    runtime: ConsoleRuntime, as_editor: TestClient, calendar: dict[str, Any]
) -> None:
    from aggregator.models import EventRedirect

    with runtime.factory() as session, session.begin():
        session.add(EventRedirect(old_id="evold", event_id=calendar["zf"], created_at=NOW))
    answer = as_editor.get("/admin/events/evold")
    assert (answer.status_code, answer.headers["location"]) == (303, f"/admin/events/{calendar['zf']}")
