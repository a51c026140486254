"""The JSON API: every filter, paging, shapes, problems for bad input, 404s, redirects, CORS, health."""

from __future__ import annotations

import base64
import importlib
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from _data import NOW, open_client
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from aggregator import metrics
from aggregator.config import Settings
from aggregator.db import SchemaOutdated, session_factory
from calendar_api.extension_points import Extension
from stadtkalender.extensions import EXTENSIONS, METRICS, PUSH

BASE = "http://127.0.0.1:8080"


def _ids(client: TestClient, query: str) -> list[str]:
    response = client.get(f"/api/v1/events?{query}")
    assert response.status_code == 200, response.text
    return [event["id"] for event in response.json()["events"]]


def _occurrences(client: TestClient, query: str) -> dict[str, list[str]]:
    events = client.get(f"/api/v1/events?{query}").json()["events"]
    return {event["id"]: [o["id"] for o in event["occurrences"]] for event in events}


def test_default_lists_upcoming_events_by_next_occurrence(client: TestClient) -> None:
    assert _ids(client, "") == ["evkids", "evpunk", "evmahler", "evjazz", "evnovenue"]


def test_past_occurrences_are_left_out_of_a_listed_event(client: TestClient) -> None:
    assert _occurrences(client, "venue=konzerthaus-dortmund")["evmahler"] == ["ocmahler1", "ocmahler2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("venue=konzerthaus-dortmund", {"evmahler", "evjazz"}),
        ("venue=fzw&venue=depot", {"evpunk", "evkids"}),
        ("venue=nowhere", set()),
        ("category=fest", {"evjazz"}),
        ("category=konzert", {"evmahler", "evjazz"}),
        ("category=party&category=kinder-familie", {"evpunk", "evkids"}),
        ("category=konz", set()),
        ("q=mahler", {"evmahler"}),
        ("q=PHILHARMONIKER", {"evmahler"}),
        ("q=backslashes", {"evjazz"}),
        ("q=fzw", {"evpunk"}),
        ("q=jazz+foyer", {"evjazz"}),
        ("q=jazz+mahler", set()),
        ("q=_", set()),
        ("q=100%25", set()),
        ("district=innenstadt-west", {"evmahler", "evjazz", "evpunk"}),
        ("district=Innenstadt-Nord", {"evkids"}),
        ("free=true", {"evkids"}),
        ("free=false", {"evkids", "evpunk", "evmahler", "evjazz", "evnovenue"}),
        ("accessible=true", {"evmahler", "evjazz"}),
        ("lang=de", {"evmahler", "evkids"}),
        ("lang=EN", {"evjazz"}),
        ("status=cancelled", {"evpunk"}),
        ("status=postponed&status=cancelled", {"evpunk", "evnovenue"}),
        ("venue=konzerthaus-dortmund&category=fest", {"evjazz"}),
    ],
)
def test_filter(client: TestClient, query: str, expected: set[str]) -> None:
    assert set(_ids(client, query)) == expected


def test_available_drops_sold_out_and_cancelled_occurrences(client: TestClient) -> None:
    found = _occurrences(client, "available=true")
    assert found["evmahler"] == ["ocmahler2"]  # one shop sold out, the venue still sells
    assert found["evpunk"] == ["ocpunk3"]
    assert "evjazz" in found  # no availability known: not sold out


def test_status_filter_narrows_the_occurrences_shown(client: TestClient) -> None:
    assert _occurrences(client, "status=cancelled") == {"evpunk": ["ocpunk1", "ocpunk2"]}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("from=2026-03-28&to=2026-03-28", {"evmahler": ["ocmahler1"], "evjazz": ["ocjazz1"]}),
        ("from=2026-03-29T00:00:00%2B01:00&to=2026-03-29T04:00:00%2B02:00", {"evjazz": ["ocjazzdst"]}),
        ("from=2026-03-29T03:30:00%2B02:00&to=2026-03-29T03:31:00%2B02:00", {"evjazz": ["ocjazzdst"]}),
        ("from=2026-03-29T01:31:00Z&to=2026-03-29T02:00:00Z", {}),
        ("from=2026-03-22T12:00:00&to=2026-03-23", {"evkids": ["ockids"]}),  # all day: still on
        ("from=2026-01-01&to=2026-01-31", {"evmahler": ["ocmahler0"]}),
        ("from=2026-06-01T14:00:00%2B02:00", {"evnovenue": ["ocwalk"]}),
        ("from=1200-01-01&to=1300-01-01", {}),
        ("from=9999-12-31T23:59:59-23:59", {}),
    ],
)
def test_time_window(client: TestClient, query: str, expected: dict[str, list[str]]) -> None:
    assert _occurrences(client, query) == expected


