"""Venue feeds: a feed URL a venue registers in the portal becomes a scheduled source stored in the database.

The portal checks a URL with a :data:`FeedChecker` (built in the wiring from ``sources.probe``, which
refuses private networks and reads every candidate with the platform source a saved table configures)
and stores what it found here, as a :class:`~aggregator.models.VenueFeed` row. The source catalog reads
these rows (``sources.catalog.registered_specs``), so the scheduler runs a new feed without a restart —
the first run at once, since saving also asks for it. A feed is bound to its venue: a listing whose place
is another venue's (or no registered venue) is rejected with the reason (:func:`keep_own_venue`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.actions import ActionRefused, Change, audited
from aggregator.audit import Actor
from aggregator.listing import Listing, Rejection
from aggregator.models import SourceState, VenueFeed
from aggregator.source_control import state_row

FEED_PREFIX = "feed:"
"""Every registered feed's source name starts with this (``feed:<venue>``, ``feed:<venue>:2``)."""
DEFAULT_SCHEDULE = "interval:6h"
MAX_FEEDS_PER_VENUE = 5
"""A venue's own programme needs one or two feeds; more is a mistake or an abuse of the scheduler."""


@dataclass(frozen=True, slots=True)
class FeedFinding:
    """One source of events a checked URL offers, as its platform source read it."""

    kind: str
    """``ical``, ``tribe``, ``json-ld``, ``microdata``, ``rss``, ``pages``, …"""
    url: str
    events: int
    first: datetime | None
    last: datetime | None
    titles: tuple[str, ...]
    missing: tuple[str, ...]
    """Fields fewer than half of its events carry (``end``, ``price``, ``location``, …)."""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class FeedCheck:
    """What checking a URL found: the findings, the source table to store, and the places events name."""

    url: str
    error: str | None = None
    """The URL was refused (another scheme, a private address) or could not be read."""
    findings: tuple[FeedFinding, ...] = ()
    config: dict[str, Any] = field(default_factory=dict)
    """The platform source table of the best finding (``{}``: nothing usable)."""
    kind: str | None = None
    """The best finding's kind."""
    places: tuple[tuple[str | None, str | None], ...] = ()
    """(venue name, address) of each distinct place the best finding's events name."""
    refused: bool = False
    """The URL may not be fetched at all (another scheme, a private or local address)."""

    @property
    def usable(self) -> bool:
        """Whether the URL gives events that can be stored as a source."""
        return self.error is None and bool(self.config)


FeedChecker = Callable[[str], FeedCheck]
"""``check(url)``: fetch and read a URL as a venue's feed; never raises for the site's faults."""


def _nothing() -> None:
    return None


@dataclass(frozen=True, slots=True)
class FeedRegistration:
    """What the portal needs from the wiring to register feeds: the check, and who to tell of a change."""

    check: FeedChecker
    changed: Callable[[], None] = _nothing
    """Called after a feed was added or removed (the process's source catalog reads the feeds again)."""


def feeds_of(session: Session, venues: Sequence[str]) -> list[VenueFeed]:
    """The feeds registered for ``venues`` (removed ones left out), oldest first."""
    query = (
        select(VenueFeed)
        .where(VenueFeed.venue_slug.in_(list(venues)), VenueFeed.removed_at.is_(None))
        .order_by(VenueFeed.id)
    )
    return list(session.scalars(query))


def active_feeds(session: Session) -> list[VenueFeed]:
    """Every registered feed that is not removed: the catalog schedules these."""
    return list(
        session.scalars(select(VenueFeed).where(VenueFeed.removed_at.is_(None)).order_by(VenueFeed.id))
    )


def _source_name(session: Session, venue: str, reserved: Iterable[str]) -> str:
    taken = set(reserved) | set(session.scalars(select(VenueFeed.source)))
    name = f"{FEED_PREFIX}{venue}"
    number = 2
    while name in taken:
        name = f"{FEED_PREFIX}{venue}:{number}"
        number += 1
    return name


def _data(feed: VenueFeed) -> dict[str, Any]:
    return {
        "source": feed.source,
        "venue": feed.venue_slug,
        "url": feed.url,
        "type": feed.config.get("type"),
        "removed": feed.removed_at is not None,
    }


