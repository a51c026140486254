from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from aggregator.normalise.categories import (
    CategoryDataError,
    CategoryMatch,
    CategoryVocabulary,
    UnknownCategory,
    load_categories,
)

from .venue_data import KONZERTHAUS_CAPTURE, KonzerthausEvent, konzerthaus_events, require

VOCABULARY = load_categories()
KONZERTHAUS_GENRES = (
    "Orchesterkonzert",
    "Kammermusik",
    "Klavierabend",
    "Chorkonzert",
    "Lieder- / Arienabend",
    "Konzertante Oper",
    "Orgelkonzert",
    "Jazz",
    "Pop & Folk",
    "Chanson & Unterhaltung",
    "Tanz & Show",
    "Für Neugierige",
    "Musik & Dialog",
    "Kinder & Jugend",
)
THEATER_DIVISIONS = ("Oper", "Ballett", "Schauspiel", "Philharmoniker", "KJT", "Junge Oper")


def test_vocabulary_has_the_core_categories() -> None:
    slugs = [category.slug for category in VOCABULARY.all()]
    assert slugs[:4] == ["konzert", "oper", "ballett-tanz", "schauspiel"]
    assert {
        "musical",
        "kinder-familie",
        "ausstellung",
        "fuehrung",
        "messe-markt",
        "comedy",
        "party",
        "sport",
        "lesung",
        "fest",
        "kabarett",
        "film",
        "workshop",
        "vortrag",
    } <= set(slugs)


@pytest.mark.parametrize(
    ("slug", "lang", "label"),
    [
        ("fuehrung", "de", "Führung"),
        ("fuehrung", "en", "Guided tour"),
        ("kinder-familie", "de", "Kinder & Familie"),
        ("messe-markt", "en", "Fair & Market"),
    ],
)
def test_labels(slug: str, lang: str, label: str) -> None:
    assert VOCABULARY.label(slug, lang) == label  # type: ignore[arg-type]


def test_unknown_slug_label_raises() -> None:
    with pytest.raises(UnknownCategory, match="nope"):
        VOCABULARY.label("nope")


@pytest.mark.parametrize("genre", KONZERTHAUS_GENRES)
def test_every_konzerthaus_genre_is_known(genre: str) -> None:
    assert VOCABULARY.unknown([genre]) == []


@pytest.mark.parametrize("division", THEATER_DIVISIONS)
def test_every_theater_division_maps_to_something(division: str) -> None:
    assert VOCABULARY.map([division]) != []


@pytest.mark.parametrize(
    ("labels", "title", "slugs"),
    [
        (["Orchesterkonzert"], None, ["konzert"]),
        (["Konzertante Oper"], None, ["konzert", "oper"]),
        (["Tanz & Show"], None, ["ballett-tanz"]),
        (["Lieder- / Arienabend"], None, ["konzert"]),
        (["LIEDER-/ARIENABEND"], None, ["konzert"]),
        (["KJT"], None, ["schauspiel", "kinder-familie"]),
        (["Kinder- und Jugendtheater"], None, ["schauspiel", "kinder-familie"]),
        (["Junge Oper"], None, ["oper", "kinder-familie"]),
        (["Philharmoniker"], None, ["konzert"]),
        # order is the vocabulary's, whatever the input order; duplicates collapse
        (["Ballett", "Oper", "Oper", "Konzert"], None, ["konzert", "oper", "ballett-tanz"]),
        (["Oper, Ballett"], None, ["oper", "ballett-tanz"]),
        (["MusicEvent"], None, ["konzert"]),
        (["TheaterEvent"], None, ["schauspiel"]),
        (["ExhibitionEvent"], None, ["ausstellung"]),
        (["Concert"], None, ["konzert"]),
        (["Event"], None, []),
        (["Zoo"], "Zoo-Geburtstag", []),
        (["Musik & Dialog"], "Öffentliche Hausführung", ["vortrag", "fuehrung"]),
        ([], "Sonntagsführungen in den städtischen Museen", ["fuehrung"]),
        ([], "Führung durch die Ausstellung „Werde, die du bist!“", ["ausstellung", "fuehrung"]),
        ([], "Einführungsmatinee Madama Butterfly", []),
        ([], "Die Entführung aus dem Serail", []),
        ([], "Messe in h-Moll", []),
        ([], "Antik & Sammlermarkt", ["messe-markt"]),
        ([], "Arthouse: 20 Tage in Mariupol", ["film"]),
        ([], "Workshop: Protest-Plakate mit Schablonen", ["workshop"]),
        ([], "Gastspiel / Szenische Lesung DER MANNDECKER", ["lesung"]),
        ([], "7. Philharmonisches Konzert", ["konzert"]),
        ([], "Premiere: Dortmund feiert Silvester-Party auf dem Friedensplatz", ["party"]),
        ([], "Let’s Dance 2023", []),
    ],
)
def test_map(labels: list[str], title: str | None, slugs: list[str]) -> None:
    assert VOCABULARY.map(labels, title=title) == slugs


