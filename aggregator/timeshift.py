"""Moving listings forward by whole weeks in Berlin wall-clock time (the demo's dated snapshots kept current).

A shift by whole weeks keeps every weekday and, because the move is made on the local calendar and
the result localised again, every wall-clock time: a Saturday 19:30 in March is a Saturday 19:30 in
April, across the change to summer time. Only the times a listing describes move (start, end, the
previous start, an offer's sale start); ``fetched_at`` stays when the data was read.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from aggregator.listing import Listing
from aggregator.types import BERLIN


def shift_moment(moment: datetime, weeks: int) -> datetime:
    """``moment`` moved ``weeks`` on the Berlin calendar: same weekday, same wall-clock time.

    Aware values come back aware in Berlin; naive values are Berlin wall time (as adapters write
    them) and stay naive. A wall time that does not exist on the new day (the spring gap, 02:00–03:00)
    moves forward by the gap, as :func:`aggregator.normalise.dates.localize` does.
    """
    if not weeks:
        return moment
    if moment.tzinfo is None:
        return moment + timedelta(weeks=weeks)
    local = moment.astimezone(BERLIN)
    wall = local.replace(tzinfo=None) + timedelta(weeks=weeks)
    return wall.replace(tzinfo=BERLIN, fold=local.fold).astimezone(UTC).astimezone(BERLIN)


def shift_listing(listing: Listing, weeks: int) -> Listing:
    """``listing`` with its start, end, previous start and offers' sale starts moved ``weeks`` forward.

    Returns ``listing`` itself when ``weeks`` is 0 (listings are values; nothing is mutated).
    """
    if not weeks:
        return listing

    def move(moment: datetime | None) -> datetime | None:
        return None if moment is None else shift_moment(moment, weeks)

    offers = [
        replace(offer, on_sale=move(offer.on_sale)) if offer.on_sale else offer for offer in listing.offers
    ]
    return listing.evolve(
        start=move(listing.start),
        end=move(listing.end),
        previous_start=move(listing.previous_start),
        offers=offers,
    )


def whole_weeks(since: date, until: date) -> int:
    """The whole weeks from ``since`` to ``until`` (rounded down; 0 if ``until`` is not later)."""
    return max(0, (until - since).days // 7)


def demo_shift(current_on: date, current_for_weeks: int, today: date) -> int:
    """The weeks to move snapshots made current for ``current_on`` so that they look current ``today``.

    0 while the snapshots still pass as current (less than ``current_for_weeks`` whole weeks after
    ``current_on``); after that, every whole week since ``current_on``, so the data stands to
    ``today`` as it stood to ``current_on``.
    """
    if current_for_weeks < 0:
        raise ValueError(f"current_for_weeks must not be negative, got {current_for_weeks}")
    weeks = whole_weeks(current_on, today)
    return 0 if weeks < current_for_weeks else weeks
