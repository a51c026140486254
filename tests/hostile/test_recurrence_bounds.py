"""Hostile recurrence rules: each is bounded before anything is generated, and costs only its own record."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import aggregator.formats.icalendar.recurrence
from aggregator.formats.icalendar import (
    MAX_OCCURRENCES_PER_SERIES,
    MAX_STEPS_PER_CALENDAR,
    MAX_STEPS_PER_SERIES,
    MAX_SUBDAILY_OCCURRENCES,
    parse_calendar,
)
from aggregator.formats.read_result import ReadResult
from aggregator.types import BERLIN
from aggregator.window import Window

NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)
WINDOW = Window.around(NOW, past_days=1, future_days=400)
NEIGHBOUR = "BEGIN:VEVENT\nUID:good\nDTSTART:20261210T200000Z\nSUMMARY:Konzert\nEND:VEVENT\n"


def calendar(rule: str, start: str = "20261207T100000Z", *, extra: str = NEIGHBOUR) -> bytes:
    return (
        "BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n"
        f"BEGIN:VEVENT\nUID:hostile\nDTSTART:{start}\nSUMMARY:Loop\nRRULE:{rule}\nEND:VEVENT\n"
        f"{extra}END:VCALENDAR\n"
    ).encode()


def parse(data: bytes, **options: int) -> ReadResult:
    return parse_calendar(data, source="t", fetched_at=NOW, window=WINDOW, origin="hostile.ics", **options)


def hostile(result: ReadResult) -> list[datetime]:
    return [listing.start for listing in result.listings if listing.series_key == "hostile" and listing.start]


def neighbour_kept(result: ReadResult) -> bool:
    return [listing.record_id for listing in result.listings if listing.series_key == "good"] == ["good"]


def test_interval_zero_is_a_rejection_of_its_record_not_an_endless_loop() -> None:
    result = parse(calendar("FREQ=YEARLY;INTERVAL=0"))
    assert hostile(result) == []
    assert [(r.record_id, r.field) for r in result.rejections] == [("hostile", "recurrence")]
    assert "INTERVAL=0 never advances" in result.rejections[0].reason
    assert neighbour_kept(result)


def test_negative_interval_is_refused_too() -> None:
    result = parse(calendar("FREQ=SECONDLY;INTERVAL=-1"))
    assert hostile(result) == [] and "never advances" in result.rejections[0].reason
    assert neighbour_kept(result)


def test_a_month_day_no_month_has_is_refused_before_the_search_for_it() -> None:
    result = parse(calendar("FREQ=DAILY;BYMONTH=2;BYMONTHDAY=30"))
    assert hostile(result) == [] and "never occurs" in result.rejections[0].reason
    assert neighbour_kept(result)


def test_endless_secondly_rule_in_the_window_stops_at_the_subdaily_cut() -> None:
    result = parse(calendar("FREQ=SECONDLY"))
    starts = hostile(result)
    assert len(starts) == MAX_SUBDAILY_OCCURRENCES  # unbounded: 34 million in the window
    assert starts == sorted(starts) and starts[0] == datetime(2026, 12, 7, 10, tzinfo=UTC)
    assert any("more than 1000 occurrences in the window" in warning for warning in result.warnings)
    assert neighbour_kept(result)


def test_endless_secondly_rule_from_long_ago_is_refused_by_its_step_bound() -> None:
    result = parse(calendar("FREQ=SECONDLY", start="20120101T000000Z"))
    assert hostile(result) == []
    assert f"needs more than {MAX_STEPS_PER_SERIES} repetitions" in result.rejections[0].reason
    assert neighbour_kept(result)


def test_minutely_rule_without_end_is_cut_to_the_subdaily_bound() -> None:
    assert len(hostile(parse(calendar("FREQ=MINUTELY")))) == MAX_SUBDAILY_OCCURRENCES


def test_daily_rule_with_every_hour_and_minute_is_cut_before_building_them_all() -> None:
    hours = ",".join(str(hour) for hour in range(24))
    minutes = ",".join(str(minute) for minute in range(60))
    result = parse(calendar(f"FREQ=DAILY;BYHOUR={hours};BYMINUTE={minutes}"))
    starts = hostile(result)
    assert len(starts) == MAX_OCCURRENCES_PER_SERIES  # unbounded: 576,000 in the window
    assert starts[-1] < datetime(2026, 12, 15, tzinfo=BERLIN)  # the first ten thousand minutes
    assert neighbour_kept(result)


def test_the_bounds_are_what_the_module_says() -> None:
    assert (MAX_STEPS_PER_SERIES, MAX_STEPS_PER_CALENDAR) == (20_000, 200_000)
    assert (MAX_OCCURRENCES_PER_SERIES, MAX_SUBDAILY_OCCURRENCES) == (10_000, 1_000)


def test_the_files_step_budget_is_shared_by_its_series(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(aggregator.formats.icalendar.recurrence, "MAX_STEPS_PER_SERIES", 1_000)
    monkeypatch.setattr(aggregator.formats.icalendar.recurrence, "MAX_STEPS_PER_CALENDAR", 5_000)
    events = "".join(  # each series alone is within its bound: 900 minutes, all before the window
        f"BEGIN:VEVENT\nUID:h{n}\nDTSTART:20260101T000000Z\nSUMMARY:x\nRRULE:FREQ=MINUTELY;COUNT=900\n"
        "END:VEVENT\n"
        for n in range(8)
    )
    result = parse(f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n{events}{NEIGHBOUR}END:VCALENDAR\n".encode())
    refused = [r.record_id for r in result.rejections if "the file's 5000 repetitions are spent" in r.reason]
    assert refused == ["h5", "h6", "h7"] and neighbour_kept(result)


def test_a_files_occurrences_are_bounded_and_the_rest_rejected() -> None:
    events = "".join(
        f"BEGIN:VEVENT\nUID:d{n}\nDTSTART:20261207T100000Z\nSUMMARY:x\nRRULE:FREQ=DAILY\nEND:VEVENT\n"
        for n in range(12)
    )
    data = f"BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\n{events}END:VCALENDAR\n".encode()
    assert len(parse(data).listings) == 12 * 399  # 12 daily series, 7 Dec 2026 to 9 Jan 2028
    bounded = parse(data, max_listings=1_000)
    assert len(bounded.listings) == 1_000
    assert (
        len(bounded.rejections) == 12 - 3 and "already gave 1000 occurrences" in bounded.rejections[0].reason
    )


def test_push_counts_occurrences_not_vevents_against_its_limit() -> None:
    from aggregator.normalise.categories import load_categories
    from aggregator.normalise.venues import load_venues
    from calendar_api.push.validate import MAX_RECORDS, InvalidRecords, Rules, read_batch

    rules = Rules(
        source="push:konzerthaus-dortmund",
        venues=("konzerthaus-dortmund",),
        registry=load_venues(),
        categories=load_categories(),
        now=NOW,
    )
    events = "".join(
        f"BEGIN:VEVENT\r\nUID:d{n}\r\nDTSTAMP:20261120T100000Z\r\nDTSTART:20261207T180000Z\r\n"
        "SUMMARY:Konzert\r\nLOCATION:Konzerthaus Dortmund\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n"
        for n in range(12)
    )
    body = f"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\n{events}END:VCALENDAR\r\n".encode()
    assert len(body) < 2_500
    with pytest.raises(InvalidRecords) as caught:
        read_batch(body, "text/calendar", rules)
    assert [fault.reason for fault in caught.value.faults] == [
        f"its events have more than {MAX_RECORDS} occurrences in 2025-12-05 … 2029-12-08; split it"
    ]
