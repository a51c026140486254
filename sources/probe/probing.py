"""One probe: fetch a page, discover its candidates, read each with its platform source, suggest the best."""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from aggregator.listing import Listing
from aggregator.types import BERLIN
from sources.base import Fetcher, SourceError
from sources.platforms.embedded import NoEmbeddedData, embedded_values
from sources.platforms.sitemap import sitemap_pages
from sources.probe.discover import Candidate, discover

KIND_RANK = {
    "tribe": 0,
    "squarespace": 1,
    "ical": 2,
    "google": 2,
    "outlook": 2,
    "icloud": 2,
    "teamup": 2,
    "meetup": 2,
    "webcal": 2,
    "json-ld": 3,
    "microdata": 3,
    "rdfa": 3,
    "microformat": 3,
    "sitemap": 4,
    "pages": 5,
    "rss": 6,
}
"""Which kind of source is suggested first when several give events: the richer and steadier first."""

SYNTAX_KINDS = ("json-ld", "microdata", "rdfa", "microformat")
FIELDS = {
    "end": lambda listing: listing.end is not None,
    "price": lambda listing: any(o.price_text or o.price_min is not None for o in listing.offers),
    "location": lambda listing: bool(listing.venue_name or listing.venue_address),
    "description": lambda listing: bool(listing.description),
    "image": lambda listing: bool(listing.image),
    "link": lambda listing: bool(listing.url),
}
"""What a candidate's events may lack; a field is missing when fewer than half of them have it."""

SAMPLE_PAGES = 2
"""Pages of one link group read to see whether they carry events, before all of them are."""

DEFAULT_SCHEDULE = "interval:12h"


@dataclass(slots=True)
class Finding:
    """A candidate read: its events (in the window), or why it could not be read."""

    candidate: Candidate
    listings: list[Listing] = field(default_factory=list)
    error: str | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def events(self) -> int:
        """How many events it yields now."""
        return len(self.listings)

    @property
    def usable(self) -> bool:
        """Whether it gives events and could be read."""
        return self.error is None and bool(self.listings)

    def span(self) -> tuple[datetime | None, datetime | None]:
        """The first and the last start (Berlin time)."""
        starts = sorted(listing.start.astimezone(BERLIN) for listing in self.listings if listing.start)
        return (starts[0], starts[-1]) if starts else (None, None)

    def missing(self) -> list[str]:
        """The fields fewer than half its events have (``end``, ``price``, ``location``, …)."""
        if not self.listings:
            return ["events"]
        half = len(self.listings) / 2
        return [name for name, has in FIELDS.items() if sum(map(has, self.listings)) < half]

    def titles(self, count: int = 3) -> list[str]:
        """A sample of distinct titles."""
        return list(dict.fromkeys(listing.title for listing in self.listings))[:count]

    def venue(self) -> str | None:
        """The venue nearly all its events name (four in five), for the suggested ``venue``."""
        names = Counter(listing.venue_name for listing in self.listings if listing.venue_name)
        if not names:
            return None
        name, count = names.most_common(1)[0]
        balanced = name.count("(") == name.count(")")  # a LOCATION cut at its first comma is no name
        return name if balanced and count * 5 >= len(self.listings) * 4 else None


@dataclass(slots=True)
class ProbeReport:
    """What a probe of one URL found and what it suggests."""

    url: str
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def best(self) -> Finding | None:
        """The usable finding to suggest: by :data:`KIND_RANK`, then fewest gaps, then most events."""
        usable = [finding for finding in self.findings if finding.usable]
        if not usable:
            return None
        return min(
            usable,
            key=lambda f: (KIND_RANK.get(f.candidate.kind, 9), len(f.missing()), -f.events),
        )

    def suggested(self) -> dict[str, Any]:
        """The source table for the best finding (``{}`` when nothing is usable)."""
        best = self.best
        if best is None:
            return {}
        table = dict(best.candidate.config)
        venue = best.venue()
        if venue:
            table["venue"] = venue
        table["kind"] = "venue"
        table["schedule"] = DEFAULT_SCHEDULE
        return table

    def to_json(self) -> dict[str, Any]:
        """``{"url", "found": [{"kind", "url", "events", "first", "last", "missing"}], "suggested"}``."""
        found = []
        for finding in self.findings:
            first, last = finding.span()
            found.append(
                {
                    "kind": finding.candidate.kind,
                    "url": finding.candidate.url,
                    "events": finding.events,
                    "first": first.isoformat() if first else None,
                    "last": last.isoformat() if last else None,
                    "missing": finding.missing(),
                }
            )
        return {"url": self.url, "found": found, "suggested": self.suggested()}


