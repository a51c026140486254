"""The bilingual lexicon of duplicate matching (aggregator/data/lexicon.toml): the packaged file and bad data."""

from __future__ import annotations

from pathlib import Path

import pytest

from aggregator.matching.words import LEXICON, LexiconDataError, load_lexicon


def test_the_packaged_lexicon_reads_english_works_and_transliterations_in_german() -> None:
    assert (
        LEXICON.phrases[("magic", "flute")],
        LEXICON.phrases[("piano", "recital")],
        LEXICON.phrases[("tchaikovsky",)],
        LEXICON.phrases[("children",)],
    ) == (("die", "zauberfloete"), ("klavierabend",), ("tschaikowsky",), ("fuer", "kinder"))


def test_works_are_known_by_their_german_title_without_stopwords() -> None:
    assert {("zauberfloete",), ("peter", "wolf"), ("verklaerte", "nacht")} <= LEXICON.works


def test_words_of_the_lexicon_are_vocabulary_and_names_are_not() -> None:
    assert {"konzert", "klavierabend", "concert", "liest"} <= LEXICON.vocabulary
    assert not {"tschaikowsky", "zauberfloete", "levit"} & LEXICON.vocabulary


@pytest.mark.parametrize(
    ("text", "entry", "message"),
    [
        ('[words]\n"concert" = 1\n', "words.concert", "must be a string"),
        ('[words]\n"the" = "Der"\n', "words.the", "no word to match"),
        ('[words]\n"concert" = "Konzert"\n"Concert!" = "Oper"\n', "words.Concert!", "read as"),
        ('[works]\n"Die Zauberflöte" = "The Magic Flute"\n', "works.Die Zauberflöte", "list of strings"),
        ('[names]\n"Tschaikowsky" = [1]\n', "names.Tschaikowsky", "list of strings"),
        ('[common]\nstopwords = "by"\n', "common.stopwords", "list of strings"),
        ("words = 1\n", "words", "must be a table"),
        ("not toml [", "file", "Expected"),
    ],
)
def test_bad_data_names_the_file_and_the_entry(tmp_path: Path, text: str, entry: str, message: str) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(LexiconDataError, match=message) as caught:
        load_lexicon(path)
    assert (caught.value.path, caught.value.entry) == (str(path), entry)


def test_a_small_lexicon_of_ones_own(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.toml"
    path.write_text('[works]\n"Der Freischütz" = ["The Marksman"]\n', encoding="utf-8")
    lexicon = load_lexicon(path)
    assert lexicon.phrases[("marksman",)] == ("der", "freischuetz") and lexicon.works == {("freischuetz",)}
