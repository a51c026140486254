"""The demo's dates: the day the bundled snapshots were current, and the shift that makes them current now.

The day is recorded once, by hand, in ``<ingest.snapshots_dir>/snapshots.toml`` (``current_on``,
``current_for_weeks``) — the snapshots' files carry no reliable recording date of their own (most are
reconstructed, see ``tests/fixtures/README.md``).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, replace
from datetime import date, datetime

from aggregator.config import ConfigError, DemoSettings, Settings
from aggregator.timeshift import demo_shift
from aggregator.types import BERLIN

SNAPSHOTS_FILE = "snapshots.toml"


@dataclass(frozen=True, slots=True)
class SnapshotDates:
    """When the snapshots were made current for, and for how many weeks they pass as current."""

    current_on: date
    current_for_weeks: int


def snapshot_dates(settings: Settings) -> SnapshotDates | None:
    """The snapshot folder's ``snapshots.toml``; ``None`` when there is none (its dates are then kept).

    Raises :class:`ConfigError` naming the file and key when it is malformed.
    """
    path = settings.project_path(settings.ingest.snapshots_dir) / SNAPSHOTS_FILE
    if not path.exists():
        return None
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError("(file)", f"cannot read: {exc}", str(path)) from exc
    current_on = data.get("current_on")
    if not isinstance(current_on, date) or isinstance(current_on, datetime):
        raise ConfigError("current_on", f"expected a day like 2026-11-21, got {current_on!r}", str(path))
    weeks = data.get("current_for_weeks", 0)
    if not isinstance(weeks, int) or isinstance(weeks, bool) or weeks < 0:
        raise ConfigError("current_for_weeks", f"expected a whole number ≥ 0, got {weeks!r}", str(path))
    return SnapshotDates(current_on, weeks)


def demo_settings(settings: Settings, now: datetime) -> Settings:
    """``settings`` with the ``demo`` section the snapshots need at ``now`` (aware).

    The shift is in whole weeks (see :func:`aggregator.timeshift.demo_shift`); the runtime built
    from these settings applies it to every ingest, and the pages and feeds announce it.
    """
    dates = snapshot_dates(settings)
    if dates is None:
        return replace(settings, demo=DemoSettings())
    weeks = demo_shift(dates.current_on, dates.current_for_weeks, now.astimezone(BERLIN).date())
    return replace(
        settings, demo=DemoSettings(shift_weeks=weeks, snapshots_current_on=dates.current_on.isoformat())
    )
