"""One bad listing costs only itself: venue texts that name nothing, steps that fail, arbitrary input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from fixed_clock import NOW
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aggregator.listing import Listing, OfferListing, Rejection
from aggregator.models import Event, Occurrence, Offer, SourceRecord, Venue
from aggregator.normalise.categories import load_categories
from aggregator.normalise.limits import OFFER_TEXT_LIMITS, OFFER_URL_LIMIT, TEXT_LIMITS, URL_LIMITS
from aggregator.normalise.pipeline import STEPS, NormaliseResult, normalise
from aggregator.normalise.steps import RECORD_ID_LIMIT, StepContext
from aggregator.normalise.titles import match_key
from aggregator.normalise.venues import SLUG_LENGTH, load_venues

VENUES = load_venues()
CATEGORIES = load_categories()
START = datetime(2026, 12, 5, 20, 0, tzinfo=UTC)


def listing(record_id: str = "r1", **changes: Any) -> Listing:
    fields: dict[str, Any] = {
        "source": "test",
        "record_id": record_id,
        "title": "Jazz im Keller",
        "fetched_at": NOW,
        "start": START,
        "venue_name": "domicil",
    }
    fields.update(changes)
    return Listing(**fields)


def run(*items: Listing, steps: tuple[Any, ...] = STEPS) -> NormaliseResult:
    return normalise(items, venues=VENUES, categories=CATEGORIES, now=NOW, steps=steps)


@pytest.mark.parametrize("text", [",", " - ", "—", "...", "()", "-- / --", "\u200f,\u200e", "?"])
def test_a_venue_text_without_letters_or_digits_means_no_venue(text: str) -> None:
    result = run(listing(venue_name=text), listing("r2"))
    assert result.rejected == []
    first, second = result.listings
    assert (first.venue_slug, first.venue_name) == (None, None)
    assert any("names no venue" in warning for warning in first.warnings)
    assert second.venue_slug == "domicil"


def test_a_junk_venue_name_beside_a_real_address_resolves_by_the_address() -> None:
    found = run(listing(venue_name="-", venue_address="Hansastraße 7-11, 44137 Dortmund")).listings[0]
    assert found.venue_slug == "domicil"


def test_venue_names_in_other_scripts_are_kept_apart_as_unknown_venues() -> None:
    result = run(listing(venue_name="Дом музыки"), listing("r2", venue_name="東京ホール"))
    slugs = [item.venue_slug for item in result.listings]
    assert result.rejected == [] and None not in slugs and len(set(slugs)) == 2


def _exploding(item: Listing, ctx: StepContext) -> Listing:
    if item.record_id == "poison":
        raise ZeroDivisionError("division by zero")
    return item


def test_a_step_that_raises_rejects_that_listing_only_with_step_and_exception_type() -> None:
    steps = (*STEPS[:3], _exploding, *STEPS[3:])
    result = run(listing("a"), listing("poison"), listing("b"), steps=steps)
    assert [item.record_id for item in result.listings] == ["a", "b"]
    assert result.rejected == [
        Rejection(
            "test", "poison", "ZeroDivisionError: division by zero", None, "_exploding", "ZeroDivisionError"
        )
    ]


def test_a_deliberate_rejection_names_its_step_and_no_exception_type() -> None:
    rejection = run(listing(title="   ")).rejected[0]
    assert (rejection.step, rejection.field, rejection.error) == ("validate", "title", None)


def test_an_aware_start_at_the_end_of_time_is_rejected_not_raised() -> None:
    late = datetime(9999, 12, 31, 23, 30, tzinfo=UTC)
    result = run(listing("late", start=late), listing("ok"))
    assert [item.record_id for item in result.listings] == ["ok"]
    assert [(r.record_id, r.step, r.error) for r in result.rejected] == [("late", "resolve_dates", None)]


def test_texts_longer_than_storage_keeps_are_cut_and_links_dropped_with_warnings() -> None:
    kept = run(
        listing(
            title="\ufb03" * 400,
            room="Saal " * 100,
            url="https://example.org/" + "a" * 1000,
            offers=[
                OfferListing(price_text="12 € " * 100, currency="Euro"),
                OfferListing(price_text="5 $", currency="US-Dollar"),
            ],
        )
    ).listings[0]
    assert len(kept.title) <= 500 and len(match_key(kept.title)) <= 500 and kept.title.endswith("…")
    assert (len(kept.room or "") <= 200, kept.url) == (True, None)
    assert [(offer.currency, len(offer.price_text or "") <= 300) for offer in kept.offers] == [("EUR", True)]
    assert len(kept.warnings) == 5, kept.warnings


def test_storage_limits_are_within_the_columns() -> None:
    columns = {
        "title": Event.title,
        "subtitle": Event.subtitle,
        "organiser": Event.organiser,
        "url": Event.url,
        "image": Event.image,
        "language": Event.language,
        "venue_name": Venue.name,
        "venue_address": Venue.street,
        "venue_url": Venue.url,
        "room": Occurrence.room,
    }
    for name, limit in {**TEXT_LIMITS, **URL_LIMITS}.items():
        if name in columns:
            assert limit <= columns[name].type.length, name
    assert TEXT_LIMITS["title"] <= Event.title_key.type.length
    assert OFFER_TEXT_LIMITS["price_text"] <= Offer.price_text.type.length
    assert OFFER_TEXT_LIMITS["vendor"] <= Offer.vendor.type.length
    assert min(Offer.url.type.length, SourceRecord.url.type.length) >= OFFER_URL_LIMIT
    assert SourceRecord.record_id.type.length >= RECORD_ID_LIMIT and Venue.slug.type.length >= SLUG_LENGTH


# -- arbitrary input -------------------------------------------------------------------------------

_ODD = st.sampled_from(
    [
        "",
        " ",
        "\t\n",
        "\u200f",
        "\u202e",
        "\u200b",
        "\x00",
        "\x1b[31m",
        "\ufeff",
        "\x85",
        ",",
        "-",
        "—",
        "...",
        "()",
        "?!",
        "№",
        "ß",
        "İ",
        "ﬁ",
        "\U0001f3b7",
        "Z\u0301\u0327",
    ]
)
_TEXT = st.one_of(
    _ODD,
    st.text(max_size=30),
    st.lists(_ODD, max_size=6).map("".join),
    st.text(min_size=1, max_size=3).map(lambda text: text * 700),
)  # over every storage limit
_MOMENT = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59))
_ZONE = st.sampled_from([None, UTC, timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))])
_AWARE_OR_NAIVE = st.builds(lambda moment, zone: moment.replace(tzinfo=zone), _MOMENT, _ZONE)
_EXTREME = st.sampled_from(
    [
        datetime(1, 1, 1),
        datetime(9999, 12, 31, 23, 59, 59, 999999),
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 30),
        datetime(2026, 10, 25, 2, 30),
    ]
)
_DATE_TEXT = st.one_of(
    st.none(),
    _TEXT,
    st.sampled_from(
        [
            "1.1.0001",
            "31.12.9999",
            "29.02.2027",
            "bis 31.12.",
            "Mo–So 10–18 Uhr",
            "1.–30. Dezember 2026",
            "heute",
        ]
    ),
)


@st.composite
def _listings(draw: st.DrawFn) -> list[Listing]:
    count = draw(st.integers(min_value=1, max_value=4))
    return [
        Listing(
            source="fuzz",
            record_id=f"r{index}",
            title=draw(_TEXT),
            fetched_at=draw(_AWARE_OR_NAIVE | _EXTREME),
            start=draw(st.none() | _AWARE_OR_NAIVE | _EXTREME),
            end=draw(st.none() | _AWARE_OR_NAIVE | _EXTREME),
            all_day=draw(st.booleans()),
            date_text=draw(_DATE_TEXT),
            time_text=draw(st.none() | _TEXT),
            description=draw(st.none() | _TEXT),
            categories=draw(st.lists(_TEXT, max_size=3)),
            venue_name=draw(st.none() | _TEXT),
            venue_address=draw(st.none() | _TEXT),
            room=draw(st.none() | _TEXT),
            status_text=draw(st.none() | _TEXT),
            previous_start=draw(st.none() | _AWARE_OR_NAIVE),
            offers=draw(
                st.lists(
                    st.builds(
                        OfferListing, price_text=st.none() | _TEXT, availability_text=st.none() | _TEXT
                    ),
                    max_size=2,
                )
            ),
        )
        for index in range(count)
    ]


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(items=_listings())
def test_the_pipeline_never_raises_and_accounts_for_every_listing(items: list[Listing]) -> None:
    result = run(*items)
    produced = [item.record_id for item in result.listings] + [str(r.record_id) for r in result.rejected]
    for item in items:  # a date range expands into '<id>#<day>' listings; nothing else appears or vanishes
        assert any(out == item.record_id or out.startswith(f"{item.record_id}#") for out in produced), item
    assert all(out.split("#")[0] in {item.record_id for item in items} for out in produced)
    dated = [item for item in items if item.start is not None]  # these never expand: one out per one in
    assert len([out for out in produced if out in {item.record_id for item in dated}]) == len(dated)
    assert [r for r in result.rejected if r.error] == []  # every rejection was deliberate, none a crash
    for kept in result.listings:
        assert kept.start is not None and kept.start.tzinfo is not None and kept.title
