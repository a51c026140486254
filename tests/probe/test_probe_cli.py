"""``stadtkalender probe`` on a fixture of every kind: it finds the events, and the table it saves ingests them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from fixed_clock import NOW, clock

from aggregator.config import load_settings
from aggregator.db import make_engine, session_factory, upgrade
from aggregator.ingest import IngestContext
from aggregator.types import RunStatus
from scheduler.runner import run_source
from sources.catalog import catalog
from sources.snapshots import SnapshotFetcher
from stadtkalender.cli import main

REPO = Path(__file__).resolve().parents[2]
PROBES = REPO / "tests" / "fixtures" / "probe"

CASES = [
    # folder, URL probed, the kind that must be found, its events, the suggested type
    ("ical_link", "https://www.ginkgo-do.de/termine.html", "ical", 2, "ical"),
    ("ical_link", "https://www.ginkgo-do.de/termine.html", "webcal", 2, "ical"),
    ("publishers", "https://termine.example.org/google.html", "google", 8, "ical"),
    ("publishers", "https://termine.example.org/outlook.html", "outlook", 2, "ical"),
    ("publishers", "https://termine.example.org/icloud.html", "icloud", 2, "ical"),
    ("publishers", "https://termine.example.org/teamup.html", "teamup", 1, "ical"),
    ("publishers", "https://termine.example.org/meetup.html", "meetup", 1, "ical"),
    ("tribe", "https://dortmunder-u.de/programm/", "tribe", 14, "tribe"),
    ("tribe", "https://dortmunder-u.de/programm/", "ical", 1, "tribe"),
    ("squarespace", "https://www.domicil-dortmund.example/programm", "squarespace", 3, "squarespace"),
    ("structured", "https://www.fussballmuseum.de/veranstaltungen/", "json-ld", 8, "embedded"),
    ("structured", "https://www.konzerthaus-dortmund.de/de/programm/", "microdata", 27, "embedded"),
    ("structured", "https://www.westfalenhallen.de/veranstaltungen/", "rdfa", 15, "embedded"),
    ("structured", "https://www.phoenix-lumieres.com/de/programm", "microformat", 19, "embedded"),
    ("rss", "https://dortmunder-u.de/kleiner-freitag/", "rss", 3, "rss"),
    (
        "pages",
        "https://www.konzerthaus-dortmund.de/de/programm/reihe/philharmonische-konzerte/",
        "pages",
        2,
        "embedded",
    ),
    (
        "pages",
        "https://www.konzerthaus-dortmund.de/de/programm/reihe/philharmonische-konzerte/",
        "sitemap",
        2,
        "embedded",
    ),
]
IDS = [f"{folder}-{kind}" for folder, _, kind, _, _ in CASES]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A settings.toml of its own (so --save writes beside it), with a SQLite database there."""
    shutil.copy(REPO / "settings.toml", tmp_path / "settings.toml")
    monkeypatch.setenv("STADTKALENDER_SETTINGS", str(tmp_path / "settings.toml"))
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", f"sqlite:///{tmp_path / 'probe.db'}")
    return tmp_path


def _probe(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["probe", *args])
    return code, capsys.readouterr().out


def _json(capsys: pytest.CaptureFixture[str], folder: str, url: str) -> tuple[int, dict[str, Any]]:
    code, out = _probe(capsys, url, "--snapshots", str(PROBES / folder), "--json")
    return code, json.loads(out)


@pytest.mark.parametrize(("folder", "url", "kind", "events", "suggested"), CASES, ids=IDS)
def test_probe_finds_the_events_of_each_kind(
    home: Path,
    capsys: pytest.CaptureFixture[str],
    folder: str,
    url: str,
    kind: str,
    events: int,
    suggested: str,
) -> None:
    code, report = _json(capsys, folder, url)
    assert code == 0
    assert set(report) == {"url", "found", "suggested"} and report["url"] == url
    for entry in report["found"]:
        assert set(entry) == {"kind", "url", "events", "first", "last", "missing"}
    entry = max((e for e in report["found"] if e["kind"] == kind), key=lambda e: int(e["events"]))
    assert entry["events"] == events
    assert entry["first"] <= entry["last"]
    assert report["suggested"]["type"] == suggested


SAVED = {url: events for _folder, url, kind, events, _type in CASES if kind not in ("webcal", "pages")}
"""Events the suggested table of each probed URL ingests (the tribe page's REST API, the sitemap)."""
SAVED["https://dortmunder-u.de/programm/"] = 14


