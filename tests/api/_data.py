"""A small, hand-made calendar for the API tests: venues, events, occurrences, offers, records.

Times are chosen around a frozen "now" (:data:`NOW`) and include the 2026 spring-forward night.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from calendar_rows import Rows, Runtime, berlin
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings
from aggregator.models import EventRedirect, SourceRun, SourceState
from calendar_api.extension_points import Extension
from stadtkalender.extensions import METRICS

NOW = datetime(2026, 3, 20, 9, 0, tzinfo=UTC)
CREATED = datetime(2026, 1, 10, 8, 0, tzinfo=UTC)
UPDATED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
ROWS = Rows(created=CREATED, updated=UPDATED)


@dataclass(frozen=True)
class Spec:
    """A configured source, as health sees it."""

    name: str
    kind: str
    schedule: str
    enabled: bool = True


def populate(factory: sessionmaker[Session], *, extra_events: int = 0) -> None:
    """Insert the calendar (and ``extra_events`` filler events for paging)."""
    with factory() as session, session.begin():
        session.add_all(ROWS.venues())
        session.flush()
        session.add_all(
            [
                ROWS.event(
                    "evmahler",
                    "Mahler: Sinfonie Nr. 2",
                    "konzerthaus-dortmund",
                    ["konzert"],
                    subtitle="Dortmunder Philharmoniker",
                    description="Leitung: Gabriel Feltz; Chor, Soli.",
                    language="de",
                    url="https://www.konzerthaus-dortmund.de/mahler-2",
                    image="https://www.konzerthaus-dortmund.de/mahler.jpg",
                ),
                ROWS.event(
                    "evjazz",
                    "Jazz im Foyer",
                    "konzerthaus-dortmund",
                    ["konzert", "fest"],
                    language="en",
                    description="Free jazz; bring friends, \\ backslashes, and BEGIN:VEVENT lines\n🎷",
                ),
                ROWS.event("evpunk", "Punk-Nacht", "fzw", ["party"], description="Laut."),
                ROWS.event(
                    "evkids", "Kinderflohmarkt", "depot", ["kinder-familie", "messe-markt"], language="de"
                ),
                ROWS.event("evnovenue", "Stadtspaziergang", None, ["fuehrung"]),
            ]
        )
        session.flush()
        session.add_all(
            [
                # Mahler: two dates, one sold out, one available; plus one long past.
                ROWS.occurrence("ocmahler1", "evmahler", berlin(2026, 3, 28), berlin(2026, 3, 28, 22, 0)),
                ROWS.occurrence(
                    "ocmahler2", "evmahler", berlin(2026, 4, 2), berlin(2026, 4, 2, 22, 0), sequence=2
                ),
                ROWS.occurrence("ocmahler0", "evmahler", berlin(2026, 1, 5), berlin(2026, 1, 5, 22, 0)),
                # Jazz: on the spring-forward night (02:30 does not exist; 03:30 CEST) and the day before.
                ROWS.occurrence(
                    "ocjazzdst", "evjazz", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), room="Foyer"
                ),
                ROWS.occurrence("ocjazz1", "evjazz", berlin(2026, 3, 28, 23, 0)),
                # Punk: cancelled recently (stays in feeds) and cancelled long ago (gone from feeds).
                ROWS.occurrence(
                    "ocpunk1",
                    "evpunk",
                    berlin(2026, 3, 25),
                    status="cancelled",
                    updated_at=NOW - timedelta(days=2),
                    sequence=1,
                ),
                ROWS.occurrence(
                    "ocpunk2",
                    "evpunk",
                    berlin(2026, 5, 25),
                    status="cancelled",
                    updated_at=NOW - timedelta(days=60),
                    sequence=1,
                ),
                ROWS.occurrence("ocpunk3", "evpunk", berlin(2026, 4, 25)),
                # Kids: all-day, free.
                ROWS.occurrence(
                    "ockids", "evkids", berlin(2026, 3, 22, 0, 0), berlin(2026, 3, 23, 0, 0), all_day=True
                ),
                ROWS.occurrence("ocwalk", "evnovenue", berlin(2026, 6, 1, 14, 0), status="postponed"),
            ]
        )
        session.flush()
        session.add_all(
            [
                ROWS.offer("ocmahler1", "19", "59", "sold_out", "https://tickets.example/mahler-1"),
                ROWS.offer("ocmahler2", "19.5", "59", "available", "https://tickets.example/mahler-2"),
                ROWS.offer("ocmahler2", None, None, "sold_out", source="eventim"),
                ROWS.offer("ockids", "0", "0", "free", source="depot"),
                ROWS.offer("ocjazzdst", None, None, None, "https://tickets.example/jazz"),
            ]
        )
        session.add_all(
            [
                ROWS.record(
                    "konzerthaus", "mahler-2026-03-28", "evmahler", "ocmahler1", "https://kh.example/1"
                ),
                ROWS.record(
                    "konzerthaus", "mahler-2026-04-02", "evmahler", "ocmahler2", "https://kh.example/2"
                ),
                ROWS.record("eventim", "E-9", "evmahler", "ocmahler2", "https://eventim.example/9"),
                ROWS.record("fzw", "punk-1", "evpunk", "ocpunk1", None),
            ]
        )
        session.add(EventRedirect(old_id="evmahlerold", event_id="evmahler", created_at=CREATED))
        session.add(
            SourceRun(
                source="konzerthaus",
                started_at=UPDATED,
                finished_at=UPDATED + timedelta(minutes=1),
                status="success",
                listings=3,
                added=2,
                updated=1,
                unchanged=0,
                cancelled=0,
                rejected=0,
                trigger="schedule",
            )
        )
        session.add(
            SourceRun(
                source="fzw",
                started_at=UPDATED,
                finished_at=UPDATED + timedelta(minutes=1),
                status="failed",
                error="HTTP 503 from fzw.de",
                trigger="schedule",
            )
        )
        session.add(
            SourceState(
                source="fzw",
                consecutive_failures=2,
                next_attempt_at=NOW + timedelta(hours=1),
                updated_at=UPDATED,
            )
        )
        for number in range(extra_events):
            event_id = f"evfill{number:03d}"
            session.add(ROWS.event(event_id, f"Lesung {number}", "depot", ["lesung"]))
            session.flush()
            # Several events share a start, so paging must break ties by id.
            session.add(
                ROWS.occurrence(f"ocfill{number:03d}", event_id, berlin(2026, 4, 10 + number % 5, 19, 0))
            )


SPECS = {
    "konzerthaus": Spec("konzerthaus", "venue", "interval:6h"),
    "fzw": Spec("fzw", "venue", "interval:12h"),
    "theater": Spec("theater", "venue", "interval:6h", enabled=False),
}


@contextmanager
def open_client(
    settings: Settings,
    engine: Any,
    factory: sessionmaker[Session],
    *,
    clock: Callable[[], datetime] = lambda: NOW,
    extra_events: int = 0,
    specs: dict[str, Any] | None = None,
    extensions: Sequence[Extension] = (METRICS,),
) -> Iterator[TestClient]:
    """The populated calendar served by the app, through Starlette's test client (lifespan run).

    Other parts' routes (web pages, push) are left out unless ``extensions`` lists them; ``/metrics`` is in.
    """
    from calendar_api.app import create_app

    populate(factory, extra_events=extra_events)
    runtime = Runtime(settings, engine, factory, SPECS if specs is None else specs)
    app = create_app(runtime, clock=clock, extensions=extensions, version_ttl=0)
    with TestClient(app) as client:
        yield client
