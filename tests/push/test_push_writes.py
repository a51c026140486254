"""Writes through the push API: create, update, idempotency, PUT, DELETE, sync and its guard, priority."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from _push import PushRuntime, Venue, event, later, make_client, programme, title_of
from calendar_rows import count
from fixed_clock import NOW
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.ingest import ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, SourceRecord, SourceRun
from aggregator.types import RunStatus

ICAL = "text/calendar"


def _results(response: Any) -> dict[str, str]:
    assert response.status_code in (200, 201), response.text
    return {record["id"]: record["result"] for record in response.json()["records"]}


def _occurrence(factory: sessionmaker[Session], source: str, record_id: str) -> Occurrence:
    with factory() as session:
        record = session.scalars(
            select(SourceRecord).where(SourceRecord.source == source, SourceRecord.record_id == record_id)
        ).one()
        return session.get_one(Occurrence, record.occurrence_id)


def _state(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        rows = session.execute(
            select(Occurrence.id, Occurrence.status, Occurrence.sequence, Occurrence.updated_at)
        )
        return sorted(tuple(row) for row in rows)


def test_post_creates_each_record_and_says_so(konzerthaus: Venue, runtime: PushRuntime) -> None:
    response = konzerthaus.post("/events", programme(3))
    assert _results(response) == {"p0": "created", "p1": "created", "p2": "created"}
    assert [r["path"] for r in response.json()["records"]] == ["$[0]", "$[1]", "$[2]"]
    assert response.json()["counts"] == {"created": 3}
    assert count(runtime.factory, Occurrence) == 3


def test_repeating_a_request_changes_nothing(konzerthaus: Venue, runtime: PushRuntime) -> None:
    konzerthaus.post("/events", programme(3))
    before = _state(runtime.factory)
    response = konzerthaus.post("/events", programme(3))
    assert _results(response) == {"p0": "unchanged", "p1": "unchanged", "p2": "unchanged"}
    assert _state(runtime.factory) == before
    assert (count(runtime.factory, Event), count(runtime.factory, SourceRecord)) == (3, 3)


def test_a_changed_record_is_updated_in_place(konzerthaus: Venue, runtime: PushRuntime) -> None:
    first = konzerthaus.post("/events", programme(2)).json()["records"]
    changed = programme(2)
    changed[1]["name"] = "Neuer Titel"
    response = konzerthaus.post("/events", changed)
    assert _results(response) == {"p0": "unchanged", "p1": "updated"}
    assert response.json()["records"][1]["event_id"] == first[1]["event_id"]
    with runtime.factory() as session:
        assert session.get_one(Event, first[1]["event_id"]).title == "Neuer Titel"


def test_one_object_and_a_graph_are_accepted(konzerthaus: Venue) -> None:
    assert _results(konzerthaus.post("/events", event("solo"))) == {"solo": "created"}
    graph = {"@context": "https://schema.org", "@graph": [event("g1"), event("g2", 6)]}
    response = konzerthaus.post("/events", graph)
    assert _results(response) == {"g1": "created", "g2": "created"}
    assert response.json()["records"][1]["path"] == "$['@graph'][1]"


def _calendar(*vevents: str) -> str:
    return "\r\n".join(
        ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//push//DE", *vevents, "END:VCALENDAR", ""]
    )


def _vevent(uid: str, start: str, summary: str, *extra: str) -> str:
    return "\r\n".join(
        [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            "DTSTAMP:20261120T100000Z",
            f"DTSTART;TZID=Europe/Berlin:{start}",
            f"SUMMARY:{summary}",
            *extra,
            "END:VEVENT",
        ]
    )


def test_icalendar_body_creates_one_record_per_date_and_is_idempotent(konzerthaus: Venue) -> None:
    body = _calendar(
        _vevent("single@haus", "20261203T200000", "Liederabend"),
        _vevent("reihe@haus", "20261207T110000", "Matinee", "RRULE:FREQ=WEEKLY;COUNT=3"),
    )
    headers = {"Content-Type": "text/calendar; charset=utf-8"}
    first = _results(konzerthaus.post("/events", body, headers=headers))
    assert sorted(first.values()) == ["created"] * 4
    assert "single@haus" in first
    assert len([rid for rid in first if rid.startswith("reihe@haus#")]) == 3
    again = _results(konzerthaus.post("/events", body, headers=headers))
    assert set(again.values()) == {"unchanged"}


def test_put_creates_with_201_then_updates_with_200(konzerthaus: Venue, runtime: PushRuntime) -> None:
    created = konzerthaus.put("neu-1", event("neu-1"))
    assert created.status_code == 201, created.text
    without_id = {k: v for k, v in event("neu-1", title="Umbenannt").items() if k != "@id"}
    updated = konzerthaus.put("neu-1", without_id)
    assert (updated.status_code, _results(updated)) == (200, {"neu-1": "updated"})
    assert count(runtime.factory, SourceRecord) == 1


def test_put_ids_with_slashes_are_the_venues_own(konzerthaus: Venue) -> None:
    record_id = "https://www.konzerthaus-dortmund.de/de/programm/123"
    assert (
        konzerthaus.put(
            "https%3A%2F%2Fwww.konzerthaus-dortmund.de%2Fde%2Fprogramm%2F123", event(record_id)
        ).status_code
        == 201
    )
    assert (
        konzerthaus.get("/events/https%3A%2F%2Fwww.konzerthaus-dortmund.de%2Fde%2Fprogramm%2F123").json()[
            "records"
        ][0]["id"]
        == record_id
    )


def test_put_of_a_series_cancels_the_dates_no_longer_sent(konzerthaus: Venue, runtime: PushRuntime) -> None:
    headers = {"Content-Type": ICAL}
    three = _calendar(_vevent("reihe", "20261207T110000", "Matinee", "RRULE:FREQ=WEEKLY;COUNT=3"))
    assert konzerthaus.put("reihe", three, headers=headers).status_code == 201
    two = _calendar(_vevent("reihe", "20261207T110000", "Matinee", "RRULE:FREQ=WEEKLY;COUNT=2"))
    results = _results(konzerthaus.put("reihe", two, headers=headers))
    assert sorted(results.values()) == ["cancelled", "unchanged", "unchanged"]
    dropped = next(rid for rid, result in results.items() if result == "cancelled")
    assert _occurrence(runtime.factory, konzerthaus.source, dropped).status == "cancelled"


def test_delete_marks_cancelled_and_keeps_history(konzerthaus: Venue, runtime: PushRuntime) -> None:
    konzerthaus.post("/events", programme(2))
    response = konzerthaus.delete("p1")
    assert _results(response) == {"p1": "cancelled"}
    occurrence = _occurrence(runtime.factory, konzerthaus.source, "p1")
    assert (occurrence.status, occurrence.cancel_reason) == ("cancelled", "source")
    assert count(runtime.factory, SourceRecord) == 2
    assert _occurrence(runtime.factory, konzerthaus.source, "p0").status == "scheduled"
    assert _results(konzerthaus.delete("p1")) == {"p1": "unchanged"}
    assert konzerthaus.get("/events/p1").json()["records"][0]["status"] == "cancelled"


def test_delete_of_an_unknown_id_is_404(konzerthaus: Venue) -> None:
    response = konzerthaus.delete("gibt-es-nicht")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_a_cancelled_event_can_be_scheduled_again(konzerthaus: Venue, runtime: PushRuntime) -> None:
    konzerthaus.post("/events", programme(1))
    konzerthaus.delete("p0")
    assert _results(konzerthaus.post("/events", programme(1))) == {"p0": "updated"}
    assert _occurrence(runtime.factory, konzerthaus.source, "p0").status == "scheduled"


def test_sync_cancels_what_is_missing_from_two_syncs(konzerthaus: Venue, runtime: PushRuntime) -> None:
    assert set(_results(konzerthaus.post("/sync", programme(10))).values()) == {"created"}
    first = konzerthaus.post("/sync", programme(9))
    assert first.json()["records"][-1] == {
        "id": "p9",
        "result": "missing",
        "missing_runs": 1,
        "event_id": first.json()["records"][-1]["event_id"],
        "occurrence_id": first.json()["records"][-1]["occurrence_id"],
    }
    assert _occurrence(runtime.factory, konzerthaus.source, "p9").status == "scheduled"
    second = _results(konzerthaus.post("/sync", programme(9)))
    assert second["p9"] == "cancelled"
    assert {second[f"p{i}"] for i in range(9)} == {"unchanged"}
    occurrence = _occurrence(runtime.factory, konzerthaus.source, "p9")
    assert (occurrence.status, occurrence.cancel_reason) == ("cancelled", "vanished")


def test_a_sync_dropping_most_events_is_held_with_409_and_changes_nothing(
    konzerthaus: Venue, runtime: PushRuntime
) -> None:
    konzerthaus.post("/sync", programme(10))
    before = _state(runtime.factory)
    response = konzerthaus.post("/sync", programme(2))
    assert response.status_code == 409, response.text
    problem = response.json()
    assert "would drop 8 of 10 future listings" in problem["detail"]
    with runtime.factory() as session:
        run = session.get_one(SourceRun, problem["run_id"])
        assert (run.source, run.status) == (konzerthaus.source, RunStatus.SUSPICIOUS.value)
        missing = session.scalars(select(SourceRecord.missing_runs)).all()
    assert _state(runtime.factory) == before
    assert set(missing) == {0}


def test_an_empty_sync_after_a_programme_is_held(konzerthaus: Venue) -> None:
    konzerthaus.post("/sync", programme(3))
    assert konzerthaus.post("/sync", []).status_code == 409


def test_empty_post_is_422(konzerthaus: Venue) -> None:
    response = konzerthaus.post("/events", [])
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$"


def test_push_records_are_provenance_of_kind_push(konzerthaus: Venue, runtime: PushRuntime) -> None:
    konzerthaus.post("/events", [event("p0", description="Vom Haus")])
    with runtime.factory() as session:
        record = session.scalars(select(SourceRecord)).one()
        runs = session.scalars(select(SourceRun.source)).all()
    assert (record.source, record.record_id, record.data["_kind"]) == (konzerthaus.source, "p0", "push")
    assert record.raw["jsonld"]["description"] == "Vom Haus"
    assert runs == [konzerthaus.source]


def test_the_venues_push_outranks_its_scraped_listing(konzerthaus: Venue, runtime: PushRuntime) -> None:
    scraped = Listing(
        source="konzerthaus",
        record_id="kh-1",
        title=title_of("p0"),
        fetched_at=NOW,
        start=datetime(2026, 12, 5, 19, 0, tzinfo=UTC),
        venue_name="Konzerthaus Dortmund",
        description="Vom Scraper",
    )
    assert ingest(runtime.ingest_context, "konzerthaus", [scraped], now=NOW).status == RunStatus.SUCCESS
    response = konzerthaus.post("/events", [event("p0", description="Vom Haus selbst")])
    assert _results(response) == {"p0": "created"}
    with runtime.factory() as session:
        events = session.scalars(select(Event)).all()
        assert len(events) == 1, "the push should join the scraped event, not duplicate it"
        assert events[0].description == "Vom Haus selbst"
        assert events[0].field_sources["description"] == konzerthaus.source
        assert count(runtime.factory, Occurrence) == 1


def test_all_day_events_end_after_their_last_day(konzerthaus: Venue, runtime: PushRuntime) -> None:
    body = event("fest", startDate="2026-12-10", endDate="2026-12-12")
    konzerthaus.post("/events", body)
    occurrence = _occurrence(runtime.factory, konzerthaus.source, "fest")
    assert occurrence.all_day
    assert (occurrence.end - occurrence.start).days == 3  # type: ignore[operator]


def test_writes_use_the_request_time(runtime: PushRuntime, konzerthaus: Venue) -> None:
    with make_client(runtime, clock=lambda: later(5)) as client:
        response = client.post(
            "/api/v1/push/events",
            content=b'{"@type":"Event","@id":"t","name":"T","startDate":"2026-12-01T20:00"}',
            headers=konzerthaus.headers(),
        )
    assert response.status_code == 200
    with runtime.factory() as session:
        assert session.scalars(select(SourceRecord.first_seen)).one() == later(5)
