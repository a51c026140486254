"""One run of one source: fetch and parse through the adapter, then hand the listings to ingest.

Whatever goes wrong inside the adapter (network, layout change, a bug) ends this run as failed with
the reason; the source's stored data is untouched and other sources are unaffected. A changed layout
first tries the structured data of the pages fetched (:mod:`scheduler.degrade`): a plausible run ends
``degraded`` with those events.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aggregator.ingest import IngestContext, RunReport, fail_run, ingest, start_run
from scheduler.degrade import degrade_or_fail
from sources.base import Fetcher, LayoutChanged, SourceError
from sources.catalog import SourceSpec
from sources.fallback import CapturingFetcher

log = logging.getLogger(__name__)


def run_source(
    ctx: IngestContext,
    spec: SourceSpec,
    fetcher: Fetcher,
    *,
    trigger: str = "manual",
    now: datetime | None = None,
) -> RunReport:
    """Run ``spec`` once with ``fetcher`` as of ``now`` (default: the context's clock).

    Never raises for a source's own failure.

    Every way a run can go wrong once it is recorded — the fetcher's reset, building the adapter,
    the adapter's run, ingest itself — ends the run as failed (so the source's
    health and backoff count it); only a database that cannot record the failure raises.
    """
    now = now or ctx.clock()
    run_id = start_run(ctx, spec.name, trigger, now=now)
    log.info("run started", extra={"source": spec.name, "run_id": run_id})
    try:
        report = _run(ctx, spec, fetcher, run_id, now)
    except Exception as exc:
        log.exception("run of %s failed", spec.name, extra={"source": spec.name, "run_id": run_id})
        report = fail_run(ctx, run_id, f"{type(exc).__name__} in {spec.name}: {exc}")
    log.info(
        "run finished",
        extra={"source": spec.name, "run_id": run_id, "status": report.status.value, "error": report.error},
    )
    return report


def _run(ctx: IngestContext, spec: SourceSpec, fetcher: Fetcher, run_id: int, now: datetime) -> RunReport:
    capture = CapturingFetcher(fetcher)  # keeps the pages for the structured-data fallback
    try:
        capture.new_run()  # the page budget is per run, the client lives for the process
        result = spec.build(capture).run()
    except LayoutChanged as exc:
        return degrade_or_fail(ctx, spec, capture.documents, exc, run_id, now)
    except SourceError as exc:
        return fail_run(ctx, run_id, str(exc))
    return ingest(
        ctx,
        spec.name,
        result.listings,
        run_id=run_id,
        rejections=result.rejections,
        warnings=result.warnings,
        now=now,
        bound_to=spec.venues,
    )
