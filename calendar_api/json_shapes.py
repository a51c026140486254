"""JSON shapes of the public API: events, occurrences, offers, venues, categories, sources, feed links.

Times are ISO 8601 in Europe/Berlin with their offset; prices are numbers. The shapes here and the
schemas in :mod:`calendar_api.openapi` describe the same thing; the schemathesis test holds them
together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any, Protocol
from urllib.parse import quote

from aggregator.derive import availability_of
from aggregator.health import SourceHealth
from aggregator.licences import Licences
from aggregator.models import Occurrence, Offer, SourceRun, Venue
from aggregator.schedules import ScheduleError, next_scheduled_run
from aggregator.types import BERLIN, JSON
from calendar_api.queries import EventView

GOOGLE_ADD_BY_URL = "https://calendar.google.com/calendar/r?cid="


class CategoryInfo(Protocol):
    """A category as the API shows it."""

    slug: str
    labels: Mapping[str, str]


def berlin(instant: datetime | None) -> str | None:
    """``instant`` as ISO 8601 in Berlin time with its offset (e.g. ``2026-03-29T03:30:00+02:00``)."""
    return None if instant is None else instant.astimezone(BERLIN).isoformat()


def feed_links(url: str) -> JSON:
    """The ways to subscribe to the feed at ``url``: itself, webcal://, and Google's add-by-URL."""
    webcal = "webcal://" + url.split("://", 1)[1] if "://" in url else url
    return {"url": url, "webcal": webcal, "google": GOOGLE_ADD_BY_URL + quote(webcal, safe="")}


def _number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    return int(value) if value == value.to_integral_value() else float(value)


def offer_json(offer: Offer) -> JSON:
    """One offer: price range, currency, where to buy and availability."""
    return {
        "price_min": _number(offer.price_min),
        "price_max": _number(offer.price_max),
        "currency": offer.currency,
        "price_text": offer.price_text,
        "url": offer.url,
        "vendor": offer.vendor,
        "availability": offer.availability,
        "source": offer.source,
    }


def occurrence_json(occurrence: Occurrence) -> JSON:
    """One dated performance with its offers."""
    availability = availability_of(occurrence.offers)
    return {
        "id": occurrence.id,
        "start": berlin(occurrence.start),
        "end": berlin(occurrence.end),
        "all_day": occurrence.all_day,
        "status": occurrence.status,
        "previous_start": berlin(occurrence.previous_start),
        "room": occurrence.room,
        "availability": availability.value if availability else None,
        "offers": [offer_json(offer) for offer in occurrence.offers],
        "sequence": occurrence.sequence,
        "updated": berlin(occurrence.updated_at),
    }


def address_json(venue: Venue) -> JSON:
    """Street, postcode and city of a venue (each may be missing)."""
    return {"street": venue.street, "postcode": venue.postcode, "city": venue.city}


def geo_json(venue: Venue) -> JSON | None:
    """Latitude and longitude, or None when the venue has no coordinates."""
    if venue.lat is None or venue.lon is None:
        return None
    return {"lat": venue.lat, "lon": venue.lon}


def venue_summary_json(venue: Venue) -> JSON:
    """A venue as embedded in an event."""
    return {
        "slug": venue.slug,
        "name": venue.name,
        "address": address_json(venue),
        "geo": geo_json(venue),
        "district": venue.district,
    }


def venue_json(venue: Venue, feed_url: str) -> JSON:
    """A venue with its details and its feed."""
    return {
        **venue_summary_json(venue),
        "url": venue.url,
        "rooms": [str(room) for room in venue.rooms or []],
        "accessibility": venue.accessibility,
        "feeds": feed_links(feed_url),
    }


def event_json(view: EventView, *, api_url: str, feed_url: str, licences: Licences | None = None) -> JSON:
    """An event with the occurrences of ``view`` and every source record merged into it (with the
    licence of each source's data when ``licences`` is given)."""
    event = view.event
    updated = max([event.updated_at, *(o.updated_at for o in view.occurrences)])
    return {
        "id": event.id,
        "title": event.title,
        "subtitle": event.subtitle,
        "description": event.description,
        "categories": [str(c) for c in event.categories or []],
        "language": event.language,
        "organiser": event.organiser,
        "venue": venue_summary_json(event.venue) if event.venue is not None else None,
        "url": event.url,
        "image": event.image,
        "image_credit": event.image_credit,
        "image_licence": event.image_licence,
        "highlight": view.highlight,
        "occurrences": [occurrence_json(o) for o in view.occurrences],
        "sources": _sources(view, licences),
        "updated": berlin(updated),
        "links": {"self": api_url},
        "feeds": feed_links(feed_url),
    }


