"""Any visible change through the write path gives a new ETag and, in feeds, SEQUENCE + 1 (issue 12)."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from fixed_clock import NOW, clock
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings
from aggregator.ingest import IngestContext, RunReport, ingest
from aggregator.listing import Listing, OfferListing
from aggregator.models import Base, SourceRecord
from aggregator.types import Availability, RunStatus, Status
from calendar_api.app import create_app
from stadtkalender.runtime import Runtime

START = datetime(2026, 12, 5, 19, 0, tzinfo=UTC)
SOURCE = "konzerthaus"
WORDS = st.from_regex(r"[A-Z][a-z]{3,9}( [a-z]{3,9}){0,3}", fullmatch=True)


def _base() -> Listing:
    return Listing(
        source=SOURCE,
        record_id="r1",
        title="Zwölf Quartettabende",
        fetched_at=NOW,
        url="https://konzerthaus.example/r1",
        start=START,
        end=START + timedelta(hours=2),
        subtitle="Erster Abend",
        description="Streichquartette von Haydn.",
        language="de",
        image="https://konzerthaus.example/r1.jpg",
        organiser="Konzerthaus",
        room="Großer Saal",
        venue_name="Konzerthaus Dortmund",
        offers=[
            OfferListing(
                price_text="Spende erbeten",
                url="https://tickets.example/r1",
                vendor="Kasse",
                availability=Availability.AVAILABLE,
            )
        ],
    )


def _offer(listing: Listing, **changes: Any) -> Listing:
    return replace(listing, offers=[replace(listing.offers[0], **changes)])


Change = Callable[[Listing, str], Listing]
CHANGES: dict[str, Change] = {
    "title": lambda lst, text: replace(lst, title=text),
    "subtitle": lambda lst, text: replace(lst, subtitle=text),
    "description": lambda lst, text: replace(lst, description=text),
    "organiser": lambda lst, text: replace(lst, organiser=text),
    "room": lambda lst, text: replace(lst, room=text),
    "language": lambda lst, _text: replace(lst, language="en"),
    "url": lambda lst, text: replace(lst, url=f"https://konzerthaus.example/{text.split()[0]}"),
    "image": lambda lst, text: replace(lst, image=f"https://konzerthaus.example/{text.split()[0]}.png"),
    "start": lambda lst, text: replace(
        lst, start=START + timedelta(hours=len(text)), end=START + timedelta(hours=len(text) + 2)
    ),
    "end": lambda lst, text: replace(lst, end=START + timedelta(hours=2, minutes=len(text))),
    "cancelled": lambda lst, _text: replace(lst, status=Status.CANCELLED),
    "rescheduled": lambda lst, text: replace(
        lst, status=Status.RESCHEDULED, previous_start=START - timedelta(days=len(text))
    ),
    "price_text": lambda lst, text: _offer(lst, price_text=text),
    "price": lambda lst, text: _offer(lst, price_min=len(text), price_max=len(text) + 10),
    "offer_url": lambda lst, text: _offer(lst, url=f"https://tickets.example/{text.split()[0]}"),
    "vendor": lambda lst, text: _offer(lst, vendor=text),
    "availability": lambda lst, _text: _offer(lst, availability=Availability.SOLD_OUT),
}


def _rescheduled_again(listing: Listing, text: str) -> Listing:
    """A rescheduled date whose only change is the previous start the feeds and pages show."""
    return replace(listing, status=Status.RESCHEDULED, previous_start=START - timedelta(days=len(text) + 40))


def _empty(engine: Engine) -> None:
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())


def _sequence(ics: str) -> int:
    found = re.findall(r"^SEQUENCE:(\d+)\r?$", ics, flags=re.MULTILINE)
    assert len(found) == 1, ics
    return int(found[0])


class _Seen(NamedTuple):
    """What the API and the event's feed served."""

    api_tag: str
    feed_tag: str
    sequence: int
    body: str


def _read(client: TestClient, event_id: str) -> _Seen:
    api = client.get(f"/api/v1/events/{event_id}")
    feed = client.get(f"/events/{event_id}.ics")
    assert api.status_code == 200 and feed.status_code == 200
    return _Seen(api.headers["etag"], feed.headers["etag"], _sequence(feed.text), api.text + feed.text)


def _event_id(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        return session.scalars(select(SourceRecord.event_id).where(SourceRecord.record_id == "r1")).one()


@dataclass
class _Served:
    """The app serving one ingested event: what it shows, before and after a change of the event."""

    ctx: IngestContext
    client: TestClient
    event_id: str

    def change(self, listing: Listing, at: datetime) -> tuple[_Seen, _Seen, RunReport]:
        """What was served, the change's ingest report, and what is served after it."""
        before = _read(self.client, self.event_id)
        report = ingest(self.ctx, SOURCE, [listing], complete=False, now=at)
        return before, _read(self.client, self.event_id), report


@contextmanager
def _served(
    engine: Engine, factory: sessionmaker[Session], settings: Settings, first: Listing
) -> Iterator[_Served]:
    """``first`` ingested at NOW, and the app serving it."""
    ctx = IngestContext(factory, settings, kinds={SOURCE: "venue"}, clock=clock(NOW))
    assert ingest(ctx, SOURCE, [first], complete=False, now=NOW).status == RunStatus.SUCCESS
    app = create_app(Runtime(settings, engine, factory, {}), clock=lambda: NOW, extensions=(), version_ttl=0)
    with TestClient(app) as client:
        yield _Served(ctx, client, _event_id(factory))


@hypothesis_settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(name=st.sampled_from(sorted(CHANGES)), text=WORDS, same_tick=st.booleans())
def test_every_visible_change_gives_a_new_etag_and_sequence(
    engine: Engine,
    factory: sessionmaker[Session],
    settings: Settings,
    name: str,
    text: str,
    same_tick: bool,
) -> None:
    _empty(engine)
    base = _base()
    with _served(engine, factory, settings, base) as served:
        later = NOW if same_tick else NOW + timedelta(minutes=5)
        before, after, report = served.change(CHANGES[name](base, text), later)
    assert (report.status, report.updated) == (RunStatus.SUCCESS, 1), (name, report.error)
    assert after.api_tag != before.api_tag, name
    assert after.feed_tag != before.feed_tag, name
    assert after.sequence == before.sequence + 1, name


def test_a_price_text_change_alone_is_served(
    engine: Engine, factory: sessionmaker[Session], settings: Settings
) -> None:
    """The reported case: only the offer's price text changes; JSON and .ics show the new text."""
    with _served(engine, factory, settings, _base()) as served:
        changed = _offer(_base(), price_text="Kollekte am Ausgang")
        before, after, _report = served.change(changed, NOW + timedelta(minutes=1))
        stale = served.client.get(
            f"/api/v1/events/{served.event_id}", headers={"If-None-Match": before.api_tag}
        )
        assert stale.status_code == 200
    assert "Kollekte am Ausgang" in after.body
    assert (after.api_tag != before.api_tag, after.feed_tag != before.feed_tag, after.sequence) == (
        True,
        True,
        before.sequence + 1,
    )


def test_a_new_previous_start_alone_is_served(
    engine: Engine, factory: sessionmaker[Session], settings: Settings
) -> None:
    with _served(engine, factory, settings, _rescheduled_again(_base(), "a")) as served:
        changed = _rescheduled_again(_base(), "abcdef")
        before, after, _report = served.change(changed, NOW + timedelta(minutes=1))
    assert (after.api_tag != before.api_tag, after.feed_tag != before.feed_tag, after.sequence) == (
        True,
        True,
        before.sequence + 1,
    )