def test_event_shape(client: TestClient) -> None:
    event = client.get("/api/v1/events/evmahler").json()
    assert {k: event[k] for k in ("id", "title", "subtitle", "categories", "language", "url", "image")} == {
        "id": "evmahler",
        "title": "Mahler: Sinfonie Nr. 2",
        "subtitle": "Dortmunder Philharmoniker",
        "categories": ["konzert"],
        "language": "de",
        "url": "https://www.konzerthaus-dortmund.de/mahler-2",
        "image": "https://www.konzerthaus-dortmund.de/mahler.jpg",
    }
    assert event["venue"] == {
        "slug": "konzerthaus-dortmund",
        "name": "Konzerthaus Dortmund",
        "address": {"street": "Brückstraße 21", "postcode": "44135", "city": "Dortmund"},
        "geo": {"lat": 51.5149, "lon": 7.4636},
        "district": "Innenstadt-West",
    }
    calendar = {
        "name": "Datenlizenz Deutschland – Namensnennung – Version 2.0",
        "url": "https://www.govdata.de/dl-de/by-2-0",
    }
    assert event["sources"] == [
        {"source": "eventim", "id": "E-9", "url": "https://eventim.example/9", "licence": calendar},
        {
            "source": "konzerthaus",
            "id": "mahler-2026-03-28",
            "url": "https://kh.example/1",
            "licence": calendar,
        },
        {
            "source": "konzerthaus",
            "id": "mahler-2026-04-02",
            "url": "https://kh.example/2",
            "licence": calendar,
        },
    ]
    assert (event["image_credit"], event["image_licence"]) == (None, None)
    assert event["updated"] == "2026-03-01T13:00:00+01:00"


def test_single_event_has_all_occurrences_in_berlin_time(client: TestClient) -> None:
    occurrences = client.get("/api/v1/events/evmahler").json()["occurrences"]
    assert [(o["id"], o["start"], o["end"]) for o in occurrences] == [
        ("ocmahler0", "2026-01-05T20:00:00+01:00", "2026-01-05T22:00:00+01:00"),
        ("ocmahler1", "2026-03-28T20:00:00+01:00", "2026-03-28T22:00:00+01:00"),
        ("ocmahler2", "2026-04-02T20:00:00+02:00", "2026-04-02T22:00:00+02:00"),
    ]


def test_offers_have_numeric_prices_and_availability(client: TestClient) -> None:
    occurrence = client.get("/api/v1/events/evmahler").json()["occurrences"][2]
    assert occurrence["availability"] == "available"
    assert occurrence["offers"][0] == {
        "price_min": 19.5,
        "price_max": 59,
        "currency": "EUR",
        "price_text": None,
        "url": "https://tickets.example/mahler-2",
        "vendor": None,
        "availability": "available",
        "source": "konzerthaus",
    }
    assert occurrence["sequence"] == 2


def test_dst_edge_occurrence_has_summer_offset(client: TestClient) -> None:
    occurrences = client.get("/api/v1/events/evjazz").json()["occurrences"]
    dst = next(o for o in occurrences if o["id"] == "ocjazzdst")
    assert (dst["start"], dst["end"], dst["room"]) == ("2026-03-29T03:30:00+02:00", None, "Foyer")


def test_all_day_occurrence(client: TestClient) -> None:
    kids = client.get("/api/v1/events/evkids").json()["occurrences"][0]
    assert (kids["all_day"], kids["start"], kids["end"]) == (
        True,
        "2026-03-22T00:00:00+01:00",
        "2026-03-23T00:00:00+01:00",
    )


def test_event_without_venue(client: TestClient) -> None:
    event = client.get("/api/v1/events/evnovenue").json()
    assert (event["venue"], event["occurrences"][0]["status"]) == (None, "postponed")


