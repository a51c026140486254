"""Schedule strings from settings (``interval:6h``, ``cron:15 4 * * *``) as APScheduler triggers.

Intervals are anchored to fixed slots (multiples of the interval since the Unix epoch, shifted by a
stable per-source offset) instead of to the moment a process started. Every instance on one database
therefore agrees on where a slot begins, sources with the same interval do not all fire together,
and jitter never accumulates from one run to the next (APScheduler's own ``IntervalTrigger`` adds
each jitter to the previous, jittered, fire time, so the schedule drifts).

Cron fields follow crontab: day of week ``0`` and ``7`` are Sunday (APScheduler 3 reads ``0`` as
Monday; numbers are translated to names here).
"""

from __future__ import annotations

import hashlib
import itertools
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from aggregator.types import BERLIN

MANUAL = frozenset({"manual", "off", "never"})
"""Schedule words meaning "no job; run only when asked"."""

JITTER_SHARE = 0.2
"""Jitter is capped at this share of a source's slot, so consecutive runs stay in distinct slots."""

_UNITS = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([dhms])")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


class ScheduleError(ValueError):
    """A schedule string cannot be understood; names the string and what is wrong with it."""

    def __init__(self, text: str, reason: str) -> None:
        self.text = text
        self.reason = reason
        super().__init__(
            f"schedule {text!r}: {reason} (expected 'interval:6h', 'interval:1h30m', 'cron:15 4 * * *' "
            "or 'manual')"
        )


@dataclass(frozen=True, slots=True)
class Schedule:
    """A parsed schedule: the trigger to hand APScheduler (None for manual) and the slot length."""

    text: str
    trigger: BaseTrigger | None
    slot: timedelta | None

    def same_slot(self, earlier: datetime, now: datetime) -> bool:
        """Whether ``earlier`` lies in the slot ``now`` is in.

        Interval slots are fixed, so the test is exact however late a job fires; for cron, whose
        slots are not, "within the last half slot" stands in.
        """
        if isinstance(self.trigger, SlotIntervalTrigger):
            return self.trigger.slot_index(earlier) == self.trigger.slot_index(now)
        if self.slot is None:
            return False
        return now - self.slot / 2 < earlier <= now


class SlotIntervalTrigger(BaseTrigger):  # type: ignore[misc]
    """Fires once per slot of ``period`` seconds at ``offset`` into the slot, plus up to ``jitter``."""

    def __init__(
        self, period: float, *, offset: float = 0.0, jitter: float = 0.0, timezone: tzinfo = UTC
    ) -> None:
        if period <= 0:
            raise ValueError(f"period must be positive, got {period}")
        self.period = period
        self.offset = offset % period
        self.jitter = max(0.0, jitter)
        self.timezone = timezone

    def slot_index(self, moment: datetime) -> int:
        """The number of the slot ``moment`` falls in."""
        return math.floor((moment.timestamp() - self.offset) / self.period)

    def slot_start(self, index: int) -> datetime:
        """When slot ``index`` begins (before jitter)."""
        return datetime.fromtimestamp(index * self.period + self.offset, tz=self.timezone)

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        """The next slot after the previous fire (or the next slot from now), jittered."""
        if previous_fire_time is not None:
            index = self.slot_index(previous_fire_time) + 1
        else:
            index = math.ceil((now.timestamp() - self.offset) / self.period)
        fire = self.slot_start(index)
        if self.jitter:
            fire += timedelta(seconds=random.uniform(0, self.jitter))
        return fire

    def __str__(self) -> str:
        period = timedelta(seconds=self.period)
        return f"every {period} (offset {self.offset:.0f} s, jitter {self.jitter:.1f} s)"

    def __repr__(self) -> str:
        return (
            f"<SlotIntervalTrigger period={self.period} offset={self.offset} jitter={self.jitter} "
            f"timezone={self.timezone}>"
        )


def parse_duration(text: str) -> timedelta:
    """``6h``, ``30m``, ``1h30m``, ``1d``, ``90s`` as a timedelta; raises ScheduleError."""
    compact = text.replace(" ", "").lower()
    if not compact or _DURATION.sub("", compact):
        raise ScheduleError(text, "the interval must be numbers with units d, h, m or s")
    seconds = sum(float(number) * _UNITS[unit] for number, unit in _DURATION.findall(compact))
    if seconds <= 0:
        raise ScheduleError(text, "the interval must be longer than zero")
    return timedelta(seconds=seconds)


def stable_offset(name: str, period: timedelta) -> float:
    """A per-source offset into the slot, the same in every process (whole seconds)."""
    whole = int(period.total_seconds())
    if whole < 2:
        return 0.0
    digest = hashlib.blake2b(name.encode("utf-8"), digest_size=8).digest()
    return float(int.from_bytes(digest, "big") % whole)


def crontab_trigger(expression: str, *, jitter: float = 0.0, timezone: tzinfo = BERLIN) -> CronTrigger:
    """A CronTrigger from five crontab fields, with crontab's weekday numbering."""
    fields = expression.split()
    if len(fields) != 5:
        raise ScheduleError(expression, f"a cron schedule needs 5 fields, got {len(fields)}")
    minute, hour, day, month, weekday = fields
    try:
        return CronTrigger(
            minute=minute,
            hour=hour,
            day=day,
            month=month,
            day_of_week=_crontab_weekdays(weekday, expression),
            timezone=timezone,
            jitter=jitter or None,
        )
    except ValueError as exc:
        raise ScheduleError(expression, str(exc)) from exc


