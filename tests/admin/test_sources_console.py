"""Sources and runs in the console: the pages render, pause/resume/run-now and held-run decisions work by
form and JSON and are audited, bad input gets a clear answer, and only editors and admins get in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from _console import ConsoleRuntime, Spec, api_post, post
from fixed_clock import NOW
from sqlalchemy import select
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest, start_run
from aggregator.listing import Listing, Rejection
from aggregator.models import Occurrence, SourceRun, SourceState
from aggregator.types import RunStatus
from calendar_api.admin import build_console, source_pages

SPECS = {
    "konzerthaus": Spec("konzerthaus"),
    "fzw": Spec("fzw", schedule="interval:12h"),
    "old_club": Spec("old_club", enabled=False),
}


def _listing(record_id: str, day: int, *, title: str = "Die Zauberflöte") -> Listing:
    return Listing(
        source="konzerthaus",
        record_id=record_id,
        title=title,
        fetched_at=NOW,
        start=datetime(2026, 12, day, 19, 30, tzinfo=UTC),
        venue_name="Konzerthaus Dortmund",
        series_key="zauberfloete",
    )


@dataclass
class Stored:
    """The runs the tests look at."""

    first: int
    held: int


@pytest.fixture
def stored(runtime: ConsoleRuntime, clock: FixedClock) -> Stored:
    """Konzerthaus: a good run of twenty dates (one rejection, one warning), one without the last two,
    then a held one of three; fzw: a failed run and a backoff."""
    runtime.specs.update(SPECS)
    ctx = IngestContext(runtime.factory, runtime.settings, kinds={"konzerthaus": "venue"}, clock=clock)
    bad = Rejection("konzerthaus", "zf-x", "no start date", "start", "dates")
    first = ingest(
        ctx,
        "konzerthaus",
        [_listing(f"zf-{day}", day) for day in range(1, 21)],
        rejections=[bad],
        warnings=["unknown venue: Keller"],
        run_id=start_run(ctx, "konzerthaus", "schedule", now=NOW - timedelta(hours=2)),
        now=NOW - timedelta(hours=2),
    )
    shorter = ingest(
        ctx,
        "konzerthaus",
        [_listing(f"zf-{day}", day) for day in range(1, 19)],
        now=NOW - timedelta(hours=1, minutes=30),
    )
    assert shorter.status == RunStatus.SUCCESS  # 19 and 20 are missing once
    held = ingest(
        ctx, "konzerthaus", [_listing(f"zf-{day}", day) for day in (1, 2, 3)], now=NOW - timedelta(hours=1)
    )
    assert held.status == RunStatus.SUSPICIOUS
    with runtime.factory() as session, session.begin():
        session.add(
            SourceRun(
                source="fzw",
                started_at=NOW - timedelta(hours=3),
                finished_at=NOW - timedelta(hours=3) + timedelta(seconds=65),
                status="failed",
                error="HTTP 503 from fzw.de",
                trigger="schedule",
            )
        )
        session.add(
            SourceState(
                source="fzw",
                consecutive_failures=3,
                last_listings=0,
                enabled=True,
                next_attempt_at=NOW + timedelta(hours=20),
                updated_at=NOW,
            )
        )
    return Stored(first.run_id, held.run_id)


def _audit(client: TestClient) -> list[tuple[str, str, str]]:
    entries = client.get("/api/v1/admin/audit").json()["entries"]
    return [(e["action"], e["target_id"], e["actor"]) for e in reversed(entries)]


def test_the_sources_page_shows_health_last_and_next_run_backoff_and_buttons(
    stored: Stored, as_editor: TestClient
) -> None:
    page = as_editor.get("/admin/sources")
    assert page.status_code == 200, page.text
    html = page.text
    for name in SPECS:
        assert f'href="/admin/sources/{name}"' in html
    assert "fehlerhaft" in html and "HTTP 503 from fzw.de" in html and "1 min 5 s" in html
    assert "bis 2026-11-22 09:00 (3 Fehlschläge)" in html  # backing off until NOW + 20 h, Berlin time
    assert f'href="/admin/runs/{stored.held}"' in html and f"Lauf {stored.held} wartet" in html
    assert 'aria-label="Pausieren: konzerthaus"' in html and 'aria-label="Jetzt abrufen: fzw"' in html
    assert "Pausieren: old_club" not in html  # disabled in the settings: nothing to steer
    assert "In settings.toml abgeschaltet" in html
    english = as_editor.get("/admin/sources?lang=en").text
    assert "Sources" in english and "failing" in english and "Run now" in english


def test_the_json_overview_matches(stored: Stored, as_editor: TestClient) -> None:
    sources = {s["name"]: s for s in as_editor.get("/api/v1/admin/sources").json()["sources"]}
    assert set(sources) == set(SPECS)
    fzw = sources["fzw"]
    assert (fzw["health"], fzw["consecutive_failures"]) == ("failing", 3)
    assert fzw["backoff_until"] == (NOW + timedelta(hours=20)).isoformat()
    assert fzw["next_run"] >= fzw["backoff_until"][:13]  # not before the backoff ends (ISO sorts)
    assert fzw["runs"][0]["duration_seconds"] == 65.0
    konzerthaus = sources["konzerthaus"]
    assert konzerthaus["held_runs"] == [stored.held]
    assert [run["id"] for run in konzerthaus["runs"]] == [stored.held, stored.held - 1, stored.first]
    assert konzerthaus["runs"][2]["counts"]["rejected"] == 1
    assert sources["old_club"]["next_run"] is None
    one = as_editor.get("/api/v1/admin/sources/konzerthaus").json()
    assert [run["id"] for run in one["runs"]] == [stored.held, stored.held - 1, stored.first]


def test_pause_resume_and_run_now_by_form_and_api_are_audited(
    runtime: ConsoleRuntime, stored: Stored, as_editor: TestClient
) -> None:
    paused = post(as_editor, "/admin/sources/fzw/pause", {"back": "list"})
    assert paused.status_code == 303
    assert paused.headers["location"] == "/admin/sources?done=source_paused"
    page = as_editor.get(paused.headers["location"]).text
    assert "Die Quelle ist pausiert" in page and 'aria-label="Fortsetzen: fzw"' in page
    assert "pausiert seit 2026-11-21 13:00 von editor@dortmund.de" in page
    again = post(as_editor, "/admin/sources/fzw/pause", {"back": "source"})
    assert again.status_code == 409
    assert "Die Quelle „fzw“ ist schon pausiert." in again.text and "<h1>fzw</h1>" in again.text
    resumed = api_post(as_editor, "/api/v1/admin/sources/fzw/resume")
    assert resumed.status_code == 200
    assert (resumed.json()["before"]["paused"], resumed.json()["after"]["paused"]) == (True, False)
    asked = post(as_editor, "/admin/sources/fzw/run")
    assert asked.headers["location"] == "/admin/sources/fzw?done=run_requested"
    assert (
        "Lauf angefordert um 2026-11-21 13:00 von editor@dortmund.de"
        in as_editor.get("/admin/sources/fzw").text
    )
    twice = api_post(as_editor, "/api/v1/admin/sources/fzw/run")
    assert twice.status_code == 409
    assert "already" in twice.json()["title"] or "schon" in twice.json()["title"]
    with runtime.factory() as session:
        state = session.get_one(SourceState, "fzw")
        assert (state.enabled, state.run_requested_by) == (True, "editor@dortmund.de")
    assert _audit(as_editor) == [
        ("source.pause", "fzw", "editor@dortmund.de"),
        ("source.resume", "fzw", "editor@dortmund.de"),
        ("source.run", "fzw", "editor@dortmund.de"),
    ]


def test_run_now_by_api_answers_202_with_the_request(stored: Stored, as_admin: TestClient) -> None:
    answer = api_post(as_admin, "/api/v1/admin/sources/konzerthaus/run")
    assert answer.status_code == 202
    assert answer.json()["after"]["run_requested_by"] == "admin@dortmund.de"
    assert answer.json()["target_id"] == "konzerthaus"


@pytest.mark.parametrize(
    ("method", "path", "status", "message"),
    [
        ("POST", "/admin/sources/nowhere/pause", 404, "keine konfigurierte Quelle „nowhere“"),
        ("POST", "/api/v1/admin/sources/nowhere/run", 404, "keine konfigurierte Quelle „nowhere“"),
        ("POST", "/api/v1/admin/sources/old_club/pause", 409, "in settings.toml abgeschaltet"),
        ("GET", "/admin/sources/nowhere", 404, "keine konfigurierte Quelle"),
        ("GET", "/admin/runs/abc", 400, "„abc“ ist keine Laufnummer"),
        ("GET", "/api/v1/admin/runs/999", 404, "keinen Lauf 999"),
        ("POST", "/api/v1/admin/runs/999/confirm", 404, "keinen Lauf 999"),
    ],
)
def test_bad_input_gets_a_clear_answer_and_changes_nothing(
    stored: Stored, as_editor: TestClient, method: str, path: str, status: int, message: str
) -> None:
    if method == "GET":
        answer = as_editor.get(path)
    elif path.startswith("/api/"):
        answer = api_post(as_editor, path)
    else:
        answer = post(as_editor, path)
    assert answer.status_code == status, answer.text
    body = answer.json()["title"] if path.startswith("/api/") else answer.text
    assert message in body
    assert _audit(as_editor) == []


def test_a_run_page_lists_its_counts_rejections_and_warnings(stored: Stored, as_editor: TestClient) -> None:
    page = as_editor.get(f"/admin/runs/{stored.first}")
    assert page.status_code == 200, page.text
    html = page.text
    assert f"Lauf {stored.first} von konzerthaus" in html and "erfolgreich" in html
    assert "zf-x" in html and "no start date" in html and "unknown venue: Keller" in html
    assert "Bestätigen und anwenden" not in html
    details = as_editor.get(f"/api/v1/admin/runs/{stored.first}").json()
    assert details["run"]["counts"]["added"] == 20
    assert details["rejections"] == [
        {
            "record_id": "zf-x",
            "source": "konzerthaus",
            "reason": "no start date",
            "field": "start",
            "step": "dates",
            "error": None,
        }
    ]
    assert (details["warnings"], details["preview"]) == (["unknown venue: Keller"], None)


def test_a_held_run_shows_what_confirming_cancels_and_confirming_does_exactly_that(
    runtime: ConsoleRuntime, stored: Stored, as_editor: TestClient
) -> None:
    page = as_editor.get(f"/admin/runs/{stored.held}")
    assert page.status_code == 200, page.text
    assert "Vom Schutz vor Massenabsagen zurückgehalten" in page.text
    assert "Bestätigen sagt 2 Termine ab; 15 weitere fehlen" in page.text
    cancels_html = page.text.split('id="cancels"')[1].split('id="counted"')[0]
    assert "2026-12-19 20:30" in cancels_html and "2026-12-20 20:30" in cancels_html
    assert "keine Quelle listet ihn mehr" in cancels_html and "Die Zauberflöte" in cancels_html
    assert "1 / 2" in page.text  # the counted ones: one run without them of the two that cancel
    preview = as_editor.get(f"/api/v1/admin/runs/{stored.held}").json()["preview"]
    cancels = {item["occurrence"]["id"] for item in preview["cancels"]}
    assert [item["record_id"] for item in preview["cancels"]] == ["zf-19", "zf-20"]
    missing = {item["record_id"] for item in preview["counts_missing"]}
    assert missing == {f"zf-{day}" for day in range(4, 19)}
    assert preview["counts_missing"][0]["occurrence"]["venue"] == "Konzerthaus Dortmund"

    confirmed = post(as_editor, f"/admin/runs/{stored.held}/confirm")
    assert confirmed.status_code == 303, confirmed.text
    assert confirmed.headers["location"] == f"/admin/runs/{stored.held}?done=run_confirmed"
    html = as_editor.get(confirmed.headers["location"]).text
    assert "Der Lauf ist bestätigt und angewendet." in html
    assert "bestätigt von editor@dortmund.de am 2026-11-21 13:00" in html
    assert "Bestätigen und anwenden" not in html
    with runtime.factory() as session:
        cancelled = set(session.scalars(select(Occurrence.id).where(Occurrence.status == "cancelled")))
    assert cancelled == cancels  # exactly what the preview said
    [entry] = as_editor.get("/api/v1/admin/audit?action=run.confirm").json()["entries"]
    assert (entry["target_id"], entry["actor"], entry["after"]["status"]) == (
        str(stored.held),
        "editor@dortmund.de",
        "confirmed",
    )
    again = post(as_editor, f"/admin/runs/{stored.held}/discard")
    assert again.status_code == 409
    assert "nur zurückgehaltene Läufe" in again.text


def test_discarding_by_api_applies_nothing_and_is_recorded(
    runtime: ConsoleRuntime, stored: Stored, as_admin: TestClient
) -> None:
    answer = api_post(as_admin, f"/api/v1/admin/runs/{stored.held}/discard")
    assert answer.status_code == 200, answer.text
    change = answer.json()
    assert (change["before"]["status"], change["after"]["status"]) == ("suspicious", "discarded")
    assert change["after"]["decided_by"] == "admin@dortmund.de"
    details = as_admin.get(f"/api/v1/admin/runs/{stored.held}").json()
    assert (details["run"]["decision"], details["preview"], details["held_listings"]) == (
        "discarded",
        None,
        None,
    )
    with runtime.factory() as session:
        assert len(session.scalars(select(Occurrence)).all()) == 20
    twice = api_post(as_admin, f"/api/v1/admin/runs/{stored.held}/confirm")
    assert twice.status_code == 409
    assert twice.json()["title"].startswith(f"Lauf {stored.held} ist verworfen")


def test_venues_and_strangers_are_kept_out(
    stored: Stored, as_venue: TestClient, anonymous: TestClient
) -> None:
    assert as_venue.get("/admin/sources").status_code == 403
    assert as_venue.get(f"/api/v1/admin/runs/{stored.held}").status_code == 403
    assert api_post(as_venue, f"/api/v1/admin/runs/{stored.held}/discard").status_code == 403
    assert anonymous.get("/api/v1/admin/sources").status_code == 401
    assert anonymous.get("/admin/sources/fzw").headers["location"] == "/admin/login?next=/admin/sources/fzw"


def test_every_json_route_is_in_the_openapi_document(runtime: ConsoleRuntime, clock: FixedClock) -> None:
    ours = {
        (route.path, method.lower())
        for route in build_console(runtime, clock).registered
        if route.kind == "api" and route.path.startswith(("/api/v1/admin/sources", "/api/v1/admin/runs"))
        for method in route.methods
    }
    documented = {(path, method) for path, item in source_pages.OPENAPI_PATHS.items() for method in item}
    assert ours == documented
    assert len(ours) == 8
    openapi: dict[str, Any] = TestClient(_app(runtime, clock)).get("/openapi.json").json()
    for path, method in ours:
        assert method in openapi["paths"][path]


def _app(runtime: ConsoleRuntime, clock: FixedClock) -> Any:
    from _console import client_for

    return client_for(runtime, clock).app


def test_every_health_word_and_run_status_has_a_console_text_in_both_languages() -> None:
    from aggregator.types import Health, RunStatus
    from calendar_api.admin import source_pages

    for health in Health:
        assert all(source_pages.TEXTS[f"health_{health.value}"]), health
    for status in RunStatus:
        assert all(source_pages.TEXTS[f"status_{status.value}"]), status
