"""Replaying a source from its fixtures with its start page replaced (a changed layout), against a database."""

from __future__ import annotations

import json
from pathlib import Path

from fixed_clock import NOW, clock
from sqlalchemy.orm import Session, sessionmaker

from aggregator.config import Settings
from aggregator.ingest import IngestContext, RunReport
from scheduler.runner import run_source
from sources.catalog import catalog
from sources.snapshots import SnapshotFetcher, read_index

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


def context(factory: sessionmaker[Session], settings: Settings) -> IngestContext:
    """An ingest context over ``factory`` whose clock stands at the tests' NOW."""
    specs = catalog(settings)
    return IngestContext(factory, settings, kinds={n: s.kind for n, s in specs.items()}, clock=clock())


def changed_folder(tmp: Path, name: str, page: str | None) -> Path:
    """A snapshot folder of ``name`` whose every URL serves ``page`` of its fixtures (None: as recorded)."""
    tmp.mkdir(parents=True, exist_ok=True)
    source = FIXTURES / name
    index = read_index(source)
    data = {
        url: {
            "file": str(source / (page or entry.file)),
            "content_type": "text/html; charset=utf-8" if page else entry.content_type,
        }
        for url, entry in index.items()
    }
    (tmp / "urls.json").write_text(json.dumps(data), encoding="utf-8")
    return tmp


def run(ctx: IngestContext, name: str, folder: Path) -> RunReport:
    """One run of the catalogued source ``name`` from ``folder`` as of NOW."""
    spec = catalog(ctx.settings)[name]
    return run_source(ctx, spec, SnapshotFetcher(folder, NOW), now=NOW)
