"""Ticket-shop XML exports: the Eventim inhouse webshop export and the Ruhrbühnen portal XML.

No sample file of either format is public; the element names come from parsers that read them
(see ``tests/fixtures/eventim_example/README.md``). Both are read by one class and told apart by
their elements:

- **Eventim inhouse export** (``…/eventim/data.xml``, ``…/webshop/export/export``): repeated
  ``veranstaltung`` elements (``@id``, else ``@index``) with ``produktion``, ``titel``,
  ``untertitel``, ``hinweis``, ``datum`` (ISO or ``DD.MM.YYYY``), ``veranstaltungsbeginn`` and
  ``einlass`` (``HHMM``), repeated ``preis`` (``12,50``), ``spielort``/``spielstaette`` (text or
  ``@id``), ``genre``, ``veranstalter``, ``ticketlink``/``vorverkauf``, ``kapazitaet``,
  ``absolutfreieplaetze``, ``status``.
- **Ruhrbühnen XML** (``…/api-ruhrbuehnen/``): ``productions/production`` with ``events/event``
  (``start_date``, ``start_time``, ``event_status`` ∈ takes_place/canceled/trashed,
  ``ticket_status`` ∈ tickets_@_box_office/sold_out, prices, location), paged by ``meta/next``.

A feed is added in ``settings.toml`` without code::

    [sources.theater_dortmund_xml]
    type = "eventim_xml"
    urls = ["https://www.theaterdo.de/fileadmin/eventim/data.xml",
            "https://www.theaterdo.de/fileadmin/eventim/data2.xml"]
    venue = "Theater Dortmund"
    ticket_url_template = "https://ticket.theaterdo.de/eventim.webshop/webticket/shop?event={id}"
    venues = { "2" = "Opernhaus Dortmund" }    # spielort ids → names
    rooms = { "6" = "Studio" }                 # spielstaette ids → names

Dates that are not ISO go to ``date_text``/``time_text`` for normalisation.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import ClassVar
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from lxml.etree import _Element as Element

from aggregator.formats.html_text import html_to_text
from aggregator.listing import Listing, OfferListing
from aggregator.types import Availability, Status
from sources.base import Document, LayoutChanged, Source, SourceError

log = logging.getLogger(__name__)

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_HHMM = re.compile(r"^(\d{1,2}):?(\d{2})(?::\d{2})?$")
_FEW_LEFT_RATIO = 0.1


def parse_xml(document: Document, source: str) -> Element:
    """The document's XML root with namespaces stripped, parsed without entities, DTDs or network.

    Raises :class:`SourceError` with the line number when the XML is malformed.
    """
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
    )
    try:
        root = etree.fromstring(document.body, parser)
    except etree.XMLSyntaxError as exc:
        raise SourceError(source, f"malformed XML at line {exc.lineno}: {exc.msg}", document.url) from exc
    if root is None:
        raise SourceError(source, "empty XML document", document.url)
    for element in root.iter():
        if isinstance(element.tag, str) and element.tag.startswith("{"):
            element.tag = etree.QName(element).localname
    return root


class EventimXmlSource(Source):
    """An Eventim or Ruhrbühnen XML feed; configure ``url``/``urls``, ``venue`` and the id tables."""

    abstract = True
    platform: ClassVar[str] = "eventim_xml"
    ticket_url_template: ClassVar[str | None] = None
    venue_names: ClassVar[Mapping[str, str]] = {}
    room_names: ClassVar[Mapping[str, str]] = {}
    max_pages: ClassVar[int] = 40

    def fetch(self) -> Iterator[Document]:
        """Every configured URL, following Ruhrbühnen ``meta/next`` links on the same host."""
        if self.fetcher is None:
            raise SourceError(self.source_name, "no fetcher given")
        max_pages = int(self.options.get("max_pages", self.max_pages))
        seen: set[str] = set()
        for start in self.urls():
            url: str | None = start
            while url is not None and url not in seen:
                if len(seen) >= max_pages:
                    raise SourceError(self.source_name, f"more than {max_pages} pages; raise max_pages", url)
                seen.add(url)
                document = self.fetcher.get(url)
                yield document
                url = self._next_page(document, start)

    def _next_page(self, document: Document, start: str) -> str | None:
        root = parse_xml(document, self.source_name)
        following = _text(root.find("meta/next"))
        if not following:
            return None
        following = urljoin(document.url, following)
        if urlsplit(following).netloc != urlsplit(start).netloc:
            raise LayoutChanged(
                self.source_name, f"meta/next points to another host: {following}", document.url
            )
        return following

    def parse(self, document: Document) -> Iterator[Listing]:
        """One listing per performance; an XML of neither known shape is :class:`LayoutChanged`."""
        root = parse_xml(document, self.source_name)
        performances = list(root.iter("veranstaltung"))
        if performances:
            for element in performances:
                listing = self._parse_veranstaltung(element, document)
                if listing is not None:
                    yield listing
            return
        productions = list(root.iter("production"))
        if productions:
            for production in productions:
                yield from self._parse_production(production, document)
            return
        if root.find("productions") is not None:
            return  # the Ruhrbühnen container with nothing in it: an empty programme
        raise LayoutChanged(
            self.source_name,
            f"XML root <{root.tag}> has no veranstaltung or production elements",
            document.url,
        )

    # Eventim inhouse export

    def _parse_veranstaltung(self, element: Element, document: Document) -> Listing | None:
        record_id = element.get("id") or element.get("index")
        if not record_id:
            log.warning(
                "%s: <veranstaltung> without id or index skipped (line %s)",
                self.source_name,
                element.sourceline,
            )
            return None
        title = _single_line(_text(element.find("titel")))
        date_raw = _text(element.find("datum"))
        begin = _hhmm(_text(element.find("veranstaltungsbeginn")))
        start = self._parse_start(date_raw, begin)
        return Listing(
            source=self.source_name,
            record_id=record_id,
            series_key=_text(element.find("produktion")),
            title=title or "",
            fetched_at=document.fetched_at,
            start=start,
            date_text=None if start else date_raw,
            time_text=None if start else begin,
            subtitle=_single_line(_text(element.find("untertitel"))),
            description=html_to_text(_text(element.find("hinweis"))),
            categories=[genre] if (genre := _single_line(_text(element.find("genre")))) else [],
            organiser=_single_line(_text(element.find("veranstalter"))),
            venue_name=self._parse_place(element.find("spielort"), self._table("venues", self.venue_names))
            or self.options.get("venue")
            or self.venue,
            room=self._parse_place(element.find("spielstaette"), self._table("rooms", self.room_names)),
            offers=[self._parse_eventim_offer(element, record_id)],
            raw={
                "doors": _hhmm(_text(element.find("einlass"))),
                "status": _text(element.find("status")),
                "prices": [_text(p) for p in element.iter("preis")],
            },
        )

    def _parse_start(self, date_raw: str | None, begin: str | None) -> datetime | None:
        """An aware start when ``datum`` is ISO (with its own time or ``veranstaltungsbeginn``)."""
        if not date_raw or not _ISO_DATE.match(date_raw):
            return None
        try:
            if len(date_raw) == 10:
                day = date.fromisoformat(date_raw)
                if begin is None:
                    return None
                hours, minutes = begin.split(":")
                start = datetime.combine(day, time(int(hours), int(minutes)))
            else:
                start = datetime.fromisoformat(date_raw)
        except ValueError:
            return None
        return start if start.tzinfo else start.replace(tzinfo=ZoneInfo(self.timezone))

    def _parse_place(self, element: Element | None, names: Mapping[str, str]) -> str | None:
        """A place's text, else the configured name for its ``@id``."""
        if element is None:
            return None
        return _single_line(_text(element)) or names.get(str(element.get("id")))

    def _parse_eventim_offer(self, element: Element, record_id: str) -> OfferListing:
        """Price range from the ``preis`` elements; availability from the free seats."""
        prices = [price for p in element.iter("preis") if (price := _decimal(_text(p))) is not None]
        template = self.options.get("ticket_url_template", self.ticket_url_template)
        url = _text(element.find("ticketlink")) or _text(element.find("vorverkauf"))
        return OfferListing(
            price_min=min(prices) if prices else None,
            price_max=max(prices) if prices else None,
            url=url or (template.format(id=record_id) if template else None),
            vendor="Eventim",
            availability=_seat_availability(element),
        )

    # Ruhrbühnen XML

    def _parse_production(self, production: Element, document: Document) -> Iterator[Listing]:
        production_id = _text(production.find("id"))
        images = [_text(url) for url in production.iterfind("images/image/url")]
        for event in production.iterfind("events/event"):
            status_code = _text(event.find("event_status"))
            event_id = _text(event.find("id"))
            if status_code == "trashed" or not event_id:
                continue
            yield self._parse_ruhr_event(event, production, production_id, images, document)

    def _parse_ruhr_event(
        self,
        event: Element,
        production: Element,
        production_id: str | None,
        images: list[str | None],
        document: Document,
    ) -> Listing:
        start_date, start_time = _text(event.find("start_date")), _text(event.find("start_time"))
        start = self._parse_start(start_date, _hhmm(start_time))
        end = self._parse_start(
            _text(event.find("end_date")) or start_date, _hhmm(_text(event.find("end_time")))
        )
        return Listing(
            source=self.source_name,
            record_id=str(_text(event.find("id"))),
            series_key=production_id,
            title=_single_line(_text(production.find("title_de"))) or "",
            fetched_at=document.fetched_at,
            url=_text(production.find("website_de")),
            start=start,
            end=end,
            date_text=None if start else start_date,
            time_text=None if start else start_time,
            subtitle=_single_line(_text(production.find("subtitle_de"))),
            description=html_to_text(
                _text(production.find("description_de")) or _text(production.find("teaser_de"))
            ),
            image=next((image for image in images if image), None),
            venue_name=_single_line(_either(event, production, "location_title"))
            or self.options.get("venue")
            or self.venue,
            venue_address=_address(event) or _address(production),
            geo=_geo(event) or _geo(production),
            offers=[self._parse_ruhr_offer(event, production)],
            status=Status.CANCELLED if _text(event.find("event_status")) == "canceled" else Status.SCHEDULED,
            status_text=_text(event.find("event_status")),
            raw={
                "category_ids": [_text(c) for c in production.iterfind("categories/category_id")],
                "prefix": _text(production.find("prefix_de")),
            },
        )

    def _parse_ruhr_offer(self, event: Element, production: Element) -> OfferListing:
        """Prices, ticket link and ticket status (event values win over the production's)."""

        ticket_status = _text(event.find("ticket_status"))
        free = (_either(event, production, "free_entrance") or "").lower() == "true"
        availability = {
            "sold_out": Availability.SOLD_OUT,
            "tickets_@_box_office": Availability.NOT_BOOKABLE_ONLINE,
        }.get(ticket_status or "")
        return OfferListing(
            price_min=Decimal(0) if free else _decimal(_either(event, production, "price_from")),
            price_max=Decimal(0) if free else _decimal(_either(event, production, "price_till")),
            url=_either(event, production, "tickets_website"),
            availability=Availability.FREE if free and availability is None else availability,
            availability_text=ticket_status,
        )

    def _table(self, option: str, default: Mapping[str, str]) -> Mapping[str, str]:
        configured = self.options.get(option)
        return {str(k): str(v) for k, v in configured.items()} if isinstance(configured, Mapping) else default


