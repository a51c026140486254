"""Date ranges of the filter form and the per-language formats, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from calendar_api.problems import Problem
from calendar_api.web.filter_form import EMBED_FIELDS, list_request, weekend
from calendar_api.web.i18n import MESSAGES, Texts, pick_language

DE, EN = Texts("de"), Texts("en")


@pytest.mark.parametrize(
    ("today", "saturday"),
    [
        (date(2026, 3, 16), date(2026, 3, 21)),  # Monday
        (date(2026, 3, 20), date(2026, 3, 21)),  # Friday
        (date(2026, 3, 21), date(2026, 3, 21)),  # Saturday
        (date(2026, 3, 22), date(2026, 3, 21)),  # Sunday: the weekend that is still on
    ],
)
def test_weekend(today: date, saturday: date) -> None:
    assert weekend(today) == (saturday, date.fromordinal(saturday.toordinal() + 1))


def test_weekend_window_on_sunday_starts_now_and_ends_with_sunday() -> None:
    now = datetime(2026, 3, 22, 11, 30, 15, tzinfo=UTC)
    listing = list_request([("when", "weekend")], now)
    assert listing.window.start == datetime(2026, 3, 22, 11, 30, tzinfo=UTC)
    assert listing.window.end == datetime(2026, 3, 22, 23, 0, tzinfo=UTC)  # Berlin midnight, CET


def test_weekend_window_on_a_weekday_starts_on_saturday() -> None:
    listing = list_request([("when", "weekend")], datetime(2026, 3, 18, 9, 0, tzinfo=UTC))
    assert listing.window.start == datetime(2026, 3, 20, 23, 0, tzinfo=UTC)


def test_picked_dates_in_the_past_start_now() -> None:
    now = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
    listing = list_request([("from", "2026-01-01"), ("to", "2026-03-31")], now)
    assert listing.when == "dates" and listing.window.start == now
    assert listing.feed_query == "from=2026-01-01&to=2026-03-31"


def test_week_spans_seven_days_across_the_clock_change() -> None:
    listing = list_request([("when", "week")], datetime(2026, 3, 25, 9, 0, tzinfo=UTC))
    assert listing.window.end == datetime(2026, 3, 31, 22, 0, tzinfo=UTC)  # Berlin midnight, CEST


def test_embed_ignores_page_only_fields_and_caps_the_limit() -> None:
    listing = list_request(
        [("when", "today"), ("limit", "500"), ("venue", "fzw")],
        datetime(2026, 3, 20, tzinfo=UTC),
        fields=EMBED_FIELDS,
        limit=5,
    )
    assert listing.when == "" and listing.filters.limit == 50 and listing.filters.venues == ("fzw",)


def test_repeated_single_value_filter_is_refused() -> None:
    with pytest.raises(Problem) as caught:
        list_request([("q", "a"), ("q", "b")], datetime(2026, 3, 20, tzinfo=UTC))
    assert caught.value.parameter == "q"


@pytest.mark.parametrize(
    ("explicit", "header", "expected"),
    [
        ("en", "de", ("en", True)),
        ("EN-gb", None, ("en", True)),
        ("fr", "en", ("en", False)),
        (None, "de-AT, en;q=0.8", ("de", False)),
        (None, "en-GB;q=0.8, de;q=0.7", ("en", False)),
        (None, "en;q=abc, de;q=0.1", ("de", False)),
        (None, None, ("de", False)),
    ],
)
def test_pick_language(explicit: str | None, header: str | None, expected: tuple[str, bool]) -> None:
    assert pick_language(explicit, header) == expected


@pytest.mark.parametrize(
    ("texts", "amount", "expected"),
    [
        (DE, "19", "19\u00a0€"),
        (DE, "19.5", "19,50\u00a0€"),
        (EN, "19", "€19"),
        (EN, "19.5", "€19.50"),
    ],
)
def test_money(texts: Texts, amount: str, expected: str) -> None:
    assert texts.money(Decimal(amount)) == expected


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (DE, ("Sonntag, 29. März 2026", "So., 29.03.", "29. März 2026")),
        (EN, ("Sunday 29 March 2026", "Sun 29 Mar", "29 Mar 2026")),
    ],
)
def test_dates(texts: Texts, expected: tuple[str, str, str]) -> None:
    day = date(2026, 3, 29)
    assert (texts.long_date(day), texts.short_date(day), texts.medium_date(day)) == expected


def test_clock_is_berlin_time_across_the_clock_change() -> None:
    assert DE.clock(datetime(2026, 3, 29, 1, 30, tzinfo=UTC)) == "03:30"
    assert (
        DE.time_range(datetime(2026, 3, 28, 19, tzinfo=UTC), datetime(2026, 3, 28, 21, tzinfo=UTC), False)
        == "20:00–22:00 Uhr"
    )


@pytest.mark.parametrize("key", sorted(MESSAGES))
def test_every_message_has_both_languages(key: str) -> None:
    assert set(MESSAGES[key]) == {"de", "en"}
    assert all(MESSAGES[key][lang].strip() or key == "time_suffix" for lang in ("de", "en"))
