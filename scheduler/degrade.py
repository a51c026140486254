"""A run whose adapter raised LayoutChanged: degraded with structured data, or failed with both reasons."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from aggregator.degraded import last_good_listings
from aggregator.ingest import IngestContext, RunReport, fail_run, ingest
from aggregator.normalise.pipeline import normalise
from sources.base import Document, LayoutChanged
from sources.catalog import SourceSpec
from sources.fallback import implausible, read_fallback
from sources.platforms._document import source_window

log = logging.getLogger(__name__)


def degrade_or_fail(
    ctx: IngestContext,
    spec: SourceSpec,
    documents: Sequence[Document],
    error: LayoutChanged,
    run_id: int,
    now: datetime,
) -> RunReport:
    """Ingest the structured data of ``documents`` as a degraded run if it is plausible, else fail the run.

    The failure names the adapter's error and why the fallback could not stand in
    (see :mod:`sources.fallback`).
    """
    source = spec.build(None)
    fallback = read_fallback(source, documents, now)
    settings = ctx.settings.ingest
    normalised = normalise(fallback.listings, venues=ctx.venues, categories=ctx.categories, now=now)
    reasons = implausible(
        source,
        fallback,
        baseline=last_good_listings(ctx.factory, spec.name),
        ratio=settings.mass_cancel_ratio,
        minimum=settings.mass_cancel_min,
        window=source_window(source, now),
        count=len(normalised.listings),
    )
    if reasons:
        return fail_run(ctx, run_id, f"{error}; structured-data fallback unusable: {'; '.join(reasons)}")
    log.warning("%s degraded: %s", spec.name, error, extra={"source": spec.name, "run_id": run_id})
    return ingest(
        ctx,
        spec.name,
        fallback.listings,
        run_id=run_id,
        rejections=fallback.rejections,
        warnings=[f"degraded: {fallback.describe()}", *fallback.warnings],
        now=now,
        degraded=f"{error}; read instead: {fallback.describe()}",
        bound_to=spec.venues,
    )