def test_event_feed_links(client: TestClient) -> None:
    assert client.get("/api/v1/events/evjazz").json()["feeds"] == {
        "url": f"{BASE}/events/evjazz.ics",
        "webcal": "webcal://127.0.0.1:8080/events/evjazz.ics",
        "google": "https://calendar.google.com/calendar/r?cid=webcal%3A%2F%2F127.0.0.1%3A8080%2Fevents%2Fevjazz.ics",
    }


def test_list_feed_links_carry_the_filters_but_not_the_paging(client: TestClient) -> None:
    feeds = client.get("/api/v1/events?limit=2&category=konzert&venue=konzerthaus-dortmund").json()["feeds"]
    assert feeds["url"] == f"{BASE}/feeds/events.ics?category=konzert&venue=konzerthaus-dortmund"
    assert (
        feeds["webcal"]
        == "webcal://127.0.0.1:8080/feeds/events.ics?category=konzert&venue=konzerthaus-dortmund"
    )
    cid = parse_qs(urlsplit(feeds["google"]).query)["cid"]
    assert cid == [feeds["webcal"]]


def test_merged_event_redirects_to_the_survivor(client: TestClient) -> None:
    response = client.get("/api/v1/events/evmahlerold", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (308, "/api/v1/events/evmahler")
    assert client.get("/api/v1/events/evmahlerold").json()["id"] == "evmahler"


@pytest.fixture
def paging_client(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with open_client(settings, engine, factory, extra_events=12) as client:
        yield client


@pytest.mark.parametrize("query", ["", "venue=depot", "status=scheduled&category=lesung"])
def test_next_links_walk_every_event_once(paging_client: TestClient, query: str) -> None:
    everything = _ids(paging_client, f"{query}&limit=500")
    assert len(everything) > 4
    seen: list[str] = []
    url: str | None = f"/api/v1/events?{query}&limit=3"
    pages = 0
    while url:
        page = paging_client.get(url.removeprefix(BASE)).json()
        assert page["count"] == len(page["events"]) <= 3
        seen.extend(event["id"] for event in page["events"])
        url = page["next"]
        pages += 1
    assert seen == everything
    assert pages == -(-len(everything) // 3)


def test_next_link_pins_the_window_start(paging_client: TestClient) -> None:
    next_url = paging_client.get("/api/v1/events?limit=2").json()["next"]
    assert parse_qs(urlsplit(next_url).query)["from"] == ["2026-03-20T10:00:00+01:00"]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith(f"{BASE}/api/docs#problem-")
    assert body["title"] and body["detail"]
    return body


def _cursor(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/api/v1/events?foo=1", "foo"),
        ("/api/v1/events?from=yesterday", "from"),
        ("/api/v1/events?from=2026-02-30", "from"),
        ("/api/v1/events?to=2026-03-01T25:00:00Z", "to"),
        ("/api/v1/events?to=2026-03-01T10:00:00%2B24:00", "to"),
        ("/api/v1/events?from=2026-04-01&to=2026-03-01", "from"),
        ("/api/v1/events?from=2026-03-01T12:00:00Z&to=2026-03-01T11:59:59Z", "from"),
        ("/api/v1/events?from=", "from"),
        ("/api/v1/events?limit=0", "limit"),
        ("/api/v1/events?limit=501", "limit"),
        ("/api/v1/events?limit=ten", "limit"),
        ("/api/v1/events?limit=-1", "limit"),
        ("/api/v1/events?limit=1&limit=2", "limit"),
        ("/api/v1/events?cursor=not-a-cursor", "cursor"),
        ("/api/v1/events?cursor=%25%25", "cursor"),
        ("/api/v1/events?cursor=" + _cursor(b"[1, 2]"), "cursor"),
        ("/api/v1/events?cursor=" + _cursor(b'["2026-03-01T10:00:00", "ev"]'), "cursor"),
        ("/api/v1/events?free=yes", "free"),
        ("/api/v1/events?available=1", "available"),
        ("/api/v1/events?status=happening", "status"),
        ("/api/v1/events?lang=123", "lang"),
        ("/api/v1/events?q=", "q"),
        ("/api/v1/events?q=a%00b", "q"),
        ("/api/v1/events?venue=" + "x" * 121, "venue"),
        ("/api/v1/events/evmahler?limit=3", "limit"),
        ("/api/v1/venues?district=x", "district"),
        ("/api/v1/categories?x=1", "x"),
        ("/api/v1/sources?x=1", "x"),
        ("/feeds/events.ics?limit=3", "limit"),
        ("/feeds/events.ics?from=2026-13-01", "from"),
        ("/events/evmahler.ics?venue=fzw", "venue"),
    ],
)
def test_bad_input_is_a_400_problem_naming_the_parameter(
    client: TestClient, path: str, parameter: str
) -> None:
    assert _problem(client.get(path), 400)["parameter"] == parameter


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/events/nope",
        "/api/v1/venues/nope",
        "/nothing",
        "/api/v1/events/",
        "/api/v1/events/a%00b",
        "/api/v1/events/" + "x" * 200,
        "/events/nope.ics",
        "/feeds/venues/nope.ics",
        "/feeds/categories/nope.ics",
    ],
)
def test_unknown_things_are_404_problems(client: TestClient, path: str) -> None:
    _problem(client.get(path), 404)


