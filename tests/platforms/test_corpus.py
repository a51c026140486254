"""The iCalendar importer against ../shared/ics-corpus: 249 real, partly broken files.

Every file must either parse or be refused with :class:`NotACalendar`, within a time bound. Where
``reference.tsv`` says icalendar parses the file, the number of VEVENTs seen and the number of
occurrences in 2020–2029 (recurring-ical-events) must match it, except for the files listed in the
tables below, each with its reason.

The module is skipped when the corpus is absent, unless the environment variable ``CI`` is set:
then a missing corpus is an error, so CI cannot silently skip it (see :func:`corpus_required`).
"""

from __future__ import annotations

import csv
import os
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

import pytest

from aggregator.formats.icalendar import NotACalendar, parse_calendar
from aggregator.formats.read_result import ReadResult
from aggregator.types import BERLIN

pytestmark = pytest.mark.corpus

CORPUS = Path(__file__).parents[2].parent / "shared" / "ics-corpus"
TIME_LIMIT_SECONDS = 20.0
# reference.tsv counted with recurring_ical_events.of(calendar).between((2020, 1, 1), (2030, 1, 1)),
# floating bounds; for these files that is the same as Berlin-local bounds (UTC bounds differ in
# one file whose yearly all-day event carries a TZID).
HORIZON = (datetime(2020, 1, 1, tzinfo=BERLIN), datetime(2030, 1, 1, tzinfo=BERLIN))
FETCHED_AT = datetime(2025, 1, 1, tzinfo=UTC)

# Files icalendar parses that we refuse as "not a calendar": they hold no VCALENDAR and no
# VEVENT, only a bare VTIMEZONE or an unknown component (library test inputs). An event feed
# like that is broken, and refusing it fails the run loudly instead of importing "zero events".
NOT_A_CALENDAR_FOR_US = {
    "icalendar__src__icalendar__tests__calendars__issue_178_component_with_invalid_name_represented.ics": (
        "only an unknown top-level component MYCOMP"
    ),
    "icalendar__src__icalendar__tests__timezones__issue_237_brazilia_standard.ics": "only a VTIMEZONE",
    "icalendar__src__icalendar__tests__timezones__issue_53_tzid_parsed_properly.ics": "only a VTIMEZONE",
    "icalendar__src__icalendar__tests__timezones__issue_55_parse_error_on_utc_offset_with_seconds.ics": (
        "only a VTIMEZONE"
    ),
    "icalendar__src__icalendar__tests__timezones__pacific_fiji.ics": "only a VTIMEZONE",
}

# Files whose VEVENT count differs from reference.tsv, with the difference (ours minus theirs) and
# the reason. None at present: the lenient parser sees exactly the VEVENTs icalendar sees.
VEVENT_DIFFERENCES: dict[str, tuple[int, str]] = {}

# Files whose occurrence count in 2020–2029 differs from reference.tsv, with the difference and the
# reason. None at present. Where recurring-ical-events failed on the reference run ("error: ..."),
# there is no number to compare with.
OCCURRENCE_DIFFERENCES: dict[str, tuple[int, str]] = {}


def corpus_required() -> bool:
    """Whether a missing corpus is an error rather than a reason to skip (true on CI)."""
    return bool(os.environ.get("CI"))


if not (CORPUS / "reference.tsv").is_file():
    message = f"iCalendar corpus not found at {CORPUS}"
    if corpus_required():
        pytest.fail(f"{message}, and CI is set: the corpus tests must run on CI", pytrace=False)
    pytest.skip(message, allow_module_level=True)


def _reference() -> dict[str, dict[str, str]]:
    with (CORPUS / "reference.tsv").open(encoding="utf-8", newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle, delimiter="\t")}


REFERENCE = _reference()
FILES = sorted(path.name for path in (CORPUS / "files").iterdir())
PARSED_BY_ICALENDAR = [name for name in FILES if REFERENCE.get(name, {}).get("parses", "").startswith("yes")]
WITH_OCCURRENCES = [
    name
    for name in PARSED_BY_ICALENDAR
    if REFERENCE[name]["occurrences_2020_2030"].isdigit() and name not in NOT_A_CALENDAR_FOR_US
]


