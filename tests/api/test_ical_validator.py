"""A realistic feed read by eight independent iCalendar consumers (shared/tools/ical-validate).

Each consumer prints ``NAME OK|WARN|FAIL vevents=N occ=N sig=XXXXXXXX warnings=N | messages``; ``sig`` is
a hash of the UTC start instants it found in the window, so it is compared with the signature of the
instants the feed was rendered from. One known consumer bug is allowed for, narrowly: see
:data:`REPEATED_HOUR_BROKEN`.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from aggregator.types import BERLIN, Status
from calendar_api.ical_feed import FeedCalendar, FeedItem, render_calendar

pytestmark = pytest.mark.validator

VALIDATOR = Path(__file__).resolve().parents[2].parent / "shared" / "tools" / "ical-validate"
WINDOW = ("20260101", "20280101")
CONSUMERS = [
    "ical.js",
    "node-ical",
    "libical",
    "icalendar",
    "icalendar-strict",
    "recurring-ical-events",
    "vobject",
    "ics",
    "sabre-vobject",
]
LINT = "rfc5545-lint"
REPEATED_HOUR_BROKEN = {"recurring-ical-events"}
"""recurring-ical-events 3.8 applies X-WR-TIMEZONE by converting UTC times to that zone and then loses
``datetime.fold``: ``DTSTART:20261025T013000Z`` (the second 02:30 in Berlin) comes back as the first
02:30, an hour early, and an event ending in that hour gets a wrong start. Every other consumer agrees
with the feed, so this consumer is held to the exact signature only on the items that neither start
nor end in the hour that repeats when clocks go back."""

STAMP = datetime(2026, 2, 1, 9, 0, tzinfo=UTC)
HOSTILE_TITLE = "Lesung: „Kommas, Semikola; Backslash \\“ \r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nX-INJECT:1"
LONG_TEXT = "Grüße aus Dortmund 🎻🎺🥁 — Ärger, Öl; Übermut \\ „Zitat“ " * 8


def _berlin(year: int, month: int, day: int, hour: int = 20, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def _utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def _item(n: int, start: datetime, summary: str, **fields: object) -> FeedItem:
    base: dict[str, object] = {
        "uid": f"occ_{n:04d}@stadtkalender.dortmund",
        "sequence": n % 3,
        "dtstamp": STAMP,
        "created": STAMP - timedelta(days=30),
        "last_modified": STAMP - timedelta(days=n % 7),
        "start": start,
        "summary": summary,
        "location": "Konzerthaus Dortmund, Brückstraße 21, 44135 Dortmund",
        "geo": (51.5149, 7.4636),
        "url": f"https://stadtkalender.dortmund/termine/{n}",
        "categories": ("Musik",),
    }
    base.update(fields)
    return FeedItem(**base)  # type: ignore[arg-type]


ITEMS = [
    # Around the switch to summer time, 29 March 2026 (02:00 CET -> 03:00 CEST).
    _item(1, _berlin(2026, 3, 28, 19, 30), "Samstagskonzert", end=_berlin(2026, 3, 28, 22)),
    _item(2, _utc(2026, 3, 29, 0, 30), "Clubnacht vor der Umstellung", end=_utc(2026, 3, 29, 4)),
    _item(3, _utc(2026, 3, 29, 1, 30), "Erste Stunde Sommerzeit", end=_utc(2026, 3, 29, 2, 30)),
    _item(4, _berlin(2026, 3, 29, 2, 15), "Nicht existierende Uhrzeit (02:15)"),
    _item(5, _berlin(2026, 3, 30, 19), "Montagskonzert", end=_berlin(2026, 3, 30, 21)),
    # Around the switch back, 25 October 2026 (03:00 CEST -> 02:00 CET): 02:30 happens twice.
    _item(6, _berlin(2026, 10, 24, 22), "Lange Nacht über die Umstellung", end=_berlin(2026, 10, 25, 5)),
    _item(7, _utc(2026, 10, 25, 0, 30), "Erstes 02:30 (Sommerzeit)", end=_utc(2026, 10, 25, 1, 15)),
    _item(8, _utc(2026, 10, 25, 1, 30), "Zweites 02:30 (Winterzeit)", end=_utc(2026, 10, 25, 2, 15)),
    _item(9, _utc(2026, 10, 25, 2, 30), "03:30 Winterzeit", end=_utc(2026, 10, 25, 3, 30)),
    _item(10, _berlin(2026, 10, 26, 20), "Montag nach der Umstellung", end=_berlin(2026, 10, 26, 22)),
    # All-day: one day, a three-day festival, a span over the spring switch.
    _item(11, _berlin(2026, 6, 21, 0), "Fête de la Musique", all_day=True),
    _item(12, _berlin(2026, 7, 10, 0), "Juicy Beats Festival", all_day=True, end=_berlin(2026, 7, 13, 0)),
    _item(13, _berlin(2026, 3, 28, 0), "Wochenende der Museen", all_day=True, end=_berlin(2026, 3, 30, 0)),
    # Statuses.
    _item(14, _berlin(2026, 5, 14), "Mahler: Sinfonie Nr. 2", status=Status.CANCELLED),
    _item(15, _berlin(2026, 5, 15), "Jazz im Depot", status=Status.POSTPONED),
    _item(16, _berlin(2026, 5, 16), "Theater: Faust I", status=Status.RESCHEDULED, sequence=4),
    # Text that must stay inside its property.
    _item(17, _berlin(2026, 9, 3), HOSTILE_TITLE, description=HOSTILE_TITLE, location=HOSTILE_TITLE),
    _item(18, _berlin(2026, 9, 4), "BEGIN:VEVENT", description="X-INJECT:1\nEND:VCALENDAR"),
    _item(19, _berlin(2026, 9, 5), LONG_TEXT, description="\n".join([LONG_TEXT] * 3), categories=("Ü" * 40,)),
    _item(
        20,
        _berlin(2026, 9, 6),
        "Emoji 👩‍👩‍👧‍👦 und Umlaute äöüß",
        url="https://example.org/Straße der Musik?x=ä",
        image="https://example.org/bild.jpg",
        image_type="image/jpeg",
    ),
    # No end, midnight start, New Year's Eve, no optional properties.
    _item(21, _berlin(2026, 11, 7, 19), "Offene Probe ohne Ende"),
    _item(22, _berlin(2026, 11, 8, 0), "Mitternachtsvorstellung", end=_berlin(2026, 11, 8, 2)),
    _item(23, _berlin(2026, 12, 31, 23), "Silvesterparty", end=_berlin(2027, 1, 1, 4)),
    FeedItem(
        uid="occ_bare@stadtkalender.dortmund",
        sequence=0,
        dtstamp=STAMP,
        last_modified=STAMP,
        start=_berlin(2026, 12, 5, 18),
        summary="Nur das Nötigste",
    ),
    # 2027, including both switches.
    *(
        _item(30 + week, _berlin(2027, 1, 7, 20) + timedelta(weeks=week), f"Donnerstagskonzert {week + 1}")
        for week in range(4)
    ),
    _item(40, _utc(2027, 3, 28, 1, 30), "Sommerzeit 2027"),
    _item(41, _utc(2027, 10, 31, 0, 30), "Erstes 02:30 in 2027"),
    _item(42, _utc(2027, 10, 31, 1, 30), "Zweites 02:30 in 2027"),
    _item(43, _berlin(2027, 8, 20, 0), "Stadtfest 2027", all_day=True, end=_berlin(2027, 8, 23, 0)),
]
CALENDAR = FeedCalendar(
    name="Stadtkalender Dortmund — Alle Termine",
    description="Konzerte, Theater, Feste; täglich aktualisiert.",
    url="https://stadtkalender.dortmund/",
    source_url="https://stadtkalender.dortmund/alle.ics",
    color="teal",
)


def _key(item: FeedItem) -> str:
    """The validators' occurrence key: all-day ``YYYYMMDD`` (local day), timed the UTC instant."""
    if item.all_day:
        return item.start.astimezone(BERLIN).strftime("%Y%m%d")
    return item.start.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _sig(items: list[FeedItem]) -> str:
    return hashlib.sha1("\n".join(sorted(_key(item) for item in items)).encode()).hexdigest()[:8]