def _text(element: Element | None) -> str | None:
    if element is None:
        return None
    text = "".join(element.itertext()).strip()
    return text or None


def _single_line(text: str | None) -> str | None:
    cleaned = html_to_text(text)
    return " ".join(cleaned.split()) if cleaned else None


def _hhmm(value: str | None) -> str | None:
    """``1930``, ``930``, ``19:30`` or ``19:30:00`` as ``19:30``; None otherwise."""
    match = _HHMM.match(value or "")
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        return None
    return f"{int(match.group(1)):02d}:{match.group(2)}"


def _either(event: Element, production: Element, name: str) -> str | None:
    """The event's value of ``name``, else the production's."""
    return _text(event.find(name)) or _text(production.find(name))


def _decimal(value: str | None) -> Decimal | None:
    if not value:
        return None
    cleaned = value.replace("€", "").replace("EUR", "").strip()
    if "," in cleaned:  # German notation: 1.234,50
        cleaned = cleaned.replace(".", "").replace(",", ".")
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _seat_availability(element: Element) -> Availability | None:
    """Sold out at no free seats, few left under 10 % free; None when the feed gives no counts."""
    try:
        free = int(_text(element.find("absolutfreieplaetze")) or "")
    except ValueError:
        return None
    if free <= 0:
        return Availability.SOLD_OUT
    try:
        capacity = int(_text(element.find("kapazitaet")) or "")
    except ValueError:
        return Availability.AVAILABLE
    return (
        Availability.FEW_LEFT
        if capacity > 0 and free / capacity < _FEW_LEFT_RATIO
        else Availability.AVAILABLE
    )


def _address(element: Element) -> str | None:
    street = " ".join(
        filter(None, (_text(element.find("street_address")), _text(element.find("street_address2"))))
    )
    town = " ".join(filter(None, (_text(element.find("postal_code")), _text(element.find("city")))))
    return ", ".join(part for part in (street, town) if part) or None


def _geo(element: Element) -> tuple[float, float] | None:
    try:
        return float(_text(element.find("latitude")) or ""), float(_text(element.find("longitude")) or "")
    except ValueError:
        return None
