"""Title analysis: one title cleaned, cut into segments and reduced to tokens, qualifiers and numbers."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from aggregator.matching.words import (
    CARDINAL_WORDS,
    GENERIC_WORDS,
    GENRE_WORDS,
    LEXICON,
    LOCATIVE_WORDS,
    NOISE_WORDS,
    NOT_A_TOUR_ENDINGS,
    NOT_A_TOUR_PREFIXES,
    ORDINAL_WORDS,
    QUALIFIERS,
    SERIES_WORDS,
    STOPWORDS,
    VENUE_WORDS,
)
from aggregator.normalise.datewords import MONTH_SPELLINGS, WEEKDAY_SPELLINGS
from aggregator.text import fold_key

_WEEKDAY = rf"(?:\b(?:{WEEKDAY_SPELLINGS})\.?,?\s+)?"
_DATE_RE = re.compile(
    rf"{_WEEKDAY}(?:\b\d{{1,2}}\.\s?\d{{1,2}}\.(?:\s?(?:19|20)?\d{{2}}(?!\d))?"
    rf"|\b(?:19|20)\d{{2}}-\d{{2}}-\d{{2}}(?:T[\d:.+-]+Z?)?"
    rf"|\b\d{{1,2}}\.\s*(?:{MONTH_SPELLINGS})\b\.?(?:\s*(?:19|20)\d{{2}})?)",
    re.IGNORECASE,
)
_TIME_RE = re.compile(
    r"\b\d{1,2}[.:]\d{2}(?:\s*(?:Uhr|h)\b)?(?:\s*[-–]\s*\d{1,2}[.:]\d{2}(?:\s*Uhr\b)?)?|\b\d{1,2}\s*Uhr\b",
    re.IGNORECASE,
)
_AGE_RE = re.compile(
    r"\(?\s*\bab\s+\d{1,2}\s*(?:J\.|Jahren|Jahre)?\s*\)?"
    r"|\(\s*\d{1,2}\s*\+\s*\)"
    r"|\b\d{1,2}\s*-?\s*bis\s*\d{1,2}\s*-?\s*j(?:ä|ae)hrige\w*",
    re.IGNORECASE,
)
_ABBREVIATIONS = frozenset({"vol", "nr", "no", "op", "st", "dr", "prof", "bzw", "ca", "str", "inkl"})
_SEPARATOR_RE = re.compile(r"\s*[:|]\s+|\s+[-–—]\s+|\s*[()\[\]]\s*|(?<=[^\W\d_]{3})\.\s+")
_ROMAN_RE = re.compile(r"^(?=[IVX])X{0,3}(?:IX|IV|V?I{0,3})$")
_WORD_RE = re.compile(r"[^\W_]+")
_TOUR_RE = re.compile(r"^(\w*?)fuehrung(?:en)?$")
_QUALIFIER_RES = {
    category: re.compile(r"\b(?:" + "|".join(patterns) + r")\b") for category, patterns in QUALIFIERS.items()
}
_TOKEN_QUALIFIER_RES = {
    category: re.compile("^(?:" + "|".join(patterns) + ")$") for category, patterns in QUALIFIERS.items()
}
_ENGLISH_ORDINAL_RE = re.compile(r"^(\d{1,3})(?:st|nd|rd|th)$")
_ROMAN_ORDINAL_RE = re.compile(r"(?<![\w.])([IVX]{1,6})\.(?=\s+[^\W\d_])")
_WORKS_BY_FIRST_WORD: dict[str, tuple[tuple[str, ...], ...]] = {
    first: tuple(work for work in sorted(LEXICON.works) if work[0] == first)
    for first in {work[0] for work in LEXICON.works}
}
_NOT_NAMES = (
    (LEXICON.vocabulary | LEXICON.stopwords | LEXICON.venue_words | GENRE_WORDS | NOISE_WORDS | SERIES_WORDS)
    | frozenset(ORDINAL_WORDS)
    | frozenset(CARDINAL_WORDS)
)


@dataclass(frozen=True, slots=True)
class Split:
    """A title cut into a prefix and a suffix at one separator, both folded."""

    prefix: str
    suffix: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Title:
    """What the rules need to know about one title, computed once per distinct title."""

    tokens: tuple[str, ...]
    qualifiers: frozenset[str]
    numbers: frozenset[int]
    years: frozenset[int]
    splits: tuple[Split, ...]
    names: frozenset[str] = frozenset()
    """Words that may name a performer, composer or work: content words no word list knows
    (:func:`read_across` only)."""
    works: frozenset[str] = frozenset()
    """Known works of the lexicon the title names, folded (:func:`read_across` only)."""
    numbered: frozenset[str] = frozenset()
    """A number with the words after it in its segment, when they hold a content word
    ("6 philharmonisches konzert"): a numbered evening of a series (:func:`read_across` only)."""


@lru_cache(maxsize=8192)
def analyse(title: str) -> Title:
    """Clean one title and extract its tokens, qualifiers, numbers and prefix/suffix splits."""
    return _analyse(title, translate=False)


@lru_cache(maxsize=8192)
def read_across(title: str) -> Title:
    """:func:`analyse` through the bilingual lexicon: English words, works and transliterated names in the
    German form Dortmund's listings use, stopwords of both languages left out.

    "The Magic Flute (concert performance)" reads ``("zauberfloete",)`` as "Die Zauberflöte (konzertant)"
    does; "6th Philharmonic Concert" reads ``("6", "philharmonisches", "konzert")``; "Tchaikovsky" reads
    ``("tschaikowsky",)``. A trailing English venue phrase ("at Dortmund Concert Hall") is dropped.
    """
    return _analyse(title, translate=True)


def _analyse(title: str, *, translate: bool) -> Title:
    segments = _segments(_clean(title))
    if translate:
        segments = [translated for segment in segments if (translated := _translate(segment))]
    kept = _meaningful_segments(segments)
    numbers: set[int] = set()
    years = {int(word) for segment in segments for word in fold_key(segment).split() if _is_year(word)}
    segment_tokens: list[list[str]] = []
    words = [(index, word) for index, segment in enumerate(kept) for word in _WORD_RE.findall(segment)]
    for position, (index, word) in enumerate(words):
        if index == len(segment_tokens):
            segment_tokens.append([])
        tokens = segment_tokens[index]
        folded = fold_key(word)
        previous = fold_key(words[position - 1][1]) if position else ""
        number = _number(word, folded, previous, is_last=position == len(words) - 1)
        if number is not None:
            if not _is_year(folded):
                numbers.add(number)
            if tokens and tokens[-1] == previous and previous in SERIES_WORDS:
                tokens.pop()  # "Teil 2" and "Part Two" differ only in the word the number carries
            tokens.append(str(number))
        elif not _is_noise(folded):
            tokens.extend(folded.split())
    numbered = frozenset(
        phrase for part in segment_tokens if translate and (phrase := _numbered_phrase(part, numbers))
    )
    if translate:
        segment_tokens = [
            [token for token in part if token not in LEXICON.stopwords] for part in segment_tokens
        ]
    tokens = [token for part in segment_tokens for token in part]
    return Title(
        tokens=tuple(tokens) or tuple(fold_key(" ".join(kept)).split()),
        qualifiers=_qualifiers(" ".join(fold_key(" ".join(segments)).split())),
        numbers=frozenset(numbers),
        years=frozenset(years),
        splits=_splits(segment_tokens),
        names=frozenset(token for token in tokens if is_name(token)) if translate else frozenset(),
        works=_works(tokens) if translate else frozenset(),
        numbered=numbered,
    )


def _numbered_phrase(tokens: list[str], numbers: set[int]) -> str:
    """The number of a segment with the words after it up to a stopword ("5 philharmonisches konzert" of
    "5. Philharmonisches Konzert mit Nobby Dickel"), when they hold a content word; else ``""``."""
    for index, token in enumerate(tokens):
        if token.isdigit() and int(token) in numbers:
            phrase = [token]
            for word in tokens[index + 1 :]:
                if word in LEXICON.stopwords:
                    break
                phrase.append(word)
            if any(is_content(word) for word in phrase):
                return " ".join(phrase)
    return ""


def _translate(segment: str) -> str:
    """One segment in the lexicon's German: phrases replaced (the longest first), a trailing English venue
    phrase dropped; words the lexicon does not know keep their spelling (roman numerals stay upper case)."""
    words = _WORD_RE.findall(segment)
    folded = [fold_key(word) for word in words]
    for index in range(1, len(words) - 1):
        if folded[index] in LEXICON.locatives and all(
            word in LEXICON.venue_words or word in LEXICON.stopwords for word in folded[index + 1 :]
        ):
            words, folded = words[:index], folded[:index]
            break
    content = [index for index, word in enumerate(folded) if word not in LEXICON.stopwords]
    out: list[str] = []
    copied = 0
    at = 0
    while at < len(content):
        for length in range(min(LEXICON.longest, len(content) - at), 0, -1):
            target = LEXICON.phrases.get(tuple(folded[content[at + step]] for step in range(length)))
            if target is not None:
                out.extend(words[copied : content[at]])
                out.extend(target)
                copied = content[at + length - 1] + 1
                at += length
                break
        else:
            at += 1
    out.extend(words[copied:])
    return " ".join(out)


def _works(tokens: list[str]) -> frozenset[str]:
    """The lexicon's works whose German titles stand in ``tokens`` (already read across)."""
    found = set()
    for start, token in enumerate(tokens):
        for work in _WORKS_BY_FIRST_WORD.get(token, ()):
            if tuple(tokens[start : start + len(work)]) == work:
                found.add(" ".join(work))
    return frozenset(found)


