"""Command-line entries of the scheduler: ``stadtkalender scheduler`` and ``stadtkalender housekeeping``."""

from __future__ import annotations

import argparse
import logging
import sys

from stadtkalender.runtime import Runtime

log = logging.getLogger(__name__)


def _cmd_scheduler(args: argparse.Namespace) -> int:
    from aggregator.metrics import serve_metrics
    from scheduler.locks import SchedulerAlreadyRunning
    from scheduler.service import SchedulerService, run_until_signalled
    from stadtkalender.open_data_commands import export_job
    from stadtkalender.publish_commands import publish_jobs

    runtime = Runtime.open()
    jobs = [export_job(runtime), *publish_jobs(runtime)]
    service = SchedulerService(runtime, offline=args.offline, jobs=jobs)
    stop_metrics = None
    if args.metrics_port:
        stop_metrics = serve_metrics(args.metrics_port, runtime.factory, host=args.metrics_host)
        log.info("metrics on http://%s:%d/metrics", args.metrics_host, args.metrics_port)
    try:
        run_until_signalled(service)
    except SchedulerAlreadyRunning as exc:
        print(f"stadtkalender scheduler: {exc}", file=sys.stderr)
        return 1
    finally:
        if stop_metrics is not None:
            stop_metrics()
        runtime.engine.dispose()
    return 0


def _cmd_housekeeping(args: argparse.Namespace) -> int:
    from scheduler.housekeeping import housekeeping

    runtime = Runtime.open()
    report = housekeeping(runtime.factory, runtime.settings, now=runtime.clock())
    print(
        f"{len(report.aborted_runs)} stale runs closed as aborted, {report.purged.occurrences} cancelled "
        f"occurrences purged ({report.purged.records} records, {report.purged.events} events), "
        f"{report.cache_files} expired cache files dropped, {len(report.expired_runs)} held runs expired, "
        f"{report.push_log} push log entries deleted"
    )
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``scheduler`` and ``housekeeping`` to the ``stadtkalender`` command."""
    run = sub.add_parser("scheduler", help="run the scheduler alone (until SIGTERM or Ctrl-C)")
    run.add_argument("--offline", action="store_true", help="read the bundled snapshots, not the network")
    run.add_argument(
        "--metrics-port",
        type=int,
        default=0,
        help="also serve Prometheus metrics on this port (default: off)",
    )
    run.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port")
    run.set_defaults(handler=_cmd_scheduler)

    house = sub.add_parser("housekeeping", help="close stale runs, purge old cancellations, drop old cache")
    house.set_defaults(handler=_cmd_housekeeping)
