"""A small calendar for the page and browser tests, around a frozen "now" (Friday 20 March 2026, 10:00).

It has what the pages must show differently: a multi-date concert (few left, then sold out), an event
whose title is an XSS attempt, a cancelled party, a sold-out show, a free flea market, an exhibition
that is already running, one event outside the next week and one that is over, plus a merged id.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings, load_settings
from aggregator.models import Event, EventRedirect, Occurrence, Offer, SourceRecord, Venue
from aggregator.types import BERLIN

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "https://kalender.example"
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_SUBTITLE = '"><svg onload=alert(2)>'
XSS_DESCRIPTION = "</script><script>alert(3)</script> & more"
STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@dataclass
class Runtime:
    """What :func:`calendar_api.app.create_app` needs of the real runtime."""

    settings: Settings
    engine: Any
    factory: sessionmaker[Session]
    specs: dict[str, Any] = field(default_factory=dict)


def web_settings(base_url: str = BASE_URL) -> Settings:
    """The repository's settings with ``base_url`` as the public address."""
    settings = load_settings(REPO / "settings.toml", env={})
    return replace(settings, server=replace(settings.server, base_url=base_url))


def berlin(month: int, day: int, hour: int = 20, minute: int = 0) -> datetime:
    """A 2026 Berlin wall-clock time as an aware UTC instant."""
    return datetime(2026, month, day, hour, minute, tzinfo=BERLIN).astimezone(UTC)


def _venues() -> list[Venue]:
    return [
        Venue(
            slug="konzerthaus-dortmund",
            name="Konzerthaus Dortmund",
            street="Brückstraße 21",
            postcode="44135",
            city="Dortmund",
            lat=51.5149,
            lon=7.4636,
            district="Innenstadt-West",
            url="https://www.konzerthaus-dortmund.de/",
            accessibility="Stufenloser Zugang.",
            created_at=STAMP,
            updated_at=STAMP,
        ),
        Venue(
            slug="fzw",
            name="FZW",
            street="Ritterstraße 20",
            postcode="44137",
            city="Dortmund",
            lat=51.5106,
            lon=7.4527,
            district="Innenstadt-West",
            created_at=STAMP,
            updated_at=STAMP,
        ),
        Venue(
            slug="depot",
            name="Depot",
            street="Immermannstraße 29",
            postcode="44147",
            city="Dortmund",
            district="Innenstadt-Nord",
            created_at=STAMP,
            updated_at=STAMP,
        ),
        Venue(
            slug="museum-ostwall",
            name="Museum Ostwall im Dortmunder U",
            street="Leonie-Reygers-Terrasse",
            postcode="44137",
            city="Dortmund",
            lat=51.5155,
            lon=7.4551,
            district="Innenstadt-Ost",
            created_at=STAMP,
            updated_at=STAMP,
        ),
    ]


def _event(event_id: str, title: str, venue: str, categories: list[str], **extra: Any) -> Event:
    return Event(
        id=event_id,
        title=title,
        title_key=title.lower(),
        venue_slug=venue,
        categories=categories,
        created_at=STAMP,
        updated_at=STAMP,
        **extra,
    )


def _occurrence(
    occurrence_id: str, event_id: str, start: datetime, end: datetime | None = None, **extra: Any
) -> Occurrence:
    values: dict[str, Any] = {
        "status": "scheduled",
        "all_day": False,
        "visible_hash": "x",
        "created_at": STAMP,
        "updated_at": STAMP,
    }
    values.update(extra)
    return Occurrence(id=occurrence_id, event_id=event_id, start=start, end=end, **values)


def _offer(
    occurrence_id: str,
    low: str | None,
    high: str | None,
    availability: str | None,
    url: str | None = None,
    source: str = "konzerthaus",
    vendor: str | None = None,
) -> Offer:
    return Offer(
        occurrence_id=occurrence_id,
        source=source,
        currency="EUR",
        url=url,
        vendor=vendor,
        availability=availability,
        price_min=None if low is None else Decimal(low),
        price_max=None if high is None else Decimal(high),
    )


def _record(source: str, record_id: str, event_id: str, occurrence_id: str, url: str | None) -> SourceRecord:
    return SourceRecord(
        source=source,
        record_id=record_id,
        url=url,
        fetched_at=STAMP,
        content_hash="h",
        raw={},
        data={},
        event_id=event_id,
        occurrence_id=occurrence_id,
        first_seen=STAMP,
        last_seen=STAMP,
    )