def _is_noise(folded: str) -> bool:
    """Whether a folded word only says how the production is sold or staged."""
    return folded in NOISE_WORDS or folded.endswith(("ticket", "tickets"))


def _clean(title: str) -> str:
    """Cut a title at an appended date; drop times and age hints."""
    text = unicodedata.normalize("NFKC", title)
    date = _DATE_RE.search(text)
    if date and text[: date.start()].strip(" -–—:,|"):
        text = text[: date.start()]
    text = _DATE_RE.sub(" ", text)
    text = _TIME_RE.sub(" ", text)
    text = _AGE_RE.sub(" ", text)
    text = _ROMAN_ORDINAL_RE.sub(_roman_ordinal, text)
    return " ".join(text.split())


def _roman_ordinal(match: re.Match[str]) -> str:
    """ "V." before a word is the ordinal "5." ("V. Philharmonisches Konzert"); other capitals stay."""
    numeral = match.group(1)
    return f"{_roman_value(numeral)}." if _ROMAN_RE.match(numeral) else match.group()


def _segments(text: str) -> list[str]:
    """Split a cleaned title at ": ", " | ", spaced dashes, parentheses and ". " after a word."""
    segments: list[str] = []
    start = 0
    for separator in _SEPARATOR_RE.finditer(text):
        if (
            separator.group().strip().startswith(".")
            and _last_word(text[: separator.start()]) in _ABBREVIATIONS
        ):
            continue
        segments.append(text[start : separator.start()])
        start = separator.end()
    segments.append(text[start:])
    return [_without_trailing_venue(segment.strip()) for segment in segments if fold_key(segment).strip()]


