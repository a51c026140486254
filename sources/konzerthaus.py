"""Konzerthaus Dortmund: the programme list at /de/programm/ and its detail pages.

The listing renders every event server-side as ``ul#cal-list > li.va`` (banner items in the list
have no ``va`` class). Buttons become offers: ``Tickets …`` / ``Eintritt frei …`` is the price text
of the house's own offer; ``ausverkauft``, ``zur Warteliste`` and ``Online nicht buchbar`` are its
availability words (the first one shown is kept, the page puts the decisive one first);
``Weitere Tickets`` is a second offer at Theater Dortmund (Philharmoniker concerts). Detail pages
(``/de/programm/DD-MM-YYYY-<slug>/``) carry a schema.org MusicEvent (whose ``name`` has the
date and venue appended; the ``<h1>`` is the title) and give the same record id as the block.
A run fetches the programme page only; :meth:`parse` also reads a detail page it is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bs4 import BeautifulSoup, Tag

from aggregator.formats.schemaorg.event_names import clean_event_name
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.listing import Listing, OfferListing
from sources._html import absolute, attr, parse_html, require_one, select_text, text_of
from sources.base import Document, LayoutChanged, Source

_DETAIL = re.compile(r"/programm/(?P<key>\d{2}-\d{2}-\d{4}-(?P<slug>[a-z0-9-]+))/")
_DETAIL_LINK = 'a[aria-label="Zur Detailseite dieser Veranstaltung"]'
_PRICE_WORDS = ("Tickets", "Eintritt")


class KonzerthausSource(Source):
    """The Konzerthaus Dortmund programme (listing page, optionally detail pages)."""

    name = "konzerthaus"
    venue = "Konzerthaus Dortmund"
    start_urls = ("https://www.konzerthaus-dortmund.de/de/programm/",)
    schedule = "interval:6h"

    def parse(self, document: Document) -> Iterator[Listing]:
        """Listings of the programme page, or the one event of a detail page."""
        page = parse_html(document)
        calendar = page.select_one("ul#cal-list")
        if calendar is None:
            key = _DETAIL.search(document.url)
            if key and page.select_one('script[type="application/ld+json"]'):
                yield self._parse_detail(document, page, key)
                return
            raise LayoutChanged(
                self.name, "no ul#cal-list (programme) and no JSON-LD (detail page)", document.url
            )
        for item in calendar.select(":scope > li.va"):
            yield self._parse_item(item, document)

    def _parse_item(self, item: Tag, document: Document) -> Listing:
        """One ``li.va`` programme block."""
        url = self._parse_url(item, document)
        key = _DETAIL.search(url)
        if key is None:
            raise LayoutChanged(
                self.name, f"detail link {url!r} is not /programm/DD-MM-YYYY-<slug>/", document.url
            )
        title = require_one(item, ".card-text .h2", source=self.name, document=document)
        genre = self._parse_genre(title)
        return Listing(
            source=self.source_name,
            record_id=key["key"],
            series_key=key["slug"],
            title=text_of(title) or "",
            fetched_at=document.fetched_at,
            url=url,
            date_text=self._parse_date_text(item, document),
            time_text=select_text(item, ".timebox .list-inline-item:nth-child(2)"),
            subtitle=self._parse_subtitle(title),
            categories=[genre] if genre else [],
            image=absolute(document, attr(item.select_one("img"), "src")),
            venue_name=self.venue,
            offers=self._parse_offers(item, document),
            status_text=select_text(item, ".card-text .badge"),
            raw={
                "classes": (attr(item, "class") or "").split(),
                "buttons": [[text_of(b), attr(b, "href")] for b in item.select("a.btn")],
                "performers": [text_of(li) for li in item.select(".va-mitwirkende li:not(.sr-only)")],
            },
        )

    def _parse_url(self, item: Tag, document: Document) -> str:
        """The absolute detail-page URL (the block's stable key)."""
        link = require_one(item, _DETAIL_LINK, source=self.name, document=document)
        url = absolute(document, attr(link, "href"))
        if url is None:
            raise LayoutChanged(self.name, "detail link without href", document.url)
        return url

    def _parse_date_text(self, item: Tag, document: Document) -> str:
        """The date as printed, e.g. ``Do 21.05.2026``."""
        node = require_one(
            item, ".timebox .list-inline-item:first-child", source=self.name, document=document
        )
        return text_of(node) or ""

    def _parse_genre(self, title: Tag) -> str | None:
        """The genre line printed just above the title (``Orchesterkonzert``)."""
        node = title.find_previous_sibling()
        if node is None or "badge" in (attr(node, "class") or "").split():
            return None
        return text_of(node)

    def _parse_subtitle(self, title: Tag) -> str | None:
        """The line printed just below the title, if any."""
        return text_of(title.find_next_sibling())

    def _parse_offers(self, item: Tag, document: Document) -> list[OfferListing]:
        """The house's offer (price, first availability word) and Theater Dortmund's for 'Weitere Tickets'."""
        own = OfferListing(vendor=self.venue)
        offers = [own]
        for button in item.select("a.btn"):
            label, url = text_of(button), absolute(document, attr(button, "href"))
            if not label:
                continue
            if label == "Weitere Tickets":
                offers.append(OfferListing(url=url, vendor="Theater Dortmund"))
            elif label.startswith(_PRICE_WORDS):
                own.price_text, own.url = label, url
            elif own.availability_text is None:
                own.availability_text = label
                own.url = own.url or url
        if own.price_text is None and own.availability_text is None:
            offers.remove(own)
        return offers

    def _parse_detail(self, document: Document, page: BeautifulSoup, key: re.Match[str]) -> Listing:
        """The MusicEvent of a detail page, keyed like its listing block; title from ``<h1>``."""
        result = parse_jsonld(
            document.body,
            source=self.source_name,
            fetched_at=document.fetched_at,
            base_url=document.url,
            clean_name=clean_event_name,
        )
        if not result.listings:
            reasons = [r.reason for r in result.rejections] or result.warnings
            raise LayoutChanged(self.name, f"detail page JSON-LD gives no event ({reasons})", document.url)
        listing = result.listings[0]
        return listing.evolve(
            record_id=key["key"],
            series_key=key["slug"],
            title=text_of(page.select_one("h1")) or listing.title,
            url=document.url,
            description=select_text(page, "#va-program .col-12.col-md-9") or listing.description,
            venue_name=listing.venue_name or self.venue,
        )
