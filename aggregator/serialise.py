"""Listings to JSON-ready dicts and back (for provenance, held runs and the push API)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from aggregator.listing import Listing, OfferListing
from aggregator.types import Availability, Status

_DATETIME_FIELDS = {"start", "end", "previous_start", "fetched_at"}
_VOLATILE = {"fetched_at", "raw", "warnings"}
_LATER_FIELDS = {"image_credit", "image_licence"}
"""Fields added after records were stored: left out of the hash while empty, so old hashes still match."""


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, tuple):
        return list(value)
    return value


def offer_to_data(offer: OfferListing) -> dict[str, Any]:
    """An offer as a JSON-ready dict."""
    return {f.name: _plain(getattr(offer, f.name)) for f in fields(offer)}


def listing_to_data(listing: Listing) -> dict[str, Any]:
    """A listing as a JSON-ready dict (offers included)."""
    data: dict[str, Any] = {}
    for f in fields(listing):
        value = getattr(listing, f.name)
        data[f.name] = [offer_to_data(o) for o in value] if f.name == "offers" else _plain(value)
    return data


def offer_from_data(data: dict[str, Any]) -> OfferListing:
    """Inverse of :func:`offer_to_data`."""
    return OfferListing(
        price_text=data.get("price_text"),
        price_min=Decimal(data["price_min"]) if data.get("price_min") is not None else None,
        price_max=Decimal(data["price_max"]) if data.get("price_max") is not None else None,
        currency=data.get("currency") or "EUR",
        url=data.get("url"),
        vendor=data.get("vendor"),
        availability=Availability(data["availability"]) if data.get("availability") else None,
        availability_text=data.get("availability_text"),
        on_sale=datetime.fromisoformat(data["on_sale"]) if data.get("on_sale") else None,
    )


def listing_from_data(data: dict[str, Any]) -> Listing:
    """Inverse of :func:`listing_to_data`."""
    values: dict[str, Any] = {}
    names = {f.name for f in fields(Listing)}
    for key, value in data.items():
        if key not in names:
            continue
        if key in _DATETIME_FIELDS and value is not None:
            value = datetime.fromisoformat(value)
        elif key == "offers":
            value = [offer_from_data(o) for o in value]
        elif key == "status" and value is not None:
            value = Status(value)
        elif key == "geo" and value is not None:
            value = (float(value[0]), float(value[1]))
        values[key] = value
    return Listing(**values)


def content_hash(listing: Listing) -> str:
    """A hash of what the listing says (not when it was fetched)."""
    data = {
        k: v
        for k, v in listing_to_data(listing).items()
        if k not in _VOLATILE and not (k in _LATER_FIELDS and v is None)
    }
    encoded = json.dumps(data, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()
