"""Ingest with the evidence beyond title likeness: an English portal, performer teasers, halls of one complex.

Each merge on the new evidence needs one venue, one day and one start minute; each test beside a merge
shows what the same evidence must not merge.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from calendar_rows import count
from fixed_clock import NOW, clock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import Event, Occurrence, SourceRecord


def _listing(
    source: str, record_id: str, title: str, hour: int = 19, minute: int = 30, **extra: Any
) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": title,
        "fetched_at": NOW,
        "start": datetime(2026, 12, 5, hour, minute, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
    }
    values.update(extra)
    return Listing(**values)


@pytest.fixture
def ctx(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    kinds = {
        "konzerthaus": "venue",
        "westfalenhallen": "venue",
        "dortmund_de": "city",
        "visit_dortmund": "platform",
    }
    return IngestContext(factory, settings, kinds=kinds, clock=clock())


def _events_of(factory: sessionmaker[Session]) -> dict[str, str]:
    """``source:record_id`` → event title."""
    with factory() as session:
        rows = session.execute(
            select(SourceRecord.source, SourceRecord.record_id, Event.title).join(
                Event, Event.id == SourceRecord.event_id
            )
        ).all()
    return {f"{source}:{record}": title for source, record, title in rows}


def test_an_english_portal_first_and_the_venue_later_make_one_event_under_the_venues_title(
    ctx: IngestContext,
) -> None:
    ingest(
        ctx,
        "visit_dortmund",
        [
            _listing(
                "visit_dortmund",
                "vd-1",
                "The Magic Flute (concert performance)",
                venue_name="Dortmund Concert Hall",
            )
        ],
        now=NOW,
    )
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "kh-1", "Die Zauberflöte (konzertant)")], now=NOW)
    assert (count(ctx.factory, Event), count(ctx.factory, Occurrence)) == (1, 1)
    assert set(_events_of(ctx.factory).values()) == {"Die Zauberflöte (konzertant)"}


def test_the_english_title_at_another_minute_stays_apart(ctx: IngestContext) -> None:
    ingest(ctx, "konzerthaus", [_listing("konzerthaus", "kh-1", "Die Zauberflöte (konzertant)")], now=NOW)
    portal = _listing("visit_dortmund", "vd-1", "The Magic Flute (concert performance)", minute=45)
    ingest(ctx, "visit_dortmund", [portal.evolve(venue_name="Dortmund Concert Hall")], now=NOW)
    assert count(ctx.factory, Event) == 2


def test_the_same_ballet_at_two_venues_on_one_night_stays_apart(ctx: IngestContext) -> None:
    ingest(
        ctx,
        "konzerthaus",
        [_listing("konzerthaus", "oh-1", "Schwanensee", venue_name="Opernhaus Dortmund")],
        now=NOW,
    )
    ingest(
        ctx,
        "visit_dortmund",
        [
            _listing("visit_dortmund", "vd-1", "Swan Lake", venue_name="Dortmund Opera House"),
            _listing(
                "visit_dortmund", "vd-2", "Swan Lake – Classical Russian Ballet", venue_name="Westfalenhallen"
            ),
        ],
        now=NOW,
    )
    events = _events_of(ctx.factory)
    assert events["visit_dortmund:vd-1"] == "Schwanensee" and events["visit_dortmund:vd-2"] != "Schwanensee"
    assert count(ctx.factory, Event) == 2


def test_a_teaser_naming_only_the_performer_joins_the_recital_not_the_talk_before_it(
    ctx: IngestContext,
) -> None:
    ingest(
        ctx,
        "konzerthaus",
        [
            _listing("konzerthaus", "kh-1", "Klavierabend Igor Levit: Beethoven, Die letzten drei Sonaten"),
            _listing("konzerthaus", "kh-2", "Igor Levit im Gespräch", hour=18),
        ],
        now=NOW,
    )
    ingest(
        ctx, "dortmund_de", [_listing("dortmund_de", "c-1", "Igor Levit spielt Beethoven-Sonaten")], now=NOW
    )
    events = _events_of(ctx.factory)
    assert events["dortmund_de:c-1"] == "Klavierabend Igor Levit: Beethoven, Die letzten drei Sonaten"
    assert count(ctx.factory, Event) == 2


def test_two_halls_of_one_complex_at_one_hour_stay_apart_though_they_share_a_composer(
    ctx: IngestContext,
) -> None:
    hall: dict[str, Any] = {"venue_name": "Westfalenhallen Dortmund"}
    ingest(
        ctx,
        "dortmund_de",
        [_listing("dortmund_de", "c-1", "Hans Zimmer Tribute Night", room="Halle 3A", **hall)],
        now=NOW,
    )
    ingest(
        ctx,
        "visit_dortmund",
        [_listing("visit_dortmund", "vd-1", "THE MUSIC OF HANS ZIMMER & OTHERS", **hall)],  # no hall given
        now=NOW,
    )
    ingest(
        ctx,
        "westfalenhallen",
        [
            _listing("westfalenhallen", "w-1", "The Music of Hans Zimmer & Others", room="Halle 1", **hall),
            _listing("westfalenhallen", "w-2", "Hans Zimmer Tribute Night", room="Halle 3A", **hall),
        ],
        now=NOW,
    )
    events = _events_of(ctx.factory)
    assert events["visit_dortmund:vd-1"] == events["westfalenhallen:w-1"] != events["dortmund_de:c-1"]
    assert events["westfalenhallen:w-2"] == events["dortmund_de:c-1"]
    assert (count(ctx.factory, Event), count(ctx.factory, Occurrence)) == (2, 2)