def _without_trailing_venue(segment: str) -> str:
    """Drop a trailing "im Dortmunder U" / "in der Westfalenhalle" phrase from a segment."""
    words = list(_WORD_RE.finditer(segment))
    for index in range(1, len(words) - 1):
        if fold_key(words[index].group()) in LOCATIVE_WORDS and all(
            fold_key(word.group()) in VENUE_WORDS for word in words[index + 1 :]
        ):
            return segment[: words[index].start()].rstrip()
    return segment


def _last_word(text: str) -> str:
    """The last word of ``text``, folded."""
    words = fold_key(text).split()
    return words[-1] if words else ""


def _meaningful_segments(segments: list[str]) -> list[str]:
    """Drop later segments that only describe the genre or carry sales and venue noise."""
    if not segments:
        return []
    kept = [segments[0]]
    for segment in segments[1:]:
        words = fold_key(segment).split()
        content = [word for word in words if word not in {"ein", "eine", "das", "der", "die"}]
        if content and content[0] in GENRE_WORDS:
            continue
        if all(_is_noise(word) or word in VENUE_WORDS or _is_year(word) for word in words):
            continue
        kept.append(segment)
    return kept


def _is_year(word: str) -> bool:
    """Whether a folded word is a year (1900–2099)."""
    return len(word) == 4 and word.isdigit() and 1900 <= int(word) <= 2099


