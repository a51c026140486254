"""The portal's feed check, built here in the wiring from ``sources.probe`` (the API never fetches).

:func:`feed_checker` gives the :data:`aggregator.venue_feeds.FeedChecker` the venue portal calls: the
URL is checked by the probe's guard (public addresses only, unless ``[probe]`` allows a host), then
probed as ``stadtkalender probe`` would — every candidate read by the platform source a saved table
configures, within the probe's page, size and time budget.
"""

from __future__ import annotations

from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.venue_feeds import FeedCheck, FeedChecker, FeedFinding
from sources.base import SourceError
from sources.probe import Finding, ProbeReport, probe
from sources.probe.guard import (
    ProbeFetcher,
    Resolver,
    UnsafeUrl,
    check_settings,
    guarded_client,
    plain_url,
    system_resolver,
)


def feed_checker(settings: Settings, clock: Clock, resolve: Resolver = system_resolver) -> FeedChecker:
    """``check(url)`` for the venue portal, with ``settings``' probe limits and its clock."""

    def check(url: str) -> FeedCheck:
        url = plain_url(url)
        try:
            check_settings(url, settings.probe, resolve)
        except UnsafeUrl as refused:
            return FeedCheck(url, error=refused.reason, refused=True)
        except SourceError as error:  # the name does not resolve
            return FeedCheck(url, error=error.message)
        fetcher = ProbeFetcher(guarded_client(settings, clock, resolve), settings.probe, resolve=resolve)
        window = (settings.ingest.past_days, settings.ingest.future_days)
        return _feed_check(probe(url, fetcher, window_days=window, pages=settings.probe.max_pages))

    return check


def _finding(finding: Finding) -> FeedFinding:
    first, last = finding.span()
    return FeedFinding(
        kind=finding.candidate.kind,
        url=finding.candidate.url,
        events=finding.events,
        first=first,
        last=last,
        titles=tuple(finding.titles()),
        missing=tuple(finding.missing()),
        error=finding.error,
    )


def _feed_check(report: ProbeReport) -> FeedCheck:
    best = report.best
    listings = best.listings if best is not None else []
    places = tuple(dict.fromkeys((listing.venue_name, listing.venue_address) for listing in listings))
    return FeedCheck(
        report.url,
        error=report.error,
        findings=tuple(_finding(finding) for finding in report.findings),
        config=report.suggested(),
        kind=best.candidate.kind if best is not None else None,
        places=places,
    )
