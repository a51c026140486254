"""``stadtkalender probe URL``: onboarding a venue by its URL (see :mod:`sources.probe`)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from aggregator.config import PROJECT_ROOT, SOURCES_DIR, Settings, load_settings
from sources.base import Fetcher
from sources.probe import ProbeReport, probe
from sources.probe.guard import (
    ProbeFetcher,
    UnsafeUrl,
    check_settings,
    guarded_client,
    plain_url,
    system_resolver,
)
from sources.probe.save import SaveRefused, save_source, toml_table
from stadtkalender.runtime import process_clock


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``probe URL [--json] [--save NAME] [--snapshots DIR] [--record DIR]``."""
    cmd = sub.add_parser(
        "probe",
        help="find the sources of events a venue's page offers and suggest a source table",
        description="Exit status: 0 when a usable source of events was found, 1 when none, 2 for bad input.",
    )
    cmd.add_argument("url", metavar="URL")
    cmd.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    cmd.add_argument("--save", metavar="NAME", help=f"store the suggested source as {SOURCES_DIR}/NAME.toml")
    cmd.add_argument(
        "--snapshots", metavar="DIR", help="read a recorded snapshot folder (urls.json), not the web"
    )
    cmd.add_argument(
        "--record", metavar="DIR", help="also record every document fetched into a snapshot folder"
    )
    cmd.set_defaults(handler=_cmd_probe)


def _cmd_probe(args: argparse.Namespace) -> int:
    settings = load_settings()
    url = plain_url(args.url)
    try:
        check_settings(url, settings.probe, None)
    except UnsafeUrl as exc:
        print(f"stadtkalender probe: {exc.reason} ({url})", file=sys.stderr)
        return 2
    if args.snapshots and not (Path(args.snapshots) / "urls.json").is_file():
        print(f"stadtkalender probe: {args.snapshots} has no urls.json", file=sys.stderr)
        return 2
    report = probe(
        url,
        _fetcher(settings, args),
        window_days=(settings.ingest.past_days, settings.ingest.future_days),
        pages=settings.probe.max_pages,
    )
    if args.json:
        json.dump(report.to_json(), sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        _print(report, args.save)
    if args.save:
        saved = _save(settings, args.save, report)
        if saved != 0:
            return saved
    return 0 if report.best is not None else 1


def _fetcher(settings: Settings, args: argparse.Namespace) -> ProbeFetcher:
    clock = process_clock()
    inner: Fetcher
    if args.snapshots:
        from sources.snapshots import SnapshotFetcher

        inner, resolve = SnapshotFetcher(Path(args.snapshots), clock()), None
    else:
        inner, resolve = guarded_client(settings, clock), system_resolver
    if args.record:
        from sources.record import RecordingFetcher

        Path(args.record).mkdir(parents=True, exist_ok=True)
        inner = RecordingFetcher(inner, Path(args.record))
    return ProbeFetcher(inner, settings.probe, resolve=resolve)


def _print(report: ProbeReport, name: str | None) -> None:
    if report.error:
        print(f"{report.url}: cannot be read: {report.error}")
        return
    usable = [finding for finding in report.findings if finding.usable]
    print(f"{report.url}: {len(usable)} usable of {len(report.findings)} sources of events found")
    for finding in report.findings:
        first, last = finding.span()
        when = f"{first:%Y-%m-%d} – {last:%Y-%m-%d}" if first and last else "—"
        print()
        print(f"  {finding.candidate.kind:<12} {finding.candidate.url}")
        if finding.candidate.via:
            print(f"  {'':<12} found: {finding.candidate.via}")
        if finding.error:
            print(f"  {'':<12} not usable: {finding.error}")
            continue
        missing = ", ".join(f"no {field}" for field in finding.missing()) or "nothing missing"
        events = "1 event" if finding.events == 1 else f"{finding.events} events"
        print(f"  {'':<12} {events}, {when}; {missing}")
        for title in finding.titles():
            print(f"  {'':<12} · {title}")
        for note in finding.notes:
            print(f"  {'':<12} ({note})")
    for note in report.notes:
        print(f"\nnote: {note}")
    table = report.suggested()
    print()
    if not table:
        print(
            "nothing usable found: this page needs a site adapter (see README, 'Onboarding a venue by URL')"
        )
        return
    print("suggested source:")
    print()
    print(toml_table(name or "NAME", table).rstrip())
    if not name:
        print()
        print("store it with --save NAME, then `stadtkalender ingest NAME`")


def _save(settings: Settings, name: str, report: ProbeReport) -> int:
    table = report.suggested()
    if not table:
        print(f"stadtkalender probe: nothing usable found; {name!r} not saved", file=sys.stderr)
        return 1
    from sources.catalog import catalog

    folder = (Path(settings.path).parent if settings.path else PROJECT_ROOT) / SOURCES_DIR
    best = report.best
    assert best is not None
    comment = [f"stadtkalender probe {report.url}: {best.candidate.kind}, {best.events} events when probed"]
    try:
        path = save_source(folder, name, table, taken=catalog(settings), comments=comment)
    except SaveRefused as exc:
        print(f"stadtkalender probe: {exc}", file=sys.stderr)
        return 2
    print(f"saved as {path}; `stadtkalender ingest {name}` reads it")
    return 0
