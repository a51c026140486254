"""The iCalendar feed renderer: properties, wire format, escaping, DST edges, all-day spans."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from icalendar import Calendar, Component, Event, Timezone

from aggregator.types import BERLIN, Status
from calendar_api.ical_feed import FeedCalendar, FeedItem, _vcalendar, _vevent, render_calendar
from calendar_api.vtimezone import vtimezone

STAMP = datetime(2026, 2, 1, 9, 15, tzinfo=UTC)
CALENDAR = FeedCalendar(
    name="Konzerthaus Dortmund — Konzerte",
    description="Alle Konzerte im Konzerthaus, aus dem Programm; täglich aktualisiert.",
    url="https://stadtkalender.dortmund/orte/konzerthaus",
    source_url="https://stadtkalender.dortmund/orte/konzerthaus/konzerte.ics",
    color="darkred",
)
FULL = FeedItem(
    uid="occ_3f9a0c1e@stadtkalender.dortmund",
    sequence=3,
    dtstamp=STAMP,
    created=datetime(2025, 11, 3, 8, 0, tzinfo=UTC),
    last_modified=datetime(2026, 1, 30, 17, 45, tzinfo=UTC),
    start=datetime(2026, 5, 14, 20, 0, tzinfo=BERLIN),
    end=datetime(2026, 5, 14, 22, 30, tzinfo=BERLIN),
    summary="Mahler: Sinfonie Nr. 2 „Auferstehung“",
    description="Dortmunder Philharmoniker\nLeitung: Gabriel Feltz\n\nKarten ab 19 €.",
    location="Konzerthaus Dortmund\nBrückstraße 21, 44135 Dortmund",
    geo=(51.5149, 7.4636),
    url="https://www.konzerthaus-dortmund.de/de/programm/mahler-2/",
    categories=("Klassik", "Konzert"),
    status=Status.SCHEDULED,
    image="https://www.konzerthaus-dortmund.de/media/mahler.jpg",
    image_type="image/jpeg",
)
MINIMAL = FeedItem(
    uid="occ_minimal@stadtkalender.dortmund",
    sequence=0,
    dtstamp=STAMP,
    last_modified=STAMP,
    start=datetime(2026, 6, 1, 17, 0, tzinfo=UTC),
    summary="Offene Probe",
)
FEED = render_calendar(CALENDAR, [FULL, MINIMAL])
PARSED = Calendar.from_ical(FEED)


def _render(*items: FeedItem, calendar: FeedCalendar = CALENDAR) -> bytes:
    return render_calendar(calendar, items)


def _events(feed: bytes) -> list[Event]:
    return [event for event in Calendar.from_ical(feed).walk("VEVENT") if isinstance(event, Event)]


def _get(component: Component, name: str) -> Any:
    """A property value, untyped: icalendar types ``component[name]`` as a union of every value class."""
    return component[name]


def _one(item: FeedItem) -> Event:
    (event,) = _events(_render(item))
    return event


def _unfolded(feed: bytes) -> list[str]:
    """Content lines as a consumer sees them after unfolding."""
    return re.sub(rb"\r\n[ \t]", b"", feed).decode("utf-8").split("\r\n")[:-1]


def _line(feed: bytes, name: str, *, calendar: bool = False) -> str:
    """The one content line named ``name`` of the calendar itself or of its (only) event."""
    lines = _unfolded(feed)
    scope = lines[: lines.index("BEGIN:VTIMEZONE")] if calendar else lines[lines.index("END:VTIMEZONE") :]
    (line,) = [line for line in scope if re.match(rf"{name}[;:]", line)]
    return line


def _item(**changes: Any) -> FeedItem:
    return replace(MINIMAL, **changes)


# --- the calendar ------------------------------------------------------------------------------

CALENDAR_LINES = [
    "VERSION:2.0",
    "PRODID:-//stadtkalender//stadtkalender Dortmund//DE",
    "CALSCALE:GREGORIAN",
    "NAME:Konzerthaus Dortmund — Konzerte",
    "X-WR-CALNAME:Konzerthaus Dortmund — Konzerte",
    "DESCRIPTION:Alle Konzerte im Konzerthaus\\, aus dem Programm\\; täglich aktualisiert.",
    "X-WR-CALDESC:Alle Konzerte im Konzerthaus\\, aus dem Programm\\; täglich aktualisiert.",
    "X-WR-TIMEZONE:Europe/Berlin",
    "REFRESH-INTERVAL;VALUE=DURATION:PT6H",
    "X-PUBLISHED-TTL:PT6H",
    "SOURCE;VALUE=URI:https://stadtkalender.dortmund/orte/konzerthaus/konzerte.ics",
    "URL:https://stadtkalender.dortmund/orte/konzerthaus",
    "COLOR:darkred",
]


@pytest.mark.parametrize("line", CALENDAR_LINES)
def test_calendar_property_line(line: str) -> None:
    calendar_part = _unfolded(FEED)[: _unfolded(FEED).index("BEGIN:VTIMEZONE")]
    assert line in calendar_part


def test_calendar_properties_parse_back() -> None:
    assert (PARSED.calendar_name, PARSED.description, PARSED.refresh_interval, PARSED.source) == (
        CALENDAR.name,
        CALENDAR.description,
        timedelta(hours=6),
        CALENDAR.source_url,
    )


@pytest.mark.parametrize("name", ["METHOD", "ORGANIZER", "ATTENDEE"])
def test_no_scheduling_properties(name: str) -> None:
    assert not [line for line in _unfolded(FEED) if line.startswith((f"{name}:", f"{name};"))]


def test_rendering_is_deterministic() -> None:
    assert _render(FULL, MINIMAL) == FEED


def test_memoised_events_are_spliced_exactly_where_icalendar_puts_them() -> None:
    whole = _vcalendar(CALENDAR)
    whole.add_component(vtimezone(CALENDAR.timezone))
    for item in (FULL, MINIMAL):
        whole.add_component(_vevent(item, BERLIN))
    assert whole.to_ical() == FEED


def test_a_changed_item_is_rendered_anew() -> None:
    _render(FULL)
    assert _one(replace(FULL, summary="Neuer Titel", sequence=4))["SUMMARY"] == "Neuer Titel"


def test_items_given_lists_are_still_hashable() -> None:
    item = _item(categories=["Jazz"], geo=[51.5, 7.4])
    assert (item.categories, item.geo, _one(item).categories) == (("Jazz",), (51.5, 7.4), ["Jazz"])


def test_empty_feed_is_a_valid_calendar() -> None:
    parsed = Calendar.from_ical(_render())
    assert (len(parsed.walk("VEVENT")), len(parsed.walk("VTIMEZONE"))) == (0, 1)


def test_duplicate_uid_is_refused() -> None:
    with pytest.raises(ValueError, match=re.escape("duplicate UID 'occ_minimal@stadtkalender.dortmund'")):
        _render(MINIMAL, _item(summary="Noch einmal"))


@pytest.mark.parametrize("interval", ["6h", "PT0S", "-PT6H", ""])
def test_bad_refresh_interval_is_refused(interval: str) -> None:
    with pytest.raises(ValueError, match="refresh_interval"):
        replace(CALENDAR, refresh_interval=interval)


def test_refresh_interval_is_configurable() -> None:
    feed = _render(calendar=replace(CALENDAR, refresh_interval="P1D"))
    assert (
        _line(feed, "REFRESH-INTERVAL", calendar=True),
        _line(feed, "X-PUBLISHED-TTL", calendar=True),
    ) == ("REFRESH-INTERVAL;VALUE=DURATION:P1D", "X-PUBLISHED-TTL:P1D")


# --- VTIMEZONE ---------------------------------------------------------------------------------


def _observance(kind: str) -> Component:
    (timezone,) = PARSED.walk("VTIMEZONE")
    (observance,) = timezone.walk(kind)
    return observance


@pytest.mark.parametrize(
    ("kind", "month", "start", "offsets"),
    [
        ("STANDARD", 10, datetime(1970, 10, 25, 3), (timedelta(hours=2), timedelta(hours=1))),
        ("DAYLIGHT", 3, datetime(1970, 3, 29, 2), (timedelta(hours=1), timedelta(hours=2))),
    ],
)
def test_vtimezone_has_classic_rrule_observances(
    kind: str, month: int, start: datetime, offsets: tuple[timedelta, timedelta]
) -> None:
    observance = _observance(kind)
    rule = _get(observance, "RRULE")
    assert (
        rule["FREQ"],
        rule["BYMONTH"],
        rule["BYDAY"],
        _get(observance, "DTSTART").dt,
        (_get(observance, "TZOFFSETFROM").td, _get(observance, "TZOFFSETTO").td),
        "RDATE" in observance,
    ) == (["YEARLY"], [month], ["-1SU"], start, offsets, False)


def test_vtimezone_is_the_feed_timezone() -> None:
    (timezone,) = PARSED.walk("VTIMEZONE")
    assert str(timezone["TZID"]) == "Europe/Berlin"


def _hourly_mismatches(component: Timezone, zone: ZoneInfo) -> list[datetime]:
    tz = component.to_tz()
    instants = (datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=hour) for hour in range(2 * 365 * 24))
    return [i for i in instants if i.astimezone(tz).utcoffset() != i.astimezone(zone).utcoffset()]


@pytest.mark.parametrize(
    "tzid",
    ["Europe/Berlin", "America/New_York", "Australia/Sydney", "Europe/Dublin", "Asia/Tokyo", "America/Nuuk"],
)
def test_vtimezone_matches_tzdata_every_hour_of_2026_and_2027(tzid: str) -> None:
    parsed = Calendar.from_ical(b"BEGIN:VCALENDAR\r\n" + vtimezone(tzid).to_ical() + b"END:VCALENDAR\r\n")
    (component,) = parsed.timezones
    assert _hourly_mismatches(component, ZoneInfo(tzid)) == []


def test_vtimezone_without_dst_has_one_fixed_observance() -> None:
    component = vtimezone("Asia/Tokyo")
    offsets = [_get(standard, "TZOFFSETTO").td for standard in component.standard]
    assert (offsets, component.daylight) == ([timedelta(hours=9)], [])


def test_vtimezone_falls_back_to_explicit_transitions_for_rules_rrule_cannot_express() -> None:
    # America/Nuuk switches at "-1" and "0" o'clock local time, outside what the RRULE form here covers.
    component = vtimezone("America/Nuuk")
    assert any("RDATE" in observance for observance in component.walk("DAYLIGHT"))


# --- one event ----------------------------------------------------------------------------------

FULL_EVENT = _events(FEED)[0]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("UID", "occ_3f9a0c1e@stadtkalender.dortmund"),
        ("SEQUENCE", 3),
        ("DTSTAMP", STAMP),
        ("CREATED", datetime(2025, 11, 3, 8, 0, tzinfo=UTC)),
        ("LAST-MODIFIED", datetime(2026, 1, 30, 17, 45, tzinfo=UTC)),
        ("DTSTART", datetime(2026, 5, 14, 18, 0, tzinfo=UTC)),
        ("DTEND", datetime(2026, 5, 14, 20, 30, tzinfo=UTC)),
        ("SUMMARY", "Mahler: Sinfonie Nr. 2 „Auferstehung“"),
        ("DESCRIPTION", "Dortmunder Philharmoniker\nLeitung: Gabriel Feltz\n\nKarten ab 19 €."),
        ("LOCATION", "Konzerthaus Dortmund, Brückstraße 21, 44135 Dortmund"),
        ("URL", "https://www.konzerthaus-dortmund.de/de/programm/mahler-2/"),
        ("STATUS", "CONFIRMED"),
        ("TRANSP", "TRANSPARENT"),
        ("IMAGE", "https://www.konzerthaus-dortmund.de/media/mahler.jpg"),
    ],
)
def test_event_property(name: str, expected: object) -> None:
    value = FULL_EVENT[name]
    assert (value.dt if hasattr(value, "dt") else value) == expected


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("DTSTART", "DTSTART;TZID=Europe/Berlin:20260514T200000"),
        ("DTEND", "DTEND;TZID=Europe/Berlin:20260514T223000"),
        ("DTSTAMP", "DTSTAMP:20260201T091500Z"),
        ("CREATED", "CREATED:20251103T080000Z"),
        ("LAST-MODIFIED", "LAST-MODIFIED:20260130T174500Z"),
        ("GEO", "GEO:51.5149;7.4636"),
        ("CATEGORIES", "CATEGORIES:Klassik,Konzert"),
        (
            "IMAGE",
            "IMAGE;DISPLAY=BADGE;FMTTYPE=image/jpeg;VALUE=URI:"
            "https://www.konzerthaus-dortmund.de/media/mahler.jpg",
        ),
    ],
)
def test_event_property_line(name: str, line: str) -> None:
    assert _line(_render(FULL), name) == line


def test_geo_and_categories_parse_back() -> None:
    geo = _get(FULL_EVENT, "GEO")
    assert ((geo.latitude, geo.longitude), FULL_EVENT.categories) == (
        (51.5149, 7.4636),
        ["Klassik", "Konzert"],
    )


def test_optional_properties_are_left_out() -> None:
    assert set(_one(MINIMAL).keys()) == {
        "UID", "SEQUENCE", "DTSTAMP", "LAST-MODIFIED", "DTSTART", "SUMMARY", "STATUS", "TRANSP"
    }  # fmt: skip


@pytest.mark.parametrize("geo", [(91.0, 7.0), (51.0, -180.5)])
def test_geo_outside_wgs84_is_left_out(geo: tuple[float, float]) -> None:
    assert "GEO" not in _one(_item(geo=geo))


def test_categories_are_cleaned_and_distinct() -> None:
    event = _one(_item(categories=("Jazz", " ", "Jazz", "Rock,\nPop", "")))
    assert event.categories == ["Jazz", "Rock, Pop"]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://example.org/a b/Größe?x=1&y=ä", "https://example.org/a%20b/Gr%C3%B6%C3%9Fe?x=1&y=%C3%A4"),
        ("https://example.org/x\r\nX-INJECT:1", "https://example.org/x%0D%0AX-INJECT:1"),
        ("  https://example.org/already%20quoted  ", "https://example.org/already%20quoted"),
    ],
)
def test_url_is_percent_encoded(url: str, expected: str) -> None:
    assert _one(_item(url=url))["URL"] == expected


@pytest.mark.parametrize(
    ("status", "ical_status", "summary"),
    [
        (Status.SCHEDULED, "CONFIRMED", "Offene Probe"),
        (Status.RESCHEDULED, "CONFIRMED", "Offene Probe"),
        (Status.POSTPONED, "TENTATIVE", "Verschoben: Offene Probe"),
        (Status.CANCELLED, "CANCELLED", "Abgesagt: Offene Probe"),
    ],
)
def test_status_and_summary_prefix(status: Status, ical_status: str, summary: str) -> None:
    event = _one(_item(status=status))
    assert (event["STATUS"], event["SUMMARY"]) == (ical_status, summary)


@pytest.mark.parametrize("title", ["ABGESAGT – Offene Probe", "Abgesagt: Offene Probe"])
def test_cancelled_prefix_is_not_doubled(title: str) -> None:
    assert _one(_item(status=Status.CANCELLED, summary=title))["SUMMARY"] == title


def test_prefix_is_added_to_a_title_that_merely_starts_like_it() -> None:
    event = _one(_item(status=Status.CANCELLED, summary="Abgesagte Lieder"))
    assert event["SUMMARY"] == "Abgesagt: Abgesagte Lieder"


def test_blank_urls_are_left_out() -> None:
    feed = _render(_item(url="  ", image=" "), calendar=replace(CALENDAR, url="", source_url=" "))
    names = {line.split(":")[0].split(";")[0] for line in _unfolded(feed)}
    assert names & {"URL", "IMAGE", "SOURCE"} == set()


@pytest.mark.parametrize("field", ["start", "end", "dtstamp", "last_modified", "created"])
def test_naive_datetimes_are_refused(field: str) -> None:
    with pytest.raises(ValueError, match=f"occ_minimal@stadtkalender.dortmund: {field} "):
        _item(**{field: datetime(2026, 6, 1, 19, 0)})


def test_negative_sequence_is_refused() -> None:
    with pytest.raises(ValueError, match="sequence -1"):
        _item(sequence=-1)


# --- wire format -------------------------------------------------------------------------------

LONG_TEXT = ("Grüße aus Dortmund 🎻🎺🥁 — Ärger, Öl; Übermut\\ „Zitat“ " * 12).strip()
WIRE = _render(
    FULL,
    _item(
        uid="occ_long@stadtkalender.dortmund",
        summary=LONG_TEXT,
        description="\n".join([LONG_TEXT] * 3),
        location=LONG_TEXT,
        categories=(LONG_TEXT[:80], "Ü" * 90),
        url="https://example.org/" + "ö" * 60,
    ),
    calendar=replace(CALENDAR, name=LONG_TEXT, description=LONG_TEXT),
)
WIRE_LINES = WIRE.split(b"\r\n")


def test_every_line_ends_in_crlf() -> None:
    without_crlf = WIRE.replace(b"\r\n", b"")
    assert (WIRE.endswith(b"END:VCALENDAR\r\n"), b"\n" in without_crlf, b"\r" in without_crlf) == (
        True,
        False,
        False,
    )


def test_no_physical_line_exceeds_75_octets() -> None:
    assert max(len(line) for line in WIRE_LINES) <= 75


def test_folding_never_splits_a_utf8_character() -> None:
    undecodable = []
    for line in WIRE_LINES:
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            undecodable.append(line)
    assert undecodable == []


def test_long_values_are_folded_and_round_trip() -> None:
    event = _events(WIRE)[1]
    assert (
        sum(line.startswith(b" ") for line in WIRE_LINES) > 20,
        event["SUMMARY"],
        event["DESCRIPTION"],
        Calendar.from_ical(WIRE).description,
    ) == (True, " ".join(LONG_TEXT.split()), "\n".join([LONG_TEXT] * 3), LONG_TEXT)


@pytest.mark.parametrize("name", ["NAME", "X-WR-CALNAME"])
def test_a_calendar_name_with_line_breaks_is_written_on_one_line(name: str) -> None:
    # an event's feed is named after the event's title, which may hold line breaks
    feed = _render(calendar=replace(CALENDAR, name="Mahler:\n  Sinfonie\u2028Nr. 2\r\n"))
    assert _line(feed, name, calendar=True) == f"{name}:Mahler: Sinfonie Nr. 2"


@pytest.mark.parametrize("name", ["NAME", "X-WR-CALNAME", "X-WR-CALDESC"])
def test_calendar_text_is_escaped(name: str) -> None:
    # icalendar 7.3 parses these as untyped values: read the wire value back as a TEXT property.
    value = _line(WIRE, name, calendar=True).split(":", 1)[1]
    as_text = Event.from_ical(f"BEGIN:VEVENT\r\nSUMMARY:{value}\r\nEND:VEVENT\r\n")["SUMMARY"]
    unescaped = re.findall(r"(?<!\\)[,;]", value.replace("\\\\", ""))
    assert (as_text, unescaped) == (LONG_TEXT, [])


# --- escaping and injection --------------------------------------------------------------------

HOSTILE = [
    "Rock, Pop; Jazz \\ Blues",
    "BEGIN:VEVENT",
    "Titel\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:evil\r\nSUMMARY:evil",
    "Titel\nX-INJECT:1",
    "Titel\rX-INJECT:1",
    "Titel\u2028X-INJECT:1",
    "Titel\x85X-INJECT:1",
    "Titel\x0bX-INJECT:1\x0cX-INJECT:2",
    "Nul\x00byte\x1b[31m and DEL\x7f",
    "END:VCALENDAR",
    "\\n is not a newline, \\, is not a comma",
    "Emoji 👩‍👩‍👧‍👦 and ZWJ; combining ä",
]
BASE_PROPERTIES = set(_one(replace(FULL, uid="x")).keys())


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_text_stays_inside_its_property(text: str) -> None:
    item = replace(FULL, summary=text, description=text, location=text, categories=(text,))
    calendar = replace(CALENDAR, name=text, description=text)
    feed = _render(item, MINIMAL, calendar=calendar)
    lines = _unfolded(feed)
    assert (
        len(_events(feed)),
        lines.count("BEGIN:VEVENT"),
        lines.count("END:VCALENDAR"),
        set(_events(feed)[0].keys()),
        [line for line in feed.decode("utf-8").splitlines() if line.startswith(("X-INJECT", "UID:evil"))],
    ) == (2, 2, 1, BASE_PROPERTIES, [])


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_description_round_trips_with_line_breaks_normalised(text: str) -> None:
    expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", "\n".join(text.splitlines()))
    assert _one(_item(description=text))["DESCRIPTION"] == expected


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_summary_round_trips_on_one_line(text: str) -> None:
    expected = re.sub(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", "", " ".join(text.split()))
    assert _one(_item(summary=text))["SUMMARY"] == expected


def test_text_special_characters_are_backslash_escaped_on_the_wire() -> None:
    feed = _render(_item(summary="a, b; c \\ d", description="a, b; c \\ d\ne"))
    assert (_line(feed, "SUMMARY"), _line(feed, "DESCRIPTION")) == (
        "SUMMARY:a\\, b\\; c \\\\ d",
        "DESCRIPTION:a\\, b\\; c \\\\ d\\ne",
    )


_TEXT = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="\ufeff")
    | st.sampled_from('\n,;:\\"')
)


@settings(max_examples=150, deadline=None)
@given(summary=_TEXT.filter(str.strip), description=_TEXT)
def test_any_text_round_trips_in_a_well_formed_feed(summary: str, description: str) -> None:
    feed = _render(_item(summary=summary, description=description or None), FULL)
    events = _events(feed)
    assert (
        len(events),
        max(len(line) for line in feed.split(b"\r\n")) <= 75,
        events[0]["SUMMARY"],
        events[0].get("DESCRIPTION", ""),
    ) == (2, True, " ".join(summary.split()), "\n".join(description.splitlines()))


# --- times ---------------------------------------------------------------------------------------


def _dst_week(day: date) -> list[datetime]:
    """Every half hour from 00:30 to 03:30 UTC on the seven days around ``day``."""
    return [
        datetime(d.year, d.month, d.day, tzinfo=UTC) + timedelta(minutes=minutes)
        for d in (day + timedelta(days=offset) for offset in range(-3, 4))
        for minutes in range(30, 240, 30)
    ]


DST_INSTANTS = _dst_week(date(2026, 3, 29)) + _dst_week(date(2026, 10, 25))


@pytest.mark.parametrize("instant", DST_INSTANTS, ids=lambda i: i.strftime("%Y%m%dT%H%MZ"))
def test_dst_week_instants_round_trip(instant: datetime) -> None:
    # Compared in UTC: an ambiguous wall-clock time never compares equal across zones (PEP 495).
    event = _one(_item(start=instant, end=instant + timedelta(hours=1)))
    assert (_get(event, "DTSTART").dt.astimezone(UTC), _get(event, "DTEND").dt.astimezone(UTC)) == (
        instant,
        instant + timedelta(hours=1),
    )


@pytest.mark.parametrize(
    ("instant", "line"),
    [
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "DTSTART;TZID=Europe/Berlin:20260329T013000"),
        (datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "DTSTART;TZID=Europe/Berlin:20260329T033000"),
        # Berlin's wall clock shows 02:30 twice on 25 October, and consumers disagree on which is meant.
        (datetime(2026, 10, 25, 0, 30, tzinfo=UTC), "DTSTART:20261025T003000Z"),
        (datetime(2026, 10, 25, 1, 30, tzinfo=UTC), "DTSTART:20261025T013000Z"),
        (datetime(2026, 10, 25, 2, 30, tzinfo=UTC), "DTSTART;TZID=Europe/Berlin:20261025T033000"),
        (datetime(2026, 10, 24, 23, 59, tzinfo=UTC), "DTSTART;TZID=Europe/Berlin:20261025T015900"),
        (datetime(2026, 10, 25, 1, 59, tzinfo=UTC), "DTSTART:20261025T015900Z"),
        (datetime(2026, 10, 25, 2, 0, tzinfo=UTC), "DTSTART;TZID=Europe/Berlin:20261025T030000"),
    ],
)
def test_dst_edge_wire_form(instant: datetime, line: str) -> None:
    assert _line(_render(_item(start=instant)), "DTSTART") == line


def test_nonexistent_wall_time_is_written_as_the_instant_it_denotes() -> None:
    gap = datetime(2026, 3, 29, 2, 30, tzinfo=BERLIN)  # clocks jump from 02:00 to 03:00
    feed = _render(_item(start=gap))
    assert (_line(feed, "DTSTART"), _events(feed)[0].start) == (
        "DTSTART;TZID=Europe/Berlin:20260329T033000",
        gap.astimezone(UTC),
    )


def test_other_zones_are_converted_to_berlin() -> None:
    start = datetime(2026, 7, 1, 12, 0, tzinfo=ZoneInfo("America/New_York"))
    assert _line(_render(_item(start=start)), "DTSTART") == "DTSTART;TZID=Europe/Berlin:20260701T180000"


@pytest.mark.parametrize(
    "end",
    [None, datetime(2026, 6, 1, 17, 0, tzinfo=UTC), datetime(2026, 6, 1, 16, 0, tzinfo=UTC)],
    ids=["none", "equal", "before"],
)
def test_timed_event_without_a_later_end_has_no_dtend(end: datetime | None) -> None:
    assert "DTEND" not in _one(_item(end=end))


def _berlin(day: int, hour: int = 0, month: int = 7) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("start", "end", "span"),
    [
        pytest.param(_berlin(10), None, (10, 11), id="no-end"),
        pytest.param(_berlin(10), _berlin(13), (10, 13), id="midnight-end-is-exclusive"),
        pytest.param(_berlin(10), _berlin(12, 23), (10, 13), id="evening-end-is-inclusive"),
        pytest.param(  # Berlin midnights given as UTC instants: Berlin days count, not UTC days
            datetime(2026, 7, 9, 22, tzinfo=UTC), datetime(2026, 7, 10, 22, tzinfo=UTC), (10, 11), id="utc"
        ),
        pytest.param(_berlin(10, 10), _berlin(10, 9), (10, 11), id="end-before-start"),
        pytest.param(_berlin(28, month=3), _berlin(30, month=3), (28, 30), id="over-dst"),
    ],
)
def test_all_day_span(start: datetime, end: datetime | None, span: tuple[int, int]) -> None:
    event = _one(_item(all_day=True, start=start, end=end))
    month = start.astimezone(BERLIN).month
    assert (event.start, event.end) == (date(2026, month, span[0]), date(2026, month, span[1]))


def test_all_day_is_written_as_date_values() -> None:
    feed = _render(_item(all_day=True, start=datetime(2026, 7, 10, tzinfo=BERLIN)))
    assert (_line(feed, "DTSTART"), _line(feed, "DTEND")) == (
        "DTSTART;VALUE=DATE:20260710",
        "DTEND;VALUE=DATE:20260711",
    )


@pytest.mark.parametrize("text", ["\\N", "Pfad C:\\Neu\\n", "a\\\\Nb"])
def test_a_literal_backslash_n_is_text_not_a_line_break(text: str) -> None:
    events = _events(_render(_item(summary=f"Titel {text}", description=text)))
    assert (events[0]["SUMMARY"], events[0]["DESCRIPTION"]) == (f"Titel {text}", text)
