"""Run the normalisation steps over one source run's listings.

The steps (see :mod:`aggregator.normalise.steps`) run in this order: clean text → cap lengths to
what storage keeps (:mod:`aggregator.normalise.limits`) → URLs → title →
dates (may expand one listing into several) → status → offers → venue → categories →
validate. A step that raises :class:`~aggregator.normalise.steps.Rejected` drops that listing
(or that expanded day) into ``rejected``, naming the step. Any other exception a step raises is a
defect or an input nobody foresaw: it too rejects only that listing, with the step and the
exception type, so that one odd record never costs the rest of the run.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.listing import Listing, Rejection
from aggregator.normalise.categories import CategoryVocabulary
from aggregator.normalise.dates import MAX_DAILY_DAYS
from aggregator.normalise.limits import cap_lengths
from aggregator.normalise.steps import (
    Rejected,
    StepContext,
    apply_status,
    assign_categories,
    check_urls,
    clean_fields,
    normalise_offers,
    normalise_title,
    resolve_dates,
    resolve_venue,
    validate,
)
from aggregator.normalise.venues import VenueRegistry

log = logging.getLogger(__name__)
Step = Callable[[Listing, StepContext], "Listing | list[Listing]"]

STEPS: tuple[Step, ...] = (
    clean_fields,
    cap_lengths,
    check_urls,
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
    now: datetime,
    max_daily_days: int = MAX_DAILY_DAYS,
    steps: tuple[Step, ...] = STEPS,
) -> NormaliseResult:
    """Normalise one run's listings; ``now`` (the run's time) bounds plausible dates."""
    ctx = StepContext(venues, categories, now, max_daily_days)
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
        step = steps[index]
        try:
            produced = step(item, ctx)
        except Rejected as rejected:
            result.rejected.append(
                Rejection(item.source, item.record_id, rejected.reason, rejected.field, _name(step))
            )
            continue
        except Exception as error:  # isolate the failure at the step boundary: it costs this listing only
            kind = type(error).__name__
            log.debug("step %s failed on %s %s", _name(step), item.source, item.record_id, exc_info=True)
            result.rejected.append(
                Rejection(item.source, item.record_id, f"{kind}: {error}"[:1000], None, _name(step), kind)
            )
            continue
        except ArithmeticError as error:  # an out-of-range value no step foresaw costs this listing only
            reason = f"unusable value ({type(error).__name__}: {error})"
            result.rejected.append(Rejection(item.source, item.record_id, reason))
            continue
        for output in produced if isinstance(produced, list) else [produced]:
            pending.append((output, index + 1))


def _name(step: Step) -> str:
    """The step's function name, as runs report it."""
    return getattr(step, "__name__", type(step).__name__)
