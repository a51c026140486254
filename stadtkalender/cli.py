"""The ``stadtkalender`` command line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path

from rich.console import Console
from rich.progress import Progress
from rich.table import Table
from rich.text import Text

from aggregator.actions import ActionRefused
from aggregator.config import ConfigError, load_settings
from aggregator.db import (
    SchemaOutdated,
    current_revision,
    head_revision,
    make_engine,
    session_factory,
    transaction,
    upgrade,
)
from aggregator.held_runs import confirm_run
from aggregator.ingest import RunReport, ingest
from aggregator.listing import Listing, Rejection
from aggregator.normalise.venues import load_venues
from aggregator.types import RunStatus
from aggregator.venue_registry import seed_venues
from aggregator.window import OutsideCount, Window
from stadtkalender.extensions import EXTENSIONS
from stadtkalender.runtime import Runtime, process_clock

_PIPE_WIDTH = None if sys.stdout.isatty() else 240  # tables piped to a file or grep keep every column
console = Console(stderr=False, soft_wrap=True, width=_PIPE_WIDTH)
err = Console(stderr=True, soft_wrap=True)
Handler = Callable[[argparse.Namespace], int]
DEFAULT_IMPORT_SOURCE = "import"


def _cmd_db(args: argparse.Namespace) -> int:
    settings = load_settings()
    engine = make_engine(settings.database.url)
    if args.action == "upgrade":
        upgrade(engine)
        with transaction(session_factory(engine)) as session:
            seeded = seed_venues(session, load_venues(), now=process_clock()())
        console.print(
            f"venue registry: {len(seeded.added)} added, {len(seeded.refreshed)} refreshed from venues.toml"
            + (f"; kept as edited: {', '.join(seeded.kept_edited)}" if seeded.kept_edited else "")
        )
    current = current_revision(engine)
    state = "current" if current == head_revision() else f"outdated (head is {head_revision()})"
    console.print(f"database schema at revision {current or 'none'}: {state}")
    return 0


def _print_report(report: RunReport) -> None:
    colour = {"success": "green", "failed": "red", "suspicious": "yellow", "degraded": "yellow"}.get(
        report.status.value, "white"
    )
    console.print(
        f"[{colour}]{report.source}: {report.status.value}[/] — {report.listings} listings, "
        f"{report.added} added, {report.updated} updated, {report.unchanged} unchanged, "
        f"{report.cancelled} cancelled, {report.rejected} rejected (run {report.run_id})"
    )
    if report.error:
        console.print(f"  {report.error}", markup=False)


def _read_input(runtime: Runtime, location: str) -> tuple[bytes, str]:
    if location.startswith(("http://", "https://")):
        document = runtime.http_client().get(location)
        return document.body, document.content_type
    path = Path(location)
    if not path.is_file():
        raise FileNotFoundError(f"{location}: no such file")
    size = path.stat().st_size
    if size > runtime.settings.ingest.max_file_bytes:
        raise ValueError(
            f"{location}: {size} bytes is over the limit of {runtime.settings.ingest.max_file_bytes}"
        )
    return path.read_bytes(), ""


def _cmd_import(args: argparse.Namespace) -> int:
    from sources.base import SourceError
    from sources.platforms.detect import import_listings, scoped

    runtime = Runtime.open()
    now = runtime.clock()
    try:
        window = _import_window(
            args, now, runtime.settings.ingest.past_days, runtime.settings.ingest.future_days
        )
    except ValueError as exc:
        err.print(f"stadtkalender import: {exc}", markup=False)
        return 2
    listings: list[Listing] = []
    rejections: list[Rejection] = []
    warnings: list[str] = []
    outside = OutsideCount()
    failures = 0
    for location in args.inputs:
        try:
            data, content_type = _read_input(runtime, location)
            result = import_listings(
                data,
                source=args.source,
                fetched_at=now,
                window=window,
                origin=location,
                content_type=content_type,
            )
        except (SourceError, OSError, ValueError) as exc:  # a fetch, format or file problem: this input only
            err.print(f"[red]rejected[/] {exc}", markup=True, highlight=False)
            failures += 1
            continue
        listings.extend(
            scoped(result.listings, location) if args.source == DEFAULT_IMPORT_SOURCE else result.listings
        )
        rejections.extend(result.rejections)
        warnings.extend(f"{location}: {w}" for w in result.warnings)
        outside.extend([result.outside])
        left_out = f", {result.outside.total} outside the window" if result.outside.total else ""
        console.print(
            f"{location}: {len(result.listings)} listings, {len(result.rejections)} skipped{left_out}",
            highlight=False,
        )
    if outside.total:
        err.print(_outside_hint(outside, window), markup=False, highlight=False)
    if not listings and (failures or outside.total):
        if outside.total and not failures:
            err.print("nothing imported: every event lies outside the window", markup=False)
        return 1
    report = ingest(
        runtime.ingest_context,
        args.source,
        listings,
        rejections=rejections,
        warnings=warnings,
        complete=args.complete,
        now=now,
    )
    _print_report(report)
    return 0 if report.status == RunStatus.SUCCESS and not failures else 1


def _import_window(args: argparse.Namespace, now: datetime, past_days: int, future_days: int) -> Window:
    """``--from``/``--to`` (Berlin days, both included), else ``[ingest]`` past_days/future_days."""
    default = Window.around(now, past_days, future_days)
    return Window.of_days(args.first or default.first_day, args.last or default.last_day)


def _outside_hint(outside: OutsideCount, window: Window) -> str:
    """What was left out as past or future, and the option that would import it."""
    lines = [outside.message(window) or ""]
    if outside.earliest is not None:
        lines.append(f"  to import the past ones, add --from {outside.earliest.isoformat()}")
    if outside.latest is not None:
        lines.append(f"  to import the future ones, add --to {outside.latest.isoformat()}")
    return "\n".join(lines)


def _run_sources(runtime: Runtime, names: Sequence[str], *, offline: bool, trigger: str) -> list[RunReport]:
    from scheduler.runner import run_source

    unknown = [n for n in names if n not in runtime.specs]
    if unknown:
        raise KeyError(f"unknown source {unknown[0]!r}; known: {', '.join(sorted(runtime.specs))}")
    chosen = [runtime.specs[n] for n in names] if names else [s for s in runtime.specs.values() if s.enabled]
    reports = []
    quiet = not console.is_terminal or len(chosen) < 2
    with Progress(console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task("ingest", total=len(chosen))
        for spec in chosen:
            bar.update(task, description=spec.name)
            fetcher = runtime.fetcher(spec.name, offline=offline)
            reports.append(run_source(runtime.ingest_context, spec, fetcher, trigger=trigger))
            bar.advance(task)
    return reports


def _cmd_ingest(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    reports = _run_sources(runtime, args.sources, offline=args.offline, trigger="cli")
    for report in reports:
        _print_report(report)
    return 0 if all(r.status in (RunStatus.SUCCESS, RunStatus.DEGRADED) for r in reports) else 1


def _cmd_sources(args: argparse.Namespace) -> int:
    from aggregator.health import source_health

    runtime = Runtime.open()
    rows = source_health(runtime.factory, runtime.specs)
    table = Table(
        "source",
        "kind",
        "schedule",
        "health",
        "last run",
        "status",
        "listings",
        "added",
        "updated",
        "cancelled",
        "rejected",
        "error",
    )
    for row in rows:
        last = row.last_run
        table.add_row(
            row.name,
            row.kind,
            row.schedule,
            row.health,
            last.started_at.astimezone().strftime("%Y-%m-%d %H:%M") if last else "—",
            last.status if last else "—",
            *(
                str(getattr(last, n)) if last else "—"
                for n in ("listings", "added", "updated", "cancelled", "rejected")
            ),
            (last.error or "")[:60] if last else "",
        )
    console.print(table)
    return 0


def _cmd_runs(args: argparse.Namespace) -> int:
    from aggregator.health import recent_runs

    runtime = Runtime.open()
    if args.target == "confirm":
        if args.run is None:
            err.print("usage: stadtkalender runs confirm RUN")
            return 2
        try:
            report = confirm_run(runtime.ingest_context, args.run)
        except ActionRefused as exc:
            err.print(str(exc), markup=False)
            return 1
        _print_report(report)
        return 0 if report.status == RunStatus.SUCCESS else 1
    if args.target == "show":
        if args.run is None:
            err.print("usage: stadtkalender runs show RUN")
            return 2
        return _show_run(runtime, args.run)
    table = Table(
        "run",
        "started",
        "finished",
        "status",
        "listings",
        "added",
        "updated",
        "unchanged",
        "cancelled",
        "rejected",
        "error",
    )
    for run in recent_runs(runtime.factory, args.target, limit=args.limit):
        table.add_row(
            str(run.id),
            run.started_at.astimezone().strftime("%Y-%m-%d %H:%M:%S"),
            run.finished_at.astimezone().strftime("%H:%M:%S") if run.finished_at else "—",
            run.status,
            str(run.listings),
            str(run.added),
            str(run.updated),
            str(run.unchanged),
            str(run.cancelled),
            str(run.rejected),
            (run.error or "")[:80],
        )
    console.print(table)
    console.print("`stadtkalender runs show RUN` lists a run's rejections and warnings", highlight=False)
    return 0


def _show_run(runtime: Runtime, run_id: int) -> int:
    from aggregator.run_details import run_details

    with runtime.factory() as session:
        details = run_details(session, run_id)
    if details is None:
        err.print(f"no run {run_id}")
        return 1
    run = details.run
    console.print(
        f"run {run.id} of {run.source}: {run.status}, {run.counts['listings']} listings, "
        f"{run.counts['rejected']} rejected",
        highlight=False,
    )
    if run.error:
        console.print(f"  {run.error}", markup=False, highlight=False)
    if details.rejections:
        table = Table("record", "step", "field", "exception", "reason")
        for rejection in details.rejections:
            cells = (
                rejection.record_id or "—",
                rejection.step or "(adapter)",
                rejection.field or "",
                rejection.error or "",
                rejection.reason,
            )
            table.add_row(*(Text(cell) for cell in cells))  # source text is not markup
        console.print(table)
    for warning in details.warnings:
        console.print(f"warning: {warning}", markup=False, highlight=False)
    return 0


def _cmd_record(args: argparse.Namespace) -> int:
    from sources.record import record
    from sources.snapshots import snapshot_dir

    runtime = Runtime.open(require_schema=False)
    if args.source not in runtime.specs:
        err.print(f"unknown source {args.source!r}")
        return 2
    spec = runtime.specs[args.source]
    folder = Path(args.to) if args.to else snapshot_dir(runtime.settings, spec.name)
    result = record(spec.build(None), runtime.http_client(), folder)
    console.print(f"recorded {result}", highlight=False)
    return 0


WORKER_HEALTHCHECK_SECONDS = 60
"""How long a worker may not answer uvicorn's health check before it is restarted."""


