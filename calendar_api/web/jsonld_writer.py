"""schema.org ``Event`` data for the event page, one ``Event`` per date, and its safe embedding.

Search engines read ``<script type="application/ld+json">``; its text must not end the script early,
so ``<``, ``>`` and ``&`` are written as JSON ``\\u`` escapes (a title ``</script>`` stays data).
"""

from __future__ import annotations

import json
from typing import Any

from markupsafe import Markup

from aggregator.formats.schemaorg.vocabulary import (
    AVAILABILITY_NAMES,
    STATUS_NAMES,
    availability_iri,
    status_iri,
)
from aggregator.models import Occurrence, Offer, Venue
from aggregator.types import BERLIN, JSON, Availability, Status
from calendar_api.queries import EventView
from calendar_api.web.present import safe_url

MAX_DATES = 100
_STATUS = {status.value: status_iri(status) for status in STATUS_NAMES}
_AVAILABILITY = {availability.value: availability_iri(availability) for availability in AVAILABILITY_NAMES}


def script_json(data: Any) -> Markup:
    """``data`` as JSON that is safe inside a ``<script>`` element."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    return Markup(text)


def _location(venue: Venue) -> JSON:
    place: JSON = {"@type": "Place", "name": venue.name}
    address = {
        "@type": "PostalAddress",
        "streetAddress": venue.street,
        "postalCode": venue.postcode,
        "addressLocality": venue.city,
        "addressCountry": "DE",
    }
    place["address"] = {k: v for k, v in address.items() if v}
    if venue.lat is not None and venue.lon is not None:
        place["geo"] = {"@type": "GeoCoordinates", "latitude": venue.lat, "longitude": venue.lon}
    return place


def _offer(offer: Offer, page_url: str) -> JSON:
    found: JSON = {"@type": "Offer", "url": safe_url(offer.url) or page_url, "priceCurrency": offer.currency}
    if offer.price_min is not None:
        found["price"] = str(offer.price_min)
    elif offer.price_max is not None:
        found["price"] = str(offer.price_max)
    elif offer.availability == Availability.FREE.value:
        found["price"] = "0"
    if offer.price_min is not None and offer.price_max is not None and offer.price_max != offer.price_min:
        found["priceSpecification"] = {
            "@type": "PriceSpecification",
            "minPrice": str(offer.price_min),
            "maxPrice": str(offer.price_max),
            "priceCurrency": offer.currency,
        }
    if offer.availability in _AVAILABILITY:
        found["availability"] = _AVAILABILITY[offer.availability]
    if offer.vendor:
        found["seller"] = {"@type": "Organization", "name": offer.vendor}
    if offer.on_sale is not None:
        found["validFrom"] = offer.on_sale.astimezone(BERLIN).isoformat()
    return found


def _event(view: EventView, occurrence: Occurrence, page_url: str) -> JSON:
    event = view.event
    found: JSON = {
        "@context": "https://schema.org",
        "@type": "Event",
        "@id": f"{page_url}#{occurrence.id}",
        "name": event.title,
        "url": page_url,
        "startDate": occurrence.start.astimezone(BERLIN).isoformat(),
        "eventStatus": _STATUS.get(occurrence.status, _STATUS[Status.SCHEDULED.value]),
        "eventAttendanceMode": "https://schema.org/OfflineEventAttendanceMode",
    }
    if occurrence.end is not None:
        found["endDate"] = occurrence.end.astimezone(BERLIN).isoformat()
    if occurrence.previous_start is not None and occurrence.status == Status.RESCHEDULED.value:
        found["previousStartDate"] = occurrence.previous_start.astimezone(BERLIN).isoformat()
    if event.subtitle:
        found["disambiguatingDescription"] = event.subtitle
    if event.description:
        found["description"] = event.description
    if event.categories:
        found["keywords"] = [str(category) for category in event.categories]
    image = safe_url(event.image)
    if image and (event.image_credit or event.image_licence):
        picture: JSON = {"@type": "ImageObject", "url": image, "contentUrl": image}
        if event.image_credit:
            picture["creditText"] = event.image_credit
        if event.image_licence:
            picture["license"] = safe_url(event.image_licence) or event.image_licence
        found["image"] = [picture]
    elif image:
        found["image"] = [image]
    if event.venue is not None:
        found["location"] = _location(event.venue)
    if event.organiser:
        found["organizer"] = {"@type": "Organization", "name": event.organiser}
    if event.language:
        found["inLanguage"] = event.language
    if occurrence.offers:
        found["offers"] = [_offer(o, page_url) for o in occurrence.offers]
    return found


def event_jsonld(view: EventView, page_url: str) -> list[JSON]:
    """One schema.org ``Event`` per occurrence (at most :data:`MAX_DATES`), each linking to the page."""
    return [_event(view, occurrence, page_url) for occurrence in view.occurrences[:MAX_DATES]]
