"""Hostile input on the import path and the read side: one bad listing costs only itself, forged cursors are 400."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from _push_fixtures import API_NOW, open_client
from fixed_clock import clock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.formats.icalendar import parse_calendar
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing, OfferListing
from aggregator.models import Offer, SourceRecord
from aggregator.normalise.categories import load_categories
from aggregator.normalise.pipeline import normalise
from aggregator.normalise.venues import load_venues
from aggregator.types import RunStatus
from stadtkalender.extensions import METRICS, WEB

START = datetime(2026, 4, 10, 18, 0, tzinfo=UTC)


def _listing(record_id: str, day: int = 0, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": "konzerthaus",
        "record_id": record_id,
        "title": f"Abend {record_id}",
        "fetched_at": API_NOW,
        "start": START + timedelta(days=day),
        "venue_name": "Konzerthaus Dortmund",
        "url": f"https://example.org/{record_id}",
    }
    values.update(extra)
    return Listing(**values)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    return IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock())


def _stored(factory: sessionmaker[Session]) -> set[str]:
    with factory() as session:
        return set(session.scalars(select(SourceRecord.record_id).where(SourceRecord.active)))


_BAD: list[tuple[str, dict[str, Any]]] = [
    ("price sNaN", {"offers": [OfferListing(price_min=Decimal("sNaN"))]}),
    ("price 1e28", {"offers": [OfferListing(price_min=Decimal("1e28"), price_max=Decimal("1e28"))]}),
    ("price 1e999999999", {"offers": [OfferListing(price_max=Decimal("1e999999999"))]}),
    (
        "end 9999 at -14:00",
        {"end": datetime(9999, 12, 31, 23, 59, 59, tzinfo=timezone(timedelta(hours=-14)))},
    ),
    ("end year 1 at +14:00", {"end": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))}),
    ("previous start year 1", {"previous_start": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))}),
    ("start year 1 at +14:00", {"start": datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14)))}),
]


@pytest.mark.parametrize("change", [c for _n, c in _BAD], ids=[n for n, _c in _BAD])
def test_one_unusable_listing_in_an_import_costs_only_itself(
    ctx: IngestContext, factory: sessionmaker[Session], change: dict[str, Any]
) -> None:
    listings = [_listing("a", 0), _listing("bad", 1, **change), _listing("b", 2), _listing("c", 3)]
    report = ingest(ctx, "konzerthaus", listings, complete=False, now=API_NOW)
    assert report.status == RunStatus.SUCCESS, report
    assert {"a", "b", "c"} <= _stored(factory)


@pytest.mark.parametrize("amount", ["1e-999999999", "NaN", "0.001"])
def test_an_amount_that_is_no_price_is_stored_as_no_price_not_free_admission(
    ctx: IngestContext, factory: sessionmaker[Session], amount: str
) -> None:
    odd = OfferListing(price_min=Decimal(amount), price_max=Decimal(amount), url="https://example.org/t")
    report = ingest(ctx, "konzerthaus", [_listing("odd", offers=[odd])], complete=False, now=API_NOW)
    assert report.status == RunStatus.SUCCESS, report
    with factory() as session:
        prices = [(o.price_min, o.price_max, o.availability) for o in session.scalars(select(Offer))]
    assert prices == [(None, None, None)]


_JS_CALENDAR = b"""BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//test//hostile//DE\r
BEGIN:VEVENT\r
UID:js@haus\r
SUMMARY:Liederabend mit Link\r
DTSTART:20260410T180000Z\r
LOCATION:Konzerthaus Dortmund\r
URL:javascript:alert(1)\r
END:VEVENT\r
END:VCALENDAR\r
"""


def test_an_imported_javascript_link_reaches_no_feed_page_or_json(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    with open_client(settings, engine, factory, extensions=(WEB, METRICS)) as client:
        parsed = parse_calendar(
            _JS_CALENDAR,
            source="konzerthaus",
            fetched_at=API_NOW,
            window=(API_NOW - timedelta(days=1), API_NOW + timedelta(days=400)),
        )
        ctx = IngestContext(factory, settings, kinds={"konzerthaus": "venue"}, clock=clock(API_NOW))
        report = ingest(ctx, "konzerthaus", parsed.listings, complete=False, now=API_NOW)
        assert report.status == RunStatus.SUCCESS and report.listings == 1, report
        with factory() as session:
            record = session.scalars(
                select(SourceRecord).where(SourceRecord.record_id.like("js@haus%"))
            ).one()
        event_id = record.event_id
        for path in (
            "/feeds/events.ics",
            f"/events/{event_id}.ics",
            f"/api/v1/events/{event_id}",
            "/api/v1/events?q=Liederabend",
            f"/events/{event_id}",
        ):
            response = client.get(path)
            assert response.status_code == 200, (path, response.text[:300])
            assert "Liederabend" in response.text, path
            assert "javascript" not in response.text.lower(), path


@pytest.mark.parametrize(
    "link",
    [
        "javascript:alert(1)",
        " JavaScript:alert(1)",
        "data:text/html,<b>x</b>",
        "file:///etc/passwd",
        "//example.org/x",
        "/relative",
        "http://",
    ],
)
def test_every_link_of_a_listing_that_is_no_web_url_is_dropped_with_a_warning(link: str) -> None:
    offer = OfferListing(price_text="10 €", url=link)
    listing = _listing("x", url=link, image=link, venue_url=link, offers=[offer])
    result = normalise([listing], venues=load_venues(), categories=load_categories(), now=API_NOW)
    [kept] = result.listings
    assert (kept.url, kept.image, kept.venue_url, kept.offers[0].url) == (None, None, None, None)
    assert sum("not an http(s) URL" in warning for warning in kept.warnings) == 4, kept.warnings
    assert kept.offers[0].price_min == 10


def _cursor(instant: str) -> str:
    raw = json.dumps([instant, "evmahler"], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


FORGED = [
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59-14:00",
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
]


@pytest.mark.parametrize("instant", FORGED)
def test_a_forged_cursor_is_a_400_problem(
    settings: Settings, engine: Any, factory: sessionmaker[Session], instant: str
) -> None:
    with open_client(settings, engine, factory) as client:
        for path in ("/api/v1/events", "/feeds/events.ics"):
            response = client.get(path, params={"cursor": _cursor(instant)})
            if path.startswith("/feeds") and response.status_code == 400 and "cursor" not in response.text:
                continue  # feeds take no cursor at all
            assert response.status_code == 400, (path, response.text[:300])
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["parameter"] == "cursor"


@pytest.mark.parametrize(("lang", "words"), [("de", "ungültig"), ("en", "not valid")])
@pytest.mark.parametrize("instant", FORGED[:2])
def test_a_forged_cursor_on_the_calendar_page_is_an_html_page(
    settings: Settings, engine: Any, factory: sessionmaker[Session], instant: str, lang: str, words: str
) -> None:
    with open_client(settings, engine, factory, extensions=(WEB, METRICS)) as client:
        response = client.get("/", params={"cursor": _cursor(instant), "lang": lang})
    assert response.status_code == 400, response.text[:300]
    assert response.headers["content-type"].startswith("text/html")
    assert words in response.text
    assert f'lang="{lang}"' in response.text