def _sources(view: EventView, licences: Licences | None) -> list[JSON]:
    seen: set[tuple[str, str]] = set()
    found = []
    for ref in view.sources:
        if (ref.source, ref.record_id) not in seen:
            seen.add((ref.source, ref.record_id))
            entry: JSON = {"source": ref.source, "id": ref.record_id, "url": ref.url}
            if licences is not None:
                entry["licence"] = licences.of(ref.source).as_json()
            found.append(entry)
    return found


def category_json(category: CategoryInfo, feed_url: str) -> JSON:
    """A category: slug, labels by language, and its feed."""
    return {"slug": category.slug, "labels": dict(category.labels), "feeds": feed_links(feed_url)}


def _run_json(run: SourceRun | None) -> JSON | None:
    if run is None:
        return None
    return {
        "id": run.id,
        "started": berlin(run.started_at),
        "finished": berlin(run.finished_at),
        "status": run.status,
        "trigger": run.trigger,
        "counts": {
            name: getattr(run, name)
            for name in ("listings", "added", "updated", "unchanged", "cancelled", "rejected")
        },
        "error": run.error,
    }


def source_json(row: SourceHealth, now: datetime) -> JSON:
    """One source's schedule and health: last run with its counts, next run, failures."""
    return {
        "name": row.name,
        "kind": row.kind,
        "schedule": row.schedule,
        "health": row.health,
        "consecutive_failures": row.consecutive_failures,
        "records": row.records,
        "last_run": _run_json(row.last_run),
        "last_success": berlin(row.last_success),
        "next_run": berlin(_next_run(row, now)),
    }


def _next_run(row: SourceHealth, now: datetime) -> datetime | None:
    """When the scheduler runs the source next: its next slot, or later while it backs off."""
    if row.health == "disabled":
        return None
    try:
        return next_scheduled_run(row.schedule, name=row.name, now=now, next_attempt_at=row.next_attempt_at)
    except ScheduleError:
        return None


def page_json(events: Sequence[JSON], *, next_url: str | None, feed_url: str) -> JSON:
    """One page of the event list."""
    return {"events": list(events), "next": next_url, "count": len(events), "feeds": feed_links(feed_url)}


def listing_json(key: str, items: Iterable[JSON]) -> dict[str, Any]:
    """A list response: ``{key: [...], "count": n}``."""
    found = list(items)
    return {key: found, "count": len(found)}


class _Label:
    """A category known only by its slug (no vocabulary installed)."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        self.labels: Mapping[str, str] = {"de": slug, "en": slug}


class _VocabularyLabel:
    def __init__(self, slug: str, de: str, en: str) -> None:
        self.slug = slug
        self.labels: Mapping[str, str] = {"de": de, "en": en}


class CategoryCatalog:
    """Category slugs and labels: the shared vocabulary when installed, else slugs as their own labels."""

    def __init__(self, categories: Iterable[CategoryInfo] | None) -> None:
        self._categories = None if categories is None else {c.slug: c for c in categories}

    @classmethod
    def load(cls) -> CategoryCatalog:
        """The catalog from :func:`aggregator.normalise.categories.load_categories`, if that exists.

        The vocabulary is packaged data, so it is read once per process.
        """
        return _packaged_catalog()

    @classmethod
    def _read(cls) -> CategoryCatalog:
        try:
            from aggregator.normalise.categories import load_categories
        except ModuleNotFoundError as exc:
            if exc.name not in ("aggregator.normalise.categories", "aggregator.normalise"):
                raise
            return cls(None)
        return cls([_VocabularyLabel(c.slug, c.de, c.en) for c in load_categories().all()])

    @property
    def has_vocabulary(self) -> bool:
        """Whether labels come from a vocabulary (otherwise every slug is its own label)."""
        return self._categories is not None

    def all(self, used: Iterable[str] = ()) -> list[CategoryInfo]:
        """Every category: the vocabulary in its order, or ``used`` slugs when there is none."""
        if self._categories is not None:
            return list(self._categories.values())
        return [_Label(slug) for slug in sorted(set(used))]

    def get(self, slug: str) -> CategoryInfo | None:
        """The category ``slug``; without a vocabulary any slug is accepted."""
        if self._categories is None:
            return _Label(slug)
        return self._categories.get(slug)

    def label(self, slug: str, lang: str = "de") -> str:
        """The display label of ``slug`` (the slug itself when unknown)."""
        found = self.get(slug)
        return found.labels.get(lang, slug) if found is not None else slug


@cache
def _packaged_catalog() -> CategoryCatalog:
    return CategoryCatalog._read()
