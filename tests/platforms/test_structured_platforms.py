"""The platform families a probe needs: embedded structured data, sitemaps, Squarespace, event feeds, publishers."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.types import Status
from sources.base import Document, SourceError
from sources.platforms.embedded import EmbeddedSource, NoEmbeddedData, parse_embedded
from sources.platforms.publishers import feed_url, published_feeds
from sources.platforms.rss import RssEventsSource, event_moment
from sources.platforms.sitemap import MAX_INFLATED_BYTES, read_sitemap
from sources.platforms.squarespace import SquarespaceSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROBES = FIXTURES / "probe"
WINDOW = {"past_days": 1, "future_days": 400}


def _page(body: str) -> bytes:
    return f"<!DOCTYPE html><html><head><title>t</title></head><body>{body}</body></html>".encode()


MICRODATA = """<div itemscope itemtype="https://schema.org/MusicEvent">
<span itemprop="name">Klavierabend</span><meta itemprop="startDate" content="2026-12-06T19:30:00+01:00">
<div itemprop="location" itemscope itemtype="https://schema.org/Place"><span itemprop="name">Konzerthaus Dortmund</span></div>
<link itemprop="eventStatus" href="https://schema.org/EventCancelled"></div>"""
RDFA = """<div vocab="https://schema.org/" typeof="Event"><span property="name">Orgelnacht</span>
<meta property="startDate" content="2026-12-07T20:00:00+01:00">
<div property="location" typeof="Place"><span property="name">Reinoldikirche</span></div></div>"""
HEVENT = """<div class="h-event"><span class="p-name">Matinee</span>
<time class="dt-start" datetime="2026-12-08 11:00">11 Uhr</time><span class="p-location">Orchesterzentrum</span></div>"""
JSONLD = """<script type="application/ld+json">{"@context": "https://schema.org", "@type": "MusicEvent",
"name": "Klavierabend", "startDate": "2026-12-06T19:30:00+01:00", "url": "https://kh.example/klavierabend"}</script>"""


def _read(body: str) -> list[tuple[str, str, str | None]]:
    result = parse_embedded(_page(body), source="test", fetched_at=NOW, base_url="https://kh.example/p")
    return [(listing.title, listing.raw["syntax"], listing.venue_name) for listing in result.listings]


def test_each_syntax_is_read() -> None:
    assert _read(MICRODATA + RDFA + HEVENT) == [
        ("Klavierabend", "microdata", "Konzerthaus Dortmund"),
        ("Orgelnacht", "rdfa", "Reinoldikirche"),
        ("Matinee", "microformat", "Orchesterzentrum"),
    ]


def test_microdata_carries_the_status() -> None:
    result = parse_embedded(_page(MICRODATA), source="test", fetched_at=NOW, base_url="https://kh.example/p")
    assert result.listings[0].status == Status.CANCELLED


def test_one_event_in_two_syntaxes_is_one_listing_from_the_first() -> None:
    assert _read(JSONLD + MICRODATA) == [("Klavierabend", "json-ld", None)]


def test_record_ids_do_not_depend_on_blank_nodes() -> None:
    first = parse_embedded(_page(RDFA), source="t", fetched_at=NOW, base_url="https://kh.example/p")
    again = parse_embedded(_page(RDFA), source="t", fetched_at=NOW, base_url="https://kh.example/p")
    assert first.listings[0].record_id == again.listings[0].record_id
    assert "_:" not in first.listings[0].record_id


def test_a_page_without_structured_data_and_an_oversized_page_are_refused() -> None:
    with pytest.raises(NoEmbeddedData, match="no JSON-LD, microdata, RDFa or h-event"):
        parse_embedded(_page("<p>Programm folgt</p>"), source="t", fetched_at=NOW)
    with pytest.raises(NoEmbeddedData, match="over the limit"):
        parse_embedded(b"<html>" + b" " * 5_000_001, source="t", fetched_at=NOW)


def test_structured_data_without_events_says_so() -> None:
    body = '<div itemscope itemtype="https://schema.org/BreadcrumbList"><span itemprop="name">x</span></div>'
    result = parse_embedded(_page(body), source="t", fetched_at=NOW)
    assert not result.listings and any("without any Event" in w for w in result.warnings)


def test_the_embedded_source_follows_links_on_its_host_only() -> None:
    folder = PROBES / "pages"
    source = EmbeddedSource(
        SnapshotFetcher(folder, NOW),
        {
            "name": "kh",
            "url": "https://www.konzerthaus-dortmund.de/de/programm/reihe/philharmonische-konzerte/",
            "follow": r"/de/programm/[^/?#]+/?$",
            **WINDOW,
        },
    )
    titles = sorted(listing.title for listing in source.run().listings)
    assert titles == [
        "4. Philharmonisches Konzert: Im Schrebergarten",
        "5. Philharmonisches Konzert: Faszination Stadion",
    ]


def test_the_embedded_source_refuses_more_pages_than_max_pages() -> None:
    source = EmbeddedSource(
        SnapshotFetcher(PROBES / "pages", NOW),
        {
            "name": "kh",
            "url": "https://www.konzerthaus-dortmund.de/de/programm/reihe/philharmonische-konzerte/",
            "follow": "/de/",
            "max_pages": 1,
            **WINDOW,
        },
    )
    with pytest.raises(SourceError, match="max_pages=1"):
        source.run()


def _document(body: bytes, url: str = "https://venue.example/sitemap.xml") -> Document:
    return Document(url=url, body=body, fetched_at=NOW)


def test_a_sitemap_and_its_index() -> None:
    pages, children = read_sitemap(_document((PROBES / "pages" / "sitemap.xml").read_bytes()), "t")
    assert len(pages) == 5 and not children
    index = b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><sitemap><loc>https://venue.example/events.xml</loc></sitemap></sitemapindex>'
    assert read_sitemap(_document(index), "t") == ([], ["https://venue.example/events.xml"])


def test_a_gzipped_sitemap_is_inflated_within_bounds() -> None:
    plain = (PROBES / "pages" / "sitemap.xml").read_bytes()
    assert len(read_sitemap(_document(gzip.compress(plain)), "t")[0]) == 5
    bomb = gzip.compress(b"<urlset>" + b" " * (MAX_INFLATED_BYTES + 10) + b"</urlset>")
    with pytest.raises(SourceError, match="inflates to more than"):
        read_sitemap(_document(bomb), "t")


ENTITIES = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY secret SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>
<rss version="2.0" xmlns:ev="http://purl.org/rss/1.0/modules/event/"><channel><title>t</title>
<item><title>Lesung &secret; &b;</title><guid>1</guid><ev:startdate>2026-12-03T19:00:00+01:00</ev:startdate></item>
</channel></rss>"""


