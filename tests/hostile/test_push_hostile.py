"""A hostile or careless venue against the push API: every odd body gets a clear 4xx naming the place."""

# ruff: noqa: F811  (the imported fixtures are named as arguments)

from __future__ import annotations

import json
from typing import Any

import pytest
from _push_fixtures import Venue, client, event, konzerthaus, push_settings, runtime  # noqa: F401 (fixtures)
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import SourceRecord
from calendar_api.push.validate import MAX_RECORDS


def _records(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(SourceRecord)) or 0)


def _calendar(*lines: str) -> bytes:
    body = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//test//hostile//DE",
        "BEGIN:VEVENT",
        *lines,
        "END:VEVENT",
        "END:VCALENDAR",
        "",
    ]
    return "\r\n".join(body).encode()


@pytest.mark.parametrize(
    "body", [[1] * (MAX_RECORDS + 1), {"@graph": [1] * (MAX_RECORDS + 1)}], ids=["list", "graph"]
)
def test_an_over_long_array_is_refused_by_count_before_its_items_are_read(
    konzerthaus: Venue, factory: sessionmaker[Session], body: Any
) -> None:
    response = konzerthaus.post("/events", body)
    assert response.status_code == 413, response.text[:300]
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"].endswith("#problem-push-too-many-events")
    assert problem["max_records"] == MAX_RECORDS
    assert str(MAX_RECORDS) in problem["detail"] and str(MAX_RECORDS + 1) in problem["detail"]
    assert "errors" not in problem  # no item was validated
    assert _records(factory) == 0


def test_too_many_vevents_are_refused_by_count(konzerthaus: Venue) -> None:
    one = "BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:x\r\nDTSTART:20261205T200000Z\r\nEND:VEVENT\r\n"
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//t//DE\r\n"
        + one * (MAX_RECORDS + 1)
        + "END:VCALENDAR\r\n"
    ).encode()
    response = konzerthaus.post("/events", body, headers={"Content-Type": "text/calendar"})
    assert response.status_code == 413, response.text[:300]
    assert response.json()["max_records"] == MAX_RECORDS


def test_faults_are_reported_under_their_own_record_only(konzerthaus: Venue) -> None:
    body: list[Any] = [event(f"e{i}") for i in range(12)]
    body[1] = 1
    body[10]["startDate"] = "nonsense"
    records = konzerthaus.post("/events", body).json()["records"]
    assert [r["result"] for r in records].count("rejected") == 2
    assert records[1]["errors"] == [{"path": "$[1]", "reason": "expected an Event object, got a number"}]
    assert [e["path"] for e in records[10]["errors"]] == ["$[10].startDate"]
    assert records[0] == {"path": "$[0]", "id": "e0", "result": "not_written"}


_OFFER = {"@type": "Offer", "priceCurrency": "EUR"}
_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("price NaN text", {"offers": {**_OFFER, "price": "NaN"}}, "$[1].offers.price"),
    ("price sNaN text", {"offers": {**_OFFER, "price": "sNaN"}}, "$[1].offers.price"),
    ("price NaN literal", {"offers": {**_OFFER, "price": float("nan")}}, "$[1].offers.price"),
    ("price 1e28", {"offers": {**_OFFER, "price": 1e28}}, "$[1].offers.price"),
    ("price 1e28 text", {"offers": {**_OFFER, "highPrice": "1e28"}}, "$[1].offers.highPrice"),
    ("price 1e999999999", {"offers": {**_OFFER, "price": "1e999999999"}}, "$[1].offers.price"),
    ("price 1e-999999999", {"offers": {**_OFFER, "price": "1e-999999999"}}, "$[1].offers.price"),
    ("price of a tenth of a cent", {"offers": [{**_OFFER, "price": "0.001"}]}, "$[1].offers[0].price"),
    (
        "latitude NaN",
        {
            "location": {
                "@type": "Place",
                "name": "Konzerthaus Dortmund",
                "geo": {"latitude": float("nan"), "longitude": 7.46},
            }
        },
        "$[1].location.geo.latitude",
    ),
    (
        "longitude sNaN",
        {
            "location": {
                "@type": "Place",
                "name": "Konzerthaus Dortmund",
                "geo": {"latitude": 51.5, "longitude": "sNaN"},
            }
        },
        "$[1].location.geo.longitude",
    ),
    ("start in year 1", {"startDate": "0001-01-01"}, "$[1].startDate"),
    ("start in year 1 at +14:00", {"startDate": "0001-01-01T00:00:00+14:00"}, "$[1].startDate"),
    ("start in 9999 at -14:00", {"startDate": "9999-12-31T23:59:59-14:00"}, "$[1].startDate"),
    ("end in 9999 at -14:00", {"endDate": "9999-12-31T23:59:59-14:00"}, "$[1].endDate"),
    ("end in year 1 at +14:00", {"endDate": "0001-01-01T00:00:00+14:00"}, "$[1].endDate"),
    (
        "previous start in year 1",
        {"previousStartDate": "0001-01-01T00:00:00+14:00"},
        "$[1].previousStartDate",
    ),
    (
        "previous start in year 2",
        {"previousStartDate": "0002-01-01T00:00:00+01:00"},
        "$[1].previousStartDate",
    ),
    (
        "sale from year 1",
        {"offers": {**_OFFER, "price": 5, "validFrom": "0001-01-01T00:00:00+14:00"}},
        "$[1].offers.validFrom",
    ),
]


@pytest.mark.parametrize(("change", "path"), [(c, p) for _n, c, p in _CASES], ids=[n for n, _c, _p in _CASES])
def test_unusable_numbers_and_dates_are_a_422_with_the_path(
    konzerthaus: Venue, factory: sessionmaker[Session], change: dict[str, Any], path: str
) -> None:
    body = [event("ok"), event("bad", 6, **change), event("also-ok", 7)]
    response = konzerthaus.post("/events", json.dumps(body))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert [e["path"] for e in response.json()["errors"]] == [path], response.json()["errors"]
    assert _records(factory) == 0


def test_an_icalendar_date_in_year_1_is_a_422(konzerthaus: Venue) -> None:
    body = _calendar("UID:far@haus", "SUMMARY:Weit weg", "DTSTART;VALUE=DATE:00010101")
    response = konzerthaus.post("/events", body, headers={"Content-Type": "text/calendar"})
    assert response.status_code == 422, response.text
    assert [e["path"] for e in response.json()["errors"]] == ["VEVENT[0].DTSTART"]


def test_an_icalendar_javascript_link_is_dropped_not_stored(konzerthaus: Venue) -> None:
    body = _calendar(
        "UID:js@haus", "SUMMARY:Liederabend", "DTSTART:20261205T190000Z", "URL:javascript:alert(1)"
    )
    response = konzerthaus.post("/events", body, headers={"Content-Type": "text/calendar"})
    assert response.status_code == 200, response.text
    stored = konzerthaus.get("/events/js@haus").json()["records"]
    assert [record["data"].get("url") for record in stored] == [None]