def add_feed(
    factory: sessionmaker[Session],
    *,
    venue: str,
    venue_name: str,
    url: str,
    config: dict[str, Any],
    actor: Actor,
    now: datetime,
    reserved: Iterable[str] = (),
    schedule: str = DEFAULT_SCHEDULE,
) -> VenueFeed:
    """Store a checked feed of ``venue`` as a source and ask for its first run now.

    ``config`` is the checked source table; it is bound to ``venue`` (``venue`` names it for events
    without a place of their own). ``reserved`` are the names of the configured sources. Refused
    (:class:`ActionRefused`) when the venue has :data:`MAX_FEEDS_PER_VENUE` feeds or this URL already.
    """
    if not config.get("type"):
        raise ActionRefused("nothing_found", "the check found no events to store", url=url)
    with factory() as session, session.begin():
        existing = feeds_of(session, [venue])
        if any(feed.url == url for feed in existing):
            raise ActionRefused("already_registered", f"{url} is registered for {venue} already", url=url)
        if len(existing) >= MAX_FEEDS_PER_VENUE:
            raise ActionRefused(
                "too_many_feeds", f"{venue} has {len(existing)} feeds; remove one first", venue=venue
            )
        feed = VenueFeed(
            source=_source_name(session, venue, reserved),
            venue_slug=venue,
            url=url,
            config={**config, "venue": venue_name, "kind": "venue", "schedule": schedule},
            schedule=schedule,
            created_by=actor.label,
            created_at=now,
        )
        session.add(feed)
        session.flush()
        state = state_row(session, feed.source, now)
        state.run_requested_at, state.run_requested_by = now, actor.label
        audited(session, actor, Change("venue_feed.add", "source", feed.source, {}, _data(feed)), now=now)
        session.expunge(feed)
        return feed


def _own_feed(session: Session, feed_id: int, venues: Sequence[str]) -> VenueFeed:
    feed = session.get(VenueFeed, feed_id)
    if feed is None or feed.venue_slug not in venues or feed.removed_at is not None:
        raise ActionRefused("unknown_feed", f"no feed {feed_id} of yours", feed=feed_id)
    return feed


def remove_feed(
    factory: sessionmaker[Session], feed_id: int, *, venues: Sequence[str], actor: Actor, now: datetime
) -> VenueFeed:
    """Stop scheduling feed ``feed_id`` of one of ``venues``; its events stay as the last run left them."""
    with factory() as session, session.begin():
        feed = _own_feed(session, feed_id, venues)
        before = _data(feed)
        feed.removed_at, feed.removed_by = now, actor.label
        state = session.get(SourceState, feed.source)
        if state is not None:
            state.run_requested_at = state.run_requested_by = None
        audited(
            session, actor, Change("venue_feed.remove", "source", feed.source, before, _data(feed)), now=now
        )
        session.flush()
        session.expunge(feed)
        return feed


def request_feed_run(
    factory: sessionmaker[Session], feed_id: int, *, venues: Sequence[str], actor: Actor, now: datetime
) -> VenueFeed:
    """Ask the scheduler to read feed ``feed_id`` now (refused while an earlier request waits)."""
    with factory() as session, session.begin():
        feed = _own_feed(session, feed_id, venues)
        state = state_row(session, feed.source, now)
        if state.run_requested_at is not None:
            raise ActionRefused(
                "already_requested",
                f"a run of {feed.source} is waiting already",
                source=feed.source,
                requested_at=state.run_requested_at,
                requested_by=state.run_requested_by,
            )
        state.run_requested_at, state.run_requested_by = now, actor.label
        audited(session, actor, Change("source.run", "source", feed.source, {}, _data(feed)), now=now)
        session.expunge(feed)
        return feed


def keep_own_venue(
    listings: Iterable[Listing], venues: Sequence[str], source: str
) -> tuple[list[Listing], list[Rejection]]:
    """The listings placed at one of ``venues``, and a rejection for each placed anywhere else.

    Run after normalisation (``venue_slug`` set by the registry, as for every source): a venue's feed
    cannot put events at another venue's place, registered or not.
    """
    kept: list[Listing] = []
    rejected: list[Rejection] = []
    for listing in listings:
        if listing.venue_slug in venues:
            kept.append(listing)
            continue
        place = listing.venue_name or listing.venue_address or listing.venue_slug or "no place"
        rejected.append(
            Rejection(
                source,
                listing.record_id,
                f"{place!r} is not {' or '.join(venues)}: a venue's feed publishes only its own events",
                "venue_name",
                "keep_own_venue",
            )
        )
    return kept, rejected
