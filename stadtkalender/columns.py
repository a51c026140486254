"""Plain aligned columns for the operator commands (`tokens list`, `users list`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime


def when(moment: datetime | None) -> str:
    """A moment in the operator's local time, to the minute; "—" for none."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "—"


def print_columns(rows: Sequence[Sequence[str]]) -> None:
    """Print ``rows`` (the first is the header) left-aligned in columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
