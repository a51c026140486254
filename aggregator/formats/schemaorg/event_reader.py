"""The one reader of a schema.org ``Event``: a JSON-LD object becomes the content of a Listing.

Which property means which field is written once, in :class:`EventReader`; how a value is taken is
the mode's. :class:`LenientReader` (scraping, import) takes what it can — the first of a list, a
``{"@value": ...}``, "24,50 €", a German date, a relative URL — and reports what it must drop as a
problem the caller turns into a warning. :class:`StrictReader` (push) takes only the documented
types and reports every other value as a fault with its JSON path (``$[3].offers[0].price``).
Identity (record id, series) and the dates of an occurrence stay with the caller: a page's
``subEvent`` and ``eventSchedule`` and a push request's window are theirs, the rest is read here.
"""

from __future__ import annotations

import html
import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol, TypeVar
from urllib.parse import urljoin

from aggregator.formats.html_text import html_to_text
from aggregator.formats.schemaorg.vocabulary import AVAILABILITY, STATUS, schema_name, token, type_names
from aggregator.listing import OfferListing
from aggregator.normalise.dates import localize
from aggregator.normalise.prices import amount_problem
from aggregator.normalise.steps import YEARS
from aggregator.text import clean_text as clean_line
from aggregator.types import BERLIN, Availability
from aggregator.urls import web_url

T = TypeVar("T")
Entry = tuple[str, Any]
"""A value and its JSON path."""

CONTENT_FIELDS = (
    "title",
    "url",
    "description",
    "subtitle",
    "categories",
    "language",
    "image",
    "image_credit",
    "image_licence",
    "organiser",
    "venue_name",
    "venue_address",
    "venue_url",
    "geo",
    "offers",
    "status",
    "status_text",
    "previous_start",
)
"""The Listing fields :meth:`EventReader.content` fills."""

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_GERMAN_DATE = re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ ,T]+(\d{1,2})[:.](\d{2}))?")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_STATUS_EXPECTED = f"one of {', '.join(STATUS)} (as https://schema.org/… or bare)"
_AVAILABILITY_EXPECTED = f"a schema.org ItemAvailability ({', '.join(AVAILABILITY)})"


class Sink(Protocol):
    """Where a reader reports what it could not take: a warning (lenient) or a fault (strict)."""

    def problem(self, path: str, reason: str) -> None:
        """Report that the value at ``path`` was not taken, and why."""


def json_path(path: str, name: str) -> str:
    """``path`` extended by the property ``name`` (``$[1]`` + ``@id`` → ``$[1]['@id']``)."""
    if not name:
        return path
    if _IDENTIFIER.match(name):
        return f"{path}.{name}"
    return f"{path}[{json.dumps(name) if chr(39) in name else repr(name)}]"


def kind(value: Any) -> str:
    """The JSON type of ``value`` in words, for a fault."""
    if value is None:
        return "null"
    names = {
        bool: "true/false",
        int: "a number",
        float: "a number",
        str: "text",
        list: "a list",
        dict: "an object",
    }
    return names.get(type(value), type(value).__name__)


def shorten(text: str, limit: int = 60) -> str:
    """``text`` cut to ``limit`` characters for a message."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def as_list(value: Any) -> list[Any]:
    """A JSON value as a list (None becomes empty)."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def plain_string(value: Any) -> str | None:
    """A plain string from a JSON value: the first of a list, ``@value`` of a value object, a number."""
    for item in as_list(value):
        if isinstance(item, dict):
            item = item.get("@value", item.get("name"))
        if isinstance(item, (str, int, float)) and not isinstance(item, bool):
            text = html.unescape(str(item)).strip()
            if text:
                return text
    return None


def lenient_link(value: Any, base_url: str | None, resolve: Callable[[Any], Any]) -> str | None:
    """An absolute URL from a string or a (``resolve``d) object with ``url``/``contentUrl``/``@id``."""
    value = resolve(as_list(value)[0]) if as_list(value) else None
    if isinstance(value, dict):
        value = value.get("url") or value.get("contentUrl") or value.get("@id")
    text = plain_string(value)
    if text is None:
        return None
    return urljoin(base_url, text) if base_url else text


def plain_text(value: Any) -> str | None:
    """Text with HTML markup removed, one line per paragraph."""
    text = plain_string(value)
    if text is None or "<" not in text:
        return text
    return html_to_text(text)


def lenient_moment(text: str) -> tuple[datetime, bool]:
    """An aware datetime in Europe/Berlin from an ISO 8601 date or date-time (naive is Berlin time).

    Returns the datetime and whether the text was a date only. A German ``dd.mm.yyyy [HH:MM]``
    is accepted too, since some sites write it into JSON-LD.
    """
    text = text.strip()
    german = _GERMAN_DATE.match(text)
    if german:
        day, month, year, hour, minute = german.groups()
        moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), tzinfo=BERLIN)
        return moment, hour is None
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time(), tzinfo=BERLIN), True
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00") if text.endswith("Z") else text)
    except ValueError:
        from dateutil.parser import isoparse

        moment = isoparse(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BERLIN)
    return moment.astimezone(BERLIN), False


