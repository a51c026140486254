"""Eventim inhouse export and Ruhrbühnen XML against reconstructed feeds."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from aggregator.types import BERLIN, Availability, Status
from sources.base import Document, LayoutChanged, SourceError, registry
from sources.platforms.eventim_xml import EventimXmlSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "eventim_example"
EVENTIM = {
    "name": "theater_xml",
    "urls": [
        "https://www.theaterdo.de/fileadmin/eventim/data.xml",
        "https://www.theaterdo.de/fileadmin/eventim/data2.xml",
    ],
    "venue": "Theater Dortmund",
    "ticket_url_template": "https://ticket.theaterdo.de/eventim.webshop/webticket/shop?event={id}",
    "venues": {"2": "Opernhaus Dortmund", "3": "Schauspielhaus Dortmund"},
    "rooms": {"1": "Opernhaus", "2": "Schauspielhaus", "6": "Schauspielhaus (Studio)"},
}
RUHR = {
    "name": "ruhrbuehnen",
    "url": "https://www.theaterdo.de/api-ruhrbuehnen/",
    "venue": "Theater Dortmund",
}


def make(options: dict[str, Any]) -> EventimXmlSource:
    return EventimXmlSource(SnapshotFetcher(FIXTURES, NOW), options)


def run(options: dict[str, Any]) -> dict[str, Listing]:
    source = make(options)
    return {item.record_id: item for document in source.fetch() for item in source.parse(document)}


@pytest.fixture(scope="module")
def eventim() -> dict[str, Listing]:
    return run(EVENTIM)


@pytest.fixture(scope="module")
def ruhr() -> dict[str, Listing]:
    return run(RUHR)


def test_is_a_configurable_platform_class_outside_the_registry() -> None:
    assert EventimXmlSource.platform == "eventim_xml"
    assert EventimXmlSource not in registry().values()


# Eventim inhouse export


def test_every_identified_performance_of_both_files(eventim: dict[str, Listing]) -> None:
    assert sorted(eventim) == ["112233", "112240", "112301", "7"]


def test_production_is_the_series(eventim: dict[str, Listing]) -> None:
    assert [eventim[k].series_key for k in ("112233", "112240", "7", "112301")] == [
        "4501",
        "4620",
        "4388",
        "4402",
    ]


def test_iso_date_becomes_an_aware_start(eventim: dict[str, Listing]) -> None:
    assert eventim["112233"].start == datetime(2026, 12, 13, 18, 0, tzinfo=BERLIN)


def test_iso_day_is_combined_with_the_begin_time(eventim: dict[str, Listing]) -> None:
    assert eventim["7"].start == datetime(2026, 12, 18, 20, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("key", "date_text", "time_text"), [("112240", "14.12.2026", "09:30"), ("112301", "15.01.2027", "18:00")]
)
def test_german_date_is_left_as_text(
    eventim: dict[str, Listing], key: str, date_text: str, time_text: str
) -> None:
    item = eventim[key]
    assert (item.start, item.date_text, item.time_text) == (None, date_text, time_text)


def test_title_and_subtitle(eventim: dict[str, Listing]) -> None:
    item = eventim["112233"]
    assert (item.title, item.subtitle) == ("Madama Butterfly", "Tragedia giapponese von Giacomo Puccini")


def test_title_newlines_become_spaces(eventim: dict[str, Listing]) -> None:
    assert eventim["7"].title == "Echte Liebe (UA)"


def test_cdata_html_description_becomes_text(eventim: dict[str, Listing]) -> None:
    assert eventim["112233"].description == (
        "In italienischer Sprache mit deutschen Übertiteln.\nEinführung 30 Minuten vor Beginn im Opernfoyer."
    )


def test_place_ids_are_looked_up(eventim: dict[str, Listing]) -> None:
    item = eventim["112233"]
    assert (item.venue_name, item.room) == ("Opernhaus Dortmund", "Opernhaus")


def test_place_text_wins_over_the_id(eventim: dict[str, Listing]) -> None:
    item = eventim["112240"]
    assert (item.venue_name, item.room) == ("Kinder- und Jugendtheater", "Sckelly")


def test_prices_with_comma_give_the_range(eventim: dict[str, Listing]) -> None:
    (offer,) = eventim["112233"].offers
    assert (offer.price_min, offer.price_max) == (Decimal("19.00"), Decimal("58.00"))


def test_ticket_url_from_the_template(eventim: dict[str, Listing]) -> None:
    assert (
        eventim["112233"].offers[0].url
        == "https://ticket.theaterdo.de/eventim.webshop/webticket/shop?event=112233"
    )


def test_ticket_link_in_the_feed_wins(eventim: dict[str, Listing]) -> None:
    assert eventim["112240"].offers[0].url == (
        "https://ticket.theaterdo.de/eventim.webshop/webticket/shop?event=112240&schule=1"
    )


@pytest.mark.parametrize(
    ("key", "availability"),
    [
        ("112233", Availability.AVAILABLE),
        ("112240", Availability.FEW_LEFT),
        ("7", Availability.SOLD_OUT),
        ("112301", None),
    ],
)
def test_availability_from_free_seats(
    eventim: dict[str, Listing], key: str, availability: Availability | None
) -> None:
    assert eventim[key].offers[0].availability == availability


def test_genre_is_the_category(eventim: dict[str, Listing]) -> None:
    assert eventim["112240"].categories == ["Kinder- und Jugendtheater"]


def test_doors_and_raw_prices_are_kept(eventim: dict[str, Listing]) -> None:
    assert eventim["112233"].raw["doors"] == "17:15"
    assert eventim["112233"].raw["prices"] == ["19,00", "32,50", "58,00"]


def test_without_tables_the_configured_venue_is_used() -> None:
    items = run({**EVENTIM, "venues": None, "rooms": None})
    assert (items["112233"].venue_name, items["112233"].room) == ("Theater Dortmund", None)


# Ruhrbühnen XML


def test_ruhr_follows_meta_next() -> None:
    assert [d.url for d in make(RUHR).fetch()] == [
        "https://www.theaterdo.de/api-ruhrbuehnen/",
        "https://www.theaterdo.de/api-ruhrbuehnen/?page=2",
    ]


def test_ruhr_trashed_events_are_left_out(ruhr: dict[str, Listing]) -> None:
    assert sorted(ruhr) == ["55001", "55002", "56010", "56020"]


def test_ruhr_start_and_end(ruhr: dict[str, Listing]) -> None:
    item = ruhr["55001"]
    assert (item.start, item.end) == (
        datetime(2026, 12, 19, 20, 0, tzinfo=BERLIN),
        datetime(2026, 12, 19, 21, 30, tzinfo=BERLIN),
    )


def test_ruhr_end_time_without_end_date_uses_the_start_day(ruhr: dict[str, Listing]) -> None:
    assert ruhr["56010"].end == datetime(2026, 12, 9, 20, 0, tzinfo=BERLIN)


def test_ruhr_production_fields(ruhr: dict[str, Listing]) -> None:
    item = ruhr["55001"]
    assert (item.series_key, item.title, item.subtitle, item.url, item.image) == (
        "873",
        "Ein bisschen Ruhe vor dem Sturm",
        "von Theresia Walser",
        "https://www.theaterdo.de/produktionen/detail/ein-bisschen-ruhe-vor-dem-sturm/",
        "https://www.theaterdo.de/fileadmin/produktionen/ruhe-vor-dem-sturm.jpg",
    )


def test_ruhr_location(ruhr: dict[str, Listing]) -> None:
    item = ruhr["55001"]
    assert (item.venue_name, item.venue_address, item.geo) == (
        "Schauspielhaus Dortmund",
        "Theaterkarree 1-3, 44137 Dortmund",
        (51.5101, 7.4607),
    )


def test_ruhr_event_location_overrides_the_production(ruhr: dict[str, Listing]) -> None:
    assert ruhr["56020"].venue_name == "Opernfoyer"


def test_ruhr_description(ruhr: dict[str, Listing]) -> None:
    assert (
        ruhr["55001"].description
        == "Drei Schauspieler warten auf ihren Auftritt.\nDauer: ca. 1 Std. 30 Min., keine Pause"
    )


@pytest.mark.parametrize(("key", "status"), [("55001", Status.SCHEDULED), ("55002", Status.CANCELLED)])
def test_ruhr_event_status(ruhr: dict[str, Listing], key: str, status: Status) -> None:
    assert ruhr[key].status == status


@pytest.mark.parametrize(
    ("key", "low", "high", "availability"),
    [
        ("55001", "9.00", "24.00", None),
        ("56010", "0", "0", Availability.NOT_BOOKABLE_ONLINE),
        ("56020", "0.00", "7.50", Availability.SOLD_OUT),
    ],
)
def test_ruhr_offers(
    ruhr: dict[str, Listing], key: str, low: str, high: str, availability: Availability | None
) -> None:
    (offer,) = ruhr[key].offers
    assert (offer.price_min, offer.price_max, offer.availability) == (
        Decimal(low),
        Decimal(high),
        availability,
    )


def test_ruhr_non_iso_date_is_left_as_text(ruhr: dict[str, Listing]) -> None:
    item = ruhr["56020"]
    assert (item.start, item.date_text, item.time_text) == (None, "06.12.2026", "11.15 Uhr")


@pytest.mark.parametrize("feed", ["eventim", "ruhr"])
def test_invariants(eventim: dict[str, Listing], ruhr: dict[str, Listing], feed: str) -> None:
    items = eventim if feed == "eventim" else ruhr
    for item in items.values():
        assert item.title
        assert item.start is None or item.start.tzinfo is not None
        assert item.start is not None or item.date_text
        assert item.venue_name
        assert item.title.lower() not in item.record_id.lower()


# Errors and safety


def xml(body: str) -> Document:
    return Document(
        url="https://feed.example/data.xml",
        body=body.encode(),
        content_type="application/xml",
        fetched_at=NOW,
    )


def test_malformed_xml_names_the_line() -> None:
    with pytest.raises(SourceError) as info:
        list(make(EVENTIM).parse(xml("<veranstaltungen>\n<veranstaltung id='1'>\n<titel>x</veranstaltung>")))
    assert "line 3" in str(info.value)
    assert not isinstance(info.value, LayoutChanged)


def test_unknown_xml_is_a_layout_change() -> None:
    with pytest.raises(LayoutChanged, match="rss"):
        list(make(EVENTIM).parse(xml("<rss><channel><item/></channel></rss>")))


def test_empty_ruhr_programme_is_legitimate() -> None:
    assert (
        list(
            make(RUHR).parse(
                xml("<response><meta><total_count>0</total_count></meta><productions/></response>")
            )
        )
        == []
    )


def test_external_entities_are_not_resolved() -> None:
    body = (
        '<?xml version="1.0"?><!DOCTYPE v [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        '<veranstaltungen><veranstaltung id="1"><titel>A&xxe;</titel></veranstaltung></veranstaltungen>'
    )
    (item,) = make(EVENTIM).parse(xml(body))
    assert "root:" not in item.title


def test_entity_expansion_is_refused_or_not_performed() -> None:
    entities = '<!ENTITY a "aaaaaaaaaa">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(6)
    )
    performance = '<veranstaltung id="1"><titel>&g;</titel></veranstaltung>'
    body = f"<!DOCTYPE v [{entities}]><veranstaltungen>{performance}</veranstaltungen>"
    try:
        items = list(make(EVENTIM).parse(xml(body)))
    except SourceError as exc:  # libxml2 refuses the amplification outright
        assert "line 1" in str(exc)
        return
    assert all(len(item.title) < 100 for item in items)


def test_next_page_on_another_host_is_refused() -> None:
    class Fetcher:
        def new_run(self) -> None:
            pass

        def get(self, url: str) -> Document:
            return xml(
                "<response><meta><next>https://elsewhere.example/p2</next></meta><productions/></response>"
            )

        def now(self) -> datetime:
            return NOW

    with pytest.raises(LayoutChanged, match="another host"):
        list(EventimXmlSource(Fetcher(), {**RUHR, "url": "https://feed.example/data.xml"}).fetch())
