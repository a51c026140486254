"""Access to the real venue captures in ../shared/venue-data (read-only, never copied here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pytest

VENUE_DATA = Path(__file__).resolve().parents[3] / "shared" / "venue-data"
KONZERTHAUS_CAPTURE = (
    VENUE_DATA
    / "fixtures"
    / "konzerthaus-dortmund"
    / "nachtmusik_raw_programm_2026-05-17T15-06-23Z.first32000chars.md"
)
CITY_PORTAL_PAGE = VENUE_DATA / "pages" / "dortmund-de__startseite_2023-11-28.seed.txt"


@dataclass(frozen=True)
class KonzerthausEvent:
    """One event block of the Konzerthaus programme capture, as raw text."""

    date_text: str
    time_text: str
    genre: str
    title: str
    buttons: tuple[str, ...]
    detail_slug: str


def require(path: Path) -> None:
    """Skip the calling test when ../shared/venue-data is not beside the repository."""
    if not path.exists():
        pytest.skip(f"{path} not available")


def read(path: Path) -> str:
    """The text of a venue-data file; empty when ../shared is not there (tests then skip)."""
    return path.read_text(encoding="utf-8") if path.exists() else ""


def konzerthaus_events() -> list[KonzerthausEvent]:
    """The event blocks of the Konzerthaus capture (date, time, genre, title, buttons, slug)."""
    text = read(KONZERTHAUS_CAPTURE)
    blocks = re.split(r"\n- - ", text)[1:]
    events = []
    for block in blocks:
        lines = [line.strip() for line in block.splitlines()]
        date_text, time_text = lines[0], lines[1].removeprefix("- ")
        content = [line for line in lines[2:] if line and not line.startswith(("![", "- ", "["))]
        buttons = tuple(re.findall(r"(?<!!)\[([^\]]+?)\]\(", block.split("Zur Detailseite")[0]))
        slug = re.search(r"Zur Detailseite dieser Veranstaltung\]\([^)]*/programm/([^/]+)/\)", block)
        if slug is None:
            continue
        events.append(
            KonzerthausEvent(
                date_text=date_text,
                time_text=time_text,
                genre=content[0],
                title=content[1].replace("\\.", "."),
                buttons=tuple(button.replace("\\\\", "").strip() for button in buttons),
                detail_slug=slug.group(1),
            )
        )
    return events


def city_portal_entries() -> list[tuple[str, str, str, str]]:
    """(date, time, venue, title) quadruples of the dortmund.de Veranstaltungskalender teaser."""
    lines = [line.strip() for line in read(CITY_PORTAL_PAGE).splitlines()]
    date_line = re.compile(r"^(Mo|Di|Mi|Do|Fr|Sa|So) \d{1,2}\. \w+ \d{4}$")
    entries = []
    for index, line in enumerate(lines[:-5]):
        if date_line.match(line) and "Uhr" in lines[index + 1]:
            entries.append((line, lines[index + 1], lines[index + 3], lines[index + 5]))
    return entries
