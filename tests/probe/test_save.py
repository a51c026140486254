"""``sources.d/NAME.toml``: written so it reads back as written, and read by the settings loader strictly."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from aggregator.config import ConfigError, load_settings
from sources.catalog import catalog
from sources.probe.save import SaveRefused, save_source, toml_table

TABLE = {"type": "embedded", "url": "https://venue.example/programm/", "follow": r"/programm/[^/?#]+/?$"}


@pytest.mark.parametrize(
    "text",
    [
        'Club "Ost"',
        "C:\\Pfad\\",
        "Zeile\nzwei",
        "Tab\tund\x7fDEL",
        "Café Ümlaut – „Anführung“",
        "emoji 🎷",
        "\x00",
    ],
)
def test_any_text_reads_back_as_written(text: str) -> None:
    table = {**TABLE, "venue": text, "follow_too": [text, "x"], "max_pages": 60, "enabled": True}
    assert tomllib.loads(toml_table("club", table))["sources"]["club"] == table


def test_other_values_are_refused() -> None:
    with pytest.raises(SaveRefused):
        toml_table("club", {"type": "ical", "nested": {"a": 1}})


def _settings_in(folder: Path) -> Path:
    path = folder / "settings.toml"
    path.write_text(
        '[database]\nurl = "sqlite:///x.db"\n\n[sources.fzw]\ntype = "ical"\nurl = "https://fzw.example/x.ics"\n'
    )
    return path


def test_a_saved_table_is_a_source_and_settings_stay_as_they_were(tmp_path: Path) -> None:
    path = _settings_in(tmp_path)
    before = path.read_text()
    saved = save_source(tmp_path / "sources.d", "club", TABLE, taken={"fzw"}, comments=["probed by a test"])
    assert saved.read_text().startswith("# probed by a test\n[sources.club]\n")
    settings = load_settings(path, env={})
    assert settings.sources["club"] == TABLE and settings.sources["fzw"]["type"] == "ical"
    assert catalog(settings)["club"].cls.__name__ == "EmbeddedSource"
    assert path.read_text() == before


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("club", "[sources.other]\ntype = 'ical'\n", r"one table \[sources\.club\]"),
        ("club", "[database]\nurl = 'x'\n", r"one table \[sources\.club\]"),
        ("club", "[sources.club\n", "not valid TOML"),
        ("fzw", "[sources.fzw]\ntype = 'ical'\nurl = 'https://x.example/y.ics'\n", "also defined in"),
    ],
)
def test_the_loader_refuses_odd_files(tmp_path: Path, name: str, text: str, message: str) -> None:
    path = _settings_in(tmp_path)
    (tmp_path / "sources.d").mkdir()
    (tmp_path / "sources.d" / f"{name}.toml").write_text(text)
    with pytest.raises(ConfigError, match=message):
        load_settings(path, env={})


def test_an_unknown_type_in_a_saved_file_names_the_key(tmp_path: Path) -> None:
    path = _settings_in(tmp_path)
    save_source(tmp_path / "sources.d", "club", {"type": "myspace", "url": "https://x.example/"}, taken=())
    with pytest.raises(ConfigError, match=r"sources\.club\.type"):
        catalog(load_settings(path, env={}))
