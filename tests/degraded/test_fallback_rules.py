"""When a fallback's events may stand in for an adapter's: count, window and place."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from aggregator.window import Window
from sources.base import Document, Source
from sources.catalog import load_adapters
from sources.fallback import CapturingFetcher, Fallback, implausible, places_of, read_fallback
from sources.konzerthaus import KonzerthausSource
from sources.theater_dortmund import TheaterDortmundSource
from sources.zoo_westfalenpark import ZooWestfalenparkSource

load_adapters()
WINDOW = Window.around(NOW, 1, 400)


def _event(number: int, venue: str | None = "Konzerthaus Dortmund", address: str | None = None) -> Listing:
    return Listing(
        source="konzerthaus",
        record_id=f"fallback:{number}",
        title=f"Konzert {number}",
        fetched_at=NOW,
        start=NOW + timedelta(days=number + 1),
        venue_name=venue,
        venue_address=address,
    )


def _check(source: Source, listings: list[Listing], baseline: int | None = None) -> list[str]:
    fallback = Fallback(pages=1, listings=listings)
    return implausible(source, fallback, baseline=baseline, ratio=0.2, minimum=5, window=WINDOW)


def test_enough_events_at_the_venue_are_plausible() -> None:
    assert _check(KonzerthausSource(), [_event(n) for n in range(20)], baseline=24) == []
    assert (
        _check(KonzerthausSource(), [_event(n) for n in range(3)], baseline=8) == []
    )  # 5 fewer: the minimum


def test_fewer_than_the_guard_allows_are_not() -> None:
    [reason] = _check(KonzerthausSource(), [_event(n) for n in range(10)], baseline=30)
    assert "10 events where the last good run had 30" in reason


def test_no_events_and_no_baseline() -> None:
    assert _check(KonzerthausSource(), []) == ["no events in the structured data of the page fetched"]
    assert _check(KonzerthausSource(), [_event(1)]) == []  # a first run has nothing to compare with


def test_events_elsewhere_are_not_plausible() -> None:
    [reason] = _check(KonzerthausSource(), [_event(1), _event(2, venue="Stadthalle Hagen")])
    assert "1 of 2 events are not at Konzerthaus Dortmund" in reason and "Stadthalle Hagen" in reason


def test_mostly_outside_the_window_is_not_plausible() -> None:
    fallback = Fallback(pages=1, listings=[_event(1)])
    fallback.outside.add("past", NOW - timedelta(days=300))
    fallback.outside.add("past", NOW - timedelta(days=301))
    [reason] = implausible(KonzerthausSource(), fallback, baseline=None, ratio=0.2, minimum=5, window=WINDOW)
    assert "2 of 3 events lie outside the window" in reason


@pytest.mark.parametrize(
    ("source", "venue", "address", "ok"),
    [
        (TheaterDortmundSource(), "Opernhaus", "Theaterkarree 1-3, 44137 Dortmund", True),
        (TheaterDortmundSource(), "Opernhaus", None, False),
        (ZooWestfalenparkSource(), "Westfalenpark Dortmund", None, True),
        (ZooWestfalenparkSource(), "Rombergpark", None, False),
        (KonzerthausSource(), "Konzerthaus", None, True),
    ],
)
def test_places(source: Source, venue: str, address: str | None, ok: bool) -> None:
    assert (_check(source, [_event(1, venue=venue, address=address)]) == []) is ok


def test_a_configured_venue_is_the_place_of_a_platform_source() -> None:
    source = Source(None, {"venue": "FZW"})
    assert places_of(source) == ("FZW",)
    assert places_of(Source(None, {"places": ["FZW", "Ritterstraße 20"]})) == ("FZW", "Ritterstraße 20")


def test_the_fallback_reads_only_the_pages_it_has_and_gives_provisional_ids() -> None:
    page = b"""<html><body><div itemscope itemtype="https://schema.org/Event"><span itemprop="name">Konzert</span>
    <meta itemprop="startDate" content="2026-12-06T19:30:00+01:00"></div></body></html>"""
    document = Document(url="https://www.konzerthaus-dortmund.de/de/programm/", body=page, fetched_at=NOW)
    source = KonzerthausSource(None, {"past_days": 1, "future_days": 400})
    fallback = read_fallback(source, [document], NOW)
    [listing] = fallback.listings
    assert listing.record_id.startswith("fallback:") and listing.venue_name == "Konzerthaus Dortmund"
    assert fallback.found == {"microdata": 1}
    assert fallback.describe() == "1 events (1 from microdata) in the structured data of 1 page"


class _Big:
    def new_run(self) -> None:
        return

    def now(self) -> datetime:
        return NOW

    def get(self, url: str) -> Document:
        return Document(url=url, body=b"x" * 60_000_000, fetched_at=NOW)


def test_the_capture_keeps_a_bounded_amount() -> None:
    capture = CapturingFetcher(_Big())
    capture.new_run()
    capture.get("https://a.example/1")
    capture.get("https://a.example/2")
    assert [d.url for d in capture.documents] == ["https://a.example/1"]
