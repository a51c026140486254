"""``probe`` on every file of ../shared/ics-corpus served as a URL: found as a calendar, read or refused, never a crash.

The corpus is read in place (a snapshot index pointing at it is written to a temporary folder); nothing
is copied into the repository. Skipped when the corpus is absent, unless ``CI`` is set.
"""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest
from fixed_clock import NOW

from aggregator.config import ProbeSettings
from sources.probe import ProbeReport, probe
from sources.probe.guard import ProbeFetcher
from sources.snapshots import SnapshotFetcher

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).parents[2].parent / "shared" / "ics-corpus"
if not (CORPUS / "reference.tsv").is_file():
    if os.environ.get("CI"):
        raise RuntimeError(f"iCalendar corpus not found at {CORPUS}")
    pytest.skip(f"iCalendar corpus not found at {CORPUS}", allow_module_level=True)

with (CORPUS / "reference.tsv").open(encoding="utf-8") as handle:
    REFERENCE = {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}
FILES = sorted(REFERENCE)
BASE = "https://calendars.example/"
WINDOW = (1, 400)  # as a probe counts: most files are older, their recurring events still reach 2026


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ProbeReport]:
    folder = tmp_path_factory.mktemp("corpus-snapshot")
    index = {BASE + name: {"file": str(CORPUS / "files" / name), "content_type": ""} for name in FILES}
    (folder / "urls.json").write_text(json.dumps(index), encoding="utf-8")
    found = {}
    for name in FILES:
        fetcher = ProbeFetcher(SnapshotFetcher(folder, NOW), ProbeSettings(), resolve=None)
        found[name] = probe(BASE + name, fetcher, window_days=WINDOW, pages=10)
    return found


def test_every_file_is_probed_without_a_crash(reports: dict[str, ProbeReport]) -> None:
    assert sorted(reports) == FILES
    assert all(report.error is None for report in reports.values())


def test_every_calendar_icalendar_reads_is_found_as_one(reports: dict[str, ProbeReport]) -> None:
    readable = [
        name for name, row in REFERENCE.items() if row["parses"] == "yes" and int(row["vevents"] or 0) > 0
    ]
    assert readable
    for name in readable:
        assert [finding.candidate.kind for finding in reports[name].findings] == ["ical"], name
        assert reports[name].findings[0].error is None, name


def test_calendars_with_events_now_are_suggested_as_ical(reports: dict[str, ProbeReport]) -> None:
    usable = [name for name, report in reports.items() if report.best is not None]
    assert len(usable) >= 20  # the files whose events recur into the window
    assert all(reports[name].suggested()["type"] == "ical" for name in usable)
