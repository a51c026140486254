"""What reading one document gave: the result every format reader returns."""

from __future__ import annotations

from dataclasses import dataclass, field

from aggregator.listing import Listing, Rejection
from aggregator.window import OutsideCount

UNTITLED = "(ohne Titel)"
"""The title of a dated record without one: still worth showing; the validation step may decide otherwise."""


@dataclass(slots=True)
class ReadResult:
    """One document read: its listings, what was wrong with it, and what it held.

    ``records`` counts the source records the document held (VEVENTs, schema.org Event objects),
    before the window and rejections; ``outside`` counts those that fell outside the window.
    """

    listings: list[Listing] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    rejections: list[Rejection] = field(default_factory=list)
    records: int = 0
    outside: OutsideCount = field(default_factory=OutsideCount)

    def warn(self, message: str) -> None:
        """Add a warning unless it was said already."""
        if message not in self.warnings:
            self.warnings.append(message)

    def reject(self, rejection: Rejection, label: str) -> None:
        """Add a rejection and its warning, ``"<label>: <reason>"``."""
        self.rejections.append(rejection)
        self.warn(f"{label}: {rejection.reason}")
