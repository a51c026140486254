from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.normalise.dates import DateParseError, Span, localize, parse_when
from aggregator.types import BERLIN

from .venue_data import (
    CITY_PORTAL_PAGE,
    KONZERTHAUS_CAPTURE,
    KonzerthausEvent,
    city_portal_entries,
    konzerthaus_events,
    require,
)

REFERENCE = datetime(2023, 11, 28, 9, 0, tzinfo=UTC)


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def one(date_text: str, time_text: str | None = None, reference: datetime = REFERENCE) -> Span:
    spans = parse_when(date_text, time_text, reference=reference)
    assert len(spans) == 1, spans
    return spans[0]


@pytest.mark.parametrize(
    ("date_text", "time_text", "start", "end", "all_day"),
    [
        ("Mi 29. November 2023", None, berlin(2023, 11, 29), None, True),
        (
            "Mi 29. November 2023 11:00 bis 18:00 Uhr",
            None,
            berlin(2023, 11, 29, 11),
            berlin(2023, 11, 29, 18),
            False,
        ),
        ("Mi 29. November 2023", "11:00 bis 18", berlin(2023, 11, 29, 11), berlin(2023, 11, 29, 18), False),
        ("Do 05.12.2024 · 20.00 Uhr", None, berlin(2024, 12, 5, 20), None, False),
        ("Do 21.05.2026", "19.30 Uhr", berlin(2026, 5, 21, 19, 30), None, False),
        ("Do 21.05.2026 um 19.30.", None, berlin(2026, 5, 21, 19, 30), None, False),
        ("Sa, 2.12.", None, berlin(2023, 12, 2), None, True),
        ("Sa, 02.12.", None, berlin(2023, 12, 2), None, True),
        ("29.11.2023 ab 18:30 Uhr", None, berlin(2023, 11, 29, 18, 30), None, False),
        ("Fr 1. Dezember 2023", "ab 18:30 Uhr", berlin(2023, 12, 1, 18, 30), None, False),
        ("1.12.2023 Einlass 19:00, Beginn 20:00", None, berlin(2023, 12, 1, 20), None, False),
        ("1.12.2023", "Einlass: 18.30 Uhr / Beginn: 19.30 Uhr", berlin(2023, 12, 1, 19, 30), None, False),
        (
            "1.12.2023",
            "Beginn 20 Uhr, Ende ca. 22.30 Uhr",
            berlin(2023, 12, 1, 20),
            berlin(2023, 12, 1, 22, 30),
            False,
        ),
        ("ganztägig, 30.11.2023", None, berlin(2023, 11, 30), None, True),
        ("30.11.2023", "ganztägig", berlin(2023, 11, 30), None, True),
        ("Mittwoch, 24. Mai 2017", None, berlin(2017, 5, 24), None, True),
        ("September 2026 12", "19:30 Uhr", berlin(2026, 9, 12, 19, 30), None, False),
        ("12. September 2026", "19:30 Uhr", berlin(2026, 9, 12, 19, 30), None, False),
        ("12 September 2026", None, berlin(2026, 9, 12), None, True),
        ("1.12.2023", "20 Uhr", berlin(2023, 12, 1, 20), None, False),
        ("1.12.2023", "20h", berlin(2023, 12, 1, 20), None, False),
        ("1.12.2023 18:00–22:00", None, berlin(2023, 12, 1, 18), berlin(2023, 12, 1, 22), False),
        ("1.12.2023", "18.00 – 20.55 Uhr", berlin(2023, 12, 1, 18), berlin(2023, 12, 1, 20, 55), False),
        ("1.12.2023", "von 10 bis 17 Uhr", berlin(2023, 12, 1, 10), berlin(2023, 12, 1, 17), False),
        ("1.12.2023", "22:00–01:00 Uhr", berlin(2023, 12, 1, 22), berlin(2023, 12, 2, 1), False),
        ("1.12.2023", "20:00 – 24:00 Uhr", berlin(2023, 12, 1, 20), berlin(2023, 12, 2), False),
        ("Mi 13. Dez. 2023", None, berlin(2023, 12, 13), None, True),
        ("Fr 13. Sept. 2024", None, berlin(2024, 9, 13), None, True),
        ("13. Sep 2024", None, berlin(2024, 9, 13), None, True),
        ("5. Mär 2024", None, berlin(2024, 3, 5), None, True),
        ("5. März 2024", None, berlin(2024, 3, 5), None, True),
        ("5. Maerz 2024", None, berlin(2024, 3, 5), None, True),
        ("5. MÄRZ 2024", None, berlin(2024, 3, 5), None, True),
        ("Di. 5. Mrz. 2024", None, berlin(2024, 3, 5), None, True),
        ("Thu 05.12.2024", "8 pm", berlin(2024, 12, 5, 20), None, False),
        ("Thu 05.12.2024", "8:30 p.m.", berlin(2024, 12, 5, 20, 30), None, False),
        ("Thursday, December 5, 2024", "11 am", berlin(2024, 12, 5, 11), None, False),
        ("5 December 2024", "12 pm", berlin(2024, 12, 5, 12), None, False),
        ("Sa. 2.12.23", "20:00 Uhr", berlin(2023, 12, 2, 20), None, False),
        ("2023-12-05", "20:00", berlin(2023, 12, 5, 20), None, False),
        ("Dienstag 22. Jan 2019", None, berlin(2019, 1, 22), None, True),
    ],
)
def test_single_dates(
    date_text: str, time_text: str | None, start: datetime, end: datetime | None, all_day: bool
) -> None:
    assert one(date_text, time_text) == Span(start, end, all_day)