@pytest.mark.parametrize("label", ["Extra", "Kleiner Freitag", "Event", "Premiere", "Theater Gesamt"])
def test_known_labels_without_category(label: str) -> None:
    assert VOCABULARY.classify([label]) == CategoryMatch([], [])


def test_unknown_labels_are_reported_not_raised() -> None:
    match = VOCABULARY.classify(["Oper", "Geheimtipp-Reihe", " Geheimtipp-Reihe  ", "", "Konzert, Quatsch"])
    assert match.slugs == ["oper"]
    assert match.unknown == ["Geheimtipp-Reihe", "Konzert, Quatsch"]


KONZERTHAUS = konzerthaus_events()


def test_capture_read() -> None:
    require(KONZERTHAUS_CAPTURE)
    assert KONZERTHAUS


@pytest.mark.parametrize("event", KONZERTHAUS, ids=lambda event: event.detail_slug[:30])
def test_konzerthaus_events_get_a_category(event: KonzerthausEvent) -> None:
    match = VOCABULARY.classify([event.genre], event.title)
    assert match.unknown == [] and match.slugs


@settings(max_examples=200, deadline=None)
@given(labels=st.lists(st.text(max_size=20), max_size=4), title=st.none() | st.text(max_size=40))
def test_map_never_raises_and_is_canonical(labels: list[str], title: str | None) -> None:
    slugs = VOCABULARY.map(labels, title=title)
    known = [category.slug for category in VOCABULARY.all()]
    assert slugs == sorted(set(slugs), key=known.index)


CATEGORY_A = '[[category]]\nslug = "a"\nde = "A"\nen = "A"\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (CATEGORY_A + '[labels]\n"x" = ["b"]\n', "known slugs"),
        ('[[category]]\nslug = "a"\nde = "A"\n', "missing"),
        (CATEGORY_A + '[[hint]]\npattern = "("\nslugs = ["a"]\n', "bad pattern"),
        (CATEGORY_A + "[[hint]]\npattern = '\\w*a\\b'\nslugs = [\"a\"]\n", "must start with"),
        (CATEGORY_A + "[[hint]]\npattern = '\\ba|[|]?a'\nslugs = [\"a\"]\n", "must start with"),
        (CATEGORY_A + CATEGORY_A, "duplicate"),
        ("not toml [", "file"),
    ],
)
def test_bad_data_is_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "categories.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CategoryDataError, match=message) as caught:
        load_categories(path)
    assert caught.value.path == str(path)


@pytest.mark.parametrize(
    "pattern",
    [r"\bkonzert\b", r"^a|\b(?:x|\w*y)\b", r"\b[|(]x|\b\(y|\bz\|"],
)
def test_anchored_hints_are_accepted(tmp_path: Path, pattern: str) -> None:
    path = tmp_path / "categories.toml"
    path.write_text(f"{CATEGORY_A}[[hint]]\npattern = '{pattern}'\nslugs = [\"a\"]\n", encoding="utf-8")
    assert isinstance(load_categories(path), CategoryVocabulary)


def test_packaged_hints_find_words_inside_compounds() -> None:
    # anchoring "\w*konzert" at a word boundary must still find the compound
    assert VOCABULARY.map([], "Neujahrskonzert der Philharmoniker") == ["konzert"]
    assert VOCABULARY.map([], "Queerslam im U") == ["lesung"]


def test_custom_file(tmp_path: Path) -> None:
    path = tmp_path / "categories.toml"
    path.write_text('[[category]]\nslug = "a"\nde = "Ah"\nen = "Eh"\n[labels]\n"Alpha" = ["a"]\n', "utf-8")
    vocabulary = load_categories(path)
    assert isinstance(vocabulary, CategoryVocabulary)
    assert vocabulary.map(["ALPHA", "Ah", "eh", "a"]) == ["a"]
