"""Static publishing in the wiring: ``stadtkalender publish [DIR]`` and the scheduler's publish job."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path

from calendar_api.queries import current_version
from scheduler.service import ExtraJob
from stadtkalender.publishing import PublishError, PublishReport, due, publish, publish_day
from stadtkalender.runtime import Runtime

PUBLISH_JOB = "publish"
log = logging.getLogger(__name__)


def publish_now(runtime: Runtime, directory: Path, now: datetime) -> PublishReport:
    """Publish through the app the server runs (every extension), showing the data as of ``now``."""
    from calendar_api.app import create_app
    from stadtkalender.extensions import EXTENSIONS

    version = current_version(runtime.factory).token
    app = create_app(runtime, clock=lambda: now, extensions=EXTENSIONS, version_ttl=0)
    return publish(app, directory, version=version, day=publish_day(now))


def publish_jobs(runtime: Runtime) -> list[ExtraJob]:
    """The publish job when ``publish.dir`` is set (else none).

    The scheduler may not import the API, so it cannot call publishing after a run itself; instead this
    job looks every ``publish.check_cron`` whether the data version or the Berlin day moved since the
    files were written, and only then publishes — after every run that changed data, within a minute.
    """
    configured = runtime.settings.publish.dir
    if not configured:
        return []
    directory = runtime.settings.project_path(configured)

    def run(now: datetime) -> None:
        if due(directory, current_version(runtime.factory).token, publish_day(now)):
            report = publish_now(runtime, directory, now)
            log.info(
                "published %d URLs to %s: %d files written", len(report.urls), directory, len(report.written)
            )

    return [ExtraJob(PUBLISH_JOB, runtime.settings.publish.check_cron, run)]


def _cmd_publish(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    try:
        configured = args.dir or runtime.settings.publish.dir
        if not configured:
            print("stadtkalender publish: give a DIR or set publish.dir in the settings", file=sys.stderr)
            return 2
        directory = runtime.settings.project_path(configured) if not args.dir else Path(args.dir)
        report = publish_now(runtime, directory, runtime.clock())
    except PublishError as exc:
        print(f"stadtkalender publish: {exc}", file=sys.stderr)
        return 1
    finally:
        runtime.engine.dispose()
    print(
        f"{len(report.urls)} URLs published to {directory}: {len(report.written)} files written, "
        f"{report.unchanged} unchanged, {len(report.removed)} removed"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``publish [DIR]``."""
    cmd = sub.add_parser(
        "publish",
        help="write the feeds and JSON listings as static files (with .gz and .br) for nginx or a bucket",
    )
    cmd.add_argument("dir", nargs="?", default="", help="target directory (default: publish.dir)")
    cmd.set_defaults(handler=_cmd_publish)
