"""The duplicate review in the console: the queue, deciding and undoing, splitting — as pages and JSON."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import pytest
from _console import ConsoleRuntime, api_post, post
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import AuditEntry, DedupeDecision, Event, SourceRecord
from aggregator.types import BERLIN, RunStatus

KINDS = {"konzerthaus": "venue", "dortmund_de": "city"}


def _listing(source: str, record_id: str, title: str, start: datetime, **extra: Any) -> Listing:
    return Listing(
        source=source,
        record_id=record_id,
        title=title,
        fetched_at=start,
        start=start,
        time_text=f"{start:%H.%M} Uhr",
        venue_name="Konzerthaus Dortmund",
        url=f"https://example.org/{source}/{record_id}",
        **extra,
    )


def _run(runtime: ConsoleRuntime, clock: FixedClock, source: str, listings: list[Listing]) -> None:
    ctx = IngestContext(runtime.factory, runtime.settings, kinds=KINDS, clock=clock)
    report = ingest(ctx, source, listings, now=clock())
    assert report.status == RunStatus.SUCCESS, report.error


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=BERLIN)


@pytest.fixture
def near_miss(runtime: ConsoleRuntime, clock: FixedClock) -> tuple[str, str]:
    """Two events the matcher kept apart: the venue's and the city portal's title of one recital, ten
    minutes apart (at the same minute, the names they share would merge them)."""
    _run(
        runtime,
        clock,
        "konzerthaus",
        [_listing("konzerthaus", "k1", "Igor Levit spielt Beethoven", _at(5, 19, 30))],
    )
    _run(
        runtime,
        clock,
        "dortmund_de",
        [_listing("dortmund_de", "c1", "Igor Levit: Beethoven-Sonaten", _at(5, 19, 40))],
    )
    return _event_of(runtime, "konzerthaus", "k1"), _event_of(runtime, "dortmund_de", "c1")


@pytest.fixture
def two_times(runtime: ConsoleRuntime, clock: FixedClock) -> str:
    """One event whose sources give one performance at 18:00 and at 19:30."""
    _run(runtime, clock, "konzerthaus", [_listing("konzerthaus", "k1", "Kosmos", _at(5, 18))])
    _run(runtime, clock, "dortmund_de", [_listing("dortmund_de", "c1", "Kosmos", _at(5, 19, 30))])
    return _event_of(runtime, "konzerthaus", "k1")


def _event_of(runtime: ConsoleRuntime, source: str, record_id: str) -> str:
    with runtime.factory() as session:
        return session.scalars(
            select(SourceRecord.event_id).where(
                SourceRecord.source == source, SourceRecord.record_id == record_id
            )
        ).one()


def _events(runtime: ConsoleRuntime) -> list[str]:
    with runtime.factory() as session:
        return sorted(session.scalars(select(Event.id)))


def _audit(runtime: ConsoleRuntime) -> list[str]:
    with runtime.factory() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))


def _decisions(runtime: ConsoleRuntime) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).select_from(DedupeDecision)) or 0)


def _form_fields(html: str, button: str) -> dict[str, str]:
    """The hidden fields of the form whose button reads ``button``."""
    for form in re.findall(r"<form .*?</form>", html, flags=re.S):
        if f">{button}</button>" in form:
            return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
    raise AssertionError(f"no form with the button {button!r}")


def test_the_queue_shows_a_near_miss_side_by_side_in_both_languages(
    as_editor: TestClient, near_miss: tuple[str, str]
) -> None:
    page = as_editor.get("/admin/review")
    assert page.status_code == 200, page.text
    assert "Beinahe-Treffer am 2026-12-05" in page.text
    assert "Igor Levit spielt Beethoven" in page.text and "Igor Levit: Beethoven-Sonaten" in page.text
    assert 'scope="col">Seite 1</th>' in page.text and 'scope="row">Quellen</th>' in page.text
    assert "Titelähnlichkeit" in page.text
    english = as_editor.get("/admin/review?lang=en")
    assert "Near miss on 2026-12-05" in english.text and ">Keep apart</button>" in english.text


def test_a_near_miss_in_one_slot_shows_the_evidence_for_and_against_in_both_languages(
    as_editor: TestClient, runtime: ConsoleRuntime, clock: FixedClock
) -> None:
    for source, record_id, title in (
        ("konzerthaus", "k1", "Tribute to Hans Zimmer"),
        ("dortmund_de", "c1", "The Music of Hans Zimmer & Others"),
    ):
        _run(runtime, clock, source, [_listing(source, record_id, title, _at(5, 20))])
    page = as_editor.get("/admin/review")
    assert (
        "Dafür spricht: gleicher Ort, gleicher Tag, gleiche Beginnzeit; gemeinsame Namen: hans zimmer."
        in page.text
    )
    against = "Dagegen spricht: Titelähnlichkeit nur 73; Namen nur auf einer Seite: {}."
    assert against.format("tribute / others") in page.text or against.format("others / tribute") in page.text
    english = as_editor.get("/admin/review?lang=en")
    assert "For a merge: same venue, day and start time; shared names: hans zimmer." in english.text
    [item] = as_editor.get("/api/v1/admin/review").json()["items"]
    assert item["evidence_for"] == [
        {"kind": "slot", "detail": ""},
        {"kind": "names", "detail": "hans zimmer"},
    ]
    assert [e["kind"] for e in item["evidence_against"]] == ["low_score", "other_names"]


def test_merging_from_the_queue_changes_the_events_at_once_and_is_audited(
    runtime: ConsoleRuntime, as_editor: TestClient, near_miss: tuple[str, str]
) -> None:
    fields = _form_fields(as_editor.get("/admin/review").text, "Zusammenführen")
    answer = as_editor.post("/admin/review", data=fields)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/review?done=decided"
    assert "Nichts zu prüfen." in as_editor.get(answer.headers["location"]).text
    assert _events(runtime) == [min(near_miss)]
    assert _audit(runtime) == ["dedupe.merge"]
    entry = as_editor.get("/api/v1/admin/audit?action=dedupe.merge").json()["entries"][0]
    assert entry["actor"] == "editor@dortmund.de"
    assert set(entry["before"]["events"]) == set(near_miss)
    assert entry["after"]["events"][max(near_miss)] is None


def test_picking_a_time_from_the_queue_and_undoing_it_on_the_decisions_page(
    runtime: ConsoleRuntime, as_editor: TestClient, two_times: str
) -> None:
    page = as_editor.get("/admin/review").text
    assert "Beginnzeit strittig am 2026-12-05" in page
    answer = as_editor.post("/admin/review", data=_form_fields(page, "Diese Angabe stimmt: 2026-12-05 19:30"))
    assert answer.status_code == 303
    public = as_editor.get(f"/api/v1/events/{two_times}").json()
    assert [o["start"] for o in public["occurrences"]] == ["2026-12-05T19:30:00+01:00"]

    decisions = as_editor.get("/admin/decisions")
    assert "Beginn: richtig ist „2026-12-05 19:30“" in decisions.text
    [decision] = as_editor.get("/api/v1/admin/decisions").json()["decisions"]
    undone = post(as_editor, f"/admin/decisions/{decision['id']}/undo")
    assert (undone.status_code, undone.headers["location"]) == (303, "/admin/decisions?done=undone")
    assert "zurückgenommen von editor@dortmund.de" in as_editor.get(undone.headers["location"]).text
    public = as_editor.get(f"/api/v1/events/{two_times}").json()
    assert len(public["occurrences"]) == 2
    assert _audit(runtime) == ["dedupe.pick", "dedupe.undo"]


def test_both_performances_real_takes_the_item_off_the_queue(as_editor: TestClient, two_times: str) -> None:
    page = as_editor.get("/admin/review").text
    assert (
        post(as_editor, "/admin/review", _form_fields(page, "Beide Termine finden statt")).status_code == 303
    )
    assert as_editor.get("/api/v1/admin/review").json() == {"items": []}


def test_splitting_an_event_on_its_page(
    runtime: ConsoleRuntime, as_admin: TestClient, two_times: str
) -> None:
    page = as_admin.get(f"/admin/events/{two_times}/split")
    assert page.status_code == 200
    assert '<label for="move-1"><code>' in page.text
    answer = post(
        as_admin, f"/admin/events/{two_times}/split", {"move": "dortmund_de:c1", "note": "Gastspiel"}
    )
    assert (answer.status_code, answer.headers["location"]) == (303, "/admin/decisions?done=split")
    assert len(_events(runtime)) == 2
    listed = as_admin.get("/admin/decisions").text
    assert "aufgeteilt" in listed and "Gastspiel" in listed
    assert _audit(runtime) == ["dedupe.split"]


def test_a_refused_split_shows_the_reason_and_keeps_the_choice(
    runtime: ConsoleRuntime, as_editor: TestClient, two_times: str
) -> None:
    answer = post(
        as_editor,
        f"/admin/events/{two_times}/split",
        {"move": ["dortmund_de:c1", "konzerthaus:k1"], "note": "alles"},
    )
    assert answer.status_code == 400
    assert "Nicht gespeichert" in answer.text and "at least one record must stay" in answer.text
    assert answer.text.count(" checked>") == 2 and ">alles</textarea>" in answer.text
    assert _events(runtime) == [two_times] and _audit(runtime) == []


def test_the_json_api_decides_lists_and_undoes(
    runtime: ConsoleRuntime, as_editor: TestClient, near_miss: tuple[str, str]
) -> None:
    [item] = as_editor.get("/api/v1/admin/review").json()["items"]
    assert item["kind"] == "near_miss" and len(item["sides"]) == 2 and item["score"] < item["threshold"]
    made = api_post(
        as_editor,
        "/api/v1/admin/decisions",
        {
            "kind": "keep_apart",
            "a": item["sides"][0]["event_id"],
            "b": item["sides"][1]["event_id"],
            "note": "zwei Abende",
        },
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["decision"]["kind"], body["decision"]["note"]) == ("keep_apart", "zwei Abende")
    assert as_editor.get("/api/v1/admin/review").json() == {"items": []}
    listed = as_editor.get("/api/v1/admin/decisions?in_force=1").json()
    assert (listed["total"], listed["decisions"][0]["id"]) == (1, body["decision"]["id"])
    undone = api_post(as_editor, f"/api/v1/admin/decisions/{body['decision']['id']}/undo")
    assert undone.status_code == 200 and undone.json()["decision"]["undone_by"] == "editor@dortmund.de"
    assert len(as_editor.get("/api/v1/admin/review").json()["items"]) == 1
    assert as_editor.get("/api/v1/admin/decisions?in_force=1").json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"kind": "marry", "a": "x", "b": "y"}, 400, "kind"),
        ({"kind": "merge", "a": "konzerthaus:k1"}, 400, "b"),
        ({"kind": "merge", "a": "konzerthaus:k1", "b": "nowhere:1"}, 400, "b"),
        (
            {"kind": "pick", "a": "konzerthaus:k1", "b": "dortmund_de:c1", "field": "start", "winner": "c"},
            400,
            "winner",
        ),
        (
            {"kind": "pick", "a": "konzerthaus:k1", "b": "dortmund_de:c1", "field": "colour", "winner": "a"},
            400,
            "field",
        ),
    ],
)
def test_bad_decisions_are_refused_with_the_field_and_change_nothing(
    runtime: ConsoleRuntime,
    as_editor: TestClient,
    near_miss: tuple[str, str],
    body: dict[str, Any],
    status: int,
    field: str,
) -> None:
    answer = api_post(as_editor, "/api/v1/admin/decisions", body)
    assert answer.status_code == status, answer.text
    assert answer.json()["field"] == field and answer.json()["title"]
    assert _events(runtime) == sorted(near_miss) and _decisions(runtime) == 0 and _audit(runtime) == []


def test_a_bad_decision_from_the_form_shows_the_queue_again_with_the_reason(
    as_editor: TestClient, near_miss: tuple[str, str]
) -> None:
    answer = post(as_editor, "/admin/review", {"kind": "merge", "a": near_miss[0], "b": near_miss[0]})
    assert answer.status_code == 400
    assert 'role="alert">Nicht gespeichert:' in answer.text and "Beinahe-Treffer" in answer.text


def test_unknown_decisions_and_events_are_not_found(as_editor: TestClient) -> None:
    assert api_post(as_editor, "/api/v1/admin/decisions/999/undo").status_code == 404
    assert api_post(as_editor, "/api/v1/admin/decisions/abc/undo").status_code == 404
    assert as_editor.get("/admin/events/nope/split").status_code == 404
    assert api_post(as_editor, "/api/v1/admin/events/nope/split", {"move": ["x:y"]}).status_code == 404


def test_undoing_twice_is_refused(as_editor: TestClient, near_miss: tuple[str, str]) -> None:
    made = api_post(
        as_editor, "/api/v1/admin/decisions", {"kind": "keep_apart", "a": near_miss[0], "b": near_miss[1]}
    )
    decision = made.json()["decision"]["id"]
    assert api_post(as_editor, f"/api/v1/admin/decisions/{decision}/undo").status_code == 200
    again = post(as_editor, f"/admin/decisions/{decision}/undo")
    assert again.status_code == 400 and "undone already" in again.text


def test_venue_accounts_and_strangers_are_refused(as_venue: TestClient, anonymous: TestClient) -> None:
    for path in ("/admin/review", "/admin/decisions", "/admin/events/x/split"):
        assert as_venue.get(path).status_code == 403
        assert anonymous.get(path).status_code == 303
    assert as_venue.get("/api/v1/admin/review").status_code == 403
    assert anonymous.get("/api/v1/admin/decisions").status_code == 401
    assert (
        api_post(as_venue, "/api/v1/admin/decisions", {"kind": "merge", "a": "x", "b": "y"}).status_code
        == 403
    )


def test_the_review_paths_are_in_the_openapi_document(as_editor: TestClient) -> None:
    paths = as_editor.get("/openapi.json").json()["paths"]
    for path in (
        "/api/v1/admin/review",
        "/api/v1/admin/decisions",
        "/api/v1/admin/decisions/{decision_id}/undo",
        "/api/v1/admin/events/{event_id}/split",
    ):
        assert path in paths


def test_the_overview_counts_the_open_review_items(as_editor: TestClient, near_miss: tuple[str, str]) -> None:
    page = as_editor.get("/admin/")
    assert "1 mögliche Dubletten und Widersprüche warten auf eine Entscheidung" in page.text
    assert 'href="/admin/review"' in page.text
