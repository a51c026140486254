"""The schema.org vocabulary we read and write: event types, EventStatusType, ItemAvailability."""

from __future__ import annotations

import re
from typing import Any

from aggregator.types import Availability, Status

SCHEMA_ORG = "https://schema.org/"
"""The prefix we write; :func:`schema_name` also accepts ``http://schema.org/`` and ``schema:``."""

PREFIXES = ("https://schema.org/", "http://schema.org/", "schema:")
_PREFIX = re.compile(r"^(?:https?://schema\.org/|schema:)", re.IGNORECASE)

EVENT_TYPES = frozenset(
    {
        "Event",
        "BusinessEvent",
        "ChildrensEvent",
        "ComedyEvent",
        "CourseInstance",
        "DanceEvent",
        "DeliveryEvent",
        "EducationEvent",
        "EventSeries",
        "ExhibitionEvent",
        "Festival",
        "FoodEvent",
        "Hackathon",
        "LiteraryEvent",
        "MusicEvent",
        "PublicationEvent",
        "BroadcastEvent",
        "OnDemandEvent",
        "SaleEvent",
        "ScreeningEvent",
        "SocialEvent",
        "SportsEvent",
        "TheaterEvent",
        "VisualArtsEvent",
    }
)
"""schema.org ``Event`` and its subtypes; a subtype also serves as a category label (``MusicEvent``)."""

STATUS: dict[str, Status] = {
    "EventScheduled": Status.SCHEDULED,
    "EventCancelled": Status.CANCELLED,
    "EventPostponed": Status.POSTPONED,
    "EventRescheduled": Status.RESCHEDULED,
    "EventMovedOnline": Status.SCHEDULED,
}
"""EventStatusType names and the status each means."""

AVAILABILITY: dict[str, Availability] = {
    "InStock": Availability.AVAILABLE,
    "OnlineOnly": Availability.AVAILABLE,
    "PreOrder": Availability.AVAILABLE,
    "PreSale": Availability.AVAILABLE,
    "LimitedAvailability": Availability.FEW_LEFT,
    "SoldOut": Availability.SOLD_OUT,
    "OutOfStock": Availability.SOLD_OUT,
    "Discontinued": Availability.SOLD_OUT,
    "InStoreOnly": Availability.NOT_BOOKABLE_ONLINE,
    "BackOrder": Availability.WAITING_LIST,
}
"""ItemAvailability names and the availability each means."""

STATUS_NAMES: dict[Status, str] = {
    Status.SCHEDULED: "EventScheduled",
    Status.CANCELLED: "EventCancelled",
    Status.POSTPONED: "EventPostponed",
    Status.RESCHEDULED: "EventRescheduled",
}
"""The name we write for each status (the reverse of :data:`STATUS`)."""

AVAILABILITY_NAMES: dict[Availability, str] = {
    Availability.AVAILABLE: "InStock",
    Availability.FEW_LEFT: "LimitedAvailability",
    Availability.SOLD_OUT: "SoldOut",
    Availability.WAITING_LIST: "SoldOut",
    Availability.FREE: "InStock",
    Availability.NOT_BOOKABLE_ONLINE: "InStoreOnly",
}
"""The name we write for each availability. A waiting list is written ``SoldOut`` (what a search
engine should show) and a free offer ``InStock`` with price 0, so those two do not read back as
themselves: the reader gives ``SOLD_OUT`` and ``FREE`` (by the zero price)."""


def schema_name(value: str) -> str:
    """``value`` without a schema.org prefix ("https://schema.org/SoldOut" → "SoldOut")."""
    for prefix in PREFIXES:
        if value.startswith(prefix):
            return value[len(prefix) :]
    return value


def token(value: str) -> str:
    """An enumeration member's name from any spelling (any case of the prefix, or a full IRI path)."""
    return _PREFIX.sub("", value).rsplit("/", 1)[-1]


def iri(name: str) -> str:
    """The full IRI we write for a schema.org name ("SoldOut" → "https://schema.org/SoldOut")."""
    return SCHEMA_ORG + name


def status_iri(status: Status) -> str:
    """The EventStatusType IRI for ``status``."""
    return iri(STATUS_NAMES[status])


def availability_iri(availability: Availability) -> str:
    """The ItemAvailability IRI for ``availability``."""
    return iri(AVAILABILITY_NAMES[availability])


def is_event_type(name: str) -> bool:
    """Whether a prefix-free ``@type`` name is an event (a known subtype or any name ending in "Event")."""
    return name in EVENT_TYPES or name.endswith("Event")


def type_names(value: Any) -> list[str]:
    """The ``@type`` values (a string or a list) without their schema.org prefix."""
    values = value if isinstance(value, list) else [] if value is None else [value]
    return [_PREFIX.sub("", str(kind)) for kind in values]
