"""A small calendar for the page and browser tests, around a frozen "now" (Friday 20 March 2026, 10:00).

It has what the pages must show differently: a multi-date concert (few left, then sold out), an event
whose title is an XSS attempt, a cancelled party, a sold-out show, a free flea market, an exhibition
that is already running, one event outside the next week and one that is over, plus a merged id.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

from calendar_rows import Rows, berlin
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings, load_settings
from aggregator.models import EventRedirect, Venue

REPO = Path(__file__).resolve().parents[2]
BASE_URL = "https://kalender.example"
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
XSS_TITLE = "<img src=x onerror=alert(1)>"
XSS_SUBTITLE = '"><svg onload=alert(2)>'
XSS_DESCRIPTION = "</script><script>alert(3)</script> & more"
STAMP = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROWS = Rows(created=STAMP, updated=STAMP)


def web_settings(base_url: str = BASE_URL) -> Settings:
    """The repository's settings with ``base_url`` as the public address."""
    settings = load_settings(REPO / "settings.toml", env={})
    return replace(settings, server=replace(settings.server, base_url=base_url))


def _in_2026(month: int, day: int, hour: int = 20, minute: int = 0) -> datetime:
    """A 2026 Berlin wall-clock time as an aware UTC instant."""
    return berlin(2026, month, day, hour, minute)


def _venues() -> list[Venue]:
    """The shared three venues and a museum in another district."""
    museum = Venue(
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
    )
    return [*ROWS.venues(), museum]


def populate(factory: sessionmaker[Session], *, image: str = "https://images.example/mahler.jpg") -> None:
    """Insert the calendar; ``image`` is the concert's picture (the browser test serves one locally)."""
    with factory() as session, session.begin():
        session.add_all(_venues())
        session.flush()
        session.add_all(
            [
                ROWS.event(
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
                ROWS.event(
                    "evxss",
                    XSS_TITLE,
                    "fzw",
                    ["party"],
                    subtitle=XSS_SUBTITLE,
                    description=XSS_DESCRIPTION,
                    url="javascript:alert(4)",
                ),
                ROWS.event("evpunk", "Punk-Nacht", "fzw", ["party"], description="Laut."),
                ROWS.event("evsold", "Kabarett am Sonntag", "depot", ["kabarett"]),
                ROWS.event("evflea", "Kinderflohmarkt", "depot", ["kinder-familie", "messe-markt"]),
                ROWS.event("evexpo", "Ausstellung: Licht und Schatten", "museum-ostwall", ["ausstellung"]),
                ROWS.event("evreading", "Lesung: Ruhrgebietsgeschichten", "depot", ["lesung"]),
                ROWS.event("evpast", "Winterkonzert", "konzerthaus-dortmund", ["konzert"]),
            ]
        )
        session.flush()
        session.add_all(
            [
                ROWS.occurrence(
                    "ocmahler1", "evmahler", _in_2026(3, 20), _in_2026(3, 20, 22), room="Großer Saal"
                ),
                ROWS.occurrence("ocmahler2", "evmahler", _in_2026(3, 27), _in_2026(3, 27, 22)),
                ROWS.occurrence("ocmahler3", "evmahler", _in_2026(4, 3), _in_2026(4, 3, 22)),
                ROWS.occurrence("ocmahler0", "evmahler", _in_2026(1, 10), _in_2026(1, 10, 22)),
                ROWS.occurrence("ocxss", "evxss", _in_2026(3, 21, 22)),
                ROWS.occurrence("ocpunk", "evpunk", _in_2026(3, 21, 20), status="cancelled"),
                ROWS.occurrence("ocsold", "evsold", _in_2026(3, 22, 19)),
                ROWS.occurrence(
                    "ocflea", "evflea", _in_2026(3, 22, 0, 0), _in_2026(3, 23, 0, 0), all_day=True
                ),
                ROWS.occurrence("ocexpo", "evexpo", _in_2026(3, 1, 10), _in_2026(6, 30, 18)),
                ROWS.occurrence("ocreading", "evreading", _in_2026(4, 15, 19, 30)),
                ROWS.occurrence("ocpast", "evpast", _in_2026(2, 1, 18)),
            ]
        )
        session.flush()
        session.add_all(
            [
                ROWS.offer("ocmahler1", "19", "59", "few_left", "https://tickets.example/mahler-1"),
                ROWS.offer("ocmahler2", "19.5", "59", "available", "https://tickets.example/mahler-2"),
                ROWS.offer(
                    "ocmahler2",
                    "25",
                    "65",
                    "available",
                    "https://eventim.example/mahler",
                    source="eventim",
                    vendor="Eventim",
                ),
                ROWS.offer("ocmahler3", "19", "59", "sold_out"),
                ROWS.offer("ocxss", "12", "12", "available", "javascript:alert(5)", source="fzw"),
                ROWS.offer("ocsold", "25", "25", "sold_out", source="depot"),
                ROWS.offer("ocflea", "0", "0", "free", source="depot"),
                ROWS.offer("ocreading", "8", "8", "available", source="depot"),
            ]
        )
        session.add_all(
            [
                ROWS.record(
                    "konzerthaus",
                    "mahler-1",
                    "evmahler",
                    "ocmahler1",
                    "https://www.konzerthaus-dortmund.de/m1",
                ),
                ROWS.record("eventim", "E-9", "evmahler", "ocmahler2", "https://eventim.example/mahler"),
                ROWS.record("fzw", "xss-1", "evxss", "ocxss", "javascript:alert(6)"),
            ]
        )
        session.add(EventRedirect(old_id="evmahlerold", event_id="evmahler", created_at=STAMP))


LISTED = ["evexpo", "evmahler", "evpunk", "evxss", "evflea", "evsold", "evreading"]
"""Event ids the page lists at :data:`NOW` with no filters, in order (running exhibition first)."""
