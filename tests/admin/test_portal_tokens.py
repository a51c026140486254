"""Push tokens in the portal: a venue issues its own (shown once), revokes them, and reads its push log."""

from __future__ import annotations

import re

from _console import ConsoleRuntime, post
from sqlalchemy import select
from starlette.testclient import TestClient

from aggregator.models import ApiToken, AuditEntry

EVENT = {
    "title": "Orgelnacht",
    "venue": "konzerthaus-dortmund",
    "dates": "05.12.2026 22:00",
    "status": "scheduled",
}


def test_a_venue_issues_a_token_shown_once_pushes_with_it_and_revokes_it(
    runtime: ConsoleRuntime, as_venue: TestClient
) -> None:
    assert "Noch keine Tokens" in as_venue.get("/venue/tokens").text
    issued = post(as_venue, "/venue/tokens", {"name": "Kassensystem"})
    assert issued.status_code == 200
    found = re.search(r'<code id="new-token">(skp_[^<]+)</code>', issued.text)
    assert found
    secret = found.group(1)
    listing = as_venue.get("/venue/tokens").text
    assert "Kassensystem" in listing and secret not in listing
    with runtime.factory() as session:
        row = session.scalars(select(ApiToken)).one()
        assert (row.venues, row.source, row.read_only) == (
            ["konzerthaus-dortmund"],
            "push:konzerthaus-dortmund",
            False,
        )
    pushed = as_venue.post(
        "/api/v1/push/events",
        json={"@type": "Event", "@id": "k1", "name": "Kammerkonzert", "startDate": "2026-12-08T20:00"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert pushed.status_code == 200, pushed.text
    assert post(as_venue, "/venue/new", EVENT).status_code == 303
    log = as_venue.get("/venue/tokens").text
    assert "POST /api/v1/push/events" in log and "POST /venue/new" in log and "created: 1" in log
    assert "Kammerkonzert" in as_venue.get("/venue/").text
    assert "Veranstaltungsort-Portal" not in log.split('aria-labelledby="issue"')[0]  # not listed as a token
    assert "Veranstaltungsort-Portal" in log  # but its writes are in the log
    revoked = post(as_venue, f"/venue/tokens/{row.id}/revoke")
    assert revoked.status_code == 303
    again = as_venue.post(
        "/api/v1/push/events",
        json={"@type": "Event", "@id": "k2", "name": "X", "startDate": "2026-12-08T20:00"},
        headers={"Authorization": f"Bearer {secret}"},
    )
    assert again.status_code == 401
    with runtime.factory() as session:
        actions = set(session.scalars(select(AuditEntry.action)))
    assert {"token.issue", "token.revoke"} <= actions


def test_a_token_needs_a_name(runtime: ConsoleRuntime, as_venue: TestClient) -> None:
    answer = post(as_venue, "/venue/tokens", {"name": ""})
    assert answer.status_code == 400 and 'role="alert"' in answer.text
    with runtime.factory() as session:
        assert session.scalars(select(ApiToken)).first() is None