def _serve(
    runtime: Runtime, host: str, port: int, *, with_scheduler: bool, offline: bool, workers: int = 1
) -> int:
    """Serve in this process, or with ``workers`` > 1 in that many uvicorn worker processes.

    The scheduler, when asked for, runs in this process only: with workers it is the supervising
    parent, which serves nothing, and the workers (spawned, not forked) start no scheduler.
    """
    import uvicorn

    from calendar_api.app import create_app
    from stadtkalender.asgi import FACTORY

    app = None if workers > 1 else create_app(runtime, clock=runtime.clock, extensions=EXTENSIONS)
    scheduler = None
    if with_scheduler:
        from scheduler.locks import SchedulerAlreadyRunning
        from scheduler.service import start_background_scheduler

        try:
            from stadtkalender.open_data_commands import export_job
            from stadtkalender.publish_commands import publish_jobs

            jobs = [export_job(runtime), *publish_jobs(runtime)]
            scheduler = start_background_scheduler(runtime, offline=offline, jobs=jobs)
        except SchedulerAlreadyRunning as exc:
            err.print(f"stadtkalender: {exc}", markup=False)
            return 1
    each = f" with {workers} worker processes" if workers > 1 else ""
    console.print(f"serving on http://{host}:{port}/{each}", highlight=False)
    if workers > 1 and runtime.engine.dialect.name == "sqlite":
        console.print(
            "note: the workers share one SQLite file (WAL): writes wait for each other, and a commit "
            "shows on every worker within a second; use PostgreSQL for more",
            highlight=False,
        )
    try:
        if app is None:
            uvicorn.run(
                FACTORY,
                factory=True,
                workers=workers,
                host=host,
                port=port,
                log_level="info",
                proxy_headers=True,
                # a worker rendering a large feed holds the GIL for seconds; uvicorn's default 5 s would
                # kill it mid-answer (seen at 100,000 events, benchmarks/load_test.py)
                timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            )
        else:
            uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=True)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=True)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    runtime = Runtime.open()
    return _serve(
        runtime,
        args.host or runtime.settings.server.host,
        args.port or runtime.settings.server.port,
        with_scheduler=args.with_scheduler,
        offline=args.offline,
        workers=args.workers,
    )


