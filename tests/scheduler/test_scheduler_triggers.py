"""Schedule strings become triggers that fire once per slot, spread and jittered, on crontab's terms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.triggers.cron import CronTrigger
from fixed_clock import NOW

from aggregator.schedules import (
    ScheduleError,
    SlotIntervalTrigger,
    next_run_time,
    parse_duration,
    parse_schedule,
    stable_offset,
)
from aggregator.types import BERLIN


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("6h", 6 * 3600),
        ("30m", 1800),
        ("1h30m", 5400),
        ("1d", 86400),
        ("90s", 90),
        ("0.5h", 1800),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_interval_schedule_has_its_interval_as_slot() -> None:
    schedule = parse_schedule("interval:6h", name="konzerthaus", jitter_seconds=300)
    assert isinstance(schedule.trigger, SlotIntervalTrigger)
    trigger = schedule.trigger
    assert (schedule.slot, trigger.period, trigger.jitter) == (timedelta(hours=6), 21600, 300)


def test_jitter_is_capped_at_a_fifth_of_the_slot() -> None:
    schedule = parse_schedule("interval:10s", name="x", jitter_seconds=300)
    assert isinstance(schedule.trigger, SlotIntervalTrigger)
    assert schedule.trigger.jitter == pytest.approx(2.0)


def test_consecutive_fires_land_in_consecutive_slots_without_drift() -> None:
    trigger = SlotIntervalTrigger(3600, offset=1234, jitter=600)
    fire = trigger.get_next_fire_time(None, NOW)
    first = trigger.slot_index(fire)
    for step in range(1, 300):
        fire = trigger.get_next_fire_time(fire, fire)
        assert trigger.slot_index(fire) == first + step
        assert 0 <= (fire - trigger.slot_start(first + step)).total_seconds() <= 600


def test_first_fire_is_the_next_slot_start_after_now() -> None:
    trigger = SlotIntervalTrigger(3600, offset=0)
    assert trigger.get_next_fire_time(None, NOW + timedelta(minutes=1)) == NOW + timedelta(hours=1)


def test_instances_agree_on_slots_and_sources_are_spread() -> None:
    one = parse_schedule("interval:6h", name="konzerthaus").trigger
    two = parse_schedule("interval:6h", name="konzerthaus").trigger
    assert one is not None and two is not None
    assert one.get_next_fire_time(None, NOW) == two.get_next_fire_time(None, NOW)
    names = ("konzerthaus", "fzw", "theater", "domicil")
    offsets = {stable_offset(name, timedelta(hours=6)) for name in names}
    assert len(offsets) == 4


def test_offset_is_stable_across_processes() -> None:
    import subprocess
    import sys

    code = (
        "from datetime import timedelta; from aggregator.schedules import stable_offset; "
        "print(stable_offset('konzerthaus', timedelta(hours=6)))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert float(out) == stable_offset("konzerthaus", timedelta(hours=6))


def _fires(trigger: CronTrigger, count: int, start: datetime = NOW) -> list[datetime]:
    fires: list[datetime] = []
    previous = None
    moment = start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, moment)
        fires.append(fire)
        previous = moment = fire
    return fires


def test_cron_runs_at_local_berlin_time_across_dst() -> None:
    trigger = parse_schedule("cron:15 4 * * *").trigger
    fires = _fires(trigger, 200, datetime(2026, 3, 1, tzinfo=UTC))
    assert {(f.astimezone(BERLIN).hour, f.astimezone(BERLIN).minute) for f in fires} == {(4, 15)}
    assert {f.utcoffset() for f in fires} == {timedelta(hours=1), timedelta(hours=2)}


@pytest.mark.parametrize(
    ("field", "weekdays"),
    [
        ("0", {6}),
        ("7", {6}),
        ("1-5", {0, 1, 2, 3, 4}),
        ("5-7", {4, 5, 6}),
        ("0,3", {6, 2}),
        ("*/2", {6, 1, 3, 5}),
        ("sat,sun", {5, 6}),
    ],
)
def test_cron_weekdays_use_crontab_numbering(field: str, weekdays: set[int]) -> None:
    trigger = parse_schedule(f"cron:0 4 * * {field}").trigger
    assert {f.weekday() for f in _fires(trigger, 30)} == weekdays


@pytest.mark.parametrize(
    ("text", "slot"),
    [
        ("cron:15 4 * * *", timedelta(days=1)),
        ("cron:*/15 * * * *", timedelta(minutes=15)),
        ("cron:0 4 * * 0", timedelta(days=7)),
        ("cron:0 9-17 * * 1-5", timedelta(hours=1)),
    ],
)
def test_cron_slot_is_the_shortest_gap(text: str, slot: timedelta) -> None:
    assert parse_schedule(text).slot == slot


def test_cron_jitter_is_applied_within_the_cap() -> None:
    schedule = parse_schedule("cron:15 4 * * *", jitter_seconds=300)
    fires = _fires(schedule.trigger, 50)
    delays = [
        (f.astimezone(BERLIN) - f.astimezone(BERLIN).replace(minute=15, second=0, microsecond=0))
        for f in fires
    ]
    assert all(timedelta(0) <= d <= timedelta(seconds=300) for d in delays)
    assert len(set(delays)) > 1


@pytest.mark.parametrize("text", ["manual", "off", "never"])
def test_manual_schedules_have_no_trigger(text: str) -> None:
    assert parse_schedule(text).trigger is None


@pytest.mark.parametrize(
    "text",
    [
        "interval:",
        "interval:6x",
        "interval:0h",
        "interval:h",
        "cron:1 2 3",
        "cron:61 * * * *",
        "weekly",
        "cron:0 4 * * 8",
        "cron:0 4 * * mon-3",
    ],
)
def test_bad_schedules_name_the_string(text: str) -> None:
    with pytest.raises(ScheduleError) as info:
        parse_schedule(text)
    assert repr(text) in str(info.value)


def test_same_slot_is_exact_for_intervals_and_half_a_slot_for_cron() -> None:
    interval = parse_schedule("interval:1h", name="fzw")
    assert isinstance(interval.trigger, SlotIntervalTrigger)
    start = interval.trigger.slot_start(interval.trigger.slot_index(NOW))
    assert interval.same_slot(start + timedelta(minutes=1), start + timedelta(minutes=59))
    assert not interval.same_slot(start - timedelta(minutes=1), start + timedelta(minutes=1))
    cron = parse_schedule("cron:15 4 * * *")
    assert cron.same_slot(NOW - timedelta(hours=11), NOW)
    assert not cron.same_slot(NOW - timedelta(hours=13), NOW)
    assert not parse_schedule("manual").same_slot(NOW, NOW)


def test_next_run_time_is_the_unjittered_next_slot() -> None:
    trigger = parse_schedule("interval:6h", name="fzw", jitter_seconds=300).trigger
    assert isinstance(trigger, SlotIntervalTrigger)
    expected = trigger.slot_start(trigger.slot_index(NOW) + 1)
    assert next_run_time("interval:6h", name="fzw", now=NOW) == expected
    assert next_run_time("cron:15 4 * * *", name="fzw", now=NOW) == datetime(
        2026, 11, 22, 4, 15, tzinfo=BERLIN
    )
    assert next_run_time("manual", name="fzw", now=NOW) is None
