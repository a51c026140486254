"""The feed routes: which occurrences a feed holds, what each VEVENT says, names, links, and consumers."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest
from _data import UPDATED, open_client
from icalendar import Calendar, Component, vCategory, vDDDTypes, vGeo, vInt
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings
from aggregator.types import BERLIN

DOMAIN = "stadtkalender.dortmund"
VALIDATOR = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "ical-validate"
DEFAULT_FEED = {"ockids", "ocpunk1", "ocmahler1", "ocjazz1", "ocjazzdst", "ocmahler2", "ocpunk3", "ocwalk"}


def _feed(client: TestClient, path: str) -> Calendar:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    return Calendar.from_ical(response.content)


def _unescape(value: object) -> str:
    """TEXT unescaped (icalendar hands NAME and X-WR-CALNAME back still escaped)."""
    return re.sub(r"\\([\\,;])", r"\1", str(value))


def _events(calendar: Calendar) -> dict[str, Component]:
    return {str(e["UID"]).removesuffix(f"@{DOMAIN}"): e for e in calendar.walk("VEVENT")}


_Value = TypeVar("_Value")


def _prop(component: Component, name: str, kind: type[_Value]) -> _Value:
    """The property ``name``, checked to have been read as ``kind``."""
    value = component[name]
    assert isinstance(value, kind), f"{name}: {type(value).__name__}, expected {kind.__name__}"
    return value


def _when(component: Component, name: str) -> date | datetime:
    """The date or date-time of the property ``name`` (DTSTART, DTSTAMP, …)."""
    value = _prop(component, name, vDDDTypes).dt
    assert isinstance(value, date), f"{name}: {value!r} is not a date or date-time"
    return value


def _instant(component: Component, name: str) -> datetime:
    """The date-time of the property ``name``."""
    value = _when(component, name)
    assert isinstance(value, datetime), f"{name}: {value!r} is not a date-time"
    return value


def test_default_feed_holds_one_vevent_per_occurrence_in_the_window(client: TestClient) -> None:
    calendar = _feed(client, "/feeds/events.ics")
    assert set(_events(calendar)) == DEFAULT_FEED
    assert len(calendar.walk("VEVENT")) == len(DEFAULT_FEED)


def test_feed_has_a_berlin_vtimezone_with_both_rules(client: TestClient) -> None:
    calendar = _feed(client, "/feeds/events.ics")
    (zone,) = calendar.walk("VTIMEZONE")
    assert str(zone["TZID"]) == "Europe/Berlin"
    assert {c.name for c in zone.subcomponents} == {"STANDARD", "DAYLIGHT"}
    assert str(calendar["X-WR-TIMEZONE"]) == "Europe/Berlin"


def test_calendar_properties(client: TestClient) -> None:
    calendar = _feed(client, "/feeds/events.ics?category=konzert")
    assert str(calendar["NAME"]) == str(calendar["X-WR-CALNAME"]) == "Stadtkalender Dortmund — Konzert"
    assert calendar["REFRESH-INTERVAL"].to_ical() == b"PT6H"
    assert calendar["X-PUBLISHED-TTL"].to_ical() == b"PT6H"
    assert str(calendar["SOURCE"]) == "http://127.0.0.1:8080/feeds/events.ics?category=konzert"
    assert str(calendar["COLOR"]) == "teal"
    assert "METHOD" not in calendar


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/feeds/events.ics", "Stadtkalender Dortmund"),
        ("/feeds/venues/konzerthaus-dortmund.ics", "Konzerthaus Dortmund"),
        ("/feeds/venues/konzerthaus-dortmund.ics?category=konzert", "Konzerthaus Dortmund — Konzert"),
        ("/feeds/categories/konzert.ics", "Stadtkalender Dortmund — Konzert"),
        ("/feeds/events.ics?venue=fzw&venue=depot", "Depot / FZW"),
        (
            "/feeds/events.ics?free=true&district=Innenstadt-Nord",
            "Stadtkalender Dortmund — Innenstadt-Nord, Eintritt frei",
        ),
        ("/events/evmahler.ics", "Mahler: Sinfonie Nr. 2"),
    ],
)
def test_calendar_name_describes_the_filter(client: TestClient, path: str, name: str) -> None:
    calendar = _feed(client, path)
    assert _unescape(calendar["NAME"]) == _unescape(calendar["X-WR-CALNAME"]) == name


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/feeds/venues/konzerthaus-dortmund.ics", {"ocmahler1", "ocmahler2", "ocjazz1", "ocjazzdst"}),
        ("/feeds/categories/fest.ics", {"ocjazz1", "ocjazzdst"}),
        ("/feeds/events.ics?free=true", {"ockids"}),
        (
            "/feeds/events.ics?available=true&venue=konzerthaus-dortmund",
            {"ocmahler2", "ocjazz1", "ocjazzdst"},
        ),
        ("/feeds/events.ics?q=punk", {"ocpunk1", "ocpunk3"}),
        ("/feeds/events.ics?from=2026-01-01&to=2026-01-31", {"ocmahler0"}),
        ("/feeds/events.ics?to=2026-03-26", {"ockids", "ocpunk1"}),
        ("/events/evmahler.ics", {"ocmahler0", "ocmahler1", "ocmahler2"}),
        ("/events/evpunk.ics", {"ocpunk1", "ocpunk2", "ocpunk3"}),
    ],
)
def test_feed_contents(client: TestClient, path: str, expected: set[str]) -> None:
    assert set(_events(_feed(client, path))) == expected


def test_vevent_carries_stable_uid_sequence_and_modification_times(client: TestClient) -> None:
    event = _events(_feed(client, "/feeds/events.ics"))["ocmahler2"]
    assert str(event["UID"]) == f"ocmahler2@{DOMAIN}"
    assert int(_prop(event, "SEQUENCE", vInt)) == 2
    assert _when(event, "LAST-MODIFIED") == UPDATED
    assert _when(event, "DTSTAMP") == datetime(2026, 3, 18, 9, 0, tzinfo=UTC)  # newest change in the data


def test_vevent_text(client: TestClient) -> None:
    event = _events(_feed(client, "/feeds/events.ics"))["ocmahler1"]
    assert str(event["SUMMARY"]) == "Mahler: Sinfonie Nr. 2"
    description = str(event["DESCRIPTION"])
    for part in (
        "Dortmunder Philharmoniker",
        "Leitung: Gabriel Feltz; Chor, Soli.",
        "Eintritt: 19–59 €",
        "Ausverkauft",
        "Karten: https://tickets.example/mahler-1",
        "Quelle: https://kh.example/1",
        "Quelle: https://eventim.example/9",
    ):
        assert part in description
    assert str(event["LOCATION"]) == "Konzerthaus Dortmund, Brückstraße 21, 44135 Dortmund"
    geo = _prop(event, "GEO", vGeo)
    assert (geo.latitude, geo.longitude) == (51.5149, 7.4636)
    assert str(event["URL"]) == "https://www.konzerthaus-dortmund.de/mahler-2"
    assert str(event["IMAGE"]) == "https://www.konzerthaus-dortmund.de/mahler.jpg"
    assert _prop(event, "CATEGORIES", vCategory).cats == ["Konzert"]


def test_special_characters_round_trip(client: TestClient) -> None:
    event = _events(_feed(client, "/feeds/events.ics"))["ocjazz1"]
    assert str(event["DESCRIPTION"]).startswith(
        "Free jazz; bring friends, \\ backslashes, and BEGIN:VEVENT lines\n🎷"
    )


def test_cancelled_occurrence_stays_with_status_and_prefix(client: TestClient) -> None:
    event = _events(_feed(client, "/feeds/events.ics"))["ocpunk1"]
    assert (str(event["STATUS"]), str(event["SUMMARY"])) == ("CANCELLED", "Abgesagt: Punk-Nacht")


def test_cancelled_occurrence_leaves_after_the_retention_window(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    feeds = dataclasses.replace(settings.feeds, cancelled_retention_days=90)
    longer = dataclasses.replace(settings, feeds=feeds)
    with open_client(longer, engine, factory) as client:
        assert "ocpunk2" in _events(_feed(client, "/feeds/events.ics"))


def test_dst_edge_occurrence_keeps_its_instant(client: TestClient) -> None:
    event = _events(_feed(client, "/feeds/events.ics"))["ocjazzdst"]
    assert _prop(event, "DTSTART", vDDDTypes).params["TZID"] == "Europe/Berlin"
    start = _instant(event, "DTSTART")
    assert start.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    offset = start.astimezone(BERLIN).utcoffset()
    assert offset is not None and offset.total_seconds() == 7200


def test_all_day_occurrence_is_a_date(client: TestClient) -> None:
    event = _events(_feed(client, "/feeds/events.ics"))["ockids"]
    assert (_when(event, "DTSTART"), _when(event, "DTEND")) == (date(2026, 3, 22), date(2026, 3, 23))


def test_feed_window_starts_past_days_back_in_berlin_days(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    later = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # "yesterday" began at 00:00 CET, a 23-hour day
    one_day = dataclasses.replace(settings, feeds=dataclasses.replace(settings.feeds, past_days=1))
    with open_client(one_day, engine, factory, clock=lambda: later) as client:
        found = set(_events(_feed(client, "/feeds/events.ics")))
    assert found == {"ocjazzdst", "ocmahler2", "ocpunk3", "ocwalk"}


def test_feed_keeps_the_last_feeds_past_days_but_the_json_list_starts_now(
    settings: Settings, engine: Any, factory: sessionmaker[Session]
) -> None:
    later = datetime(2026, 3, 30, 9, 0, tzinfo=UTC)  # a week after the earliest occurrences
    assert settings.feeds.past_days == 30
    with open_client(settings, engine, factory, clock=lambda: later) as client:
        found = set(_events(_feed(client, "/feeds/events.ics")))
        listed = {o["id"] for e in client.get("/api/v1/events").json()["events"] for o in e["occurrences"]}
    assert found == DEFAULT_FEED  # last week's concerts stay in subscribers' calendars
    assert "ocpunk1" not in listed and "ocjazz1" not in listed


def test_webcal_links_name_a_served_feed(client: TestClient) -> None:
    links = client.get("/api/v1/venues/konzerthaus-dortmund").json()["feeds"]
    assert links["webcal"].startswith("webcal://127.0.0.1:8080/")
    path = links["webcal"].removeprefix("webcal://127.0.0.1:8080")
    assert path == links["url"].removeprefix("http://127.0.0.1:8080")
    assert _events(_feed(client, path))


def test_list_feed_link_serves_the_same_selection(client: TestClient) -> None:
    page = client.get("/api/v1/events?category=konzert&available=true").json()
    listed = {o["id"] for e in page["events"] for o in e["occurrences"]}
    feed = set(_events(_feed(client, page["feeds"]["url"].removeprefix("http://127.0.0.1:8080"))))
    assert listed == feed


def test_merged_event_feed_redirects(client: TestClient) -> None:
    response = client.get("/events/evmahlerold.ics", follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (308, "/events/evmahler.ics")


def test_head_answers_like_get_without_a_body(client: TestClient) -> None:
    response = client.head("/feeds/events.ics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert response.headers["etag"] == client.get("/feeds/events.ics").headers["etag"]


def test_feed_is_crlf_and_folded(client: TestClient) -> None:
    body = client.get("/feeds/events.ics").content
    lines = body.split(b"\r\n")
    assert body.endswith(b"END:VCALENDAR\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    assert max(len(line) for line in lines) <= 75


# --- every consumer reads the served feeds alike ------------------------------------------------

_LINE = re.compile(r"^(?P<name>\S+)(?: \S+)?\s+(?P<verdict>OK|WARN|FAIL)\b(?P<counts>[^|]*)")


def _expected_sig(calendar: Calendar) -> str:
    keys = []
    for event in calendar.walk("VEVENT"):
        start = _when(event, "DTSTART")
        keys.append(
            start.strftime("%Y%m%d")
            if not isinstance(start, datetime)
            else start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
        )
    return hashlib.sha1("\n".join(sorted(keys)).encode()).hexdigest()[:8]


@pytest.mark.validator
@pytest.mark.parametrize("path", ["/feeds/events.ics", "/events/evpunk.ics"])
def test_consumers_accept_served_feeds_and_agree(client: TestClient, tmp_path: Path, path: str) -> None:
    if not VALIDATOR.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing: CI must run the iCalendar consumers")
        pytest.skip(f"{VALIDATOR} not found")
    body = client.get(path).content
    feed = tmp_path / "feed.ics"
    feed.write_bytes(body)
    result = subprocess.run(
        [str(VALIDATOR), str(feed), "20260101", "20280101"],
        capture_output=True,
        text=True,
        timeout=1800,
        check=False,
    )
    verdicts = {
        m["name"]: (m["verdict"], dict(re.findall(r"(\w+)=(\S+)", m["counts"])))
        for m in map(_LINE.match, result.stdout.splitlines())
        if m
    }
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(verdicts) >= 6, result.stdout
    expected = _expected_sig(Calendar.from_ical(body))
    for name, (verdict, counts) in verdicts.items():
        assert verdict != "FAIL", f"{name}: {result.stdout}"
        if "sig" in counts:
            assert counts["sig"] == expected, f"{name} disagrees on the start instants: {result.stdout}"


def test_a_bad_query_is_refused_before_the_category_is_looked_up(client: TestClient) -> None:
    """As for venues: ``from`` after ``to`` is a 400 even where the slug is not a category (found by schemathesis)."""
    answer = client.get("/feeds/categories/%251F.ics?from=2026-12-10&to=2026-12-01")
    assert answer.status_code == 400
    assert answer.headers["content-type"] == "application/problem+json"
