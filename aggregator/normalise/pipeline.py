"""Run the normalisation steps over one source run's listings.

The steps (see :mod:`aggregator.normalise.steps`) run in this order: clean text → cap lengths
(:mod:`aggregator.normalise.limits`) → title →
dates (may expand one listing into several) → status → offers → venue → categories →
validate. A step that raises :class:`~aggregator.normalise.steps.Rejected` drops that listing
(or that expanded day) into ``rejected``; nothing else stops the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from aggregator.listing import Listing, Rejection
from aggregator.normalise.categories import CategoryVocabulary
from aggregator.normalise.dates import MAX_DAILY_DAYS
from aggregator.normalise.limits import cap_lengths
from aggregator.normalise.steps import (
    Rejected,
    StepContext,
    apply_status,
    assign_categories,
    clean_fields,
    normalise_offers,
    normalise_title,
    resolve_dates,
    resolve_venue,
    validate,
)
from aggregator.normalise.venues import VenueRegistry

Step = Callable[[Listing, StepContext], "Listing | list[Listing]"]

STEPS: tuple[Step, ...] = (
    clean_fields,
    cap_lengths,
    normalise_title,
    resolve_dates,
    apply_status,
    normalise_offers,
    resolve_venue,
    assign_categories,
    validate,
)

__all__ = ["STEPS", "NormaliseResult", "Rejected", "normalise"]


@dataclass(slots=True)
class NormaliseResult:
    """Usable listings, rejected records, and the venue names and category labels nobody knew."""

    listings: list[Listing] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    unknown_venues: list[str] = field(default_factory=list)
    unknown_categories: list[str] = field(default_factory=list)


def normalise(
    listings: Iterable[Listing],
    *,
    venues: VenueRegistry,
    categories: CategoryVocabulary,
    now: datetime | None = None,
    max_daily_days: int = MAX_DAILY_DAYS,
    steps: tuple[Step, ...] = STEPS,
) -> NormaliseResult:
    """Normalise one run's listings; ``now`` (default: the current time) bounds plausible dates."""
    ctx = StepContext(venues, categories, now or datetime.now(UTC), max_daily_days)
    result = NormaliseResult(unknown_venues=ctx.unknown_venues, unknown_categories=ctx.unknown_categories)
    for listing in listings:
        _run(listing, ctx, steps, result)
    return result


def _run(listing: Listing, ctx: StepContext, steps: tuple[Step, ...], result: NormaliseResult) -> None:
    """Pass one listing (and whatever it expands into) through every step."""
    pending: deque[tuple[Listing, int]] = deque([(listing, 0)])
    while pending:
        item, index = pending.popleft()
        if index == len(steps):
            result.listings.append(item)
            continue
        try:
            produced = steps[index](item, ctx)
        except Rejected as rejected:
            result.rejected.append(Rejection(item.source, item.record_id, rejected.reason, rejected.field))
            continue
        for output in produced if isinstance(produced, list) else [produced]:
            pending.append((output, index + 1))