@dataclass(slots=True, frozen=True)
class Outcome:
    """What parsing one corpus file did."""

    result: ReadResult | None
    error: BaseException | None
    seconds: float


@cache
def outcome(name: str) -> Outcome:
    """Parse one file once, in a daemon thread, so that a hang fails the test instead of the run."""
    data = (CORPUS / "files" / name).read_bytes()
    box: dict[str, object] = {}

    def work() -> None:
        try:
            box["result"] = parse_calendar(
                data, source="corpus", fetched_at=FETCHED_AT, window=HORIZON, origin=name
            )
        except BaseException as error:
            box["error"] = error

    began = time.monotonic()
    worker = threading.Thread(target=work, name=f"corpus:{name}", daemon=True)
    worker.start()
    worker.join(TIME_LIMIT_SECONDS)
    if worker.is_alive():
        pytest.fail(f"{name}: parse_calendar still running after {TIME_LIMIT_SECONDS:.0f} s", pytrace=False)
    result = box.get("result")
    error = box.get("error")
    return Outcome(
        result if isinstance(result, ReadResult) else None,
        error if isinstance(error, BaseException) else None,
        time.monotonic() - began,
    )


def test_corpus_is_complete() -> None:
    assert sorted(REFERENCE) == FILES


def test_difference_tables_name_existing_files() -> None:
    named = {*NOT_A_CALENDAR_FOR_US, *VEVENT_DIFFERENCES, *OCCURRENCE_DIFFERENCES}
    assert named <= set(FILES)


@pytest.mark.parametrize("name", FILES)
def test_file_is_read_or_refused_cleanly(name: str) -> None:
    error = outcome(name).error
    if error is not None and not isinstance(error, NotACalendar):
        raise AssertionError(f"{name}: {type(error).__name__} instead of a result or NotACalendar") from error
    if isinstance(error, NotACalendar):
        assert name in str(error) and "\n" not in str(error)


@pytest.mark.parametrize("name", PARSED_BY_ICALENDAR)
def test_refused_only_where_expected(name: str) -> None:
    refused = isinstance(outcome(name).error, NotACalendar)
    assert refused == (name in NOT_A_CALENDAR_FOR_US), (
        f"{name}: icalendar parses it; we {'refused' if refused else 'read'} it: {outcome(name).error}"
    )


@pytest.mark.parametrize("name", [name for name in PARSED_BY_ICALENDAR if name not in NOT_A_CALENDAR_FOR_US])
def test_vevents_seen_match_the_reference(name: str) -> None:
    result = outcome(name).result
    assert result is not None, f"{name}: no result ({outcome(name).error})"
    expected = int(REFERENCE[name]["vevents"]) + VEVENT_DIFFERENCES.get(name, (0, ""))[0]
    assert result.records == expected, (
        f"{name}: saw {result.records} VEVENTs, reference.tsv says {REFERENCE[name]['vevents']}"
    )


@pytest.mark.parametrize("name", WITH_OCCURRENCES)
def test_occurrences_match_the_reference(name: str) -> None:
    result = outcome(name).result
    assert result is not None, f"{name}: no result ({outcome(name).error})"
    expected = int(REFERENCE[name]["occurrences_2020_2030"]) + OCCURRENCE_DIFFERENCES.get(name, (0, ""))[0]
    assert len(result.listings) == expected, (
        f"{name}: {len(result.listings)} listings in 2020–2029, reference.tsv says "
        f"{REFERENCE[name]['occurrences_2020_2030']} occurrences; rejections: "
        f"{[rejection.reason for rejection in result.rejections]}"
    )


@pytest.mark.parametrize("name", FILES)
def test_record_ids_are_unique(name: str) -> None:
    result = outcome(name).result
    record_ids = [listing.record_id for listing in result.listings] if result else []
    assert len(record_ids) == len(set(record_ids)), f"{name}: duplicate record ids"
