"""One window for every source: ongoing events kept, the rest counted as past or future."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from aggregator.config import ConfigError, load_settings
from aggregator.formats.icalendar import parse_calendar
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.types import BERLIN
from aggregator.window import OutsideCount, Window
from sources.platforms.detect import import_listings

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
WINDOW = Window.around(NOW, past_days=1, future_days=30)


def ical(*events: str) -> bytes:
    body = "".join(f"BEGIN:VEVENT\n{event}\nSUMMARY:x\nEND:VEVENT\n" for event in events)
    return f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n{body}END:VCALENDAR\n".encode()


def test_window_is_berlin_days_around_now() -> None:
    assert (WINDOW.start, WINDOW.end) == (
        datetime(2026, 12, 5, tzinfo=BERLIN),
        datetime(2027, 1, 5, tzinfo=BERLIN),
    )
    assert WINDOW.describe() == "2026-12-05 … 2027-01-04"


def test_window_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="aware"):
        Window.around(datetime(2026, 12, 6))


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        (datetime(2026, 11, 1, tzinfo=BERLIN), datetime(2027, 2, 1, tzinfo=BERLIN), None),  # ongoing
        (datetime(2026, 11, 1, tzinfo=BERLIN), datetime(2026, 12, 5, tzinfo=BERLIN), "past"),  # ends at start
        (datetime(2026, 11, 1, tzinfo=BERLIN), None, "past"),
        (datetime(2027, 1, 5, tzinfo=BERLIN), None, "future"),
        (datetime(2027, 1, 4, 23, tzinfo=BERLIN), None, None),
    ],
)
def test_outside(start: datetime, end: datetime | None, expected: str | None) -> None:
    assert WINDOW.outside(start, end) == expected


def test_ical_ongoing_single_event_is_kept() -> None:
    data = ical("UID:expo\nDTSTART;VALUE=DATE:20261001\nDTEND;VALUE=DATE:20270301")
    result = parse_calendar(data, source="t", fetched_at=NOW, window=WINDOW)
    assert [listing.record_id for listing in result.listings] == ["expo"]


def test_ical_ongoing_occurrence_of_a_series_is_kept() -> None:
    data = ical("UID:weeks\nDTSTART:20261101T100000Z\nDTEND:20261204T100000Z\nRRULE:FREQ=MONTHLY;COUNT=2")
    result = parse_calendar(data, source="t", fetched_at=NOW, window=WINDOW)
    assert [listing.start for listing in result.listings] == [datetime(2026, 12, 1, 10, tzinfo=UTC)]


def test_ical_events_outside_are_counted_by_reason_and_warned() -> None:
    data = ical(
        "UID:old\nDTSTART:20120316T190000Z",
        "UID:old-series\nDTSTART:20100101T190000Z\nRRULE:FREQ=YEARLY;COUNT=3",
        "UID:later\nDTSTART:20280101T190000Z",
        "UID:now\nDTSTART:20261210T190000Z",
    )
    result = parse_calendar(data, source="t", fetched_at=NOW, window=WINDOW)
    assert [listing.record_id for listing in result.listings] == ["now"]
    assert (result.outside.past, result.outside.future) == (2, 1)
    assert (result.outside.earliest, result.outside.latest) == (date(2010, 1, 1), date(2028, 1, 1))
    assert "3 events outside the window 2026-12-05 … 2027-01-04 left out" in result.warnings[-1]


def jsonld(*events: dict[str, object]) -> bytes:
    return json.dumps({"@context": "https://schema.org", "@graph": list(events)}).encode()


def test_jsonld_ongoing_exhibition_is_kept_and_the_rest_counted() -> None:
    data = jsonld(
        {
            "@type": "ExhibitionEvent",
            "@id": "https://m.example/expo",
            "name": "Expo",
            "startDate": "2026-10-01",
            "endDate": "2027-03-01",
        },
        {"@type": "Event", "@id": "https://m.example/old", "name": "Old", "startDate": "2012-03-16T20:00"},
        {"@type": "Event", "@id": "https://m.example/far", "name": "Far", "startDate": "2029-03-16T20:00"},
    )
    result = parse_jsonld(data, source="t", fetched_at=NOW, window=WINDOW)
    assert [listing.record_id for listing in result.listings] == ["https://m.example/expo"]
    assert (result.outside.past, result.outside.future) == (1, 1)


def test_jsonld_event_schedule_keeps_the_ongoing_occurrence() -> None:
    data = jsonld(
        {
            "@type": "Event",
            "@id": "https://m.example/w",
            "name": "Workshop",
            "eventSchedule": {
                "@type": "Schedule",
                "startDate": "2026-11-02",
                "repeatFrequency": "P1W",
                "byDay": "https://schema.org/Monday",
                "startTime": "10:00",
                "duration": "P9D",
            },
        }
    )
    result = parse_jsonld(data, source="t", fetched_at=NOW, window=WINDOW)
    starts = [listing.start.date() for listing in result.listings if listing.start]
    assert starts[0] == date(2026, 11, 30)  # 30 Nov + 9 days runs into the window
    assert starts[-1] == date(2027, 1, 4) and len(starts) == 6


def test_import_counts_outside_events_of_a_json_ld_file() -> None:
    data = jsonld({"@type": "Event", "name": "Old", "startDate": "2012-03-16T20:00"})
    result = import_listings(data, source="t", fetched_at=NOW, window=WINDOW, origin="old.json")
    assert (result.listings, result.outside.past, result.outside.earliest) == ([], 1, date(2012, 3, 16))


def test_outside_count_message() -> None:
    count = OutsideCount()
    count.add("past", datetime(2012, 3, 16, 20, tzinfo=BERLIN))
    assert count.message(WINDOW) == (
        "1 event outside the window 2026-12-05 … 2027-01-04 left out: 1 ended before it (past)"
    )


def test_settings_have_one_window_and_read_the_old_name(tmp_path: Path) -> None:
    folder = tmp_path
    (folder / "old.toml").write_text("[ingest]\nhorizon_days = 100\n", encoding="utf-8")
    assert load_settings(folder / "old.toml", env={}).ingest.future_days == 100
    (folder / "both.toml").write_text("[ingest]\nhorizon_days = 100\nfuture_days = 10\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"ingest\.horizon_days"):
        load_settings(folder / "both.toml", env={})
    defaults = load_settings(env={}).ingest
    assert (defaults.past_days, defaults.future_days) == (1, 400)