def _number(word: str, folded: str, previous: str, *, is_last: bool) -> int | None:
    """The number a word stands for: digits, an ordinal word, a roman numeral, "zwei" after "Teil"."""
    if folded.isdigit():
        return int(folded)
    ordinal = _ENGLISH_ORDINAL_RE.match(folded)
    if ordinal:
        return int(ordinal.group(1))
    if folded in ORDINAL_WORDS:
        return ORDINAL_WORDS[folded]
    if previous in SERIES_WORDS and folded in CARDINAL_WORDS:
        return CARDINAL_WORDS[folded]
    if _ROMAN_RE.match(word) and (len(word) > 1 or previous in SERIES_WORDS or is_last):
        return _roman_value(word)
    return None


def _roman_value(numeral: str) -> int:
    """Value of a roman numeral already checked by ``_ROMAN_RE`` (I–XXXIX)."""
    values = {"I": 1, "V": 5, "X": 10}
    total = 0
    for index, char in enumerate(numeral):
        value = values[char]
        if index + 1 < len(numeral) and values[numeral[index + 1]] > value:
            total -= value
        else:
            total += value
    return total


def _qualifiers(folded: str) -> frozenset[str]:
    """Categories of qualifier words in a folded title."""
    found = {category for category, pattern in _QUALIFIER_RES.items() if pattern.search(folded)}
    if any(_is_tour_word(word) for word in folded.split()):
        found.add("tour")
    return frozenset(found)


def _is_tour_word(word: str) -> bool:
    """Whether a folded word is a guided tour ("Führung", "Sonntagsführung"), not "Einführung" etc."""
    match = _TOUR_RE.match(word)
    if match is None:
        return False
    prefix = match.group(1)
    return prefix not in NOT_A_TOUR_PREFIXES and not prefix.endswith(NOT_A_TOUR_ENDINGS)


def _splits(segment_tokens: list[list[str]]) -> tuple[Split, ...]:
    """Every prefix/suffix cut between segments whose suffix keeps a real word (years left out)."""
    splits: list[Split] = []
    for index in range(1, len(segment_tokens)):
        prefix = [token for part in segment_tokens[:index] for token in part]
        suffix = tuple(token for part in segment_tokens[index:] for token in part if not _is_year(token))
        if prefix and any(is_content(token) for token in suffix):
            splits.append(Split(prefix=" ".join(prefix), suffix=suffix))
    return tuple(splits)


def token_qualifies(token: str) -> bool:
    """Whether one folded word on its own is a qualifier word ("Sonntagsführung", "Kinderkonzert")."""
    if _is_tour_word(token):
        return True
    return any(pattern.match(token) for pattern in _TOKEN_QUALIFIER_RES.values())


def is_name(token: str) -> bool:
    """Whether a folded word may name a performer, composer or work: a content word that no word list
    (lexicon, genre, noise, venue, qualifier, number words) knows, and not a number."""
    return is_content(token) and token not in _NOT_NAMES and not token_qualifies(token)


def is_content(token: str) -> bool:
    """Whether a folded word can carry a title's identity (not a number, stopword or generic word)."""
    return len(token) >= 3 and not token.isdigit() and token not in STOPWORDS and token not in GENERIC_WORDS