def lenient_price(value: Any) -> Decimal | None:
    """A price from a number or a string like "24,50", "1.234,50 €" or "ab 18"."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    match = _NUMBER.search(str(value))
    if not match:
        return None
    number = match.group()
    if "," in number:
        number = number.replace(".", "").replace(",", ".")
    elif number.count(".") > 1:
        number = number.replace(".", "")
    try:
        return Decimal(number)
    except InvalidOperation:
        return None


def is_virtual(place: Any) -> bool:
    """Whether a location is a schema.org ``VirtualLocation``."""
    return isinstance(place, dict) and "VirtualLocation" in type_names(place.get("@type"))


class EventReader(ABC):
    """The mapping of a schema.org Event onto a Listing's content; subclasses say how values are taken."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    # -- how a value is taken (the mode) --------------------------------------------------------

    @abstractmethod
    def string(self, path: str, value: Any, *, expected: str = "text") -> str | None:
        """Text from a value (``None`` when there is none)."""

    @abstractmethod
    def block(self, path: str, value: Any) -> str | None:
        """Multi-line text (a description) from a value."""

    @abstractmethod
    def link(self, path: str, value: Any) -> str | None:
        """An absolute URL from a value."""

    @abstractmethod
    def moment(self, path: str, value: Any) -> tuple[datetime | None, bool]:
        """A date or date-time: (aware Berlin datetime, whether it was a date only)."""

    @abstractmethod
    def amount(self, path: str, value: Any) -> Decimal | None:
        """An amount of money."""

    @abstractmethod
    def coordinate(self, path: str, value: Any, limit: int) -> float | None:
        """A latitude (``limit`` 90) or longitude (180)."""

    @abstractmethod
    def flag(self, path: str, value: Any) -> bool | None:
        """A boolean."""

    @abstractmethod
    def labels(self, path: str, value: Any) -> list[str]:
        """Category labels: comma-separated text or a list of texts."""

    @abstractmethod
    def member(
        self, path: str, value: Any, table: Mapping[str, T], expected: str
    ) -> tuple[T | None, str | None]:
        """An enumeration member (its meaning and its schema.org name)."""

    @abstractmethod
    def entries(self, path: str, value: Any) -> list[Entry]:
        """The items of a value that may be a list, each with its path."""

    @abstractmethod
    def check(self, path: str, problem: str | None) -> None:
        """Report ``problem`` where only exact input is accepted (strict); lenient takes the value as is."""

    def resolve(self, value: Any) -> Any:
        """The node a reference ``{"@id": ...}`` points to (only a lenient reader resolves)."""
        return value

    # -- the mapping (written once) ---------------------------------------------------------

    def text(self, path: str, node: dict[str, Any], key: str) -> str | None:
        """The text of ``node[key]``."""
        return self.string(json_path(path, key), node.get(key))

    def first(self, path: str, node: dict[str, Any], key: str) -> Entry | None:
        """The first item of ``node[key]`` (a value or a list) and its path."""
        found = self.entries(json_path(path, key), node.get(key))
        return found[0] if found else None

    def content(self, path: str, node: dict[str, Any], *, labels: Sequence[str] = ()) -> dict[str, Any]:
        """The Listing fields of :data:`CONTENT_FIELDS` from one Event object at ``path``.

        ``labels`` lead the categories (push gives the event's schema.org subtypes).
        """
        venue_name, venue_address, venue_url, geo = self.place(path, node)
        status, status_text = self.member(
            json_path(path, "eventStatus"), node.get("eventStatus"), STATUS, _STATUS_EXPECTED
        )
        return {
            "title": self.title(path, node),
            "url": self.link(json_path(path, "url"), node.get("url")),
            "description": self.block(json_path(path, "description"), node.get("description")),
            "subtitle": self.text(path, node, "disambiguatingDescription"),
            "categories": [*labels, *self.categories(path, node)],
            "language": self.language(path, node),
            "image": self.image(path, node),
            **self.image_rights(path, node),
            "organiser": self.name_of(path, node, "organizer"),
            "venue_name": venue_name,
            "venue_address": venue_address,
            "venue_url": venue_url,
            "geo": geo,
            "offers": self.offers(path, node),
            "status": status,
            "status_text": status_text,
            "previous_start": self.moment(
                json_path(path, "previousStartDate"), node.get("previousStartDate")
            )[0],
        }

    def title(self, path: str, node: dict[str, Any]) -> str | None:
        """``name``."""
        return self.text(path, node, "name")

    def categories(self, path: str, node: dict[str, Any]) -> list[str]:
        """``keywords`` then ``genre``."""
        return [
            label
            for key in ("keywords", "genre")
            for label in self.labels(json_path(path, key), node.get(key))
        ]

    def language(self, path: str, node: dict[str, Any]) -> str | None:
        """``inLanguage``: a code, or a Language object's alternateName or name."""
        found = self.first(path, node, "inLanguage")
        if found is None:
            return None
        where, value = found
        if isinstance(value, dict):
            return self.text(where, value, "alternateName") or self.text(where, value, "name")
        return self.string(where, value)

    def image(self, path: str, node: dict[str, Any]) -> str | None:
        """``image``: a URL or an ImageObject (its url or contentUrl)."""
        found = self.first(path, node, "image")
        if found is None:
            return None
        where, value = found
        if isinstance(value, dict):
            key = next((key for key in ("url", "contentUrl", "@id") if key in value), "url")
            return self.link(json_path(where, key), value.get(key))
        return self.link(where, value)

    def image_rights(self, path: str, node: dict[str, Any]) -> dict[str, str | None]:
        """``image_credit`` and ``image_licence`` of an ImageObject: ``creditText`` (else the
        ``copyrightHolder``'s or ``author``'s name) and ``license``. A plain image URL has neither."""
        found = self.first(path, node, "image")
        if found is None or not isinstance(found[1], dict):
            return {"image_credit": None, "image_licence": None}
        where, picture = found
        credit = self.text(where, picture, "creditText")
        credit = (
            credit
            or self.name_of(where, picture, "copyrightHolder")
            or self.name_of(where, picture, "author")
        )
        given = picture.get("license")
        if isinstance(given, str) and given.strip().lower().startswith(("http://", "https://")):
            licence = self.link(json_path(where, "license"), given)
        else:  # a licence's name, such as "CC BY 4.0"
            licence = self.text(where, picture, "license")
        return {"image_credit": credit, "image_licence": licence}

    def name_of(self, path: str, node: dict[str, Any], key: str) -> str | None:
        """The name of an Organization or Person (or a plain string)."""
        found = self.first(path, node, key)
        if found is None:
            return None
        where, value = found
        if isinstance(value, dict):
            return self.text(where, value, "name")
        return self.string(where, value, expected="a name or an object with a name")

    def place(
        self, path: str, node: dict[str, Any]
    ) -> tuple[str | None, str | None, str | None, tuple[float, float] | None]:
        """Venue name, address, URL and coordinates from ``location`` (Place, PostalAddress, text)."""
        places = self.entries(json_path(path, "location"), node.get("location"))
        physical = [(where, place) for where, place in places if not is_virtual(place)]
        if not physical:
            virtual = places[0] if places else None
            url = self.link(json_path(virtual[0], "url"), virtual[1].get("url")) if virtual else None
            return None, None, url, None
        where, place = physical[0]
        if not isinstance(place, dict):
            name, _, rest = (
                self.string(where, place, expected="a Place object or its name") or ""
            ).partition(",")
            return name.strip() or None, rest.strip() or None, None, None
        if "PostalAddress" in type_names(place.get("@type")):
            return self.text(where, place, "name"), self.address(where, place), None, None
        address = self.address(json_path(where, "address"), self.resolve(place.get("address")))
        return (
            self.text(where, place, "name"),
            address,
            self.link(json_path(where, "url"), place.get("url")),
            self.geo(where, place),
        )

    def address(self, path: str, value: Any) -> str | None:
        """One line from a PostalAddress object or an address string."""
        if not isinstance(value, dict):
            return self.string(path, value, expected="a PostalAddress object or text")
        street, postcode, city = (
            self.text(path, value, key) for key in ("streetAddress", "postalCode", "addressLocality")
        )
        locality = " ".join(part for part in (postcode, city) if part)
        return ", ".join(part for part in (street, locality) if part) or None

    def geo(self, path: str, place: dict[str, Any]) -> tuple[float, float] | None:
        """Latitude and longitude from the place's GeoCoordinates."""
        value = self.resolve(place.get("geo"))
        where = json_path(path, "geo")
        if value is None:
            return None
        if not isinstance(value, dict):
            self.check(where, f"expected a GeoCoordinates object, got {kind(value)}")
            return None
        lat = self.coordinate(json_path(where, "latitude"), value.get("latitude"), 90)
        lon = self.coordinate(json_path(where, "longitude"), value.get("longitude"), 180)
        return (lat, lon) if lat is not None and lon is not None else None

    def offers(self, path: str, node: dict[str, Any]) -> list[OfferListing]:
        """Every Offer or AggregateOffer; a free offer when the event ``isAccessibleForFree`` and has none."""
        offers = [
            offer
            for where, entry in self.entries(json_path(path, "offers"), node.get("offers"))
            if (offer := self.offer(where, entry)) is not None
        ]
        if self.flag(json_path(path, "isAccessibleForFree"), node.get("isAccessibleForFree")) and not offers:
            offers.append(
                OfferListing(price_min=Decimal(0), price_max=Decimal(0), availability=Availability.FREE)
            )
        return offers

    def offer(self, path: str, node: Any) -> OfferListing | None:
        """One OfferListing from an Offer or AggregateOffer (prices also from priceSpecification)."""
        if not isinstance(node, dict):
            self.check(path, f"expected an Offer object, got {kind(node)}")
            return None
        kinds = type_names(node.get("@type", "Offer"))
        if not any(name in ("Offer", "AggregateOffer") for name in kinds):
            self.check(
                json_path(path, "@type"), f"expected 'Offer' or 'AggregateOffer', got {node.get('@type')!r}"
            )
        single = self.amount(json_path(path, "price"), node.get("price"))
        low = self.amount(json_path(path, "lowPrice"), node.get("lowPrice"))
        high = self.amount(json_path(path, "highPrice"), node.get("highPrice"))
        specs = [
            spec
            for _, spec in self.entries(json_path(path, "priceSpecification"), node.get("priceSpecification"))
        ]
        spec_prices: dict[str, Decimal] = {}
        for number, spec in enumerate(specs):
            if not isinstance(spec, dict):
                continue
            where = json_path(path, "priceSpecification") + (
                f"[{number}]" if isinstance(node["priceSpecification"], list) else ""
            )
            for key in ("price", "minPrice", "maxPrice"):
                amount = self.amount(json_path(where, key), spec.get(key))
                if amount is not None:
                    spec_prices.setdefault(key, amount)
        nested = [
            self.amount(json_path(where, "price"), item.get("price"))
            for where, item in self.entries(json_path(path, "offers"), node.get("offers"))
            if isinstance(item, dict)
        ]
        known = [price for price in nested if price is not None]
        single = single if single is not None else spec_prices.get("price")
        price_min = _first_of(low, spec_prices.get("minPrice"), single, min(known, default=None))
        price_max = _first_of(high, spec_prices.get("maxPrice"), single, max(known, default=None))
        if price_min is not None and price_max is not None and price_min > price_max:
            self.check(json_path(path, "lowPrice"), f"lowPrice {price_min} is above highPrice {price_max}")
        currency = self.text(path, node, "priceCurrency") or "EUR"
        if not _CURRENCY.match(currency):
            self.check(
                json_path(path, "priceCurrency"), f"expected a three-letter ISO 4217 code, got {currency!r}"
            )
        availability, availability_text = self.member(
            json_path(path, "availability"), node.get("availability"), AVAILABILITY, _AVAILABILITY_EXPECTED
        )
        if availability in (None, Availability.AVAILABLE) and price_max == 0:  # how we write FREE
            availability = Availability.FREE
        raw_prices = (plain_string(node.get(key)) for key in ("lowPrice", "highPrice", "price"))
        return OfferListing(
            price_text=self.text(path, node, "name")
            or " – ".join(dict.fromkeys(t for t in raw_prices if t))
            or None,
            price_min=price_min,
            price_max=price_max,
            currency=currency,
            url=self.link(json_path(path, "url"), node.get("url")),
            vendor=self.name_of(path, node, "seller"),
            availability=availability,
            availability_text=availability_text,
            on_sale=self.moment(json_path(path, "validFrom"), node.get("validFrom"))[0],
        )


