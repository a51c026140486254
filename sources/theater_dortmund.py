"""Theater Dortmund: the calendar at theaterdo.de/kalender/ (TYPO3 + Solr, 15 events a page).

Pages are ``?tx_solr%5Bpage%5D=N``; the first page without event blocks ends the run (at most
40 pages). Each block ``div.event#event-<digits>`` has the division (Sparte), a link to the
production (``/produktionen/detail/<slug>/``, the series key), the title, month + year and day
in separate spans (joined here into ``21. September 2026``), the venue in the first span of
``.event__details`` and the time as ``HH:MM Uhr``, and a ticket link into the Eventim inhouse
webshop. Detail pages are not fetched: their dates come from a JavaScript widget.

When a block names no venue, the division's house is used (Oper, Ballett, Junge Oper →
Opernhaus; Schauspiel → Schauspielhaus; KJT → Kinder- und Jugendtheater; Philharmoniker →
Konzerthaus) and ``raw["venue_default"]`` is set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from bs4 import Tag

from aggregator.listing import Listing, OfferListing
from sources._html import absolute, attr, parse_html, require_one, select_text, text_of
from sources.base import Document, LayoutChanged, Source, SourceError

MAX_PAGES = 40
_BLOCK = "div.event[id^='event-']"
_EVENT_ID = re.compile(r'id="event-\d+"')
_SERIES = re.compile(r"/produktionen/detail/(?P<slug>[a-z0-9-]+)/")
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_HOUSE = {
    "Oper": "Opernhaus",
    "Ballett": "Opernhaus",
    "Junge Oper": "Opernhaus",
    "Schauspiel": "Schauspielhaus",
    "KJT": "Kinder- und Jugendtheater",
    "Philharmoniker": "Konzerthaus",
}
# theaterdo.de names some stages without their house.
_BARE_ROOMS = {"Studio": "Schauspielhaus Dortmund, Studio"}


class TheaterDortmundSource(Source):
    """Oper, Ballett, Schauspiel, Philharmoniker and KJT of Theater Dortmund, from the paged calendar."""

    name = "theater_dortmund"
    start_urls = ("https://www.theaterdo.de/kalender/",)
    schedule = "interval:6h"
    places: ClassVar[tuple[str, ...]] = ("Dortmund",)

    def fetch(self) -> Iterator[Document]:
        """Calendar pages 1, 2, … up to the first page without event blocks (at most ``MAX_PAGES``)."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        start = self.urls()[0]
        for number in range(1, MAX_PAGES + 1):
            document = self.fetcher.get(start if number == 1 else f"{start}?tx_solr%5Bpage%5D={number}")
            yield document
            if not _EVENT_ID.search(document.text):
                return

    def parse(self, document: Document) -> Iterator[Listing]:
        """The event blocks of one calendar page; an empty page (end of paging) gives none."""
        page = parse_html(document)
        results = require_one(page, "#tx-solr-search", source=self.name, document=document)
        blocks = results.select(_BLOCK)
        if not blocks and results.select("a[href*='/produktionen/detail/']"):
            raise LayoutChanged(self.name, f"production links but no {_BLOCK} blocks", document.url)
        for block in blocks:
            yield self._parse_block(block, document)

    def _parse_block(self, block: Tag, document: Document) -> Listing:
        """One ``div.event`` calendar block."""
        link = require_one(block, "a[href*='/produktionen/detail/']", source=self.name, document=document)
        url = absolute(document, attr(link, "href"))
        series = _SERIES.search(url or "")
        division = select_text(block, ".event__division")
        details = [text_of(span) or "" for span in block.select(".event__details span")]
        venue = self._parse_venue(details)
        return Listing(
            source=self.source_name,
            record_id=attr(block, "id") or "",
            series_key=series["slug"] if series else None,
            title=self._parse_title(block, document),
            fetched_at=document.fetched_at,
            url=url,
            date_text=self._parse_date_text(block, document),
            time_text=self._parse_time_text(details),
            subtitle=select_text(block, ".event__subtitle"),
            categories=[division] if division else [],
            organiser="Theater Dortmund",
            venue_name=venue or _HOUSE.get(division or ""),
            offers=self._parse_offers(block, document),
            status_text=select_text(block, ".event__status"),
            raw={
                "division": division,
                "details": details,
                "label": select_text(block, ".event__label"),
                "venue_default": venue is None,
            },
        )

    def _parse_title(self, block: Tag, document: Document) -> str:
        """The ``<h2>`` title."""
        return text_of(require_one(block, "h2", source=self.name, document=document)) or ""

    def _parse_date_text(self, block: Tag, document: Document) -> str:
        """Day and month+year spans joined: ``21`` + ``September 2026`` → ``21. September 2026``."""
        month = text_of(require_one(block, ".event__month", source=self.name, document=document)) or ""
        day = text_of(require_one(block, ".event__day", source=self.name, document=document)) or ""
        return f"{int(day)}. {month}" if day.isdigit() else f"{day} {month}"

    def _parse_time_text(self, details: list[str]) -> str | None:
        """The ``HH:MM Uhr`` span of ``.event__details`` (``im Anschluss`` and the like give None)."""
        return next((text for text in details if _TIME.search(text)), None)

    def _parse_venue(self, details: list[str]) -> str | None:
        """The first span of ``.event__details`` unless it is already the time (venue left out)."""
        if details and details[0] and not _TIME.search(details[0]):
            return _BARE_ROOMS.get(details[0], details[0])
        return None

    def _parse_offers(self, block: Tag, document: Document) -> list[OfferListing]:
        """The Eventim webshop link, or the ticket area's words (``ausverkauft``, ``Eintritt frei!``)."""
        area = block.select_one(".event__tickets")
        if area is None:
            return []
        link = absolute(document, attr(area.select_one("a[href]"), "href"))
        words = text_of(area) if link is None else None
        if link is None and words is None:
            return []
        free = bool(words and words.startswith("Eintritt"))
        return [
            OfferListing(
                url=link,
                vendor="Theater Dortmund",
                price_text=words if free else None,
                availability_text=None if free else words,
            )
        ]
