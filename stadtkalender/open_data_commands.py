"""Open data in the wiring: ``stadtkalender open-data export`` and the scheduler's nightly export job."""

from __future__ import annotations

import argparse
from datetime import datetime

from calendar_api.dumps import write_exports
from scheduler.service import ExtraJob
from stadtkalender.runtime import Runtime

EXPORT_JOB = "open-data-export"


def export_job(runtime: Runtime) -> ExtraJob:
    """The nightly export at ``open_data.export_cron``."""

    def run(now: datetime) -> None:
        write_exports(runtime.factory, runtime.settings, now=now)

    return ExtraJob(EXPORT_JOB, runtime.settings.open_data.export_cron, run)


def _cmd_export(_args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        manifest = write_exports(runtime.factory, runtime.settings, now=runtime.clock())
    finally:
        runtime.engine.dispose()
    directory = runtime.settings.project_path(runtime.settings.open_data.export_dir)
    for entry in manifest["files"]:
        print(f"{directory / entry['name']}: {entry['records']} dates, {entry['bytes']} bytes")
    print(f"change-feed cursor of this export: {manifest['cursor']}")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``open-data export``."""
    cmd = sub.add_parser("open-data", help="full exports for reusers (written nightly by the scheduler)")
    actions = cmd.add_subparsers(dest="action", required=True)
    export = actions.add_parser(
        "export", help="write the JSON-LD, CSV and iCalendar exports and manifest now"
    )
    export.set_defaults(handler=_cmd_export)
