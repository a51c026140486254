"""Who may do what: 401 without a valid token, 403 for read-only tokens and other venues' events, 429, audit."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from _push import DOMICIL, KONZERTHAUS, PushRuntime, Venue, event, give_token, make_client, programme
from fixed_clock import NOW
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.models import Occurrence, PushLog, SourceRecord
from calendar_api.push.tokens import list_tokens, revoke_token

WRITES = [("POST", "/events"), ("PUT", "/events/p0"), ("DELETE", "/events/p0"), ("POST", "/sync")]
READS = [("GET", "/events"), ("GET", "/events/p0"), ("GET", "/log")]


def _send(client: TestClient, method: str, path: str, headers: dict[str, str], body: Any = None) -> Any:
    content = json.dumps(body if body is not None else (event("p0") if method != "POST" else [event("p0")]))
    return client.request(
        method,
        f"/api/v1/push{path}",
        content=None if method in ("GET", "DELETE") else content,
        headers={"Content-Type": "application/ld+json", **headers},
    )


def _records(factory: sessionmaker[Session]) -> list[tuple[Any, ...]]:
    with factory() as session:
        rows = session.execute(
            select(
                SourceRecord.source,
                SourceRecord.record_id,
                SourceRecord.content_hash,
                SourceRecord.active,
                SourceRecord.missing_runs,
            )
        )
        return sorted(tuple(row) for row in rows)


def _statuses(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    with factory() as session:
        return sorted((row[0], row[1]) for row in session.execute(select(Occurrence.id, Occurrence.status)))


# -- 401 --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), WRITES + READS)
def test_no_token_is_401_with_a_bearer_challenge(client: TestClient, method: str, path: str) -> None:
    response = _send(client, method, path, {})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="stadtkalender push"'
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(("method", "path"), WRITES + READS)
@pytest.mark.parametrize("header", ["Bearer skp_not-a-real-token", "Basic dXNlcjpwYXNz", "Bearer "])
def test_a_wrong_token_is_401_invalid_token(
    konzerthaus: Venue, client: TestClient, method: str, path: str, header: str
) -> None:
    response = _send(client, method, path, {"Authorization": header})
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]


def test_a_token_one_character_off_is_401(konzerthaus: Venue, client: TestClient) -> None:
    wrong = konzerthaus.token[:-1] + ("A" if konzerthaus.token[-1] != "A" else "B")
    assert _send(client, "POST", "/events", {"Authorization": f"Bearer {wrong}"}).status_code == 401


@pytest.mark.parametrize(("method", "path"), WRITES + READS)
def test_a_revoked_token_is_401(
    konzerthaus: Venue, runtime: PushRuntime, client: TestClient, method: str, path: str
) -> None:
    revoke_token(runtime.factory, str(konzerthaus.token_id), now=NOW)
    response = _send(client, method, path, {"Authorization": f"Bearer {konzerthaus.token}"})
    assert response.status_code == 401
    assert "revoked" in response.headers["www-authenticate"]


# -- 403: read-only tokens ----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_read_only_token_cannot_write(
    runtime: PushRuntime, client: TestClient, konzerthaus: Venue, method: str, path: str
) -> None:
    konzerthaus.post("/events", [event("p0")])
    before = _records(runtime.factory)
    checker = give_token(runtime, client, KONZERTHAUS, read_only=True)
    response = _send(client, method, path, {"Authorization": f"Bearer {checker.token}"})
    assert response.status_code == 403
    assert response.json()["type"].endswith("#problem-push-read-only")
    assert _records(runtime.factory) == before


@pytest.mark.parametrize(("method", "path"), READS)
def test_a_read_only_token_can_read_its_venue(
    runtime: PushRuntime, client: TestClient, konzerthaus: Venue, method: str, path: str
) -> None:
    konzerthaus.post("/events", [event("p0")])
    checker = give_token(runtime, client, KONZERTHAUS, read_only=True)
    response = _send(client, method, path, {"Authorization": f"Bearer {checker.token}"})
    assert response.status_code == 200, response.text


# -- 403: other venues' events ------------------------------------------------------------------


def test_no_endpoint_lets_one_venue_change_or_cancel_anothers_events(
    runtime: PushRuntime, konzerthaus: Venue, domicil: Venue
) -> None:
    konzerthaus.post("/sync", programme(4))
    before_records = _records(runtime.factory)
    before_status = _statuses(runtime.factory)
    at_konzerthaus: dict[str, Any] = {"location": {"@type": "Place", "name": "Konzerthaus Dortmund"}}

    assert domicil.post("/events", [event("p0", **at_konzerthaus)]).status_code == 403
    assert (
        domicil.post("/events", [event("x", location="Konzerthaus Dortmund, Großer Saal")]).status_code == 403
    )
    assert domicil.put("p0", event("p0", **at_konzerthaus)).status_code == 403
    assert domicil.post("/sync", programme(4, **at_konzerthaus)).status_code == 403
    assert domicil.delete("p0").status_code == 404  # ids are per source: domicil has no p0
    assert domicil.get("/events/p0").status_code == 404
    for _ in range(3):  # domicil's own full programme never vanishes the Konzerthaus's events
        assert domicil.post("/sync", [event("d0", location="domicil")]).status_code == 200
    put_own = domicil.put("p1", event("p1"))  # the same id at domicil is domicil's own record
    assert put_own.status_code == 201

    after = _records(runtime.factory)
    assert [row for row in after if row[0] == konzerthaus.source] == before_records
    with runtime.factory() as session:
        kh_occurrences = set(
            session.scalars(
                select(SourceRecord.occurrence_id).where(SourceRecord.source == konzerthaus.source)
            )
        )
    assert [s for s in _statuses(runtime.factory) if s[0] in kh_occurrences] == before_status
    assert {s for occ, s in before_status} == {"scheduled"}


def test_a_record_stored_at_another_venue_cannot_be_touched(runtime: PushRuntime, konzerthaus: Venue) -> None:
    konzerthaus.post("/events", [event("p0"), event("p1", 6)])
    with runtime.factory() as session, session.begin():
        record = session.scalars(select(SourceRecord).where(SourceRecord.record_id == "p0")).one()
        record.data = {**record.data, "venue_slug": DOMICIL}  # as if an operator had moved it
    before = _records(runtime.factory)
    assert konzerthaus.delete("p0").status_code == 403
    assert konzerthaus.put("p0", event("p0")).status_code == 403
    assert konzerthaus.post("/events", [event("p0")]).status_code == 403
    assert konzerthaus.post("/sync", [event("p1", 6)]).status_code == 403
    assert _records(runtime.factory) == before


def test_a_multi_venue_token_writes_for_each_and_needs_a_location(
    runtime: PushRuntime, client: TestClient
) -> None:
    both = give_token(runtime, client, KONZERTHAUS, DOMICIL, source="push:verbund")
    assert (
        both.post(
            "/events", [event("a", location="domicil"), event("b", location="Konzerthaus Dortmund")]
        ).status_code
        == 200
    )
    response = both.post("/events", [event("c")])
    assert response.status_code == 422
    assert response.json()["errors"][0]["path"] == "$[0].location"
    with runtime.factory() as session:
        venues = {r.record_id: r.data["venue_slug"] for r in session.scalars(select(SourceRecord))}
    assert venues == {"a": DOMICIL, "b": KONZERTHAUS}


# -- 429 --------------------------------------------------------------------------------------


def test_over_the_rate_limit_is_429_with_retry_after(
    runtime: PushRuntime, konzerthaus: Venue, domicil: Venue
) -> None:
    limited = replace(
        runtime,
        settings=replace(runtime.settings, push=replace(runtime.settings.push, rate_limit_per_minute=3)),
    )
    with make_client(limited) as client:
        headers = konzerthaus.headers()
        answers = [client.get("/api/v1/push/log", headers=headers).status_code for _ in range(3)]
        refused = client.post("/api/v1/push/events", content=json.dumps([event("p0")]), headers=headers)
        other = client.get("/api/v1/push/log", headers=domicil.headers())
    assert answers == [200, 200, 200]
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert refused.json()["retry_after"] == int(refused.headers["retry-after"])
    assert other.status_code == 200, "the limit is per token"
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(SourceRecord)) == 0
        assert session.scalar(select(func.count()).select_from(PushLog)) == 0, (
            "a refused flood writes no rows"
        )


# -- audit ------------------------------------------------------------------------------------


def test_every_write_is_logged_with_what_changed(runtime: PushRuntime, konzerthaus: Venue) -> None:
    konzerthaus.post("/events", [event("p0"), event("p1", 6)])
    konzerthaus.post("/events", [event("p0"), {"@type": "Event"}])
    konzerthaus.delete("p1")
    with runtime.factory() as session:
        rows = session.scalars(select(PushLog).order_by(PushLog.id)).all()
    assert [(r.method, r.path, r.status) for r in rows] == [
        ("POST", "/api/v1/push/events", 200),
        ("POST", "/api/v1/push/events", 422),
        ("DELETE", "/api/v1/push/events/p1", 200),
    ]
    assert {(r.token_id, r.token_name, r.source) for r in rows} == {
        (konzerthaus.token_id, "test konzerthaus-dortmund", konzerthaus.source)
    }
    assert [(x["id"], x["result"]) for x in rows[0].summary["records"]] == [
        ("p0", "created"),
        ("p1", "created"),
    ]
    assert rows[0].summary["venues"] == [KONZERTHAUS]
    assert rows[1].summary["error"] == "push-invalid-events"
    assert {e["path"] for e in rows[1].summary["errors"]} >= {"$[1]['@id']", "$[1].name", "$[1].startDate"}
    assert rows[2].summary["records"][0]["result"] == "cancelled"
    assert all(r.at is not None for r in rows)


def test_the_log_shows_the_own_venue_only_newest_first_in_pages(konzerthaus: Venue, domicil: Venue) -> None:
    for i in range(3):
        konzerthaus.post("/events", [event(f"k{i}")])
    domicil.post("/events", [event("d0")])
    first = konzerthaus.get("/log?limit=2").json()
    assert [e["path"] for e in first["entries"]] == ["/api/v1/push/events"] * 2
    assert [e["summary"]["records"][0]["id"] for e in first["entries"]] == ["k2", "k1"]
    assert first["next"] is not None
    rest = konzerthaus.client.get(
        first["next"].replace("http://127.0.0.1:8080", ""), headers=konzerthaus.headers()
    ).json()
    assert [e["summary"]["records"][0]["id"] for e in rest["entries"]] == ["k0"]
    assert rest["next"] is None
    assert [e["summary"]["records"][0]["id"] for e in domicil.get("/log").json()["entries"]] == ["d0"]


def test_the_own_events_can_be_listed_in_pages(konzerthaus: Venue, domicil: Venue) -> None:
    konzerthaus.post("/events", programme(3))
    domicil.post("/events", [event("d0")])
    page = konzerthaus.get("/events?limit=2").json()
    assert [e["id"] for e in page["events"]] == ["p0", "p1"]
    rest = konzerthaus.client.get(
        page["next"].replace("http://127.0.0.1:8080", ""), headers=konzerthaus.headers()
    ).json()
    assert ([e["id"] for e in rest["events"]], rest["next"]) == (["p2"], None)


@pytest.mark.parametrize("query", ["limit=0", "limit=abc", "before=-1", "limit=100000"])
def test_bad_paging_parameters_are_400(konzerthaus: Venue, query: str) -> None:
    response = konzerthaus.get(f"/log?{query}")
    assert response.status_code == 400
    assert response.json()["parameter"] == query.split("=")[0]


def test_token_use_is_recorded(runtime: PushRuntime, konzerthaus: Venue) -> None:
    assert {t.id: t.last_used_at for t in list_tokens(runtime.factory)}[konzerthaus.token_id] is None
    konzerthaus.get("/log")
    assert {t.id: t.last_used_at for t in list_tokens(runtime.factory)}[konzerthaus.token_id] is not None