@pytest.mark.parametrize(
    ("date_text", "time_text", "expected"),
    [
        (
            "2.–3. Dezember 2023",
            None,
            [Span(berlin(2023, 12, 2), None, True), Span(berlin(2023, 12, 3), None, True)],
        ),
        (
            "2.–3. Dezember 2023",
            "19:30 Uhr",
            [Span(berlin(2023, 12, 2, 19, 30), None, False), Span(berlin(2023, 12, 3, 19, 30), None, False)],
        ),
        (
            "2. bis 3. Dezember 2023",
            "10:00 bis 17:00 Uhr",
            [
                Span(berlin(2023, 12, 2, 10), berlin(2023, 12, 2, 17), False),
                Span(berlin(2023, 12, 3, 10), berlin(2023, 12, 3, 17), False),
            ],
        ),
        (
            "Sa 2.12. – So 3.12.",
            None,
            [Span(berlin(2023, 12, 2), None, True), Span(berlin(2023, 12, 3), None, True)],
        ),
        (
            "10. und 11. Oktober 2026",
            "11.00 Uhr bis 17.00 Uhr",
            [
                Span(berlin(2026, 10, 10, 11), berlin(2026, 10, 10, 17), False),
                Span(berlin(2026, 10, 11, 11), berlin(2026, 10, 11, 17), False),
            ],
        ),
        (
            "Sonntag, den 28. bis Montag, den 29. Mai 2023",
            None,
            [Span(berlin(2023, 5, 28), None, True), Span(berlin(2023, 5, 29), None, True)],
        ),
        (
            "30.12.2023 – 2.1.2024",
            "20 Uhr",
            [Span(berlin(2023, 12, day, 20), None, False) for day in (30, 31)]
            + [Span(berlin(2024, 1, day, 20), None, False) for day in (1, 2)],
        ),
    ],
)
def test_short_ranges_expand_per_day(date_text: str, time_text: str | None, expected: list[Span]) -> None:
    assert parse_when(date_text, time_text, reference=REFERENCE) == expected


def test_long_range_is_one_all_day_span() -> None:
    assert parse_when("24.11.2023 – 07.01.2024", None, reference=REFERENCE) == [
        Span(berlin(2023, 11, 24), berlin(2024, 1, 8), True)
    ]


def test_long_range_with_daily_hours_is_still_one_span() -> None:
    assert parse_when("24.11.2023 – 07.01.2024", "10 bis 17 Uhr", reference=REFERENCE) == [
        Span(berlin(2023, 11, 24), berlin(2024, 1, 8), True)
    ]


@pytest.mark.parametrize(("limit", "count"), [(14, 1), (15, 15), (30, 15), (1, 1)])
def test_daily_expansion_limit_is_a_parameter(limit: int, count: int) -> None:
    assert len(parse_when("1.–15. Dezember 2023", reference=REFERENCE, max_daily_days=limit)) == count


def test_fourteen_days_still_expand() -> None:
    assert len(parse_when("1.–14. Dezember 2023", reference=REFERENCE)) == 14


