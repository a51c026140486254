"""Moving listings by whole weeks keeps weekday and Berlin wall-clock time, across both DST changes."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from aggregator.config import ConfigError, DemoSettings, Settings, load_settings
from aggregator.listing import Listing, OfferListing
from aggregator.timeshift import demo_shift, shift_listing, shift_moment, whole_weeks
from aggregator.types import BERLIN
from calendar_api.demo_notice import demo_notice
from stadtkalender.demo import SnapshotDates, demo_settings, snapshot_dates

FETCHED = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)


def test_a_saturday_evening_in_march_stays_a_saturday_evening_across_the_spring_change() -> None:
    before = datetime(2027, 3, 20, 19, 30, tzinfo=BERLIN)  # CET; summer time starts 28 March
    after = shift_moment(before, 2)
    assert (after.date(), after.hour, after.minute) == (date(2027, 4, 3), 19, 30)
    assert after.weekday() == 5
    assert after.utcoffset() == timedelta(hours=2)
    assert after.astimezone(UTC) - before.astimezone(UTC) == timedelta(
        weeks=2, hours=-1
    )  # an hour is skipped


def test_a_saturday_evening_in_october_stays_a_saturday_evening_across_the_autumn_change() -> None:
    before = datetime(2027, 10, 23, 20, 0, tzinfo=BERLIN).astimezone(UTC)  # CEST, given as UTC
    after = shift_moment(before, 2)
    assert after.tzinfo is BERLIN
    assert (after.date(), after.hour, after.minute, after.utcoffset()) == (
        date(2027, 11, 6),
        20,
        0,
        timedelta(hours=1),
    )


def test_the_second_of_two_equal_wall_times_stays_the_second() -> None:
    second = datetime(2027, 10, 24, 2, 30, tzinfo=BERLIN, fold=1)
    moved = shift_moment(second, 1)  # 31 October 2027: 02:30 happens twice again
    assert (moved.date(), moved.hour, moved.minute) == (date(2027, 10, 31), 2, 30)
    assert moved.utcoffset() == timedelta(hours=1)


def test_a_wall_time_in_the_spring_gap_moves_forward_by_the_gap() -> None:
    moved = shift_moment(datetime(2027, 3, 21, 2, 30, tzinfo=BERLIN), 1)
    assert (moved.date(), moved.hour, moved.minute) == (date(2027, 3, 28), 3, 30)


def test_a_naive_wall_time_stays_naive() -> None:
    assert shift_moment(datetime(2027, 3, 20, 19, 30), 2) == datetime(2027, 4, 3, 19, 30)


def test_a_listing_moves_its_dates_and_nothing_else() -> None:
    listing = Listing(
        source="konzerthaus",
        record_id="k-1#2027-03-20",
        title="Konzert",
        fetched_at=FETCHED,
        start=datetime(2027, 3, 20, 19, 30, tzinfo=BERLIN),
        end=datetime(2027, 3, 20, 22, 0, tzinfo=BERLIN),
        previous_start=datetime(2027, 3, 13, 19, 30, tzinfo=BERLIN),
        offers=[
            OfferListing(price_min=Decimal(19), on_sale=datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)),
            OfferListing(price_min=Decimal(8)),
        ],
    )
    moved = shift_listing(listing, 3)
    assert moved.start == datetime(2027, 4, 10, 19, 30, tzinfo=BERLIN)
    assert moved.end == datetime(2027, 4, 10, 22, 0, tzinfo=BERLIN)
    assert moved.previous_start == datetime(2027, 4, 3, 19, 30, tzinfo=BERLIN)
    assert moved.offers[0].on_sale == datetime(2026, 12, 22, 10, 0, tzinfo=BERLIN)
    assert moved.offers[1] == listing.offers[1]
    assert (moved.record_id, moved.fetched_at, moved.title) == (listing.record_id, FETCHED, "Konzert")
    assert listing.start == datetime(2027, 3, 20, 19, 30, tzinfo=BERLIN)  # the input is not changed
    assert listing.offers[0].on_sale == datetime(2026, 12, 1, 10, 0, tzinfo=BERLIN)


def test_an_all_day_listing_stays_at_midnight() -> None:
    listing = Listing(
        source="mkk",
        record_id="m-1",
        title="Ausstellung",
        fetched_at=FETCHED,
        all_day=True,
        start=datetime(2027, 3, 27, 0, 0, tzinfo=BERLIN),
    )
    moved = shift_listing(listing, 1)
    assert moved.start == datetime(2027, 4, 3, 0, 0, tzinfo=BERLIN)
    assert moved.end is None and moved.all_day


def test_no_shift_returns_the_listing_itself() -> None:
    listing = Listing(
        source="s",
        record_id="r",
        title="t",
        fetched_at=FETCHED,
        start=datetime(2027, 3, 20, 19, 30, tzinfo=BERLIN),
    )
    assert shift_listing(listing, 0) is listing


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (date(2026, 11, 1), 0),  # before the snapshots' day
        (date(2026, 11, 21), 0),
        (date(2026, 12, 18), 0),  # 3 whole weeks: still current
        (date(2026, 12, 19), 4),  # 4 whole weeks: moved by all of them
        (date(2028, 12, 6), 106),
    ],
)
def test_the_demo_shifts_only_once_the_snapshots_are_no_longer_current(today: date, expected: int) -> None:
    assert demo_shift(date(2026, 11, 21), 4, today) == expected


def test_whole_weeks_round_down() -> None:
    assert [
        whole_weeks(date(2026, 11, 21), date(2026, 11, 21) + timedelta(days=n)) for n in (6, 7, 13, 14)
    ] == [0, 1, 1, 2]


def test_a_negative_current_period_is_refused() -> None:
    with pytest.raises(ValueError, match="current_for_weeks"):
        demo_shift(date(2026, 11, 21), -1, date(2028, 1, 1))


def test_the_bundled_snapshots_record_their_day() -> None:
    assert snapshot_dates(load_settings(env={})) == SnapshotDates(date(2026, 11, 21), 4)


def _settings_with_snapshots(tmp_path: Path, text: str) -> Settings:
    (tmp_path / "snapshots.toml").write_text(text, encoding="utf-8")
    settings = load_settings(env={})
    return Settings(ingest=type(settings.ingest)(snapshots_dir=str(tmp_path)))


def test_a_malformed_snapshots_file_is_reported_with_file_and_key(tmp_path: Path) -> None:
    settings = _settings_with_snapshots(tmp_path, 'current_on = "21.11.2026"\n')
    with pytest.raises(ConfigError, match=r"current_on.*snapshots\.toml.*2026-11-21"):
        snapshot_dates(settings)


def test_snapshots_without_a_recorded_day_are_not_moved(tmp_path: Path) -> None:
    settings = Settings(ingest=type(load_settings(env={}).ingest)(snapshots_dir=str(tmp_path)))
    assert demo_settings(settings, datetime(2030, 1, 1, tzinfo=UTC)).demo == DemoSettings()


def test_demo_settings_carry_the_shift_and_the_day(tmp_path: Path) -> None:
    settings = _settings_with_snapshots(tmp_path, "current_on = 2026-11-21\ncurrent_for_weeks = 4\n")
    # 23:30 UTC on 5 December 2028 is already 6 December in Dortmund
    demo = demo_settings(settings, datetime(2028, 12, 5, 23, 30, tzinfo=UTC)).demo
    assert demo == DemoSettings(shift_weeks=106, snapshots_current_on="2026-11-21")


def test_the_notice_in_both_languages_and_none_without_a_shift() -> None:
    demo = DemoSettings(shift_weeks=106, snapshots_current_on="2026-11-21")
    assert (
        demo_notice(demo, "de")
        == "Demo: Termine aus Momentaufnahmen vom 21.11.2026, um 106 Wochen verschoben."
    )
    assert (
        demo_notice(demo, "en") == "Demo: events from snapshots of 21 November 2026, moved 106 weeks forward."
    )
    assert demo_notice(DemoSettings(shift_weeks=1, snapshots_current_on="2026-11-21"), "de") == (
        "Demo: Termine aus Momentaufnahmen vom 21.11.2026, um 1 Woche verschoben."
    )
    assert demo_notice(DemoSettings(), "de") is None


def test_a_notice_with_a_malformed_day_names_the_setting() -> None:
    with pytest.raises(ValueError, match=r"demo\.snapshots_current_on"):
        demo_notice(DemoSettings(shift_weeks=2, snapshots_current_on="soon"), "en")
