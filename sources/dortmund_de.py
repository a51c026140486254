"""dortmund.de: the city's Veranstaltungskalender, also the base of the city institutions' adapters.

Markup NOT verified (no capture exists; tests/fixtures/README.md): ``.event-list`` holds
``article.event-teaser`` entries with what the start page shows: "28 Termine", the next date,
hours, venue, title, teaser, a link with ``?eid=<digits>``. An entry is one production: the list
yields a listing for the date it shows (``raw["termine"] = N``); :meth:`fetch` also gets the
detail page of each multi-date entry (at most ``MAX_DETAIL_PAGES``), which yields every date with
its own status, and :meth:`run` keeps that version. Record ids are ``<eid>/<date words>``
(``512301/1-dezember-2026``; a second date on one day ``…#2``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import ClassVar

from bs4 import Tag

from aggregator.listing import Listing
from sources._html import absolute, attr, parse_html, require_one, require_text, select_text
from sources.base import Document, LayoutChanged, Source, SourceError, SourceResult

MAX_PAGES = 20
MAX_DETAIL_PAGES = 60
_EID = re.compile(r"[?&]eid=(\d+)")
_COUNT = re.compile(r"(\d+)\s+Termine")
_WEEKDAY = re.compile(r"^[A-Za-zÄÖÜäöü]{2,10}\.?,?\s+")


class DortmundDeSource(Source):
    """Every event in the city calendar of dortmund.de (all organisers and venues)."""

    name = "dortmund_de"
    kind = "city"
    start_urls: ClassVar[tuple[str, ...]] = ("https://www.dortmund.de/veranstaltungskalender/",)
    schedule = "interval:12h"
    places: ClassVar[tuple[str, ...]] = ("Dortmund",)

    def fetch(self) -> Iterator[Document]:
        """The list pages (following ``rel="next"``), then the detail pages of multi-date entries."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        details: list[str] = []
        for start in self.urls():
            url: str | None = start
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                document = self.fetcher.get(url)
                yield document
                page = parse_html(document)
                for entry in page.select(".event-list article.event-teaser"):
                    link = self._parse_url(entry, document)
                    if (self._parse_count(entry) or 1) > 1 and link and link not in details:
                        details.append(link)
                url = absolute(document, attr(page.select_one("nav.pagination a[rel~=next]"), "href"))
        for url in details[:MAX_DETAIL_PAGES]:
            yield self.fetcher.get(url)

    def run(self) -> SourceResult:
        """One run, each record once: a date from a detail page replaces the same date from the list."""
        result = super().run()
        result.listings = list({listing.record_id: listing for listing in result.listings}.values())
        return result

    def parse(self, document: Document) -> Iterator[Listing]:
        """A list page (one listing per entry) or a detail page (one listing per date)."""
        page = parse_html(document)
        detail = page.select_one("article.event-detail")
        if detail is not None:
            yield from self._parse_detail(detail, document)
            return
        entries = require_one(page, ".event-list", source=self.name, document=document)
        for entry in entries.select("article.event-teaser"):
            yield self._parse_entry(entry, document)

    def _parse_entry(self, entry: Tag, document: Document) -> Listing:
        """One list entry, for the date it shows."""
        url = self._parse_url(entry, document)
        eid = self._parse_eid(url, document)
        date_text = require_text(entry, ".event-teaser__date", source=self.name, document=document)
        return Listing(
            source=self.source_name,
            record_id=f"{eid}/{_day_key(date_text)}",
            series_key=eid,
            title=require_text(entry, ".event-teaser__title", source=self.name, document=document),
            fetched_at=document.fetched_at,
            url=url,
            date_text=date_text,
            time_text=select_text(entry, ".event-teaser__time"),
            description=select_text(entry, ".event-teaser__text"),
            image=absolute(document, attr(entry.select_one("img"), "src")),
            venue_name=select_text(entry, ".event-teaser__location"),
            status_text=select_text(entry, ".event-teaser__status"),
            raw={"termine": self._parse_count(entry) or 1, "credit": select_text(entry, "figcaption")},
        )

    def _parse_detail(self, detail: Tag, document: Document) -> Iterator[Listing]:
        """One listing per row of the detail page's "Termine" list."""
        eid = self._parse_eid(document.url, document)
        title = require_text(detail, "h1", source=self.name, document=document)
        rows = require_one(detail, ".event-dates", source=self.name, document=document).select("li")
        category = select_text(detail, ".event-detail__category")
        per_day: dict[str, int] = {}
        for row in rows:
            date_text = require_text(row, ".event-date__day", source=self.name, document=document)
            key = _day_key(date_text)
            per_day[key] = per_day.get(key, 0) + 1
            yield Listing(
                source=self.source_name,
                record_id=f"{eid}/{key}" + (f"#{per_day[key]}" if per_day[key] > 1 else ""),
                series_key=eid,
                title=title,
                fetched_at=document.fetched_at,
                url=document.url,
                date_text=date_text,
                time_text=select_text(row, ".event-date__time"),
                description=select_text(detail, ".event-detail__text"),
                categories=[category] if category else [],
                organiser=self._parse_organiser(detail),
                venue_name=select_text(detail, ".event-detail__venue"),
                venue_address=select_text(detail, ".event-detail__address"),
                status_text=select_text(row, ".event-date__status"),
                raw={"termine": len(rows)},
            )

    def _parse_url(self, entry: Tag, document: Document) -> str | None:
        """The absolute "zur Veranstaltung" link."""
        return absolute(document, attr(entry.select_one("a.event-teaser__link"), "href"))

    def _parse_eid(self, url: str | None, document: Document) -> str:
        """The calendar's event id (``?eid=``), the series key and the stem of every record id."""
        found = _EID.search(url or "")
        if found is None:
            raise LayoutChanged(self.name, f"event link {url!r} has no ?eid=", document.url)
        return found.group(1)

    def _parse_count(self, entry: Tag) -> int | None:
        """N of the "N Termine" line (absent for one-date entries)."""
        found = _COUNT.search(select_text(entry, ".event-teaser__count") or "")
        return int(found.group(1)) if found else None

    def _parse_organiser(self, detail: Tag) -> str | None:
        """The organiser line without its "Veranstalter:" label."""
        text = select_text(detail, ".event-detail__organizer") or ""
        return text.removeprefix("Veranstalter:").strip() or None


def _day_key(date_text: str) -> str:
    """``Di 1. Dezember 2026`` → ``1-dezember-2026``: the date words without the weekday."""
    return re.sub(r"\W+", "-", _WEEKDAY.sub("", date_text).lower()).strip("-")
