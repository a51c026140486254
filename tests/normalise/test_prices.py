from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.normalise.prices import Price, parse_availability, parse_price, parse_status
from aggregator.types import Availability, Status

from .venue_data import KONZERTHAUS_CAPTURE, KonzerthausEvent, konzerthaus_events, require

D = Decimal
FREE = Price(D(0), D(0), free=True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Tickets 24 € – 43 €", Price(D(24), D(43))),
        ("18 € – 45,50 €", Price(D(18), D("45.50"))),
        ("Tickets 18 € – 45,50 €", Price(D(18), D("45.50"))),
        ("24 – 43 €", Price(D(24), D(43))),
        ("ab 12,90 €", Price(D("12.90"), None)),
        ("Karten ab 15 Euro", Price(D(15), None)),
        ("Eintritt frei", FREE),
        ("Eintritt frei (Platzkarte erforderlich)", FREE),
        ("Eintritt frei\n\n(Platzkarte erforderlich)", FREE),
        ("Eintritt frei!", FREE),
        ("kostenlos", FREE),
        ("VVK 20 € / AK 24 €", Price(D(20), D(24))),
        ("8 €", Price(D(8), D(8))),
        ("Tickets 8 €", Price(D(8), D(8))),
        ("EUR 15,-", Price(D(15), D(15))),
        ("15,- €", Price(D(15), D(15))),
        ("20,–", Price(D(20), D(20))),
        ("Preis: 10 Euro", Price(D(10), D(10))),
        ("€24.50", Price(D("24.50"), D("24.50"))),
        ("1.200,00 €", Price(D(1200), D(1200))),
        ("Tickets 29 € – 149 €", Price(D(29), D(149))),
        # free entry with a paid tour is not free
        ("Eintritt frei, Führung 3 Euro", Price(D(0), D(3))),
        ("Führung 4,50 Euro pro Person, Eintritt frei", Price(D(0), D("4.50"))),
        ("ausverkauft", None),
        ("Online nicht buchbar", None),
        ("Weitere Tickets", None),
        ("Abo: Oper Premiere", None),
        ("19.30 Uhr", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_price(text: str | None, expected: Price | None) -> None:
    assert parse_price(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ausverkauft", Availability.SOLD_OUT),
        ("ausverkauft zur Warteliste", Availability.SOLD_OUT),
        ("AUSVERKAUFT", Availability.SOLD_OUT),
        ("Restkarten", Availability.FEW_LEFT),
        ("Restkarten an der Abendkasse", Availability.FEW_LEFT),
        ("wenige Karten", Availability.FEW_LEFT),
        ("zur Warteliste", Availability.WAITING_LIST),
        ("Warteliste", Availability.WAITING_LIST),
        ("Tickets 29 € – 149 € zur Warteliste", Availability.WAITING_LIST),
        ("Online nicht buchbar", Availability.NOT_BOOKABLE_ONLINE),
        ("Eintritt frei (Platzkarte erforderlich)", Availability.FREE),
        ("Eintritt frei", Availability.FREE),
        ("kostenlos", Availability.FREE),
        ("Tickets 24 € – 43 €", Availability.AVAILABLE),
        ("Tickets 8 €", Availability.AVAILABLE),
        ("Weitere Tickets", Availability.AVAILABLE),
        ("Sold out", Availability.SOLD_OUT),
        ("8 €", None),
        ("Programmdetails", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_availability(text: str | None, expected: Availability | None) -> None:
    assert parse_availability(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("abgesagt", Status.CANCELLED),
        ("Abgesagt!", Status.CANCELLED),
        ("Die Veranstaltung entfällt.", Status.CANCELLED),
        ("Das Konzert fällt aus", Status.CANCELLED),
        ("FÄLLT AUS", Status.CANCELLED),
        ("cancelled", Status.CANCELLED),
        ("Canceled", Status.CANCELLED),
        ("verschoben", Status.POSTPONED),
        ("postponed", Status.POSTPONED),
        ("neuer Termin: 12.03.2027", Status.RESCHEDULED),
        ("Ersatztermin am 5.5.", Status.RESCHEDULED),
        ("verschoben auf den 12. März", Status.RESCHEDULED),
        ("findet statt", None),
        ("Premiere", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_status(text: str | None, expected: Status | None) -> None:
    assert parse_status(text) == expected


KONZERTHAUS = konzerthaus_events()


def test_capture_is_read() -> None:
    require(KONZERTHAUS_CAPTURE)
    assert {button for event in KONZERTHAUS for button in event.buttons} >= {
        "Online nicht buchbar",
        "ausverkauft",
        "zur Warteliste",
        "Eintritt frei",
        "Tickets 18 € – 45,50 €",
    }


@pytest.mark.parametrize("event", KONZERTHAUS, ids=lambda event: event.detail_slug[:30])
def test_konzerthaus_buttons(event: KonzerthausEvent) -> None:
    text = " ".join(button for button in event.buttons if button != "Weitere Tickets")
    availability = parse_availability(text)
    price = parse_price(text)
    if "ausverkauft" in text:
        assert availability is Availability.SOLD_OUT
    elif "Warteliste" in text:
        assert availability is Availability.WAITING_LIST
    elif text.startswith("Tickets"):
        assert availability is Availability.AVAILABLE
    elif text.startswith("Eintritt frei"):
        assert availability is Availability.FREE and price == FREE
    else:
        assert text == "Online nicht buchbar" and availability is Availability.NOT_BOOKABLE_ONLINE
    if text.startswith("Tickets"):
        assert price is not None and price.min is not None and price.max is not None
        assert price.min <= price.max and f"{price.min:f}".split(".")[0] in text


@settings(max_examples=300, deadline=None)
@given(text=st.text(max_size=80))
def test_parsers_never_raise(text: str) -> None:
    price = parse_price(text)
    assert price is None or price.free or price.min is not None
    parse_availability(text)
    parse_status(text)


@settings(max_examples=200, deadline=None)
@given(
    low=st.decimals(min_value=0, max_value=999, places=2),
    spread=st.decimals(min_value=0, max_value=500, places=2),
)
def test_formatted_ranges_round_trip(low: Decimal, spread: Decimal) -> None:
    high = low + spread

    def german(amount: Decimal) -> str:
        return f"{amount:.2f}".replace(".", ",")

    assert parse_price(f"Tickets {german(low)} € – {german(high)} €") == Price(low, high)
