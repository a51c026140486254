"""One category vocabulary, and the mapping of sources' raw labels onto it.

The data lives in ``aggregator/data/categories.toml`` (see the comments there). Raw labels
are compared by :func:`~aggregator.text.fold_key`; a label the data does not
know is reported back, never an error. Title hints (``Führung`` in the title → ``fuehrung``)
only add categories.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aggregator.normalise.data_files import DataFileError, read_data_file
from aggregator.text import clean_text, fold_key

Language = Literal["de", "en"]
_SPLIT = re.compile(r"[,;|]")


class CategoryDataError(DataFileError):
    """The category data file is malformed; names the file and the entry."""


class UnknownCategory(KeyError):
    """A slug that is not in the vocabulary was asked for."""

    def __init__(self, slug: str) -> None:
        self.slug = slug
        super().__init__(f"unknown category slug {slug!r}")


@dataclass(frozen=True, slots=True)
class Category:
    """One category: a stable slug and its German and English label."""

    slug: str
    de: str
    en: str


@dataclass(frozen=True, slots=True)
class CategoryMatch:
    """The slugs raw labels and a title map to, and the raw labels nobody knows."""

    slugs: list[str]
    unknown: list[str]


@dataclass(frozen=True, slots=True)
class _Hint:
    pattern: re.Pattern[str]
    slugs: tuple[str, ...]


class CategoryVocabulary:
    """The categories, the raw-label table and the title hints, loaded from data."""

    def __init__(
        self, categories: Iterable[Category], labels: dict[str, tuple[str, ...]], hints: Iterable[_Hint]
    ) -> None:
        self._categories = {category.slug: category for category in categories}
        self._order = {slug: index for index, slug in enumerate(self._categories)}
        self._labels = dict(labels)
        for category in self._categories.values():
            for name in (category.slug, category.de, category.en):
                self._labels.setdefault(fold_key(name), (category.slug,))
        self._hints = tuple(hints)

    def classify(self, raw_labels: Iterable[str], title: str | None = None) -> CategoryMatch:
        """Map raw labels (and hints in ``title``) to slugs; report labels that are not known."""
        slugs: set[str] = set()
        unknown: list[str] = []
        for raw in raw_labels:
            label = clean_text(raw)
            if not label:
                continue
            found = self._lookup(label)
            if found is None:
                if label not in unknown:
                    unknown.append(label)
            else:
                slugs.update(found)
        if title:
            key = fold_key(title)
            for hint in self._hints:
                if hint.pattern.search(key):
                    slugs.update(hint.slugs)
        return CategoryMatch(sorted(slugs, key=self._order.__getitem__), unknown)

    def map(self, raw_labels: Iterable[str], title: str | None = None) -> list[str]:
        """The slugs for raw labels and title hints, in vocabulary order, without duplicates."""
        return self.classify(raw_labels, title).slugs

    def unknown(self, raw_labels: Iterable[str]) -> list[str]:
        """The raw labels the vocabulary does not know (cleaned, first occurrence kept)."""
        return self.classify(raw_labels).unknown

    def label(self, slug: str, lang: Language = "de") -> str:
        """The display label of ``slug`` in ``lang`` (``de`` or ``en``)."""
        category = self._categories.get(slug)
        if category is None:
            raise UnknownCategory(slug)
        return category.de if lang == "de" else category.en

    def all(self) -> list[Category]:
        """Every category in vocabulary order."""
        return list(self._categories.values())

    def _lookup(self, label: str) -> tuple[str, ...] | None:
        """The slugs of one label; a list like ``Konzert, Party`` is tried part by part."""
        found = self._labels.get(fold_key(label))
        if found is not None or not _SPLIT.search(label):
            return found
        parts = [self._labels.get(fold_key(part)) for part in _SPLIT.split(label) if part.strip()]
        if any(part is None for part in parts):
            return None
        return tuple(slug for part in parts if part for slug in part)


def load_categories(path: Path | None = None) -> CategoryVocabulary:
    """Load the vocabulary from ``path`` (default: the packaged ``categories.toml``)."""
    name, data = read_data_file("categories.toml", path, CategoryDataError)
    categories = [_category(name, entry) for entry in data.get("category", [])]
    slugs = [category.slug for category in categories]
    if len(set(slugs)) != len(slugs):
        raise CategoryDataError(name, "category", "duplicate slug")
    labels: dict[str, tuple[str, ...]] = {}
    for raw, targets in data.get("labels", {}).items():
        labels[fold_key(raw)] = _known(name, f"labels.{raw!r}", targets, slugs)
    hints = [_hint(name, index, entry, slugs) for index, entry in enumerate(data.get("hint", []))]
    return CategoryVocabulary(categories, labels, hints)


def _category(name: str, entry: dict[str, Any]) -> Category:
    """One ``[[category]]`` table."""
    try:
        return Category(str(entry["slug"]), str(entry["de"]), str(entry["en"]))
    except KeyError as error:
        raise CategoryDataError(name, f"category {entry!r}", f"missing {error}") from error


def _known(name: str, entry: str, targets: Any, slugs: list[str]) -> tuple[str, ...]:
    """Check that ``targets`` is a list of known slugs."""
    if not isinstance(targets, list) or any(target not in slugs for target in targets):
        raise CategoryDataError(name, entry, f"expected a list of known slugs, got {targets!r}")
    return tuple(targets)


def _hint(name: str, index: int, entry: dict[str, Any], slugs: list[str]) -> _Hint:
    """One ``[[hint]]`` table."""
    try:
        pattern = re.compile(entry["pattern"])
    except (KeyError, re.error) as error:
        raise CategoryDataError(name, f"hint {index}", f"bad pattern: {error}") from error
    loose = [branch for branch in _alternatives(pattern.pattern) if not branch.startswith(("\\b", "^"))]
    if loose:
        raise CategoryDataError(
            name, f"hint {index}", f"pattern branch {loose[0]!r} must start with \\b (or ^) to stay linear"
        )
    return _Hint(pattern, _known(name, f"hint {index}", entry.get("slugs"), slugs))


def _alternatives(pattern: str) -> list[str]:
    """The top-level ``|`` branches of a regular expression (groups and character classes kept whole).

    A branch that may start anywhere (``\\w*konzert``) is tried at every character of a title, and
    its ``\\w*`` rescans the rest of the word each time: quadratic in the length of a long word.
    Anchored at ``\\b``, a search tries each word once.
    """
    branches: list[str] = []
    start, depth, in_class, escaped = 0, 0, False, False
    for position, char in enumerate(pattern):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif in_class:
            in_class = char != "]"
        elif char == "[":
            in_class = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            branches.append(pattern[start:position])
            start = position + 1
    branches.append(pattern[start:])
    return branches
