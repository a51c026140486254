"""Text as the aggregator compares and stores it: one folding for keys, one cleaner for control characters.

:func:`fold` is the only folding: dedupe tokens, category keys, venue keys, the month and weekday words
and the price and time words all compare in its form. German umlauts are transliterated the German way
(``ä`` → ``ae``, ``ß`` → ``ss``), so ``Zauberflöte`` and ``Zauberfloete``, ``Straße`` and ``Strasse``
meet; other diacritics are dropped (``Lumières`` → ``lumieres``). :func:`fold_key` is the same with
punctuation turned into single spaces.

:func:`clean_text` is the only cleaner; :data:`CONTROL_CHARACTERS` the only definition of what it removes.
"""

from __future__ import annotations

import re
import unicodedata

CONTROL_CODES = r"\x00-\x1f\x7f-\x9f"
"""C0 and C1 controls and DEL (Unicode Cc), as a regex class body; the only ones a URL can carry."""

CONTROL_CHARACTERS = CONTROL_CODES + r"\ud800-\udfff"
"""The characters that are never text, as a regex class body: :data:`CONTROL_CODES` and lone
surrogates, which cannot be encoded and no database stores."""

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")
# In one-line text an invisible separator (zero-width space, joiners, direction marks, BOM) is a word break.
_LINE_SPACE = re.compile(r"[\s\u200b-\u200f\ufeff]+")
_BLOCK_CONTROL = re.compile(f"(?![\t\n])[{CONTROL_CHARACTERS}]")
_TRANSLITERATION = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})
_TYPOGRAPHY = str.maketrans(
    {
        "„": '"', "“": '"', "”": '"', "»": '"', "«": '"', "‚": "'", "‘": "'", "’": "'",
        "›": "'", "‹": "'", "`": "'", "´": "'",
        "–": "-", "—": "-", "‐": "-", "‑": "-", "‒": "-", "−": "-",
    }
)  # fmt: skip
_NOT_WORD = re.compile(r"[\W_]+")


def clean_text(text: str, *, lines: bool = False) -> str:
    """Remove :data:`CONTROL_CHARACTERS` from ``text``.

    One-line text (the default: titles, names, labels) is also composed (NFC), every line break, tab
    and invisible separator becomes a space, runs of spaces collapse and the ends are trimmed.
    With ``lines=True`` (descriptions) CR/LF and CR become LF and tabs stay; nothing else changes.
    """
    if lines:
        return _BLOCK_CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    spaced = _LINE_SPACE.sub(" ", unicodedata.normalize("NFC", text))
    return " ".join(_CONTROL.sub("", spaced).split())


def has_control_characters(text: str) -> bool:
    """Whether ``text`` holds any of :data:`CONTROL_CHARACTERS`."""
    return _CONTROL.search(text) is not None


def fold(text: str) -> str:
    """Casefold, transliterate umlauts and ß, drop other diacritics, unify quotes and dashes.

    Other punctuation stays, so that dates, times and prices can still be read from folded text.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_TYPOGRAPHY).translate(_TRANSLITERATION)
    return "".join(
        char for char in unicodedata.normalize("NFKD", folded.casefold()) if not unicodedata.combining(char)
    )


def fold_key(text: str) -> str:
    """:func:`fold` ``text`` and turn punctuation into single spaces: the form every key and token has."""
    return _NOT_WORD.sub(" ", fold(text)).strip()