def test_wrong_method_is_a_405_problem_with_allow(client: TestClient) -> None:
    response = client.post("/api/v1/events")
    _problem(response, 405)
    assert "GET" in response.headers["allow"]


def test_venues(client: TestClient) -> None:
    body = client.get("/api/v1/venues").json()
    assert [v["slug"] for v in body["venues"]] == ["depot", "fzw", "konzerthaus-dortmund"]
    assert body["count"] == 3
    konzerthaus = client.get("/api/v1/venues/konzerthaus-dortmund").json()
    assert (konzerthaus["rooms"], konzerthaus["accessibility"]) == (
        ["Großer Saal"],
        "Stufenloser Zugang über den Haupteingang.",
    )
    assert konzerthaus["feeds"]["url"] == f"{BASE}/feeds/venues/konzerthaus-dortmund.ics"


def test_categories_have_labels_and_feeds(client: TestClient) -> None:
    categories = {c["slug"]: c for c in client.get("/api/v1/categories").json()["categories"]}
    assert categories["konzert"]["labels"] == {"de": "Konzert", "en": "Concert"}
    assert categories["konzert"]["feeds"]["webcal"] == "webcal://127.0.0.1:8080/feeds/categories/konzert.ics"


def test_sources_report_health_runs_and_schedule(client: TestClient) -> None:
    sources = {s["name"]: s for s in client.get("/api/v1/sources").json()["sources"]}
    assert set(sources) == {"konzerthaus", "fzw", "theater"}
    assert sources["konzerthaus"]["health"] == "ok"
    assert sources["konzerthaus"]["last_run"]["counts"] == {
        "listings": 3,
        "added": 2,
        "updated": 1,
        "unchanged": 0,
        "cancelled": 0,
        "rejected": 0,
    }
    assert sources["konzerthaus"]["schedule"] == "interval:6h"
    fzw = sources["fzw"]
    assert (fzw["health"], fzw["consecutive_failures"]) == ("failing", 2)
    assert (fzw["last_run"]["status"], fzw["last_run"]["error"]) == ("failed", "HTTP 503 from fzw.de")
    # backing off until 11:00: the next run is the source's first 12-hour slot after that
    backoff = datetime.fromisoformat("2026-03-20T11:00:00+01:00")
    assert backoff <= datetime.fromisoformat(fzw["next_run"]) <= backoff + timedelta(hours=12)
    assert (sources["theater"]["health"], sources["theater"]["last_run"]) == ("disabled", None)
    assert sources["theater"]["next_run"] is None
    upcoming = datetime.fromisoformat(sources["konzerthaus"]["next_run"])
    assert NOW < upcoming <= NOW + timedelta(hours=6)