def _in_repeated_hour(instant: datetime | None) -> bool:
    local = instant.astimezone(UTC).astimezone(BERLIN) if instant else None  # via UTC: gap times too
    return local is not None and local.replace(fold=1 - local.fold).utcoffset() != local.utcoffset()


CLEAR = [
    item
    for item in ITEMS
    if item.all_day or not (_in_repeated_hour(item.start) or _in_repeated_hour(item.end))
]


@dataclass(frozen=True)
class Verdict:
    """One consumer's line."""

    consumer: str
    verdict: str
    counts: dict[str, str]
    messages: str


@dataclass(frozen=True)
class Run:
    """The validator's exit status and its lines by consumer."""

    returncode: int
    verdicts: dict[str, Verdict]
    output: str


_LINE = re.compile(
    r"^(?P<name>\S+)(?: \S+)?\s+(?P<verdict>OK|WARN|FAIL)\b(?P<counts>[^|]*)(?:\| (?P<messages>.*))?$"
)


def _parse(output: str) -> dict[str, Verdict]:
    verdicts = {}
    for line in output.splitlines():
        if match := _LINE.match(line):
            counts = dict(re.findall(r"(\w+)=(\S+)", match["counts"]))
            name = match["name"]
            verdicts[name] = Verdict(name, match["verdict"], counts, match["messages"] or "")
    return verdicts


