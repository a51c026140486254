"""Dedupe quality on the labelled set: pairwise precision/recall/F1 of listings grouped into events.

Runs the real pipeline (normalise → dedupe → store, one ingest per source, on a fresh SQLite database)
over tests/fixtures/dedupe/labelled.json and compares the events and occurrences it built with the
labels, over all pairs of listings and over cross-source pairs (two sources' listings) separately.
Prints the figures; exits non-zero when a goal is missed: cross-source precision ≥ 0.99 and recall
≥ 0.97, no trap merged with what it resembles, the right number of occurrences for ≥ 95 % of productions.

    .venv/bin/python benchmarks/dedupe_eval.py [--verbose]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the labelled set's reader

from labelled_set import FETCHED, KINDS, LABELLED, MATCH_PAST_DAYS, to_listing  # noqa: E402
from labelled_set import items as labelled_items  # noqa: E402
from sqlalchemy import select  # noqa: E402

from aggregator.clock import FixedClock  # noqa: E402
from aggregator.config import load_settings  # noqa: E402
from aggregator.db import make_engine, session_factory, upgrade  # noqa: E402
from aggregator.ingest import IngestContext, ingest  # noqa: E402
from aggregator.models import SourceRecord  # noqa: E402


def pairs(groups: dict[str, str]) -> set[frozenset[str]]:
    """All unordered pairs of keys that share a group."""
    members: dict[str, list[str]] = defaultdict(list)
    for key, group in groups.items():
        members[group].append(key)
    return {frozenset(p) for keys in members.values() for p in itertools.combinations(sorted(keys), 2)}


def cross_source(pair: frozenset[str]) -> bool:
    """Whether a pair of ``source:record_id`` keys comes from two sources."""
    return len({key.partition(":")[0] for key in pair}) == 2


def score(
    truth: dict[str, str], found: dict[str, str], *, cross_only: bool = False
) -> tuple[float, float, float]:
    """Pairwise precision, recall and F1 (over cross-source pairs only, when ``cross_only``)."""
    true_pairs, found_pairs = pairs(truth), pairs(found)
    if cross_only:
        true_pairs = {pair for pair in true_pairs if cross_source(pair)}
        found_pairs = {pair for pair in found_pairs if cross_source(pair)}
    hit = len(true_pairs & found_pairs)
    precision = hit / len(found_pairs) if found_pairs else 1.0
    recall = hit / len(true_pairs) if true_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def evaluate(path: Path = LABELLED, *, verbose: bool = False) -> dict[str, float]:
    """Run the pipeline over the labelled set and return the figures."""
    items = labelled_items(path)
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in items:
        by_source[item["source"]].append(item)
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/eval.db")
        upgrade(engine)
        factory = session_factory(engine)
        settings = load_settings(
            ROOT / "settings.toml", env={"STADTKALENDER_INGEST_MATCH_PAST_DAYS": MATCH_PAST_DAYS}
        )
        ctx = IngestContext(factory, settings, kinds=KINDS, clock=FixedClock(FETCHED))
        now = FETCHED
        for source, members in by_source.items():
            listings = [to_listing(m).evolve(fetched_at=now) for m in members]
            report = ingest(ctx, source, listings, now=now)
            if verbose or report.status.value != "success":
                print(
                    f"  {source}: {report.status.value}, {report.listings} listings, {report.rejected} rejected"
                    + (f" — {report.error}" if report.error else "")
                )
        with factory() as session:
            rows = session.execute(
                select(
                    SourceRecord.source,
                    SourceRecord.record_id,
                    SourceRecord.event_id,
                    SourceRecord.occurrence_id,
                )
            ).all()
        engine.dispose()
    key = {(i["source"], i["record_id"]): f"{i['source']}:{i['record_id']}" for i in items}
    found_event = {key[(s, r)]: e for s, r, e, _o in rows if (s, r) in key}
    found_occ = {key[(s, r)]: o for s, r, _e, o in rows if (s, r) in key}
    truth_event = {key[(i["source"], i["record_id"])]: i["truth"] for i in items}
    truth_occ = {key[(i["source"], i["record_id"])]: i["truth_occurrence"] for i in items}
    missing = set(truth_event) - set(found_event)
    for k in missing:  # a listing the pipeline rejected counts as a singleton
        found_event[k] = found_occ[k] = f"missing:{k}"
    precision, recall, f1 = score(truth_event, found_event)
    occ_precision, occ_recall, occ_f1 = score(truth_occ, found_occ)
    cross_precision, cross_recall, cross_f1 = score(truth_event, found_event, cross_only=True)
    cross_occ_precision, cross_occ_recall, cross_occ_f1 = score(truth_occ, found_occ, cross_only=True)
    traps = {key[(i["source"], i["record_id"])] for i in items if i.get("trap")}
    trap_merges = sorted(
        " + ".join(sorted(pair)) for pair in pairs(found_event) - pairs(truth_event) if pair & traps
    )
    # Share of true events whose listings ended in one event with the right number of occurrences.
    truth_members: dict[str, list[str]] = defaultdict(list)
    for k, group in truth_event.items():
        truth_members[group].append(k)
    right = 0
    for group, keys in truth_members.items():
        events = {found_event[k] for k in keys}
        want = len({truth_occ[k] for k in keys})
        got = len({found_occ[k] for k in keys})
        if len(events) == 1 and want == got:
            right += 1
        elif verbose:
            print(f"  ✗ {group}: {len(events)} events, {got} occurrences (want 1 and {want})")
    if verbose:
        wrong = sorted(" + ".join(sorted(p)) for p in pairs(found_event) - pairs(truth_event))
        for pair in wrong[:20]:
            print("  false merge:", pair)
    return {
        "listings": len(items),
        "sources": len(by_source),
        "true_events": len(truth_members),
        "found_events": len(set(found_event.values())),
        "rejected": len(missing),
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "occurrence_precision": occ_precision,
        "occurrence_recall": occ_recall,
        "occurrence_f1": occ_f1,
        "cross_precision": cross_precision,
        "cross_recall": cross_recall,
        "cross_f1": cross_f1,
        "cross_occurrence_precision": cross_occ_precision,
        "cross_occurrence_recall": cross_occ_recall,
        "cross_occurrence_f1": cross_occ_f1,
        "trap_listings": float(len(traps)),
        "trap_merges": float(len(trap_merges)),
        "events_with_right_occurrences": right / len(truth_members) if truth_members else 1.0,
        "sources_used": float(len(Counter(i["source"] for i in items))),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--file", type=Path, default=LABELLED)
    args = parser.parse_args()
    figures = evaluate(args.file, verbose=args.verbose)
    print(
        f"listings {figures['listings']} from {figures['sources']} sources; "
        f"true events {figures['true_events']}, found {figures['found_events']}, rejected {figures['rejected']}"
    )
    print(
        f"events:      precision {figures['precision']:.4f}  recall {figures['recall']:.4f}  F1 {figures['f1']:.4f}"
    )
    print(
        f"occurrences: precision {figures['occurrence_precision']:.4f}  recall {figures['occurrence_recall']:.4f}  "
        f"F1 {figures['occurrence_f1']:.4f}"
    )
    print(
        f"cross-source events:      precision {figures['cross_precision']:.4f}  "
        f"recall {figures['cross_recall']:.4f}  F1 {figures['cross_f1']:.4f}"
    )
    print(
        f"cross-source occurrences: precision {figures['cross_occurrence_precision']:.4f}  "
        f"recall {figures['cross_occurrence_recall']:.4f}  F1 {figures['cross_occurrence_f1']:.4f}"
    )
    print(f"events with the right number of occurrences: {figures['events_with_right_occurrences']:.1%}")
    print(
        f"trap listings {figures['trap_listings']:.0f}, merged with what they resemble: {figures['trap_merges']:.0f}"
    )
    ok = (
        figures["cross_precision"] >= 0.99
        and figures["cross_recall"] >= 0.97
        and figures["trap_merges"] == 0
        and figures["events_with_right_occurrences"] >= 0.95
    )
    print(
        "goal (cross-source precision ≥ 0.99, recall ≥ 0.97, no trap merged, right occurrences ≥ 95 %):",
        "met" if ok else "NOT met",
    )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
