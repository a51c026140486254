"""The iCalendar importer against hand-written fixtures, one per trap seen in real feeds."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.formats.icalendar import (
    MAX_SUBDAILY_OCCURRENCES,
    NotACalendar,
    parse_calendar,
)
from aggregator.formats.icalendar import parser as ical
from aggregator.formats.read_result import UNTITLED, ReadResult
from aggregator.listing import Listing
from aggregator.types import BERLIN, Status
from sources.base import Document, registry
from sources.platforms.ical import ICalFeedSource

FIXTURES = Path(__file__).parents[1] / "fixtures" / "ical"
FETCHED_AT = datetime(2025, 1, 1, 12, tzinfo=UTC)
HORIZON = (datetime(2025, 1, 1, tzinfo=BERLIN), datetime(2026, 1, 1, tzinfo=BERLIN))
CALENDARS = sorted(
    path.name
    for path in FIXTURES.glob("*.ics")
    if path.name not in {"empty.ics", "not_a_calendar.ics", "truncated_early.ics"}
)


@cache
def parsed(name: str) -> ReadResult:
    """Each fixture is parsed once per test session."""
    return parse_calendar(
        (FIXTURES / name).read_bytes(), source="test", fetched_at=FETCHED_AT, window=HORIZON, origin=name
    )


def by_id(name: str) -> dict[str, Listing]:
    return {listing.record_id: listing for listing in parsed(name).listings}


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def parse_text(text: str, origin: str = "inline.ics") -> ReadResult:
    return parse_calendar(text.encode(), source="test", fetched_at=FETCHED_AT, window=HORIZON, origin=origin)


# --- invariants over every fixture ------------------------------------------------------------


def invariant_problems(listing: Listing) -> Iterator[str]:
    """What is wrong with a listing that every listing must satisfy."""
    start = listing.start
    if listing.source != "test" or listing.fetched_at != FETCHED_AT:
        yield "source or fetched_at not passed through"
    if start is None or start.tzinfo is None:
        yield f"start {start!r} not aware"
    elif not HORIZON[0] <= start < HORIZON[1]:
        yield f"start {start} outside the horizon"
    elif listing.end is not None and listing.end < start:
        yield f"end {listing.end} before start"
    elif listing.all_day and start.astimezone(BERLIN).time() != datetime.min.time():
        yield f"all-day start {start} not at midnight"
    if not listing.series_key or not listing.record_id.startswith(listing.series_key):
        yield f"series key {listing.series_key!r} not the prefix of the record id"
    if "BEGIN:VEVENT" not in listing.raw.get("ical", ""):
        yield "raw VEVENT text missing"


@pytest.mark.parametrize("name", CALENDARS)
def test_every_fixture_yields_listings(name: str) -> None:
    assert parsed(name).listings


@pytest.mark.parametrize("name", CALENDARS)
def test_record_ids_are_unique_within_a_file(name: str) -> None:
    ids = [listing.record_id for listing in parsed(name).listings]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("name", CALENDARS)
def test_listing_invariants(name: str) -> None:
    problems = [
        f"{listing.record_id}: {problem}"
        for listing in parsed(name).listings
        for problem in invariant_problems(listing)
    ]
    assert problems == []


# --- recurrence -------------------------------------------------------------------------------


def test_rrule_expands_with_exdate_removed_and_moved_instance_kept_under_its_original_slot() -> None:
    assert sorted(by_id("recurring.ics")) == [
        "lesung-2025@example.org",
        "orgel-mittag@example.org#2025-03-05T11:30:00Z",
        "orgel-mittag@example.org#2025-03-12T11:30:00Z",
        "orgel-mittag@example.org#2025-03-26T11:30:00Z",
        "orgel-mittag@example.org#2025-04-02T10:30:00Z",
        "orgel-mittag@example.org#2025-04-09T10:30:00Z",
    ]


def test_moved_instance_has_its_new_time_title_and_previous_start() -> None:
    moved = by_id("recurring.ics")["orgel-mittag@example.org#2025-04-02T10:30:00Z"]
    assert (moved.start, moved.end) == (utc(2025, 4, 3, 16), utc(2025, 4, 3, 16, 30))
    assert moved.title == "Orgelmusik am Abend (verlegt)"
    assert moved.previous_start == utc(2025, 4, 2, 10, 30)


def test_occurrences_follow_the_clock_change() -> None:
    listings = by_id("recurring.ics")
    assert listings["orgel-mittag@example.org#2025-03-26T11:30:00Z"].start == utc(2025, 3, 26, 11, 30)
    assert listings["orgel-mittag@example.org#2025-04-09T10:30:00Z"].start == utc(2025, 4, 9, 10, 30)


def test_cancelled_instance_of_a_series() -> None:
    listing = by_id("recurring.ics")["orgel-mittag@example.org#2025-04-09T10:30:00Z"]
    assert (listing.status, listing.status_text) == (Status.CANCELLED, "CANCELLED")


def test_cancelled_single_event() -> None:
    assert by_id("recurring.ics")["lesung-2025@example.org"].status is Status.CANCELLED


def test_regular_occurrence_has_no_status_and_no_previous_start() -> None:
    listing = by_id("recurring.ics")["orgel-mittag@example.org#2025-03-05T11:30:00Z"]
    assert (listing.status, listing.previous_start) == (None, None)


def test_series_key_is_the_uid() -> None:
    assert {listing.series_key for listing in parsed("recurring.ics").listings} == {
        "orgel-mittag@example.org",
        "lesung-2025@example.org",
    }


def test_recurrence_id_is_kept_in_raw() -> None:
    listing = by_id("recurring.ics")["orgel-mittag@example.org#2025-03-12T11:30:00Z"]
    assert listing.raw["recurrence_id"] == "2025-03-12T11:30:00Z"


def test_rdate_with_date_values() -> None:
    assert [key for key in by_id("all_day.ics") if key.startswith("flohmarkt")] == [
        "flohmarkt@example.org#2025-05-01",
        "flohmarkt@example.org#2025-06-01",
        "flohmarkt@example.org#2025-07-01",
    ]


def test_unexpandable_rule_falls_back_to_the_events_own_date() -> None:
    listing = by_id("traps.ics")["rscale@example.org#2025-06-12T18:00:00Z"]
    assert listing.start == utc(2025, 6, 12, 18)
    assert any(
        "rscale@example.org: recurrence could not be expanded" in w for w in parsed("traps.ics").warnings
    )


def test_a_broken_series_does_not_stop_its_neighbours() -> None:
    healthy = [key for key in by_id("traps.ics") if key.startswith("healthy-series")]
    assert len(healthy) == 3


def test_endless_subdaily_series_is_cut() -> None:
    minutely = [key for key in by_id("traps.ics") if key.startswith("minutely")]
    assert len(minutely) == MAX_SUBDAILY_OCCURRENCES
    assert any("minutely@example.org: more than" in w for w in parsed("traps.ics").warnings)


def test_uid_reused_for_different_dates_keeps_every_date() -> None:
    keys = [key for key in by_id("reused_uid.ics") if key.startswith("post-4711")]
    assert keys == [
        "post-4711@example.org#2025-03-15T19:00:00Z",
        "post-4711@example.org#2025-04-12T18:00:00Z",
    ]


def test_versions_of_one_event_keep_the_newest_under_the_plain_uid() -> None:
    listing = by_id("reused_uid.ics")["versioned@example.org"]
    assert (listing.title, listing.start) == ("New version", utc(2025, 5, 2, 18))


# --- time zones -------------------------------------------------------------------------------


def test_x_wr_timezone_applies_to_floating_times() -> None:
    assert by_id("x_wr_timezone.ics")["floating@example.org"].start == utc(2025, 6, 10, 18)


def test_x_wr_timezone_makes_utc_series_keep_local_time_across_dst() -> None:
    listings = by_id("x_wr_timezone.ics")
    assert listings["utc-weekly@example.org#2025-03-31T08:00:00Z"].start == utc(2025, 3, 31, 8)


def test_floating_time_without_x_wr_timezone_is_berlin() -> None:
    assert by_id("floating.ics")["floating-berlin@example.org"].start == utc(2025, 7, 10, 18)


@pytest.mark.parametrize(
    ("uid", "start"),
    [
        ("windows@example.org", utc(2025, 7, 10, 18)),
        ("localised@example.org", utc(2025, 1, 15, 19)),
        ("display-name@example.org", utc(2025, 7, 10, 18)),
        ("custom-vtimezone@example.org", utc(2025, 1, 15, 17)),
        ("unknown-zone@example.org", utc(2025, 1, 15, 19)),
    ],
)
def test_zone_names(uid: str, start: datetime) -> None:
    assert by_id("windows_zones.ics")[uid].start == start


def test_only_the_unknown_zone_is_warned_about() -> None:
    assert [w for w in parsed("windows_zones.ics").warnings if "TZID" in w] == [
        "unknown TZID 'Stadtkalender Nowhere Time' without a usable VTIMEZONE; read as Europe/Berlin"
    ]


def test_vtimezone_with_two_tzid_lines_keeps_the_first() -> None:
    assert by_id("traps.ics")["two-tzids@example.org"].start == utc(2025, 6, 10, 18)
    assert "VTIMEZONE with 2 TZID lines: kept 'Europe/Berlin'" in parsed("traps.ics").warnings


def test_vtimezone_with_impossible_offset_falls_back_to_berlin() -> None:
    assert by_id("traps.ics")["broken-offset@example.org"].start == utc(2025, 1, 15, 19)
    assert any("'Stadtkalender Broken Offset'" in w for w in parsed("traps.ics").warnings)


def test_second_calendar_in_one_file_keeps_its_own_x_wr_timezone() -> None:
    listings = by_id("two_calendars.ics")
    assert listings["first-calendar@example.org"].start == utc(2025, 6, 1, 16)
    assert listings["second-calendar@example.org"].start == utc(2025, 6, 2, 17)


# --- all-day, ends ----------------------------------------------------------------------------


def test_all_day_event_without_end_lasts_one_day() -> None:
    listing = by_id("all_day.ics")["one-day@example.org"]
    assert (listing.all_day, listing.start, listing.end) == (
        True,
        datetime(2025, 3, 1, tzinfo=BERLIN),
        datetime(2025, 3, 2, tzinfo=BERLIN),
    )


def test_all_day_end_is_exclusive_as_given() -> None:
    assert by_id("all_day.ics")["festival@example.org"].end == datetime(2025, 8, 4, tzinfo=BERLIN)


def test_end_from_duration() -> None:
    assert by_id("fields.ics")["konzert-42@example.org"].end == utc(2025, 9, 12, 20, 30)


def test_timed_event_without_end_has_none() -> None:
    assert by_id("floating.ics")["no-end@example.org"].end is None


def test_broken_dtend_is_dropped_with_a_warning() -> None:
    assert by_id("traps.ics")["bad-alarm@example.org"].end is None
    assert "VEVENT bad-alarm@example.org: DTEND unreadable ('None'), ignored" in parsed("traps.ics").warnings


def test_alarm_with_pt_minus_2h_costs_nothing_but_a_warning() -> None:
    assert "bad-alarm@example.org" in by_id("traps.ics")
    assert any(w.startswith("VALARM: TRIGGER unreadable") for w in parsed("traps.ics").warnings)


# --- encodings and file shapes ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["bom_utf8.ics", "utf16.ics", "windows1252.ics"])
def test_encodings(name: str) -> None:
    assert by_id(name)["maerchen@example.org"].title == "Märchenstunde für Kinder"


def test_windows_1252_is_warned_about() -> None:
    assert "the file is not UTF-8; read as Windows-1252" in parsed("windows1252.ics").warnings


def test_utf8_with_bom_has_no_warnings() -> None:
    assert parsed("bom_utf8.ics").warnings == []


def test_two_calendars_in_one_file() -> None:
    assert parsed("two_calendars.ics").records == 2


def test_bare_vevent_without_vcalendar() -> None:
    result = parse_text("BEGIN:VEVENT\nUID:bare\nDTSTART:20250301T100000Z\nSUMMARY:Bare\nEND:VEVENT\n")
    assert [listing.record_id for listing in result.listings] == ["bare"]


def test_truncated_file_keeps_complete_events_and_rejects_the_cut_one() -> None:
    result = parsed("truncated.ics")
    assert (len(result.listings), result.records) == (2, 3)
    assert [r.record_id for r in result.rejections] == ["cut-off@example.org"]


# --- bad records among good ones --------------------------------------------------------------


def test_events_without_usable_dtstart_are_rejected_and_the_rest_imported() -> None:
    result = parsed("missing_dtstart.ics")
    assert result.records == 6
    assert len(result.listings) == 5
    assert {(r.record_id, r.field) for r in result.rejections} == {
        ("no-start@example.org", "start"),
        ("bad-start@example.org", "start"),
    }


def test_missing_summary_gets_a_placeholder_title_and_a_warning() -> None:
    assert by_id("missing_dtstart.ics")["untitled@example.org"].title == UNTITLED
    assert any("untitled@example.org: no SUMMARY" in w for w in parsed("missing_dtstart.ics").warnings)


def test_missing_uid_gets_a_stable_hash() -> None:
    ids = [key for key in by_id("missing_dtstart.ics") if key.startswith("nouid-")]
    again = parse_text((FIXTURES / "missing_dtstart.ics").read_text())
    assert len(ids) == 1 and ids[0] in {listing.record_id for listing in again.listings}


def test_whole_parse_failure_falls_back_to_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    real = ical._parse_text

    def choking_on_one_event(text: str, notes: list[str]) -> tuple[list[object], bool]:
        if "UID:bad-start@example.org" in text:
            raise RecursionError("simulated parser crash")
        return real(text, notes)  # type: ignore[return-value]

    monkeypatch.setattr(ical, "_parse_text", choking_on_one_event)
    result = parse_text((FIXTURES / "missing_dtstart.ics").read_text())
    assert result.records == 6
    assert len(result.listings) == 5
    assert any("read block by block" in w for w in result.warnings)
    assert any("VEVENT block unreadable" in r.reason for r in result.rejections)


def test_duplicate_uid_and_start_still_gets_unique_record_ids() -> None:
    text = (
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20250301T100000Z\nRRULE:FREQ=DAILY;COUNT=1\n"
        "END:VEVENT\nEND:VCALENDAR\nBEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nDTSTART:20250301T100000Z\n"
        "RRULE:FREQ=DAILY;COUNT=1\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    ids = [listing.record_id for listing in parse_text(text).listings]
    assert len(ids) == 2 and len(set(ids)) == 2


# --- field mapping ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def concert() -> Listing:
    return by_id("fields.ics")["konzert-42@example.org"]


def test_title(concert: Listing) -> None:
    assert concert.title == "Sinfoniekonzert"


def test_description_unescaped(concert: Listing) -> None:
    assert concert.description == "Werke von Brahms\nund Dvořák, mit Pause."


def test_venue_name_is_the_first_line_of_location(concert: Listing) -> None:
    assert concert.venue_name == "Konzerthaus Dortmund"


def test_venue_address_is_the_rest(concert: Listing) -> None:
    assert concert.venue_address == "Brückstraße 21, 44135 Dortmund"


def test_location_split_at_the_first_comma() -> None:
    listing = by_id("fields.ics")["attach-image@example.org"]
    assert (listing.venue_name, listing.venue_address) == ("Domicil", "Hansastraße 7-11, 44137 Dortmund")


def test_geo(concert: Listing) -> None:
    assert concert.geo == (51.5155, 7.4642)


def test_categories_from_all_lines(concert: Listing) -> None:
    assert concert.categories == ["Musik", "Klassik", "Konzert"]


def test_url(concert: Listing) -> None:
    assert concert.url == "https://example.org/konzert-42"


def test_image_property(concert: Listing) -> None:
    assert concert.image == "https://example.org/konzert-42.jpg"


def test_image_from_attach_with_image_type() -> None:
    assert by_id("fields.ics")["attach-image@example.org"].image == "https://example.org/plakat.jpg"


def test_organiser_common_name(concert: Listing) -> None:
    assert concert.organiser == "Dortmunder Philharmoniker"


def test_language(concert: Listing) -> None:
    assert concert.language == "de"


def test_tentative_is_scheduled(concert: Listing) -> None:
    assert concert.status is Status.SCHEDULED


def test_non_recurring_record_id_is_the_uid(concert: Listing) -> None:
    assert concert.record_id == "konzert-42@example.org"


def test_raw_holds_the_vevent_text(concert: Listing) -> None:
    assert "UID:konzert-42@example.org" in concert.raw["ical"]


def test_raw_is_what_the_source_sent_line_by_line_not_a_reserialisation() -> None:
    """Property order, spelling and unknown properties as the file gave them; folded lines unfolded."""
    start = (FETCHED_AT + timedelta(days=3)).strftime("%Y%m%dT190000")
    text = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:raw-1\r\nX-HAUS-SAAL:Großer Saal\r\n"
        f"SUMMARY:Ein langer Titel\r\n  über zwei Zeilen\r\nDTSTART;TZID=Europe/Berlin:{start}\r\n"
        "BEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    (listing,) = parse_text(text).listings
    assert listing.raw["ical"] == (
        "BEGIN:VEVENT\r\nUID:raw-1\r\nX-HAUS-SAAL:Großer Saal\r\nSUMMARY:Ein langer Titel über zwei Zeilen\r\n"
        f"DTSTART;TZID=Europe/Berlin:{start}\r\nBEGIN:VALARM\r\nACTION:DISPLAY\r\nEND:VALARM\r\nEND:VEVENT\r\n"
    )


def test_events_outside_the_horizon_are_left_out() -> None:
    assert not any(key.startswith("archiv-2019") for key in by_id("recurring.ics"))


# --- not a calendar ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ((FIXTURES / "empty.ics").read_bytes(), "it is empty"),
        ((FIXTURES / "not_a_calendar.ics").read_bytes(), "it is an HTML page"),
        ((FIXTURES / "truncated_early.ics").read_bytes(), "it ends before its first VEVENT (truncated?)"),
        (b'{"events": []}', "it is JSON"),
        (bytes(range(256)) * 4, "it is binary data"),
        (b"BEGIN:VTIMEZONE\nTZID:Europe/Berlin\nEND:VTIMEZONE\n", "it has no BEGIN:VCALENDAR line"),
    ],
    ids=["empty", "html", "truncated", "json", "binary", "vtimezone-only"],
)
def test_not_a_calendar(data: bytes, reason: str) -> None:
    with pytest.raises(NotACalendar) as caught:
        parse_calendar(data, source="kino", fetched_at=FETCHED_AT, window=HORIZON, origin="feed.ics")
    assert caught.value.reason.startswith(reason)
    assert str(caught.value).startswith("kino: feed.ics is not an iCalendar file: ")
    assert "\n" not in str(caught.value)


def test_complete_calendar_without_events_is_empty_not_an_error() -> None:
    result = parse_text("BEGIN:VCALENDAR\nVERSION:2.0\nPRODID:x\nEND:VCALENDAR\n")
    assert (result.listings, result.records) == ([], 0)


# --- the configurable source ------------------------------------------------------------------


class _Files:
    """A fetcher serving fixture files by URL."""

    def __init__(self, files: dict[str, str]) -> None:
        self.files = files

    def new_run(self) -> None:
        pass

    def get(self, url: str) -> Document:
        return Document(url=url, body=(FIXTURES / self.files[url]).read_bytes(), fetched_at=FETCHED_AT)

    def now(self) -> datetime:
        return FETCHED_AT


def feed(**options: object) -> ICalFeedSource:
    fetcher = _Files(
        {"https://a.example/feed.ics": "missing_dtstart.ics", "https://b.example/x.ics": "all_day.ics"}
    )
    return ICalFeedSource(
        fetcher, options={"name": "jazzclub", "url": "https://a.example/feed.ics", **options}
    )


def test_source_is_a_platform_family_not_a_registered_source() -> None:
    assert ICalFeedSource.platform == "ical"
    assert ICalFeedSource not in registry().values()


def test_source_records_under_its_configured_name() -> None:
    assert {listing.source for listing in feed().run().listings} == {"jazzclub"}


def test_source_gives_its_venue_to_listings_without_location() -> None:
    venues = {
        listing.record_id: listing.venue_name for listing in feed(venue="Domicil Jazzclub").run().listings
    }
    assert venues["good-1@example.org"] == "Domicil Jazzclub"


def test_source_keeps_a_listings_own_location() -> None:
    listings = [
        listing for listing in feed(venue="Anderswo").run().listings if listing.title == "Without UID"
    ]
    assert [listing.venue_name for listing in listings] == ["Domicil"]


def test_source_exposes_rejections_and_warnings_of_the_run() -> None:
    source = feed(urls=["https://a.example/feed.ics", "https://b.example/x.ics"])
    result = source.run()
    assert len(result.rejections) == 2
    assert result.warnings and source.read(_Files({"x": "all_day.ics"}).get("x")).records == 3


def test_source_resets_rejections_for_a_new_run() -> None:
    source = feed()
    source.run()
    assert len(source.run().rejections) == 2


def test_source_window_runs_past_days_back_and_future_days_ahead_in_berlin_days() -> None:
    start, end = feed(past_days=1, future_days=30).window(datetime(2025, 6, 1, 22, 30, tzinfo=UTC))
    assert (start, end) == (datetime(2025, 6, 1, tzinfo=BERLIN), datetime(2025, 7, 2, tzinfo=BERLIN))


def test_source_window_reads_the_old_option_name_horizon_days() -> None:
    start, end = feed(past_days=0, horizon_days=30).window(datetime(2025, 6, 1, 22, 30, tzinfo=UTC))
    assert (start, end - start) == (datetime(2025, 6, 2, tzinfo=BERLIN), timedelta(days=30))


def test_source_raises_a_clear_error_for_a_non_calendar() -> None:
    source = ICalFeedSource(options={"name": "kino"})
    document = Document(
        url="https://kino.example/feed.ics", body=b"<html><body>Wartung</body></html>", fetched_at=NOW
    )
    with pytest.raises(NotACalendar, match=r"^kino: https://kino.example/feed.ics is not an iCalendar file"):
        source.parse(document)