def test_feeds_resolve_no_entities() -> None:
    source = RssEventsSource(None, {"name": "t", **WINDOW})
    [listing] = list(source.parse(_document(ENTITIES, "https://venue.example/feed/")))
    assert "root:" not in listing.title and "aaaaaaaaaa" not in listing.title


def test_an_event_feed_gives_dates_place_and_link() -> None:
    source = RssEventsSource(
        SnapshotFetcher(PROBES / "rss", NOW),
        {"name": "t", "url": "https://dortmunder-u.de/kleiner-freitag/termine.rss", **WINDOW},
    )
    result = source.run()
    first = result.listings[0]
    assert (first.title, first.venue_name, first.venue_address) == (
        "Bias und KI",
        "Dortmunder U",
        "Leonie-Reygers-Terrasse, 44137 Dortmund",
    )
    assert first.start is not None and first.start.isoformat() == "2026-12-03T19:00:00+01:00"
    assert first.end is not None and first.url == "https://dortmunder-u.de/event/kleiner-freitag-1/"


def test_items_without_event_dates_are_rejected() -> None:
    source = RssEventsSource(
        SnapshotFetcher(PROBES / "rss", NOW), {"name": "t", "url": "https://dortmunder-u.de/feed/", **WINDOW}
    )
    result = source.run()
    assert not result.listings and result.rejections[0].reason == "item without an event date"


