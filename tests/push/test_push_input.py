"""Bad input is refused precisely and writes nothing; text is stored as text."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any

import pytest
from _push import PushRuntime, Venue, event, make_client
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import PushLog, SourceRecord, SourceRun

Mutation = Callable[[dict[str, Any]], None]


def _written(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        records = session.scalar(select(func.count()).select_from(SourceRecord)) or 0
        runs = session.scalar(select(func.count()).select_from(SourceRun)) or 0
    return int(records), int(runs)


def _set(key: str, value: Any) -> Mutation:
    return lambda body: body.__setitem__(key, value)


def _drop(key: str) -> Mutation:
    return lambda body: body.__delitem__(key)


BAD_RECORDS: list[tuple[str, Mutation, str, str]] = [
    ("wrong type of name", _set("name", 42), "$[1].name", "expected text, got a number"),
    ("empty name", _set("name", " \t "), "$[1].name", "is empty"),
    ("missing name", _drop("name"), "$[1].name", "is required"),
    ("missing @id", _drop("@id"), "$[1]['@id']", "is required"),
    ("@id as object", _set("@id", {"x": 1}), "$[1]['@id']", "expected text, got an object"),
    ("unknown @type", _set("@type", "Product"), "$[1]['@type']", "unknown @type 'Product'"),
    ("missing @type", _drop("@type"), "$[1]['@type']", "is required"),
    (
        "start after end",
        _set("endDate", "2026-12-05T18:00:00+01:00"),
        "$[1].endDate",
        "is before the startDate",
    ),
    (
        "start centuries away",
        _set("startDate", "2526-12-05T20:00:00+01:00"),
        "$[1].startDate",
        "too far from today",
    ),
    (
        "start long ago",
        _set("startDate", "1726-12-05T20:00:00+01:00"),
        "$[1].startDate",
        "too far from today",
    ),
    ("start not a date", _set("startDate", "nächsten Freitag"), "$[1].startDate", "not an ISO 8601 date"),
    ("start as number", _set("startDate", 20261205), "$[1].startDate", "as text, got a number"),
    ("missing start", _drop("startDate"), "$[1].startDate", "is required"),
    ("endless event", _set("endDate", "2029-01-01"), "$[1].endDate", "would last"),
    ("javascript url", _set("url", "javascript:alert(1)"), "$[1].url", "absolute http(s) URL"),
    (
        "bad status",
        _set("eventStatus", "https://schema.org/EventMaybe"),
        "$[1].eventStatus",
        "expected one of",
    ),
    ("negative price", _set("offers", {"@type": "Offer", "price": -5}), "$[1].offers.price", "at least 0"),
    ("price as list", _set("offers", [{"price": [1]}]), "$[1].offers[0].price", "expected a number"),
    (
        "bad currency",
        _set("offers", {"price": 5, "priceCurrency": "Euro"}),
        "$[1].offers.priceCurrency",
        "three-letter",
    ),
    ("location as number", _set("location", 7), "$[1].location", "expected a Place"),
    (
        "latitude out of range",
        _set("location", {"name": "Konzerthaus Dortmund", "geo": {"latitude": 123, "longitude": 7}}),
        "$[1].location.geo.latitude",
        "between -90 and 90",
    ),
    ("free as text", _set("isAccessibleForFree", "ja"), "$[1].isAccessibleForFree", "true or false"),
    (
        "eventSchedule",
        _set("eventSchedule", {"repeatFrequency": "P1W"}),
        "$[1].eventSchedule",
        "not supported",
    ),
    ("title too long", _set("name", "x" * 501), "$[1].name", "at most 500"),
    ("duplicate id", _set("@id", "ok"), "$[1]['@id']", "used twice in this request (first at $[0])"),
]


@pytest.mark.parametrize(
    ("mutate", "path", "reason"), [case[1:] for case in BAD_RECORDS], ids=[case[0] for case in BAD_RECORDS]
)
def test_a_bad_record_rejects_the_whole_request_with_its_path(
    konzerthaus: Venue, runtime: PushRuntime, mutate: Mutation, path: str, reason: str
) -> None:
    bad = event("bad", 6)
    mutate(bad)
    response = konzerthaus.post("/events", [event("ok"), bad, event("also-ok", 7)])
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert any(e["path"] == path and reason in e["reason"] for e in problem["errors"]), problem["errors"]
    assert [r["result"] for r in problem["records"]] == ["not_written", "rejected", "not_written"]
    assert problem["records"][0]["path"] == "$[0]"
    assert _written(runtime.factory) == (0, 0)


def test_every_bad_record_is_listed(konzerthaus: Venue) -> None:
    response = konzerthaus.post("/events", [event("a", name=1), event("b"), event("c", startDate="gestern")])
    assert [e["path"] for e in response.json()["errors"]] == ["$[0].name", "$[2].startDate"]


def test_a_non_object_record_is_rejected_with_its_index(konzerthaus: Venue) -> None:
    response = konzerthaus.post("/events", [event("a"), "b"])
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {"path": "$[1]", "id": None, "reason": "expected an Event object, got text"}
    ]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b'[{"@type": "Event", "@id": "a",', "not valid JSON"),
        (b"", "body is empty"),
        (b"\xff\xfe\x00garbage", "not"),
    ],
)
def test_a_body_that_is_not_json_is_400(
    konzerthaus: Venue, runtime: PushRuntime, body: bytes, fragment: str
) -> None:
    response = konzerthaus.post("/events", body)
    assert response.status_code == 400
    assert fragment in response.json()["detail"]
    assert _written(runtime.factory) == (0, 0)


def test_invalid_json_names_line_and_column(konzerthaus: Venue) -> None:
    detail = konzerthaus.post("/events", b'[\n  {"name": }\n]').json()["detail"]
    assert "line 2 column 12" in detail


def test_a_body_that_is_not_a_calendar_is_400(konzerthaus: Venue) -> None:
    response = konzerthaus.post(
        "/events", b"<html>Spielplan</html>", headers={"Content-Type": "text/calendar"}
    )
    assert response.status_code == 400
    assert "iCalendar" in response.json()["detail"]


@pytest.mark.parametrize("content_type", ["text/html", "application/x-www-form-urlencoded", "", "text/plain"])
def test_other_media_types_are_415(konzerthaus: Venue, content_type: str) -> None:
    response = konzerthaus.post("/events", [event("a")], headers={"Content-Type": content_type})
    assert response.status_code == 415


def test_compressed_bodies_are_415(konzerthaus: Venue) -> None:
    response = konzerthaus.post("/events", [event("a")], headers={"Content-Encoding": "gzip"})
    assert response.status_code == 415
    assert "Content-Encoding" in response.json()["detail"]


@pytest.fixture
def small_limit(runtime: PushRuntime) -> PushRuntime:
    return replace(
        runtime, settings=replace(runtime.settings, push=replace(runtime.settings.push, max_body_bytes=2000))
    )


def test_a_declared_length_over_the_limit_is_413(small_limit: PushRuntime, konzerthaus: Venue) -> None:
    body = json.dumps([event(f"e{i}") for i in range(30)]).encode()
    assert len(body) > 2000
    with make_client(small_limit) as client:
        response = client.post("/api/v1/push/events", content=body, headers=konzerthaus.headers())
    assert response.status_code == 413
    assert "Content-Length" in response.json()["detail"]
    assert response.json()["max_body_bytes"] == 2000
    assert _written(small_limit.factory) == (0, 0)


def test_a_streamed_body_over_the_limit_is_413(small_limit: PushRuntime, konzerthaus: Venue) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"["
        for i in range(30):
            yield json.dumps(event(f"e{i}")).encode() + b","
        yield b"{}]"

    with make_client(small_limit) as client:
        response = client.post("/api/v1/push/events", content=chunks(), headers=konzerthaus.headers())
    assert response.status_code == 413
    assert "more than 2000 bytes arrived" in response.json()["detail"]
    assert _written(small_limit.factory) == (0, 0)
    with small_limit.factory() as session:
        assert session.scalars(select(PushLog.status)).all() == [413]


def test_a_body_just_under_the_limit_is_read(small_limit: PushRuntime, konzerthaus: Venue) -> None:
    body = json.dumps([event("e0")]).encode()
    with make_client(small_limit) as client:
        response = client.post("/api/v1/push/events", content=body, headers=konzerthaus.headers())
    assert response.status_code == 200


def test_a_malformed_content_length_is_400(konzerthaus: Venue) -> None:
    response = konzerthaus.post("/events", b"[]", headers={"Content-Length": "zwei"})
    assert response.status_code in (400, 422)


def test_put_with_another_id_in_the_body_is_422(konzerthaus: Venue) -> None:
    response = konzerthaus.put("eins", event("zwei"))
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$['@id']"


def test_put_takes_one_event_not_a_list(konzerthaus: Venue) -> None:
    response = konzerthaus.put("eins", [event("eins")])
    assert response.status_code == 422
    assert response.json()["errors"][0]["reason"] == "this endpoint takes one Event object, not a list"


@pytest.mark.parametrize("record_id", ["%20x", "a%09b", "x" * 401])
def test_bad_ids_in_the_url_are_400(konzerthaus: Venue, record_id: str) -> None:
    assert konzerthaus.delete(record_id).status_code == 400


# -- text is stored as text -------------------------------------------------------------------


def test_markup_in_a_title_comes_back_verbatim(konzerthaus: Venue) -> None:
    title = "<img src=x onerror=alert(1)> & <script>alert('x')</script>"
    konzerthaus.post("/events", [event("xss", title=title)])
    stored = konzerthaus.get("/events/xss").json()["records"][0]
    assert stored["title"] == title


def test_control_characters_are_stripped_and_line_breaks_flattened(konzerthaus: Venue) -> None:
    konzerthaus.post(
        "/events",
        [event("ctl", title="Jazz\r\nX-INJECTED:1\x00\x07 Nacht", description="Zeile 1\r\nZeile 2\x1b[31m")],
    )
    data = konzerthaus.get("/events/ctl").json()["records"][0]["data"]
    assert data["title"] == "Jazz X-INJECTED:1 Nacht"
    assert data["description"] == "Zeile 1\nZeile 2[31m"
