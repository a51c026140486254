"""Prices, ticket availability and event status as venues word them.

Only amounts next to a currency mark count (``24 €``, ``EUR 15,-``, ``10 Euro``); in a range
the currency may stand once (``24 – 43 €``). Free entry (``Eintritt frei``, ``kostenlos``)
gives ``free=True`` only when no amount is named; ``Eintritt frei, Führung 3 Euro`` is
0–3 € and not free.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from aggregator.normalise.titles import clean_text, fold_text
from aggregator.types import Availability, Status

_CURRENCY = r"(?:€|\beur\b|\beuro\b)"
_AMOUNT = r"(?<![\d.,])(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d{1,2}|\.\d{1,2}(?!\d))?(?:,-{1,2}|,–)?"
_MONEY = re.compile(
    rf"(?P<pre>{_CURRENCY}\s*)?(?P<amount>{_AMOUNT})(?P<post>\s*{_CURRENCY})?(?P<link>\s*(?:-|bis|/)\s*)?"
)
_FREE = re.compile(
    r"\b(?:eintritt\s+frei|freier\s+eintritt|kostenlos|kostenfrei|gratis|umsonst|free)\b|\bfrei\b"
)
_FROM = re.compile(r"\bab\s*$")
_CENT = Decimal("0.01")
MAX_AMOUNT = Decimal(100_000)
"""The highest price taken as one (no concert ticket costs more; ``1e28`` is a typo or an attack)."""


@dataclass(frozen=True, slots=True)
class Price:
    """A price range; ``min``/``max`` are ``None`` when the text does not name that end."""

    min: Decimal | None
    max: Decimal | None
    currency: str = "EUR"
    free: bool = False


def parse_price(text: str | None) -> Price | None:
    """Read a price or price range from ``text``; ``None`` if it names no price and is not free."""
    if not text:
        return None
    folded = fold_text(clean_text(text))
    amounts = _amounts(folded)
    free = bool(_FREE.search(folded))
    if not amounts:
        return Price(Decimal(0), Decimal(0), free=True) if free else None
    low, high = min(amounts), max(amounts)
    if free:
        return Price(Decimal(0), high)
    first = _MONEY.search(folded)
    if len(amounts) == 1 and first is not None and _FROM.search(folded[: first.start()]):
        return Price(low, None)
    return Price(low, high)


def _amounts(folded: str) -> list[Decimal]:
    """The amounts in ``folded`` that carry a currency mark, directly or across a range dash."""
    matches = list(_MONEY.finditer(folded))
    amounts: list[Decimal] = []
    for index, match in enumerate(matches):
        marked = bool(match.group("pre") or match.group("post") or match.group("amount").endswith(("-", "–")))
        if not marked and match.group("link") and index + 1 < len(matches):
            following = matches[index + 1]
            has_currency = bool(following.group("post") or following.group("pre"))
            marked = following.start() == match.end() and has_currency
        value = _decimal(match.group("amount")) if marked else None
        if value is not None and amount_problem(value) is None:
            amounts.append(value)
    return amounts


def _decimal(amount: str) -> Decimal:
    """``45,50`` → 45.50, ``15,-`` → 15, ``1.200`` → 1200, ``24.50`` → 24.50."""
    amount = amount.rstrip("-–").rstrip(",")
    if re.fullmatch(r"\d{1,3}(?:\.\d{3})+(?:,\d{1,2})?", amount):
        amount = amount.replace(".", "")
    return Decimal(amount.replace(",", "."))


def amount_problem(amount: Decimal | float) -> str | None:
    """Why ``amount`` is no price, or ``None`` when it is one: finite, 0 … :data:`MAX_AMOUNT`, whole cents.

    ``1e-999999999`` is not 0 (free admission) but no price at all, as are NaN and ``1e28``. Adapters
    may hand over ints and floats too; they are read by their decimal text.
    """
    if not isinstance(amount, Decimal):
        amount = Decimal(str(amount))
    if not amount.is_finite():
        return "is not a finite number"
    if amount < 0 or amount > MAX_AMOUNT:
        return f"is not an amount from 0 to {MAX_AMOUNT}"
    if amount != amount.quantize(_CENT):
        return "has more than two decimal places; a price is given in whole cents"
    return None


def valid_amount(value: Decimal | float | None) -> Decimal | None:
    """``value`` as a Decimal when it is a price (see :func:`amount_problem`), else ``None``."""
    if value is None or amount_problem(value) is not None:
        return None
    return value if isinstance(value, Decimal) else Decimal(str(value))


_AVAILABILITY: tuple[tuple[re.Pattern[str], Availability], ...] = (
    (re.compile(r"\b(?:ausverkauft|sold\s*out|restlos\s+vergriffen)\b"), Availability.SOLD_OUT),
    (
        re.compile(r"\b(?:online\s+nicht\s+(?:buchbar|erhaeltlich)|nur\s+(?:an\s+der\s+)?abendkasse)\b"),
        Availability.NOT_BOOKABLE_ONLINE,
    ),
    (re.compile(r"\b(?:warteliste|waiting\s*list)\b"), Availability.WAITING_LIST),
    (
        re.compile(
            r"\b(?:restkarten|wenige\s+(?:karten|tickets|plaetze)|letzte\s+(?:karten|tickets)|few\s+tickets)\b"
        ),
        Availability.FEW_LEFT,
    ),
    (_FREE, Availability.FREE),
    (
        re.compile(r"\b(?:tickets?|karten|vorverkauf|vvk|buchen|available|verfuegbar)\b"),
        Availability.AVAILABLE,
    ),
)


def parse_availability(text: str | None) -> Availability | None:
    """Read ticket availability; the strongest signal wins (sold out before waiting list before tickets).

    ``ausverkauft`` + ``zur Warteliste`` is SOLD_OUT; ``Tickets … €`` + ``zur Warteliste`` is
    WAITING_LIST (some seats are listed, the wanted ones are gone). A bare price (``8 €``) says
    nothing about availability and gives ``None``.
    """
    if not text:
        return None
    folded = fold_text(clean_text(text))
    for pattern, availability in _AVAILABILITY:
        if pattern.search(folded):
            return availability
    return None


_STATUS: tuple[tuple[re.Pattern[str], Status], ...] = (
    (
        re.compile(
            r"\b(?:abgesagt|entfaellt|entfallen|faellt\s+aus|ausfall|cancell?ed|canceled|storniert)\b"
        ),
        Status.CANCELLED,
    ),
    (
        re.compile(r"\b(?:neuer\s+termin|ersatztermin|verlegt|verschoben\s+auf|rescheduled|new\s+date)\b"),
        Status.RESCHEDULED,
    ),
    (re.compile(r"\b(?:verschoben|postponed|vertagt)\b"), Status.POSTPONED),
)


def parse_status(text: str | None) -> Status | None:
    """Read an event status (cancelled, rescheduled, postponed) from a note; ``None`` if it names none."""
    if not text:
        return None
    folded = fold_text(clean_text(text))
    for pattern, status in _STATUS:
        if pattern.search(folded):
            return status
    return None