@pytest.mark.parametrize(
    ("text", "iso", "all_day"),
    [
        ("20261203T190000", "2026-12-03T19:00:00+01:00", False),
        ("20261203T180000Z", "2026-12-03T19:00:00+01:00", False),
        ("20261203", "2026-12-03T00:00:00+01:00", True),
        ("2026-12-03T19:00:00+01:00", "2026-12-03T19:00:00+01:00", False),
    ],
)
def test_event_dates_in_xcal_and_w3c_forms(text: str, iso: str, all_day: bool) -> None:
    moment, is_day = event_moment(text)
    assert (moment.isoformat(), is_day) == (iso, all_day)


def test_a_squarespace_collection_gives_its_events() -> None:
    source = SquarespaceSource(
        SnapshotFetcher(PROBES / "squarespace", NOW),
        {"name": "sq", "url": "https://www.domicil-dortmund.example/programm", **WINDOW},
    )
    result = source.run()
    assert [listing.title for listing in result.listings] == [
        "Jazz-Session im Keller",
        "Big Band am Jahresende",
        "Neujahrsmatinee",
    ]
    first = result.listings[0]
    assert first.start is not None and first.start.isoformat() == "2026-12-03T19:00:00+00:00"
    assert (first.venue_name, first.venue_address) == ("domicil", "Hansastraße 7-11, 44137 Dortmund")
    assert first.url == "https://www.domicil-dortmund.example/programm/jazz-session-im-keller"
    assert first.geo == (51.5137, 7.4612)
    assert any("past" in warning for warning in result.warnings)  # the October concert


def test_squarespace_json_that_is_no_collection_is_a_changed_layout() -> None:
    source = SquarespaceSource(None, {"name": "sq"})
    with pytest.raises(SourceError, match="not a Squarespace collection"):
        list(source.parse(_document(json.dumps({"items": []}).encode(), "https://x.example/p?format=json")))


@pytest.mark.parametrize(
    ("url", "publisher", "feed"),
    [
        (
            "https://calendar.google.com/calendar/embed?src=abc%40group.calendar.google.com&ctz=Europe%2FBerlin",
            "google",
            "https://calendar.google.com/calendar/ical/abc%40group.calendar.google.com/public/basic.ics",
        ),
        (
            "https://calendar.google.com/calendar/u/0?cid=YWJjQGdyb3VwLmNhbGVuZGFyLmdvb2dsZS5jb20",
            "google",
            "https://calendar.google.com/calendar/ical/abc%40group.calendar.google.com/public/basic.ics",
        ),
        (
            "https://outlook.live.com/owa/calendar/00000000-0000-0000-0000-000000000000/1a2b/cid-3C4D/calendar.html",
            "outlook",
            "https://outlook.live.com/owa/calendar/00000000-0000-0000-0000-000000000000/1a2b/cid-3C4D/calendar.ics",
        ),
        (
            "webcal://p52-caldav.icloud.com/published/2/TOKEN",
            "icloud",
            "https://p52-caldav.icloud.com/published/2/TOKEN",
        ),
        ("webcal://verein.example/termine.ics", "webcal", "https://verein.example/termine.ics"),
        (
            "https://teamup.com/ksabc123def456?view=l",
            "teamup",
            "https://ics.teamup.com/feed/ksabc123def456/0.ics",
        ),
        (
            "https://www.meetup.com/dortmund-js/events/",
            "meetup",
            "https://www.meetup.com/dortmund-js/events/ical/",
        ),
    ],
)
def test_publishers_give_their_public_feed(url: str, publisher: str, feed: str) -> None:
    assert published_feeds(url) == [(publisher, feed)]
    assert feed_url(url) == feed


@pytest.mark.parametrize(
    "url", ["https://www.meetup.com/find/", "https://teamup.com/pricing", "https://venue.example/kalender/"]
)
def test_other_addresses_are_no_publishers(url: str) -> None:
    assert published_feeds(url) == [] and feed_url(url) == url
