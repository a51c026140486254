"""``stadtkalender open-data export``, ``stadtkalender webhooks add|list|log|enable`` and ``stadtkalender publish``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from stadtkalender.cli import main


def test_export_writes_the_files_and_the_manifest(
    database: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "exports"
    monkeypatch.setenv("STADTKALENDER_OPEN_DATA_EXPORT_DIR", str(target))
    assert main(["open-data", "export"]) == 0
    manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    assert sorted(f["name"] for f in manifest["files"]) == [
        "events.ics.gz",
        "events.jsonld.gz",
        "occurrences.csv.gz",
    ]
    assert all((target / f["name"]).exists() for f in manifest["files"])
    assert "change-feed cursor of this export: 0" in capsys.readouterr().out


def test_webhooks_are_added_listed_logged_and_enabled(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["webhooks", "add", "http://127.0.0.1:9/hook", "--owner", "anna@dortmund.de"]) == 1
    assert "private address" in capsys.readouterr().err
    added = ["webhooks", "add", "https://93.184.216.34/hook", "--owner", "anna@dortmund.de", "--venue", "fzw"]
    assert main(added) == 0
    out = capsys.readouterr().out
    assert "webhook 1 for https://93.184.216.34/hook" in out and "whsec_" in out
    assert main(["webhooks", "list"]) == 0
    listed = capsys.readouterr().out
    assert "venue=fzw" in listed and "anna@dortmund.de" in listed
    assert main(["webhooks", "log", "1"]) == 0
    assert "attempt" in capsys.readouterr().out
    assert main(["webhooks", "enable", "1"]) == 0
    assert main(["webhooks", "enable", "7"]) == 1
    assert "no webhook 7" in capsys.readouterr().err


def test_publish_writes_the_files_and_names_a_bad_dir(
    database: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["publish", str(tmp_path / "public")]) == 0
    assert (tmp_path / "public/feeds/events.ics.br").is_file()
    assert "URLs published to" in capsys.readouterr().out
    (tmp_path / "file").write_text("x")
    assert main(["publish", str(tmp_path / "file")]) == 1
    assert "file: exists and is not a directory" in capsys.readouterr().err
    assert main(["publish"]) == 2
    assert "give a DIR or set publish.dir" in capsys.readouterr().err
