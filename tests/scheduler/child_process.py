"""Run in a subprocess by the scheduler tests: ``python child_process.py MODE DATABASE_URL MARKER``.

``kill``: ingest 300 listings of source ``victim`` and stop inside the ingest transaction, after the
new and changed rows were flushed but before the commit; write MARKER and wait to be SIGKILLed.

``sigterm``: run the scheduler (as ``stadtkalender scheduler`` does) with one slow source ``slow``
on a one-second interval, until SIGTERM; the source writes MARKER when its run begins.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent.parent)]

from scheduler_fakes import ListSource, NoFetcher, spec  # noqa: E402
from sqlalchemy import event  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from aggregator.clock import system_clock  # noqa: E402
from aggregator.config import load_settings  # noqa: E402
from aggregator.db import make_engine, session_factory  # noqa: E402
from aggregator.ingest import IngestContext  # noqa: E402
from aggregator.models import SourceRecord  # noqa: E402
from scheduler.runner import run_source  # noqa: E402
from scheduler.service import SchedulerService, run_until_signalled  # noqa: E402
from stadtkalender.runtime import Runtime  # noqa: E402


def _kill(url: str, marker: Path) -> int:
    def pause_inside_transaction(session: Session, _context: Any) -> None:
        if any(isinstance(obj, SourceRecord) for obj in session.new):
            marker.write_text("inside the ingest transaction")
            time.sleep(120)

    event.listen(Session, "after_flush", pause_inside_transaction)
    settings = load_settings(HERE.parent.parent / "settings.toml", env={})
    engine = make_engine(url)
    context = IngestContext(session_factory(engine), settings, kinds={"victim": "venue"}, clock=system_clock)
    run_source(context, spec("victim", ListSource, count=300, title="Neu"), NoFetcher(), trigger="schedule")
    return 3  # the parent should have killed us before the commit


def _sigterm(url: str, marker: Path) -> int:
    settings = load_settings(HERE.parent.parent / "settings.toml", env={})
    engine = make_engine(url)
    specs = {"slow": spec("slow", ListSource, schedule="interval:1s", pause=2.0, marker=str(marker), count=3)}
    service = SchedulerService(Runtime(settings, engine, session_factory(engine), specs))
    run_until_signalled(service)
    return 0


if __name__ == "__main__":
    mode, database_url, marker_path = sys.argv[1:4]
    run = _kill if mode == "kill" else _sigterm
    sys.exit(run(database_url, Path(marker_path)))