def populate(factory: sessionmaker[Session], *, image: str = "https://images.example/mahler.jpg") -> None:
    """Insert the calendar; ``image`` is the concert's picture (the browser test serves one locally)."""
    with factory() as session, session.begin():
        session.add_all(_venues())
        session.flush()
        session.add_all(
            [
                _event(
                    "evmahler",
                    "Mahler: Sinfonie Nr. 2",
                    "konzerthaus-dortmund",
                    ["konzert"],
                    subtitle="Dortmunder Philharmoniker",
                    language="de",
                    image=image,
                    description="Leitung: Gabriel Feltz.\nChor und Solisten.",
                    organiser="Theater Dortmund",
                    url="https://www.konzerthaus-dortmund.de/mahler-2",
                ),
                _event(
                    "evxss",
                    XSS_TITLE,
                    "fzw",
                    ["party"],
                    subtitle=XSS_SUBTITLE,
                    description=XSS_DESCRIPTION,
                    url="javascript:alert(4)",
                ),
                _event("evpunk", "Punk-Nacht", "fzw", ["party"], description="Laut."),
                _event("evsold", "Kabarett am Sonntag", "depot", ["kabarett"]),
                _event("evflea", "Kinderflohmarkt", "depot", ["kinder-familie", "messe-markt"]),
                _event("evexpo", "Ausstellung: Licht und Schatten", "museum-ostwall", ["ausstellung"]),
                _event("evreading", "Lesung: Ruhrgebietsgeschichten", "depot", ["lesung"]),
                _event("evpast", "Winterkonzert", "konzerthaus-dortmund", ["konzert"]),
            ]
        )
        session.flush()
        session.add_all(
            [
                _occurrence("ocmahler1", "evmahler", berlin(3, 20), berlin(3, 20, 22), room="Großer Saal"),
                _occurrence("ocmahler2", "evmahler", berlin(3, 27), berlin(3, 27, 22)),
                _occurrence("ocmahler3", "evmahler", berlin(4, 3), berlin(4, 3, 22)),
                _occurrence("ocmahler0", "evmahler", berlin(1, 10), berlin(1, 10, 22)),
                _occurrence("ocxss", "evxss", berlin(3, 21, 22)),
                _occurrence("ocpunk", "evpunk", berlin(3, 21, 20), status="cancelled"),
                _occurrence("ocsold", "evsold", berlin(3, 22, 19)),
                _occurrence("ocflea", "evflea", berlin(3, 22, 0, 0), berlin(3, 23, 0, 0), all_day=True),
                _occurrence("ocexpo", "evexpo", berlin(3, 1, 10), berlin(6, 30, 18)),
                _occurrence("ocreading", "evreading", berlin(4, 15, 19, 30)),
                _occurrence("ocpast", "evpast", berlin(2, 1, 18)),
            ]
        )
        session.flush()
        session.add_all(
            [
                _offer("ocmahler1", "19", "59", "few_left", "https://tickets.example/mahler-1"),
                _offer("ocmahler2", "19.5", "59", "available", "https://tickets.example/mahler-2"),
                _offer(
                    "ocmahler2",
                    "25",
                    "65",
                    "available",
                    "https://eventim.example/mahler",
                    source="eventim",
                    vendor="Eventim",
                ),
                _offer("ocmahler3", "19", "59", "sold_out"),
                _offer("ocxss", "12", "12", "available", "javascript:alert(5)", source="fzw"),
                _offer("ocsold", "25", "25", "sold_out", source="depot"),
                _offer("ocflea", "0", "0", "free", source="depot"),
                _offer("ocreading", "8", "8", "available", source="depot"),
            ]
        )
        session.add_all(
            [
                _record(
                    "konzerthaus",
                    "mahler-1",
                    "evmahler",
                    "ocmahler1",
                    "https://www.konzerthaus-dortmund.de/m1",
                ),
                _record("eventim", "E-9", "evmahler", "ocmahler2", "https://eventim.example/mahler"),
                _record("fzw", "xss-1", "evxss", "ocxss", "javascript:alert(6)"),
            ]
        )
        session.add(EventRedirect(old_id="evmahlerold", event_id="evmahler", created_at=STAMP))


LISTED = ["evexpo", "evmahler", "evpunk", "evxss", "evflea", "evsold", "evreading"]
"""Event ids the page lists at :data:`NOW` with no filters, in order (running exhibition first)."""
