"""The ingest window: the one span of time every source reads events in, and why others fell outside it.

Built from a ``now`` passed in (never the wall clock) and the ``[ingest] past_days``/``future_days``
settings: from the start of the Berlin day ``past_days`` before ``now`` (inclusive) to the start of
the Berlin day ``future_days`` after it (exclusive). An event belongs to the window when it overlaps
it: one that started before but is still running at its start (an exhibition) is kept.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal, NamedTuple

from aggregator.types import BERLIN

DEFAULT_PAST_DAYS = 1
DEFAULT_FUTURE_DAYS = 400

Outside = Literal["past", "future"]


class Window(NamedTuple):
    """A span of aware datetimes, ``start`` inclusive, ``end`` exclusive (a pair, so a tuple fits too)."""

    start: datetime
    end: datetime

    @classmethod
    def around(
        cls, now: datetime, past_days: int = DEFAULT_PAST_DAYS, future_days: int = DEFAULT_FUTURE_DAYS
    ) -> Window:
        """From ``past_days`` before the Berlin day of ``now`` to ``future_days`` after its start."""
        if now.tzinfo is None or now.utcoffset() is None:
            raise ValueError(f"now must be an aware datetime, got {now!r}")
        if past_days < 0 or future_days < 0:
            raise ValueError(f"past_days and future_days must not be negative ({past_days}, {future_days})")
        today = now.astimezone(BERLIN).date()
        start, end = today - timedelta(days=past_days), today + timedelta(days=future_days)
        return cls(berlin_midnight(start), berlin_midnight(end))

    @classmethod
    def of_days(cls, first: date, last: date) -> Window:
        """From the start of Berlin day ``first`` to the end of Berlin day ``last`` (both included)."""
        if last < first:
            raise ValueError(f"the window ends ({last}) before it starts ({first})")
        return cls(berlin_midnight(first), berlin_midnight(last + timedelta(days=1)))

    def outside(self, start: datetime, end: datetime | None = None) -> Outside | None:
        """Why an event from ``start`` to ``end`` is outside the window ("past"/"future"), or None.

        Without an end the event is taken to be a moment; one that ends exactly at the window's
        start does not overlap it.
        """
        if start >= self.end:
            return "future"
        if start >= self.start or (end is not None and end > self.start):
            return None
        return "past"

    @property
    def first_day(self) -> date:
        """The Berlin day the window starts in."""
        return self.start.astimezone(BERLIN).date()

    @property
    def last_day(self) -> date:
        """The last Berlin day the window reaches into."""
        return (self.end.astimezone(BERLIN) - timedelta(microseconds=1)).date()

    def describe(self) -> str:
        """The window as Berlin days, e.g. ``2026-12-05 … 2028-01-08``."""
        return f"{self.first_day} … {self.last_day}"


@dataclass(slots=True)
class OutsideCount:
    """How many events a document held outside the window, by reason."""

    past: int = 0
    future: int = 0
    earliest: date | None = None
    """The first Berlin day of an event left out as past."""
    latest: date | None = None
    """The first Berlin day of the last event left out as future."""

    def add(self, reason: Outside | None, start: datetime) -> None:
        """Count one event starting at ``start`` outside the window (None: inside, not counted)."""
        day = start.astimezone(BERLIN).date()
        if reason == "past":
            self.past += 1
            self.earliest = min(day, self.earliest or day)
        elif reason == "future":
            self.future += 1
            self.latest = max(day, self.latest or day)

    def keeps(self, window: Window, start: datetime, end: datetime | None = None) -> bool:
        """True when an event from ``start`` to ``end`` overlaps ``window``; otherwise it is counted here."""
        reason = window.outside(start, end)
        self.add(reason, start)
        return reason is None

    def extend(self, others: Iterable[OutsideCount]) -> None:
        """Add the counts of ``others``."""
        for other in others:
            self.past += other.past
            self.future += other.future
            for day in (other.earliest,) if other.earliest else ():
                self.earliest = min(day, self.earliest or day)
            for day in (other.latest,) if other.latest else ():
                self.latest = max(day, self.latest or day)

    @property
    def total(self) -> int:
        """All events outside the window."""
        return self.past + self.future

    def message(self, window: Window) -> str | None:
        """One line saying what was left out and why, or None when nothing was."""
        if not self.total:
            return None
        parts = []
        if self.past:
            parts.append(f"{self.past} ended before it (past)")
        if self.future:
            parts.append(f"{self.future} start after it (future)")
        noun = "event" if self.total == 1 else "events"
        return f"{self.total} {noun} outside the window {window.describe()} left out: {', '.join(parts)}"


def berlin_midnight(day: date) -> datetime:
    """Midnight at the start of ``day`` in Berlin (never skipped or repeated: clocks change at 2 and 3)."""
    return datetime.combine(day, time(), tzinfo=BERLIN)