@pytest.mark.parametrize(
    ("folder", "url"), sorted({(f, u) for f, u, *_ in CASES}), ids=lambda v: str(v)[-40:]
)
def test_the_saved_table_ingests_the_events_on_the_next_run(
    home: Path, capsys: pytest.CaptureFixture[str], folder: str, url: str
) -> None:
    code, out = _probe(capsys, url, "--snapshots", str(PROBES / folder), "--save", "new_venue")
    assert code == 0, out
    saved = home / "sources.d" / "new_venue.toml"
    assert saved.is_file() and "[sources.new_venue]" in saved.read_text(encoding="utf-8")
    assert "# Sources." in (home / "settings.toml").read_text(encoding="utf-8")  # its comments untouched

    settings = load_settings()
    spec = catalog(settings)["new_venue"]
    engine = make_engine(settings.database.url)
    upgrade(engine)
    ctx = IngestContext(session_factory(engine), settings, kinds={"new_venue": "venue"}, clock=clock())
    result = run_source(ctx, spec, SnapshotFetcher(PROBES / folder, NOW), now=NOW)
    assert result.status == RunStatus.SUCCESS, result.error
    assert result.listings == SAVED[url]


def test_text_output_names_kind_url_count_dates_titles_gaps_and_the_table(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = _probe(
        capsys, "https://www.domicil-dortmund.example/programm", "--snapshots", str(PROBES / "squarespace")
    )
    assert code == 0
    for text in (
        "squarespace",
        "https://www.domicil-dortmund.example/programm?format=json",
        "3 events, 2026-12-03 – 2027-01-10",
        "no price",
        "· Jazz-Session im Keller",
        "[sources.NAME]",
        'type = "squarespace"',
        'venue = "domicil"',
        "--save NAME",
    ):
        assert text in out


def test_a_news_feed_is_found_but_not_usable(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, report = _json(capsys, "rss", "https://dortmunder-u.de/kleiner-freitag/")
    [news] = [entry for entry in report["found"] if entry["url"].endswith("/feed/")]
    assert (news["events"], news["missing"]) == (0, ["events"])


def test_nothing_usable_exits_1_and_says_so(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _probe(
        capsys,
        "https://www.konzerthaus-dortmund.de/de/programm/",
        "--snapshots",
        str(REPO / "tests" / "fixtures" / "konzerthaus"),
    )
    assert code == 1 and "nothing usable found" in out
    code, out = _probe(
        capsys, "https://www.ginkgo-do.de/nicht-da.html", "--snapshots", str(PROBES / "ical_link")
    )
    assert code == 1 and "cannot be read" in out


def test_nothing_usable_is_not_saved(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = str(REPO / "tests" / "fixtures" / "konzerthaus")
    code = main(
        ["probe", "https://www.konzerthaus-dortmund.de/de/programm/", "--snapshots", folder, "--save", "kh2"]
    )
    assert code == 1 and not (home / "sources.d").exists()


@pytest.mark.parametrize("name", ["konzerthaus", "Bad-Name", "x"])
def test_save_refuses_a_taken_or_bad_name(home: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    code = main(
        [
            "probe",
            "https://www.ginkgo-do.de/termine.html",
            "--snapshots",
            str(PROBES / "ical_link"),
            "--save",
            name,
        ]
    )
    assert code == 2
    assert not (home / "sources.d" / f"{name}.toml").exists()
    assert "stadtkalender probe:" in capsys.readouterr().err


def test_save_twice_refuses_the_second(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = [
        "probe",
        "https://www.ginkgo-do.de/termine.html",
        "--snapshots",
        str(PROBES / "ical_link"),
        "--save",
        "ginkgo",
    ]
    assert main(args) == 0
    assert main(args) == 2


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/",
        "http://[::1]/",
        "http://10.1.2.3/programm",
        "http://localhost/",
        "file:///etc/passwd",
    ],
)
def test_private_and_local_urls_are_refused(home: Path, capsys: pytest.CaptureFixture[str], url: str) -> None:
    assert main(["probe", url]) == 2
    assert "stadtkalender probe:" in capsys.readouterr().err


def test_a_snapshot_folder_without_urls_json_is_bad_input(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["probe", "https://www.ginkgo-do.de/termine.html", "--snapshots", str(tmp_path / "none")]) == 2
    )


def test_record_captures_what_a_probe_fetched_and_replays_alike(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "https://dortmunder-u.de/programm/"
    recorded = tmp_path / "recorded"
    code, out = _probe(capsys, url, "--snapshots", str(PROBES / "tribe"), "--record", str(recorded), "--json")
    assert code == 0
    index = json.loads((recorded / "urls.json").read_text(encoding="utf-8"))
    assert url in index and any("/wp-json/tribe/events/v1/events" in key for key in index)
    again = _probe(capsys, url, "--snapshots", str(recorded), "--json")
    assert json.loads(again[1]) == json.loads(out)