@pytest.mark.parametrize(
    ("text", "reference", "expected"),
    [
        ("Sa, 2.12.", datetime(2023, 11, 28, tzinfo=UTC), date(2023, 12, 2)),
        ("2.1.", datetime(2023, 11, 28, tzinfo=UTC), date(2024, 1, 2)),
        # up to 30 days back stays in the reference year (a listing still showing last week)
        ("15.11.", datetime(2023, 11, 28, tzinfo=UTC), date(2023, 11, 15)),
        ("20.10.", datetime(2023, 11, 28, tzinfo=UTC), date(2024, 10, 20)),
        # a written weekday overrides the rule when it only fits the other year
        ("So, 20.10.", datetime(2023, 11, 28, tzinfo=UTC), date(2024, 10, 20)),
        ("Fr, 20.10.", datetime(2023, 11, 28, tzinfo=UTC), date(2023, 10, 20)),
        ("29.2.", datetime(2023, 11, 28, tzinfo=UTC), date(2024, 2, 29)),
        ("28.12.–2.1.", datetime(2023, 12, 20, tzinfo=UTC), date(2023, 12, 28)),
    ],
)
def test_missing_year(text: str, reference: datetime, expected: date) -> None:
    assert parse_when(text, reference=reference)[0].start.date() == expected


def test_range_without_year_across_new_year() -> None:
    spans = parse_when("28.12.–2.1.", reference=datetime(2023, 12, 20, tzinfo=UTC))
    assert [span.start.date() for span in spans][-1] == date(2024, 1, 2)


def test_naive_reference_is_berlin_time() -> None:
    # 2023-12-31 23:30 in Berlin is already 2023 in UTC too; 1 January must roll to 2024 either way
    assert one("1.1.", reference=datetime(2023, 12, 31, 23, 30)).start == berlin(2024, 1, 1)


@pytest.mark.parametrize(
    ("date_text", "time_text", "reason"),
    [
        ("11:00 bis 18:00 Uhr", None, "a time without a date"),
        ("20 Uhr", None, "a time without a date"),
        ("", None, "no date found"),
        ("demnächst", None, "no date found"),
        ("November 2026", "im Detail noch nicht terminiert", "no date found"),
        ("31.02.2024", None, "no such date 31.2.2024"),
        ("1.12.2023", "25:00 Uhr", "impossible time of day"),
        ("1.12.2023", "18:75 Uhr", "impossible time of day"),
        ("07.01.2024 – 24.11.2023", None, "range ends"),
    ],
)
def test_errors_carry_text_and_reason(date_text: str, time_text: str | None, reason: str) -> None:
    with pytest.raises(DateParseError) as caught:
        parse_when(date_text, time_text, reference=REFERENCE)
    assert caught.value.reason.startswith(reason)
    assert caught.value.text.startswith(date_text)


# --- daylight saving time: check the UTC instant --------------------------------------------------


