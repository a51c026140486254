"""The push API inside the whole app: pushed events in the JSON API, the feeds, the pages and /sources."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from _push import KONZERTHAUS, PushRuntime, give_token
from fixed_clock import NOW
from icalendar import Calendar
from starlette.routing import Route
from starlette.testclient import TestClient

from calendar_api.push import openapi_components, openapi_paths, routes

TITLE = "<img src=x onerror=alert(1)> Nacht"


def _when(days: int) -> str:
    """A start ``days`` after the tests' NOW (the app's clock stands there)."""
    return (NOW + timedelta(days=days)).replace(hour=19, minute=0, second=0, microsecond=0).isoformat()


@pytest.fixture
def app_client(runtime: PushRuntime) -> Iterator[TestClient]:
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    with TestClient(create_app(runtime, clock=lambda: NOW, extensions=EXTENSIONS)) as client:
        yield client


def _push(client: TestClient, runtime: PushRuntime, body: Any) -> dict[str, Any]:
    venue = give_token(runtime, client, KONZERTHAUS)
    response = client.post("/api/v1/push/events", content=json.dumps(body), headers=venue.headers())
    assert response.status_code == 200, response.text
    return dict(response.json()["records"][0])


def test_pushed_events_appear_in_the_json_api_verbatim(app_client: TestClient, runtime: PushRuntime) -> None:
    record = _push(
        app_client, runtime, {"@type": "MusicEvent", "@id": "x1", "name": TITLE, "startDate": _when(10)}
    )
    event = app_client.get(f"/api/v1/events/{record['event_id']}").json()
    assert event["title"] == TITLE
    assert event["venue"]["slug"] == KONZERTHAUS
    assert {"source": "push:konzerthaus-dortmund", "id": "x1"}.items() <= event["sources"][0].items()
    listed = app_client.get("/api/v1/events").json()
    assert TITLE in [e["title"] for e in listed["events"]]


def test_pushed_sources_are_listed_with_their_runs(app_client: TestClient, runtime: PushRuntime) -> None:
    _push(app_client, runtime, {"@type": "Event", "@id": "x1", "name": "Probe", "startDate": _when(10)})
    sources = {s["name"]: s for s in app_client.get("/api/v1/sources").json()["sources"]}
    pushed = sources["push:konzerthaus-dortmund"]
    assert (pushed["records"], pushed["health"]) == (1, "ok")
    assert pushed["last_run"] is not None


def test_line_breaks_cannot_inject_ical_properties(app_client: TestClient, runtime: PushRuntime) -> None:
    record = _push(
        app_client,
        runtime,
        {
            "@type": "Event",
            "@id": "inj",
            "name": f"{TITLE}\r\nATTENDEE:mailto:evil@example.org",
            "description": "Erste Zeile\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:Eingeschleust\r\nUID:evil",
            "startDate": _when(12),
        },
    )
    feed = app_client.get(f"/events/{record['event_id']}.ics")
    assert feed.status_code == 200, feed.text
    lines = feed.text.split("\r\n")
    assert not any(line.startswith(("ATTENDEE", "SUMMARY:Eingeschleust", "UID:evil")) for line in lines)
    assert sum(line == "BEGIN:VEVENT" for line in lines) == 1
    calendar = Calendar.from_ical(feed.content)
    [vevent] = calendar.walk("VEVENT")
    assert str(vevent["SUMMARY"]) == f"{TITLE} ATTENDEE:mailto:evil@example.org"
    assert "END:VEVENT\nBEGIN:VEVENT\nSUMMARY:Eingeschleust" in str(vevent["DESCRIPTION"])


def test_markup_in_titles_is_escaped_on_pages(app_client: TestClient, runtime: PushRuntime) -> None:
    record = _push(
        app_client, runtime, {"@type": "Event", "@id": "x1", "name": TITLE, "startDate": _when(10)}
    )
    page = app_client.get(f"/events/{record['event_id']}")
    if page.status_code == 404:
        pytest.skip("no HTML event pages in this build")
    assert page.status_code == 200
    assert "<img src=x onerror=alert(1)>" not in page.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in page.text


def test_openapi_paths_describe_every_route(runtime: PushRuntime) -> None:
    described = {(path, method.upper()) for path, item in openapi_paths().items() for method in item}
    served = {
        (route.path.replace(":path}", "}"), method)
        for route in routes(runtime, lambda: NOW)
        if isinstance(route, Route)
        for method in route.methods or ()
        if method != "HEAD"
    }
    assert described == served
    for item in openapi_paths().values():
        for operation in item.values():
            assert operation["security"] == [{"pushToken": []}]
            assert "401" in operation["responses"]
    assert openapi_components()["securitySchemes"]["pushToken"]["scheme"] == "bearer"


def test_the_served_openapi_document_has_the_push_paths(app_client: TestClient) -> None:
    document = app_client.get("/openapi.json").json()
    assert set(openapi_paths()) <= set(document["paths"])
    assert "pushToken" in document["components"]["securitySchemes"]