def _crontab_weekdays(field: str, expression: str) -> str:
    if field == "*" or not any(ch.isdigit() for ch in field):
        return field
    days: set[int] = set()
    for part in field.split(","):
        span, _, step_text = part.partition("/")
        step = int(step_text) if step_text.isdigit() else 1
        if span == "*":
            first, last = 0, 6
        elif "-" in span:
            low, _, high = span.partition("-")
            if not (low.isdigit() and high.isdigit()):
                raise ScheduleError(expression, f"day of week {part!r}: mix of names and numbers")
            first, last = int(low), int(high)
        elif span.isdigit():
            first = last = int(span)
        else:
            raise ScheduleError(expression, f"day of week {part!r} is not understood")
        if not 0 <= first <= last <= 7:
            raise ScheduleError(expression, f"day of week {part!r} is outside 0-7")
        days.update(d % 7 for d in range(first, last + 1, step))
    return ",".join(_WEEKDAYS[d] for d in sorted(days))


_SLOT_REFERENCE = datetime(2024, 1, 1, tzinfo=UTC)
"""Where slot lengths are measured from: a fixed instant, so a schedule means the same on every day."""


def cron_slot(trigger: CronTrigger, *, start: datetime = _SLOT_REFERENCE, samples: int = 6) -> timedelta:
    """The shortest gap between the next few fire times of a jitter-free ``trigger``: its slot length."""
    moment = start
    fires: list[datetime] = []
    previous: datetime | None = None
    for _ in range(samples):
        fire = trigger.get_next_fire_time(previous, moment)
        if fire is None:
            break
        fires.append(fire)
        previous, moment = fire, fire
    gaps = [b - a for a, b in itertools.pairwise(fires)]
    return min(gaps) if gaps else timedelta(days=1)


def parse_schedule(
    text: str, *, name: str = "", jitter_seconds: float = 0.0, timezone: tzinfo = BERLIN
) -> Schedule:
    """Parse a schedule string; ``name`` spreads interval sources over their slot.

    Jitter is capped at :data:`JITTER_SHARE` of the slot. Raises :class:`ScheduleError`.
    """
    kind, _, rest = text.strip().partition(":")
    kind = kind.lower()
    try:
        if kind in MANUAL and not rest:
            return Schedule(text, None, None)
        if kind == "interval":
            period = parse_duration(rest)
            jitter = min(jitter_seconds, period.total_seconds() * JITTER_SHARE)
            trigger = SlotIntervalTrigger(
                period.total_seconds(), offset=stable_offset(name, period), jitter=jitter, timezone=timezone
            )
            return Schedule(text, trigger, period)
        if kind == "cron":
            slot = cron_slot(crontab_trigger(rest, timezone=timezone))
            jitter = min(jitter_seconds, slot.total_seconds() * JITTER_SHARE)
            return Schedule(text, crontab_trigger(rest, jitter=jitter, timezone=timezone), slot)
    except ScheduleError as exc:
        raise ScheduleError(text, exc.reason) from None
    raise ScheduleError(text, f"unknown kind {kind!r}")


def next_run_time(text: str, *, name: str, now: datetime) -> datetime | None:
    """When a source's job next fires, before jitter (None for manual schedules).

    The same in every process, so the API can show it without asking the scheduler; the actual
    run starts up to the configured jitter later, or later still while the source backs off.
    """
    schedule = parse_schedule(text, name=name)
    if schedule.trigger is None:
        return None
    fire: datetime | None = schedule.trigger.get_next_fire_time(None, now)
    return fire


def waiting_until(
    next_attempt_at: datetime | None, now: datetime, *, tolerance: timedelta
) -> datetime | None:
    """When a backing-off source may run again, or None if it may run now.

    ``next_attempt_at`` is :attr:`SourceState.next_attempt_at`; ``tolerance`` (half a slot) absorbs
    jitter: a job that fires a little before the stored time still runs, so a source due in the next
    slot is not pushed one more slot out.
    """
    if next_attempt_at is None or now >= next_attempt_at - tolerance:
        return None
    return next_attempt_at


def next_scheduled_run(
    text: str, *, name: str, now: datetime, next_attempt_at: datetime | None = None
) -> datetime | None:
    """When the scheduler next starts a source on its schedule, before jitter (None for manual ones).

    While the source backs off (``next_attempt_at``), jobs that fire before :func:`waiting_until` lets
    them are skipped: the run is the first slot from half a slot before ``next_attempt_at`` on.
    """
    schedule = parse_schedule(text, name=name)
    if schedule.trigger is None:
        return None
    earliest = now
    if next_attempt_at is not None and schedule.slot is not None:
        earliest = max(now, next_attempt_at - schedule.slot / 2)
    fire: datetime | None = schedule.trigger.get_next_fire_time(None, earliest)
    return fire