def test_cors_allows_any_origin_to_read(client: TestClient) -> None:
    response = client.get("/api/v1/events", headers={"Origin": "https://www.dortmund.de"})
    assert response.headers["access-control-allow-origin"] == "*"
    assert "ETag" in response.headers["access-control-expose-headers"]
    preflight = client.options(
        "/feeds/events.ics",
        headers={"Origin": "https://www.dortmund.de", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/readyz").json()["status"] == "ready"


def test_readiness_fails_on_outdated_schema(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    def outdated(_engine: Any) -> None:
        raise SchemaOutdated("0001", "0002", "sqlite://")

    monkeypatch.setattr("calendar_api.app.check_schema", outdated)
    assert "stadtkalender db upgrade" in _problem(client.get("/readyz"), 503)["detail"]


def test_app_refuses_to_start_on_an_empty_database(settings: Settings, tmp_path: Any) -> None:
    from _data import SPECS
    from calendar_rows import Runtime

    from calendar_api.app import create_app

    engine = create_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    app = create_app(
        Runtime(settings, engine, session_factory(engine), SPECS), clock=lambda: NOW, extensions=EXTENSIONS
    )
    with pytest.raises(SchemaOutdated), TestClient(app):
        pass
    engine.dispose()


def test_docs_page_is_self_contained(client: TestClient) -> None:
    page = client.get("/api/docs")
    assert page.headers["content-type"].startswith("text/html")
    assert 'id="problem-invalid-parameter"' in page.text
    assert "<script src" not in page.text and "<link" not in page.text


def test_openapi_documents_every_route(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    with open_client(settings, engine, factory, extensions=(PUSH, METRICS)) as client:
        document = client.get("/openapi.json").json()
        routes = {getattr(r, "path", None) for r in client.app.routes}  # type: ignore[attr-defined]
    assert document["openapi"] == "3.1.0"
    ours = {
        "/api/v1/events",
        "/api/v1/events/{id}",
        "/api/v1/venues",
        "/api/v1/venues/{slug}",
        "/api/v1/categories",
        "/api/v1/sources",
        "/api/v1/changes",
        "/open-data/",
        "/open-data/catalog.jsonld",
        "/open-data/catalog.ttl",
        "/open-data/{name}",
        "/feeds/events.ics",
        "/feeds/venues/{slug}.ics",
        "/feeds/categories/{slug}.ics",
        "/events/{id}.ics",
        "/openapi.json",
        "/api/docs",
        "/healthz",
        "/readyz",
    }
    assert ours <= routes
    from calendar_api.push import openapi_paths

    assert set(document["paths"]) == ours | set(openapi_paths())


def test_request_metrics_use_route_templates(client: TestClient) -> None:
    client.get("/api/v1/events/evkids")
    text = client.get("/metrics").text
    assert 'route="/api/v1/events/{id}"' in text
    assert "evkids" not in text


def test_feed_cache_hits_reach_the_metrics(client: TestClient) -> None:
    before = metrics.FEED_CACHE_HITS._value.get()
    client.get("/feeds/events.ics")
    client.get("/feeds/events.ics")
    assert metrics.FEED_CACHE_HITS._value.get() == before + 1


def test_extension_routes_are_added_after_the_api(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    seen: list[Any] = []

    def routes(runtime: Any, clock: Any) -> list[Route]:
        seen.append(runtime)
        return [
            Route("/", lambda _r: PlainTextResponse("home")),
            Route("/events/{id}", lambda r: PlainTextResponse(f"page {r.path_params['id']}")),
        ]

    with open_client(settings, engine, factory, extensions=(Extension("fake_web", routes=routes),)) as client:
        assert client.get("/").text == "home"
        assert client.get("/events/evjazz").text == "page evjazz"
        assert client.get("/events/evjazz.ics").headers["content-type"].startswith("text/calendar")
    assert seen and seen[0].factory is factory


def test_a_broken_extension_is_not_silently_skipped(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    """An extension that cannot import one of its own dependencies is an error, not skipped."""
    from _data import SPECS
    from calendar_rows import Runtime

    from calendar_api.app import create_app

    def routes(runtime: Any, clock: Any) -> list[Route]:
        importlib.import_module("no_such_dependency")
        return [Route("/", lambda _r: PlainTextResponse("never"))]

    with pytest.raises(ModuleNotFoundError, match="no_such_dependency"):
        create_app(
            Runtime(settings, engine, factory, SPECS),
            clock=lambda: NOW,
            extensions=(Extension("broken", routes=routes),),
        )