def probe(url: str, fetcher: Fetcher, *, window_days: tuple[int, int], pages: int) -> ProbeReport:
    """Probe ``url`` through ``fetcher``: every candidate it offers, read as its source would read it.

    ``window_days`` are ``(past_days, future_days)`` of the window events are counted in; ``pages`` is
    how many linked or sitemap pages one candidate may read. Never raises for the site's faults: they are
    the report's ``error`` and the findings' errors.
    """
    report = ProbeReport(url)
    try:
        document = fetcher.get(url)
    except SourceError as error:
        report.error = str(error)
        return report
    discovery = discover(document)
    report.notes.extend(discovery.notes)
    candidates = list(discovery.candidates)
    if document.text.lstrip()[:1] == "<":
        candidates += _embedded(document.text, document.url, report.notes)
    evaluated: dict[str, list[Listing] | str] = {}
    for candidate in candidates:
        report.findings.append(_read(candidate, fetcher, window_days, evaluated))
    if not any(f.usable and f.candidate.kind in SYNTAX_KINDS for f in report.findings):
        for pattern, links in discovery.page_groups[:3]:
            finding = _pages(url, pattern, links, fetcher, window_days, pages, evaluated)
            if finding is not None:
                report.findings.append(finding)
                report.findings.extend(
                    _sitemap(url, pattern, len(links), fetcher, window_days, pages, evaluated)
                )
                break
    return report


def _embedded(page: str, url: str, notes: list[str]) -> list[Candidate]:
    """One candidate per syntax of structured data the page carries."""
    try:
        values = embedded_values(page, url, notes)
    except NoEmbeddedData:
        return []
    return [Candidate(syntax, url, {"type": "embedded", "url": url}, "on the page") for syntax in values]


def _read(
    candidate: Candidate,
    fetcher: Fetcher,
    window_days: tuple[int, int],
    cache: dict[str, list[Listing] | str],
) -> Finding:
    """Read ``candidate`` with the platform source its table names (each table once per probe)."""
    key = json.dumps(candidate.config, sort_keys=True)
    if key not in cache:
        cache[key] = _run(candidate.config, fetcher, window_days)
    result = cache[key]
    if isinstance(result, str):
        return Finding(candidate, error=result)
    listings = result
    if candidate.kind in SYNTAX_KINDS:
        listings = [listing for listing in listings if listing.raw.get("syntax", "json-ld") == candidate.kind]
    return Finding(candidate, listings)


def _run(config: dict[str, Any], fetcher: Fetcher, window_days: tuple[int, int]) -> list[Listing] | str:
    """The listings a source configured by ``config`` gives now, or what went wrong."""
    from sources.catalog import platforms

    cls = platforms()[str(config["type"])]
    options = {**config, "name": "probe", "past_days": window_days[0], "future_days": window_days[1]}
    try:
        return cls(fetcher, options).run().listings
    except SourceError as error:
        return error.message if error.url is None else f"{error.message} ({error.url})"


def _pages(
    url: str,
    pattern: str,
    links: list[str],
    fetcher: Fetcher,
    window_days: tuple[int, int],
    budget: int,
    cache: dict[str, list[Listing] | str],
) -> Finding | None:
    """The linked pages matching ``pattern``, if a sample of them carries events: read them all."""
    config: dict[str, Any] = {"type": "embedded", "url": url, "follow": pattern}
    sample = _run({"type": "embedded", "urls": links[:SAMPLE_PAGES]}, fetcher, window_days)
    if isinstance(sample, str) or not sample:
        return None
    if len(links) > budget:
        return Finding(
            Candidate("pages", url, config, f"{len(links)} linked pages"),
            sample,
            notes=[f"only {SAMPLE_PAGES} of {len(links)} linked pages read (page budget)"],
        )
    candidate = Candidate("pages", url, {**config, "max_pages": max(2 * len(links), 60)}, "linked pages")
    return _read(candidate, fetcher, window_days, cache)


def _sitemap(
    url: str,
    pattern: str,
    linked: int,
    fetcher: Fetcher,
    window_days: tuple[int, int],
    budget: int,
    cache: dict[str, list[Listing] | str],
) -> list[Finding]:
    """A sitemap listing more pages like the linked ones than the page links to: read those."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    sitemaps = []
    try:
        robots = fetcher.get(origin + "/robots.txt").text.splitlines()
        sitemaps = [line.split(":", 1)[1].strip() for line in robots if line.lower().startswith("sitemap:")]
    except SourceError:
        pass
    follow = re.compile(pattern)
    for sitemap in sitemaps or [origin + "/sitemap.xml"]:
        try:
            listed = [page for page in sitemap_pages(fetcher, sitemap, "probe") if follow.search(page)]
        except SourceError:
            continue
        if len(listed) <= linked or len(listed) > budget:
            continue
        config = {
            "type": "embedded",
            "url": url,
            "sitemap": sitemap,
            "follow": pattern,
            "max_pages": max(2 * len(listed), 60),
        }
        candidate = Candidate("sitemap", sitemap, config, f"{len(listed)} pages in the sitemap")
        return [_read(candidate, fetcher, window_days, cache)]
    return []