@pytest.mark.parametrize(
    ("date_text", "time_text", "utc"),
    [
        ("Sa 28.03.2026", "02:30 Uhr", datetime(2026, 3, 28, 1, 30, tzinfo=UTC)),
        ("So 29.03.2026", "01:30 Uhr", datetime(2026, 3, 29, 0, 30, tzinfo=UTC)),
        # 02:30 does not exist that night: moved forward by the gap to 03:30 CEST
        ("So 29.03.2026", "02:30 Uhr", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("So 29.03.2026", "03:30 Uhr", datetime(2026, 3, 29, 1, 30, tzinfo=UTC)),
        ("So 29.03.2026", "20:00 Uhr", datetime(2026, 3, 29, 18, 0, tzinfo=UTC)),
        ("Mo 23.03.2026", "19.30 Uhr", datetime(2026, 3, 23, 18, 30, tzinfo=UTC)),
        ("Mo 30.03.2026", "19.30 Uhr", datetime(2026, 3, 30, 17, 30, tzinfo=UTC)),
        ("Sa 24.10.2026", "02:30 Uhr", datetime(2026, 10, 24, 0, 30, tzinfo=UTC)),
        # 02:30 happens twice: the first one (CEST) is taken
        ("So 25.10.2026", "02:30 Uhr", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        ("So 25.10.2026", "03:30 Uhr", datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        ("So 25.10.2026", "20:00 Uhr", datetime(2026, 10, 25, 19, 0, tzinfo=UTC)),
        ("Mo 19.10.2026", "19.30 Uhr", datetime(2026, 10, 19, 17, 30, tzinfo=UTC)),
        ("Mo 02.11.2026", "19.30 Uhr", datetime(2026, 11, 2, 18, 30, tzinfo=UTC)),
    ],
)
def test_dst_instants(date_text: str, time_text: str, utc: datetime) -> None:
    assert one(date_text, time_text).start.astimezone(UTC) == utc


def test_dst_gap_wall_clock_reads_after_gap() -> None:
    assert one("29.03.2026", "02:30 Uhr").start.strftime("%H:%M %z") == "03:30 +0200"


def test_all_day_across_spring_change_is_a_real_midnight() -> None:
    spans = parse_when("28.–30. März 2026", reference=REFERENCE)
    offsets = [span.start.utcoffset() for span in spans]
    assert offsets == [timedelta(hours=1), timedelta(hours=1), timedelta(hours=2)]


def test_night_span_over_the_autumn_change_lasts_an_extra_hour() -> None:
    span = one("Sa 24.10.2026", "22:00 – 04:00 Uhr")
    assert span.end is not None and span.end - span.start == timedelta(hours=6)
    assert span.end.astimezone(UTC) - span.start.astimezone(UTC) == timedelta(hours=7)


def test_localize_gap_and_fold() -> None:
    assert localize(datetime(2026, 3, 29, 2, 30)).astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert localize(datetime(2026, 10, 25, 2, 30)).utcoffset() == timedelta(hours=2)


# --- real captures ----------------------------------------------------------------------------------

KONZERTHAUS = konzerthaus_events()


def test_konzerthaus_capture_is_read() -> None:
    require(KONZERTHAUS_CAPTURE)
    assert len(KONZERTHAUS) == 26


@pytest.mark.parametrize("event", KONZERTHAUS, ids=lambda event: event.detail_slug[:30])
def test_konzerthaus_dates_agree_with_detail_url(event: KonzerthausEvent) -> None:
    span = one(event.date_text, event.time_text, reference=datetime(2026, 5, 17, 15, 6, tzinfo=UTC))
    day, month, year = (int(part) for part in event.detail_slug.split("-")[:3])
    hour, minute = (int(part) for part in event.time_text.removesuffix(" Uhr").split("."))
    assert span == Span(berlin(year, month, day, hour, minute), None, False)


def test_city_portal_page_is_read() -> None:
    require(CITY_PORTAL_PAGE)
    assert len(city_portal_entries()) == 17


@pytest.mark.parametrize("entry", city_portal_entries(), ids=lambda entry: entry[3][:30])
def test_city_portal_dates(entry: tuple[str, str, str, str]) -> None:
    date_text, time_text, _, _ = entry
    span = one(date_text, time_text, reference=datetime(2023, 11, 28, tzinfo=UTC))
    assert span.start.strftime("%H:%M") == time_text[:5]
    assert span.start.day == int(date_text.split()[1].rstrip("."))
    assert (span.end is not None) == ("bis" in time_text)


# --- properties ---------------------------------------------------------------------------------------

GERMAN_WEEKDAYS = ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So")
GERMAN_MONTHS = (
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
)


@st.composite
def wall_times(draw: st.DrawFn) -> datetime:
    day = draw(st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31)))
    minutes = draw(st.integers(min_value=0, max_value=24 * 60 - 1))
    return datetime(day.year, day.month, day.day) + timedelta(minutes=minutes)


def _exists_in_berlin(naive: datetime) -> bool:
    return localize(naive).replace(tzinfo=None) == naive


@settings(max_examples=150, deadline=None)
@given(moment=wall_times(), style=st.sampled_from(["numeric", "text", "english"]))
def test_formatted_dates_round_trip(moment: datetime, style: str) -> None:
    if style == "numeric":
        date_text = f"{GERMAN_WEEKDAYS[moment.weekday()]} {moment:%d.%m.%Y}"
        time_text = f"{moment:%H.%M} Uhr"
    elif style == "text":
        date_text = f"{moment.day}. {GERMAN_MONTHS[moment.month - 1]} {moment.year}"
        time_text = f"{moment:%H:%M} Uhr"
    else:
        date_text = f"{moment:%a %d.%m.%Y}"
        time_text = f"{moment:%I:%M %p}"
    span = one(date_text, time_text, reference=REFERENCE)
    assert span.start.tzinfo is BERLIN and not span.all_day
    if _exists_in_berlin(moment):
        assert span.start.replace(tzinfo=None) == moment
    else:
        assert span.start.replace(tzinfo=None) == moment + timedelta(hours=1)


@settings(max_examples=100, deadline=None)
@given(day=st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)))
def test_year_inferred_dates_are_never_far_in_the_past(day: date) -> None:
    reference = datetime(2025, 6, 15, 12, tzinfo=UTC)
    if (day.month, day.day) == (2, 29):
        return
    start = one(f"{day.day}.{day.month}.", reference=reference).start.date()
    assert date(2025, 6, 15) - timedelta(days=30) <= start <= date(2026, 6, 15)
    assert (start.month, start.day) == (day.month, day.day)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=60))
def test_arbitrary_text_parses_or_raises_date_parse_error(text: str) -> None:
    try:
        spans = parse_when(text, reference=REFERENCE)
    except DateParseError as error:
        assert error.text == text
    else:
        assert spans and all(span.start.tzinfo is BERLIN for span in spans)
