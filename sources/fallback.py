"""Degrade instead of die: a failed adapter's pages read again for the structured data they embed.

When a site adapter raises :class:`~sources.base.LayoutChanged`, the pages it had fetched until then
(kept by a :class:`CapturingFetcher`) are read for schema.org events in JSON-LD, microdata and RDFa and
for microformats ``h-event`` (:mod:`sources.platforms.embedded`) — nothing else is fetched. The events
are used only when they are plausible (:func:`implausible` gives no reason):

- some were found, and not fewer than the mass-cancellation guard lets a run drop from the last good
  run's count (``[ingest] mass_cancel_ratio`` and ``mass_cancel_min``);
- most of the events the structured data holds lie inside the source's window;
- every one takes place at one of the source's :attr:`~sources.base.Source.places` (its venue by default).

Their record ids and series keys start with ``fallback:`` until the store matches them to the full
records (:mod:`aggregator.degraded`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from aggregator.degraded import FALLBACK_PREFIX
from aggregator.formats.schemaorg.event_names import clean_event_name
from aggregator.listing import Listing, Rejection
from aggregator.text import fold_key
from aggregator.window import OutsideCount, Window
from sources.base import Document, Fetcher, Source
from sources.platforms._document import source_window
from sources.platforms.embedded import NoEmbeddedData, parse_embedded

MAX_KEPT_BYTES = 100_000_000
"""A run's documents kept for a fallback at most, in bytes; later ones are handed on but not kept."""


class CapturingFetcher:
    """A :class:`~sources.base.Fetcher` that hands documents on and keeps them for a fallback."""

    def __init__(self, inner: Fetcher) -> None:
        self.inner = inner
        self.documents: list[Document] = []
        self.kept_bytes = 0

    def new_run(self) -> None:
        """Start a run: forget the documents of the last one."""
        self.documents, self.kept_bytes = [], 0
        self.inner.new_run()

    def get(self, url: str) -> Document:
        """The inner fetcher's document, kept while the run's kept documents stay under the limit."""
        document = self.inner.get(url)
        if self.kept_bytes + len(document.body) <= MAX_KEPT_BYTES:
            self.documents.append(document)
            self.kept_bytes += len(document.body)
        return document

    def now(self) -> datetime:
        """The inner fetcher's now."""
        return self.inner.now()


@dataclass(slots=True)
class Fallback:
    """What the structured data of a failed run's pages gave."""

    pages: int
    listings: list[Listing] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    outside: OutsideCount = field(default_factory=OutsideCount)
    found: dict[str, int] = field(default_factory=dict)
    """Events per syntax over all pages (``{"microdata": 12}``)."""

    def describe(self) -> str:
        """``12 events from microdata, 3 from json-ld on 2 pages``."""
        parts = [f"{count} from {syntax}" for syntax, count in self.found.items()]
        what = ", ".join(parts) if parts else "no events"
        pages = "1 page" if self.pages == 1 else f"{self.pages} pages"
        return f"{len(self.listings)} events ({what}) in the structured data of {pages}"


def places_of(source: Source) -> tuple[str, ...]:
    """Where ``source``'s events take place: its ``places``, else its (configured) venue."""
    configured = source.options.get("places")
    if isinstance(configured, list | tuple) and configured:
        return tuple(str(place) for place in configured)
    if source.places:
        return source.places
    venue = source.options.get("venue") or source.venue
    return (str(venue),) if venue else ()


def read_fallback(source: Source, documents: Sequence[Document], now: datetime) -> Fallback:
    """The events embedded in ``documents``, in ``source``'s window at ``now``, under provisional ids.

    A listing that names no place is given the source's venue (when it has one).
    """
    window = source_window(source, now)
    venue = source.options.get("venue") or source.venue
    result = Fallback(pages=len(documents))
    seen: set[str] = set()
    for document in documents:
        try:
            read = parse_embedded(
                document.body,
                source=source.source_name,
                fetched_at=document.fetched_at,
                base_url=document.url,
                window=window,
                clean_name=clean_event_name,
                origin=document.url,
            )
        except NoEmbeddedData as error:
            result.warnings.append(f"fallback: {error.message}")
            continue
        result.rejections.extend(read.rejections)
        result.warnings.extend(f"fallback: {document.url}: {warning}" for warning in read.warnings)
        result.outside.extend([read.outside])
        for syntax, count in read.found.items():
            result.found[syntax] = result.found.get(syntax, 0) + count
        for listing in read.listings:
            if listing.record_id in seen:
                continue
            seen.add(listing.record_id)
            result.listings.append(_provisional(listing, str(venue) if venue else None))
    return result


def _provisional(listing: Listing, venue: str | None) -> Listing:
    """The listing under fallback ids, with the source's venue when it names no place."""
    return listing.evolve(
        record_id=FALLBACK_PREFIX + listing.record_id,
        series_key=FALLBACK_PREFIX + listing.series_key if listing.series_key else None,
        venue_name=listing.venue_name or venue,
        raw={**listing.raw, "fallback": True},
    )


def implausible(
    source: Source,
    fallback: Fallback,
    *,
    baseline: int | None,
    ratio: float,
    minimum: int,
    window: Window,
    count: int | None = None,
) -> list[str]:
    """Why the fallback's events cannot stand in for the adapter's (empty: they can).

    ``baseline`` is the number of listings of the source's last good run (None: it never had one, and
    the count is not compared); ``ratio`` and ``minimum`` are the mass-cancellation guard's bounds;
    ``count`` is what the fallback's listings come to after normalisation (which may split a long run
    into days, as it did the last good run's), by default their number.
    """
    reasons: list[str] = []
    count = len(fallback.listings) if count is None else count
    if not fallback.listings:
        pages = "the page" if fallback.pages == 1 else f"the {fallback.pages} pages"
        return [f"no events in the structured data of {pages} fetched"]
    if baseline is not None:
        dropped = baseline - count
        if dropped > minimum and dropped > ratio * baseline:
            reasons.append(
                f"{count} events where the last good run had {baseline} (the mass-cancellation guard "
                f"allows {ratio:.0%} or {minimum} fewer)"
            )
    if fallback.outside.total > count:
        reasons.append(
            f"{fallback.outside.total} of {fallback.outside.total + count} events lie outside the window "
            f"{window.start.date()} – {window.end.date()}"
        )
    places = places_of(source)
    elsewhere = [listing for listing in fallback.listings if not _at(listing, places)]
    if elsewhere:
        where = elsewhere[0].venue_name or elsewhere[0].venue_address or "no place given"
        wanted = " or ".join(places) if places else "a place of the source's (none declared)"
        reasons.append(f"{len(elsewhere)} of {count} events are not at {wanted} (e.g. {where!r})")
    return reasons


def _at(listing: Listing, places: Sequence[str]) -> bool:
    """Whether the listing's venue name or address names one of ``places`` (or a place names its venue)."""
    name = fold_key(listing.venue_name or "")
    text = f"{name} {fold_key(listing.venue_address or '')}".strip()
    for place in places:
        wanted = fold_key(place)
        if wanted and (wanted in text or (len(name) >= 4 and name in wanted)):
            return True
    return False