def load_demo(now: datetime) -> Runtime:
    """Create or upgrade the database and load every source from the bundled snapshots, as at ``now``.

    Snapshots older than they pass for are moved forward by whole weeks (:mod:`stadtkalender.demo`);
    the returned runtime carries the shift, so its scheduler's later runs move them alike.
    """
    from stadtkalender.demo import demo_settings

    settings = demo_settings(load_settings(), now)
    upgrade(make_engine(settings.database.url))
    runtime = Runtime.open(settings)
    if settings.demo.shift_weeks:
        console.print(
            f"demo: the snapshots of {settings.demo.snapshots_current_on} are moved "
            f"{settings.demo.shift_weeks} weeks forward",
            highlight=False,
        )
    for report in _run_sources(runtime, [], offline=True, trigger="demo"):
        _print_report(report)
    return runtime


def _cmd_demo(args: argparse.Namespace) -> int:
    runtime = load_demo(process_clock()())
    if args.no_serve:
        return 0
    return _serve(
        runtime,
        args.host or runtime.settings.server.host,
        args.port or runtime.settings.server.port,
        with_scheduler=not args.no_scheduler,
        offline=True,
    )


def _cmd_openapi(args: argparse.Namespace) -> int:
    from calendar_api.openapi import openapi_document

    base_url = args.base_url or load_settings().server.base_url
    json.dump(openapi_document(base_url.rstrip("/"), EXTENSIONS), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (also used to document the commands)."""
    parser = argparse.ArgumentParser(
        prog="stadtkalender", description="Event calendar aggregator for a city."
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="database schema")
    db.add_argument("action", choices=["upgrade", "current"])
    db.set_defaults(handler=_cmd_db)

    imp = sub.add_parser("import", help="import iCalendar or JSON-LD files or URLs")
    imp.add_argument("inputs", nargs="+", metavar="FILE_OR_URL")
    imp.add_argument(
        "--source",
        default=DEFAULT_IMPORT_SOURCE,
        help="source name to record under (default: import; each input then keeps its own ids)",
    )
    imp.add_argument(
        "--complete",
        action="store_true",
        help="the inputs are the source's whole programme: its listings not in them vanish",
    )
    imp.add_argument(
        "--from",
        dest="first",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="import events from this day on (default: [ingest] past_days before today)",
    )
    imp.add_argument(
        "--to",
        dest="last",
        type=_iso_date,
        metavar="YYYY-MM-DD",
        help="import events up to this day, included (default: [ingest] future_days ahead)",
    )
    imp.set_defaults(handler=_cmd_import)

    ing = sub.add_parser("ingest", help="run sources now")
    ing.add_argument("sources", nargs="*", metavar="SOURCE")
    ing.add_argument("--offline", action="store_true", help="use the bundled snapshots, not the network")
    ing.set_defaults(handler=_cmd_ingest)

    serve = sub.add_parser("serve", help="serve the API, feeds and pages")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers",
        type=_positive,
        default=1,
        metavar="N",
        help="serve from N worker processes (default 1); the scheduler still runs once, in the parent",
    )
    serve.add_argument("--with-scheduler", action="store_true", help="run the scheduler in this process")
    serve.add_argument("--offline", action="store_true", help="scheduler reads bundled snapshots")
    serve.set_defaults(handler=_cmd_serve)

    demo = sub.add_parser("demo", help="create the database, load the bundled snapshots and serve")
    demo.add_argument("--host")
    demo.add_argument("--port", type=int)
    demo.add_argument("--no-serve", action="store_true", help="load only")
    demo.add_argument("--no-scheduler", action="store_true")
    demo.set_defaults(handler=_cmd_demo)

    src = sub.add_parser("sources", help="list sources with schedule and health")
    src.set_defaults(handler=_cmd_sources)

    runs = sub.add_parser(
        "runs",
        help="recent runs of a source; `runs show RUN` lists one run's rejections "
        "and warnings; `runs confirm RUN` applies a held run",
    )
    runs.add_argument("target", metavar="SOURCE|show|confirm")
    runs.add_argument("run", nargs="?", type=int)
    runs.add_argument("--limit", type=int, default=20)
    runs.set_defaults(handler=_cmd_runs)

    rec = sub.add_parser("record", help="fetch a source's live pages and store them as fixtures")
    rec.add_argument("source")
    rec.add_argument("--to", help="folder (default: the source's snapshot folder)")
    rec.set_defaults(handler=_cmd_record)

    api = sub.add_parser("openapi", help="print the OpenAPI document of the API and its extensions")
    api.add_argument("base_url", nargs="?", metavar="BASE_URL", help="default: [server] base_url")
    api.set_defaults(handler=_cmd_openapi)

    for extension in EXTENSIONS:
        if extension.add_commands is not None:
            extension.add_commands(sub)
    return parser


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number ≥ 1")
    return value


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2026-12-31") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    from stadtkalender.logs import configure_logging

    configure_logging(verbose=args.verbose)
    handler: Handler = args.handler
    try:
        return handler(args)
    except (ConfigError, SchemaOutdated, KeyError) as exc:
        err.print(f"stadtkalender: {exc.args[0] if isinstance(exc, KeyError) else exc}", markup=False)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