def _first_of(*values: Decimal | None) -> Decimal | None:
    return next((value for value in values if value is not None), None)


def _name(path: str) -> str:
    """The last property name of a JSON path, for a message."""
    return re.split(r"[.\[]", path.rstrip("]'\""))[-1].strip("'\"")


class LenientReader(EventReader):
    """Takes what it can: scraped pages and imported files. Problems are what had to be dropped."""

    def __init__(
        self, sink: Sink, *, base_url: str | None = None, resolve: Callable[[Any], Any] | None = None
    ) -> None:
        super().__init__(sink)
        self.base_url = base_url
        self._resolve = resolve

    def resolve(self, value: Any) -> Any:
        return self._resolve(value) if self._resolve is not None else value

    def string(self, path: str, value: Any, *, expected: str = "text") -> str | None:
        return plain_string(self.resolve(value) if isinstance(value, dict) else value)

    def block(self, path: str, value: Any) -> str | None:
        return plain_text(value)

    def link(self, path: str, value: Any) -> str | None:
        return lenient_link(value, self.base_url, self.resolve)

    def moment(self, path: str, value: Any) -> tuple[datetime | None, bool]:
        text = plain_string(value)
        if text is None:
            return None, False
        try:
            return lenient_moment(text)
        except (ValueError, OverflowError):
            self.sink.problem(path, f"{_name(path)} unreadable ({text!r}); ignored")
            return None, False

    def amount(self, path: str, value: Any) -> Decimal | None:
        return lenient_price(value)

    def coordinate(self, path: str, value: Any, limit: int) -> float | None:
        try:
            return float(str(value).replace(",", ".")) if value is not None else None
        except ValueError:
            return None

    def flag(self, path: str, value: Any) -> bool | None:
        if isinstance(value, bool):
            return value
        text = plain_string(value)
        return {"true": True, "false": False}.get(text.lower()) if text else None

    def labels(self, path: str, value: Any) -> list[str]:
        texts = (plain_string(item) for item in as_list(value))
        return [part.strip() for text in texts if text for part in text.split(",") if part.strip()]

    def member(
        self, path: str, value: Any, table: Mapping[str, T], expected: str
    ) -> tuple[T | None, str | None]:
        name = token(plain_string(value) or "") or None
        return table.get(name or ""), name

    def entries(self, path: str, value: Any) -> list[Entry]:
        items = as_list(value)
        if not isinstance(value, list):
            return [(path, self.resolve(item)) for item in items]
        return [(f"{path}[{number}]", self.resolve(item)) for number, item in enumerate(items)]

    def check(self, path: str, problem: str | None) -> None:
        return None


