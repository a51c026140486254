"""Konzerthaus Dortmund adapter against the reconstructed programme page (tests/fixtures/konzerthaus)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.listing import Listing
from sources.base import Document, LayoutChanged
from sources.konzerthaus import KonzerthausSource
from sources.snapshots import SnapshotFetcher

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "konzerthaus"
PROGRAMM = "https://www.konzerthaus-dortmund.de/de/programm/"
LISTINGS = KonzerthausSource(SnapshotFetcher(FIXTURES, NOW)).run().listings
BY_ID = {item.record_id: item for item in LISTINGS}


def _html(body: str, url: str = PROGRAMM) -> Document:
    return Document(url=url, body=body.encode(), content_type="text/html; charset=utf-8", fetched_at=NOW)


# Invariants over every item


def test_url_absolute(listing: Listing) -> None:
    assert (listing.url or "").startswith("https://www.konzerthaus-dortmund.de/de/programm/")


def test_date_text_present(listing: Listing) -> None:
    assert re.fullmatch(r"(Mo|Di|Mi|Do|Fr|Sa|So) \d{2}\.\d{2}\.\d{4}", listing.date_text or "")


def test_venue_name(listing: Listing) -> None:
    assert listing.venue_name == "Konzerthaus Dortmund"


def test_offer_urls_absolute(listing: Listing) -> None:
    assert all(o.url is None or o.url.startswith("https://") for o in listing.offers)


# The page as a whole


def test_every_event_block_is_parsed() -> None:
    assert len(LISTINGS) == 27


def test_banners_are_skipped() -> None:
    assert not any("Wahlpaket" in item.title or "verpassen" in item.title for item in LISTINGS)


# One field per test, on the first real block

CARYDIS = BY_ID["06-12-2026-constantinos-carydis-wdr-sinfonieorchester"]


def test_title() -> None:
    assert CARYDIS.title == "Constantinos Carydis & WDR Sinfonieorchester"


def test_date_text() -> None:
    assert CARYDIS.date_text == "So 06.12.2026"


def test_time_text() -> None:
    assert CARYDIS.time_text == "16.00 Uhr"


def test_subtitle() -> None:
    assert CARYDIS.subtitle == "Yoav Levanon spielt Liszts Klavierkonzert"


def test_genre_is_the_category() -> None:
    assert CARYDIS.categories == ["Orchesterkonzert"]


def test_series_key_is_the_slug_without_date() -> None:
    assert CARYDIS.series_key == "constantinos-carydis-wdr-sinfonieorchester"


def test_url() -> None:
    assert CARYDIS.url == PROGRAMM + "06-12-2026-constantinos-carydis-wdr-sinfonieorchester/"


def test_image() -> None:
    assert (CARYDIS.image or "").endswith("/Y_260517-Constantinos-High-res-Thomas-Brill_YMCK_R_crop.webp")


def test_not_bookable_online() -> None:
    assert [(o.availability_text, o.url) for o in CARYDIS.offers] == [("Online nicht buchbar", None)]


def test_raw_keeps_the_performers() -> None:
    assert CARYDIS.raw["performers"] == [
        "WDR Sinfonieorchester",
        "Constantinos Carydis Dirigent",
        "Yoav Levanon Klavier",
    ]


# The awkward cases


def test_price_range_and_ticket_link() -> None:
    offer = BY_ID["13-12-2026-festkonzert-2026-der-chorakademie"].offers[0]
    assert (offer.price_text, offer.url) == (
        "Tickets 24 € – 43 €",
        PROGRAMM + "13-12-2026-festkonzert-2026-der-chorakademie/platzwahl/",
    )


def test_sold_out() -> None:
    offer = BY_ID["15-12-2026-element-of-crime"].offers[0]
    assert (offer.price_text, offer.availability_text) == (None, "ausverkauft")


def test_sold_out_keeps_the_waiting_list_link_in_raw() -> None:
    buttons = BY_ID["15-12-2026-element-of-crime"].raw["buttons"]
    assert buttons[1] == ["zur Warteliste", "/de/benutzerbereich/?event=15-12-2026-element-of-crime"]


def test_tickets_with_waiting_list() -> None:
    offer = BY_ID["23-12-2026-anne-sophie-mutter-berliner-barock-solisten"].offers[0]
    assert (offer.price_text, offer.availability_text) == ("Tickets 29 € – 149 €", "zur Warteliste")


def test_free_entry_with_seat_ticket() -> None:
    offer = BY_ID["01-01-2027-jubilaeumskonzert-dortmund-musik"].offers[0]
    assert offer.price_text == "Eintritt frei (Platzkarte erforderlich)"


def test_free_entry_without_link() -> None:
    offer = BY_ID["02-01-2027-wir-sind-dortmund-musik"].offers[0]
    assert (offer.price_text, offer.url) == ("Eintritt frei", None)


def test_decimal_price_text_kept_verbatim() -> None:
    assert BY_ID["01-04-2027-wildes-holz"].offers[0].price_text == "Tickets 18 € – 45,50 €"


def test_weitere_tickets_is_a_theater_dortmund_offer() -> None:
    offers = BY_ID["08-12-2026-7-philharmonisches-konzert"].offers
    assert [(o.vendor, o.url) for o in offers[1:]] == [
        ("Theater Dortmund", "https://www.theaterdo.de/philharmoniker/konzerte/")
    ]


def test_two_dates_of_one_concert_share_the_series_key() -> None:
    keys = {
        BY_ID[k].series_key
        for k in ("08-12-2026-7-philharmonisches-konzert", "09-12-2026-7-philharmonisches-konzert")
    }
    assert keys == {"7-philharmonisches-konzert"}


def test_cancelled_status_text() -> None:
    assert BY_ID["15-12-2026-weihnachten-mit-den-kings-singers"].status_text == "abgesagt"


def test_cancelled_has_no_offer() -> None:
    assert BY_ID["15-12-2026-weihnachten-mit-den-kings-singers"].offers == []


def test_cancelled_badge_is_not_the_genre() -> None:
    assert BY_ID["15-12-2026-weihnachten-mit-den-kings-singers"].categories == ["Chorkonzert"]


def test_missing_subtitle_is_none() -> None:
    assert BY_ID["10-12-2026-ueberraschungskonzert-der-joker"].subtitle is None


# Detail pages (schema.org MusicEvent in JSON-LD)

STADION_URL = PROGRAMM + "12-01-2027-5-philharmonisches-konzert-faszination-stadion/"
STADION = next(KonzerthausSource().parse(SnapshotFetcher(FIXTURES, NOW).get(STADION_URL)))


def test_detail_record_id_matches_the_listing_scheme() -> None:
    assert STADION.record_id == "12-01-2027-5-philharmonisches-konzert-faszination-stadion"


def test_detail_series_key() -> None:
    assert STADION.series_key == "5-philharmonisches-konzert-faszination-stadion"


def test_detail_title_is_the_heading() -> None:
    assert STADION.title == "5. Philharmonisches Konzert: Faszination Stadion"


def test_detail_start_from_json_ld() -> None:
    assert STADION.start is not None and STADION.start.isoformat() == "2027-01-12T19:30:00+01:00"


def test_detail_venue() -> None:
    assert STADION.venue_name == "Konzerthaus Dortmund"


def test_detail_description_is_the_programme_text() -> None:
    assert (STADION.description or "").startswith("Über die Stadt Dortmund und den Fußball")


def test_detail_source_name() -> None:
    assert STADION.source == "konzerthaus"


def test_detail_without_heading_strips_date_and_venue_from_the_name() -> None:
    body = (FIXTURES / "detail_12-01-2027-5-philharmonisches-konzert-faszination-stadion.html").read_text(
        encoding="utf-8"
    )
    body = re.sub(r"<h1>.*?</h1>", "", body)
    item = next(KonzerthausSource().parse(_html(body, STADION_URL)))
    assert item.title == "5. Philharmonisches Konzert: Faszination Stadion"


def test_detail_page_without_json_ld_raises() -> None:
    with pytest.raises(LayoutChanged, match="JSON-LD"):
        list(KonzerthausSource().parse(_html("<html><h1>Konzert</h1></html>", STADION_URL)))


def test_detail_json_ld_without_start_raises() -> None:
    body = '<script type="application/ld+json">{"@type": "MusicEvent", "name": "X"}</script>'
    with pytest.raises(LayoutChanged, match="no event"):
        list(KonzerthausSource().parse(_html(body, STADION_URL)))


# Layout changes fail loudly


def test_changed_layout_raises() -> None:
    document = _html((FIXTURES / "changed_layout.html").read_text(encoding="utf-8"))
    with pytest.raises(LayoutChanged, match="cal-list"):
        list(KonzerthausSource().parse(document))


def test_block_without_timebox_raises() -> None:
    block = (
        '<ul id="cal-list"><li class="va"><div class="card-text"><p class="h2">X</p></div>'
        '<a aria-label="Zur Detailseite dieser Veranstaltung" href="/de/programm/01-01-2027-x/">x</a>'
        "</li></ul>"
    )
    with pytest.raises(LayoutChanged, match="timebox"):
        list(KonzerthausSource().parse(_html(block)))


def test_empty_programme_is_zero_listings() -> None:
    assert (
        list(KonzerthausSource().parse(_html('<ul id="cal-list"><li class="banner">Newsletter</li></ul>')))
        == []
    )
