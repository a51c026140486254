"""Mirror the whole calendar: load the nightly export once, then stay current through the change feed.

    python examples/mirror.py https://kalender.example.org --state mirror.json          # follow for ever
    python examples/mirror.py https://kalender.example.org --state mirror.json --once   # catch up, stop

Only the standard library. The mirror is a JSON file: ``{"cursor": ..., "events": {event id: {"title",
"occurrences": {occurrence id: {"start", "status"}}}}}`` — extend ``_event`` for the fields you need.
On the first run the export (``/open-data/``) is downloaded and checked against its SHA-256; its
manifest names the change-feed cursor of the exported state, so nothing between the export and now
is missed. Each change then refreshes the event it names from the API, or drops it (deleted, hidden,
merged into another). A ``410`` means the mirror was offline longer than the feed keeps changes:
start again from the export.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

Mirror = dict[str, Any]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a merged event answers 308: handled below, not followed blindly


_OPENER = urllib.request.build_opener(_NoRedirect)


def _get(url: str) -> tuple[int, bytes, dict[str, str]]:
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "User-Agent": "mirror-example"}
    )
    try:
        with _OPENER.open(request, timeout=30) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


def _json(url: str) -> Any:
    status, body, _headers = _get(url)
    if status != 200:
        raise RuntimeError(f"GET {url}: HTTP {status}: {body[:200]!r}")
    return json.loads(body)


def load_export(base: str) -> Mirror:
    """A mirror made from the last export, at the change-feed cursor of the exported state."""
    manifest = _json(f"{base}/open-data/")
    entry = next(f for f in manifest["files"] if f["name"] == "occurrences.csv.gz")
    status, packed, _headers = _get(f"{base}/open-data/{entry['name']}")
    if status != 200 or hashlib.sha256(packed).hexdigest() != entry["sha256"]:
        raise RuntimeError("the export changed while it was downloaded; run again")
    events: dict[str, Any] = {}
    for row in csv.DictReader(io.StringIO(gzip.decompress(packed).decode("utf-8"))):
        event = events.setdefault(row["event_id"], {"title": row["title"], "occurrences": {}})
        event["occurrences"][row["occurrence_id"]] = {"start": row["start"], "status": row["status"]}
    return {"cursor": manifest["cursor"], "events": events}


def _event(body: dict[str, Any]) -> dict[str, Any]:
    occurrences = {o["id"]: {"start": o["start"], "status": o["status"]} for o in body["occurrences"]}
    return {"title": body["title"], "occurrences": occurrences}


def refresh(mirror: Mirror, base: str, event_id: str) -> None:
    """Fetch one event again; drop it when it is gone or merged (then fetch the one it became)."""
    status, body, headers = _get(f"{base}/api/v1/events/{event_id}")
    if status == 200:
        mirror["events"][event_id] = _event(json.loads(body))
        return
    mirror["events"].pop(event_id, None)
    if status == 308:
        refresh(mirror, base, headers["Location"].rsplit("/", 1)[-1])
    elif status not in (404, 410):  # 410: hidden by the editors
        raise RuntimeError(f"event {event_id}: HTTP {status}")


def apply(mirror: Mirror, base: str, change: dict[str, Any]) -> None:
    """Apply one change of the feed to the mirror."""
    kind, event_id, occurrence = change["kind"], change["event"], change["occurrence"]
    if kind in ("deleted", "hidden") and occurrence is not None:
        mirror["events"].get(event_id, {}).get("occurrences", {}).pop(occurrence, None)
    elif kind in ("deleted", "hidden"):
        mirror["events"].pop(event_id, None)
    elif kind == "merged":
        mirror["events"].pop(event_id, None)
        refresh(mirror, base, change["data"]["into"])
    else:  # created, updated, cancelled, rescheduled, unhidden
        refresh(mirror, base, event_id)


def catch_up(mirror: Mirror, base: str, limit: int = 500) -> int:
    """Apply every change after the mirror's cursor; returns how many."""
    applied = 0
    while True:
        status, body, _headers = _get(f"{base}/api/v1/changes?since={mirror['cursor']}&limit={limit}")
        if status == 410:
            raise RuntimeError("the mirror is older than the change feed keeps: delete the state file")
        if status != 200:
            raise RuntimeError(f"change feed: HTTP {status}: {body[:200]!r}")
        page = json.loads(body)
        for change in page["changes"]:
            apply(mirror, base, change)
            applied += 1
        moved = page["cursor"] != mirror["cursor"]
        mirror["cursor"] = page["cursor"]
        if not page["changes"] or not moved:
            return applied


def main(argv: list[str] | None = None) -> int:
    """Load or resume the mirror in ``--state``, catch up, and (unless ``--once``) keep following."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("base_url")
    parser.add_argument("--state", type=Path, default=Path("mirror.json"))
    parser.add_argument("--once", action="store_true", help="catch up and stop")
    parser.add_argument("--interval", type=float, default=60.0, help="seconds between polls")
    args = parser.parse_args(argv)
    base = args.base_url.rstrip("/")
    mirror = json.loads(args.state.read_text("utf-8")) if args.state.exists() else load_export(base)
    while True:
        applied = catch_up(mirror, base)
        temporary = args.state.with_suffix(".tmp")
        temporary.write_text(json.dumps(mirror, ensure_ascii=False, sort_keys=True), "utf-8")
        temporary.replace(args.state)
        print(f"{applied} changes applied; {len(mirror['events'])} events; cursor {mirror['cursor']}")
        if args.once:
            return 0
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
