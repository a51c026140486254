"""Text helpers for venue matching: token search, name segments, address keys, slugs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from aggregator.text import clean_text, fold_key

_SEGMENTS = re.compile(r"[(),;|]|\s[-–—/:]\s|:\s")
_FILLER = frozenset(
    ["dortmund", "in", "im", "der", "die", "das", "des", "dem", "am", "an", "auf", "bei", "theater"]
)
_STREET = re.compile(r"(?:strasse|str|platz|allee|weg|wall|ring|damm|terrasse|gasse|ufer|hellweg|karree)$")
_POSTCODE = re.compile(r"\b\d{5}\b")
_NOT_SLUG = re.compile(r"[^0-9a-z]+")
_ADDRESS = re.compile(r"^(?P<street>.*?)[,\s]*(?P<postcode>\d{5})\s+(?P<city>.+)$")


def slugify(text: str) -> str:
    """A URL-safe slug from a name: ``Schloss Bodelschwingh`` → ``schloss-bodelschwingh``."""
    return "-".join(slug_words(text)) or "unbenannt"


def slug_words(text: str) -> list[str]:
    """The Latin letters and digits of ``text`` in folded form, as words: what a slug is made of."""
    return _NOT_SLUG.sub(" ", fold_key(text)).split()


def find_tokens(haystack: Sequence[str], needle: Sequence[str]) -> int:
    """Index where ``needle`` occurs as whole tokens in ``haystack``, or -1."""
    width = len(needle)
    for start in range(len(haystack) - width + 1):
        if tuple(haystack[start : start + width]) == tuple(needle):
            return start
    return -1


def segments(name: str) -> list[str]:
    """The parts of a venue string split at brackets, commas and spaced dashes."""
    return [part for part in (clean_text(piece) for piece in _SEGMENTS.split(name)) if part]


def is_filler(tokens: Sequence[str]) -> bool:
    """True if the tokens say nothing beyond the venue (``Dortmund``, ``im``, ``der``)."""
    return all(token in _FILLER for token in tokens)


def without_filler(key: str) -> str:
    """A match key without its filler words (``theater im depot`` → ``depot``), for similarity scores;
    the key itself when it is nothing but filler."""
    return " ".join(token for token in key.split() if token not in _FILLER) or key


def looks_like_address(tokens: Sequence[str], street_keys: Sequence[tuple[str, ...]]) -> bool:
    """True if the tokens read as a street address or repeat the venue's street."""
    if any(_POSTCODE.fullmatch(token) or _STREET.search(token) for token in tokens):
        return True
    return any(find_tokens(street, tokens) >= 0 or find_tokens(tokens, street) >= 0 for street in street_keys)


def address_key(text: str) -> tuple[str, ...]:
    """Tokens of an address with ``Str.`` spelled out, for comparing streets."""
    return tuple(re.sub(r"str$", "strasse", token) for token in fold_key(text).split())


def split_address(text: str) -> tuple[str | None, str | None, str | None]:
    """``Brückstraße 21, 44135 Dortmund`` → (street, postcode, city); unparsed text is the street."""
    cleaned = clean_text(text)
    found = _ADDRESS.match(cleaned)
    if found is None:
        return cleaned or None, None, None
    return found.group("street").strip(" ,") or None, found.group("postcode"), found.group("city")