def _validate(directory: Path, items: list[FeedItem]) -> Run:
    if not VALIDATOR.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{VALIDATOR} is missing: CI must run the iCalendar consumers")
        pytest.skip(f"{VALIDATOR} not found")
    feed = directory / "feed.ics"
    feed.write_bytes(render_calendar(CALENDAR, items))
    # The first run installs the consumers (pip, npm, apt) into ~/.cache/ical-validate: minutes.
    result = subprocess.run(
        [str(VALIDATOR), str(feed), *WINDOW], capture_output=True, text=True, timeout=1800, check=False
    )
    return Run(result.returncode, _parse(result.stdout), result.stdout + result.stderr)


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The validator on the whole feed."""
    return _validate(tmp_path_factory.mktemp("all"), ITEMS)


@pytest.fixture(scope="module")
def clear_run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    """The validator on the feed without the items that touch the repeated hour."""
    return _validate(tmp_path_factory.mktemp("clear"), CLEAR)


def test_feed_has_distinct_starts_and_items_in_the_repeated_hour() -> None:
    keys = [_key(item) for item in ITEMS]
    assert (len(ITEMS) >= 30, len(set(keys)) == len(keys), len(ITEMS) - len(CLEAR)) == (True, True, 4)


def test_validator_exits_zero(run: Run, clear_run: Run) -> None:
    assert (run.returncode, clear_run.returncode) == (0, 0), run.output + clear_run.output


def test_every_consumer_reported(run: Run) -> None:
    assert sorted(run.verdicts) == sorted([*CONSUMERS, LINT]), run.output


@pytest.mark.parametrize("consumer", [*CONSUMERS, LINT])
def test_consumer_accepts_the_feed_without_warnings(run: Run, consumer: str) -> None:
    verdict = run.verdicts[consumer]
    assert (verdict.verdict, verdict.messages) == ("OK", "")


@pytest.mark.parametrize("consumer", [*CONSUMERS, LINT])
def test_consumer_sees_every_event(run: Run, consumer: str) -> None:
    assert run.verdicts[consumer].counts["vevents"] == str(len(ITEMS))


EXPANDING = [consumer for consumer in CONSUMERS if consumer != "sabre-vobject"]  # sabre reports no starts


@pytest.mark.parametrize("consumer", EXPANDING)
def test_consumer_finds_every_start(run: Run, consumer: str) -> None:
    assert run.verdicts[consumer].counts["occ"].removesuffix("(no-expansion)") == str(len(ITEMS))


@pytest.mark.parametrize("consumer", [c for c in EXPANDING if c not in REPEATED_HOUR_BROKEN])
def test_consumer_finds_the_rendered_start_instants(run: Run, consumer: str) -> None:
    assert run.verdicts[consumer].counts["sig"] == _sig(ITEMS)


@pytest.mark.parametrize("consumer", EXPANDING)
def test_consumer_finds_the_rendered_start_instants_outside_the_repeated_hour(
    clear_run: Run, consumer: str
) -> None:
    assert clear_run.verdicts[consumer].counts["sig"] == _sig(CLEAR)


def test_lint_finds_no_errors(run: Run) -> None:
    counts = run.verdicts[LINT].counts
    assert (counts["errors"], counts["warnings"]) == ("0", "0")