class StrictReader(EventReader):
    """Takes only the documented types (push); every other value is a fault with its path."""

    def fault(self, path: str, reason: str) -> None:
        """Report a fault."""
        self.sink.problem(path, reason)

    def string(self, path: str, value: Any, *, expected: str = "text") -> str | None:
        if value is None or isinstance(value, str):
            return value
        self.fault(path, f"expected {expected}, got {kind(value)}")
        return None

    def title(self, path: str, node: dict[str, Any]) -> str | None:
        """``name``, which must be present and not blank."""
        key = "name"
        where = json_path(path, key)
        if node.get(key) is None:
            self.fault(where, "is required")
            return None
        value = self.string(where, node[key])
        if value is not None and not clean_line(value):
            self.fault(where, "is empty")
            return None
        return value

    def block(self, path: str, value: Any) -> str | None:
        return self.string(path, value)

    def link(self, path: str, value: Any) -> str | None:
        text = self.string(path, value)
        if text is None:
            return None
        cleaned = clean_line(text)
        if web_url(cleaned) is None:
            self.fault(path, f"expected an absolute http(s) URL, got {shorten(cleaned)!r}")
            return None
        return cleaned

    def moment(self, path: str, value: Any, *, bounded: bool = True) -> tuple[datetime | None, bool]:
        """Also a fault: a date outside :data:`~aggregator.normalise.steps.YEARS` (when ``bounded``)."""
        if value is None:
            return None, False
        if not isinstance(value, str):
            self.fault(path, f"expected an ISO 8601 date or date-time as text, got {kind(value)}")
            return None, False
        text = value.strip()
        try:
            moment = (
                datetime.combine(date.fromisoformat(text), time())
                if len(text) == 10
                else datetime.fromisoformat(text)
            )
        except ValueError:
            self.fault(
                path,
                f"{shorten(text)!r} is not an ISO 8601 date or date-time "
                "(e.g. 2026-05-01 or 2026-05-01T20:00:00+02:00)",
            )
            return None, False
        try:  # year 1 at +14:00 or 9999 at -14:00 cannot be converted
            converted = localize(moment) if moment.tzinfo is None else moment.astimezone(BERLIN)
        except OverflowError:
            converted = None
        outside = bounded and (moment.year not in YEARS or converted is None or converted.year not in YEARS)
        if converted is None or outside:
            reason = (
                "is outside the dates this server can convert"
                if converted is None
                else f"is outside the years {YEARS[0]} to {YEARS[-1]}"
            )
            self.fault(path, f"{shorten(text)!r} {reason}")
            return None, False
        return converted, len(text) == 10

    def number(
        self, path: str, value: Any, *, low: float | None = None, high: float | None = None
    ) -> Decimal | None:
        """A number (or its text, decimal comma allowed) within ``low`` … ``high``."""
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            self.fault(path, f"expected a number, got {kind(value)}")
            return None
        try:
            number = Decimal(str(value).strip().replace(",", ".") if isinstance(value, str) else str(value))
        except InvalidOperation:
            self.fault(path, f"{shorten(str(value))!r} is not a number")
            return None
        bounds = f" between {low} and {high}" if high is not None else f" of at least {low}"
        if not number.is_finite():
            self.fault(path, f"{shorten(str(value))!r} is not a finite number{bounds}")
            return None
        if (low is not None and number < low) or (high is not None and number > high):
            self.fault(path, f"{shorten(str(value))!r} is not a number{bounds}")
            return None
        return number

    def amount(self, path: str, value: Any) -> Decimal | None:
        """See :func:`aggregator.normalise.prices.amount_problem`."""
        number = self.number(path, value, low=0)
        if number is None:
            return None
        problem = amount_problem(number)
        if problem is not None:
            self.fault(path, f"{shorten(str(value))!r} {problem}")
            return None
        return number

    def coordinate(self, path: str, value: Any, limit: int) -> float | None:
        number = self.number(path, value, low=-limit, high=limit)
        return float(number) if number is not None else None

    def flag(self, path: str, value: Any) -> bool | None:
        if value is not None and not isinstance(value, bool):
            self.fault(path, f"expected true or false, got {kind(value)}")
            return None
        return value

    def labels(self, path: str, value: Any) -> list[str]:
        if value is None:
            return []
        if isinstance(value, str):
            return [part.strip() for part in value.split(",") if part.strip()]
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return [item for item in value if item.strip()]
        self.fault(path, f"expected text or a list of texts, got {kind(value)}")
        return []

    def member(
        self, path: str, value: Any, table: Mapping[str, T], expected: str
    ) -> tuple[T | None, str | None]:
        if value is None:
            return None, None
        if not isinstance(value, str) or schema_name(value) not in table:
            self.fault(path, f"expected {expected}, got {value!r}")
            return None, None
        return table[schema_name(value)], schema_name(value)

    def entries(self, path: str, value: Any) -> list[Entry]:
        if isinstance(value, list):
            return [(f"{path}[{number}]", item) for number, item in enumerate(value)]
        return [] if value is None else [(path, value)]

    def check(self, path: str, problem: str | None) -> None:
        if problem is not None:
            self.fault(path, problem)
