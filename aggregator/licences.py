"""Data licences: the calendar's own (``open_data.licence_*``) and a source's, where its terms differ.

A source table may say ``licence = "CC BY 4.0"`` and ``licence_url = "..."`` (a venue's data under its
own terms); a source that says nothing is under the calendar's licence. Shown on event pages and in the
API, and carried into the exports.
"""

from __future__ import annotations

from dataclasses import dataclass

from aggregator.config import Settings


@dataclass(frozen=True, slots=True)
class Licence:
    """A licence by name, with the URL of its text when known."""

    name: str
    url: str | None = None

    def as_json(self) -> dict[str, str | None]:
        """``{"name": ..., "url": ...}``."""
        return {"name": self.name, "url": self.url}


class Licences:
    """Which licence the data of each source is under."""

    def __init__(self, default: Licence, by_source: dict[str, Licence]) -> None:
        self.default = default
        self._by_source = by_source

    @classmethod
    def from_settings(cls, settings: Settings) -> Licences:
        """The calendar's licence and every source table's ``licence``/``licence_url``."""
        data = settings.open_data
        default = Licence(data.licence_name, data.licence_url or None)
        by_source = {
            name: Licence(str(table["licence"]), str(table.get("licence_url") or "") or None)
            for name, table in settings.sources.items()
            if table.get("licence")
        }
        return cls(default, by_source)

    def of(self, source: str) -> Licence:
        """The licence of ``source``'s data."""
        return self._by_source.get(source, self.default)
