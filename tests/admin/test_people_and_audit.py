"""Accounts, push tokens, personal keys and the audit log, through the console's forms and JSON API."""

from __future__ import annotations

import re

from _console import EMAILS, PASSWORD, ConsoleRuntime, api_post, client_for, post, sign_in
from starlette.testclient import TestClient

from aggregator.clock import FixedClock


def test_an_admin_adds_an_editor_who_can_sign_in(
    runtime: ConsoleRuntime, clock: FixedClock, as_admin: TestClient
) -> None:
    answer = post(
        as_admin,
        "/admin/users",
        {"email": "Neu@Dortmund.de", "display_name": "Neu", "role": "editor", "password": PASSWORD},
    )
    assert answer.status_code == 303
    assert "neu@dortmund.de" in as_admin.get(answer.headers["location"]).text
    with client_for(runtime, clock) as newcomer:
        assert sign_in(newcomer, "neu@dortmund.de").status_code == 303
    audit = as_admin.get("/api/v1/admin/audit?action=account.add").json()
    assert audit["total"] == 1
    entry = audit["entries"][0]
    assert entry["actor"] == EMAILS["admin"]
    assert entry["after"]["email"] == "neu@dortmund.de"
    assert "password" not in str(entry).lower().replace("password_", "")


def test_bad_account_input_is_refused_with_the_reason_and_the_form_kept(as_admin: TestClient) -> None:
    short = post(as_admin, "/admin/users", {"email": "x@dortmund.de", "role": "editor", "password": "short"})
    assert short.status_code == 400
    assert "12" in short.text
    venue = api_post(
        as_admin, "/api/v1/admin/users", {"email": "v@x.de", "role": "venue", "password": PASSWORD}
    )
    assert venue.status_code == 400
    assert venue.json()["field"]


def test_tokens_are_shown_once_and_can_be_revoked(as_editor: TestClient) -> None:
    page = post(as_editor, "/admin/tokens", {"name": "Ticketsystem", "venues": "konzerthaus-dortmund"})
    assert page.status_code == 200
    secret = re.search(r"<code>([^<]+)</code>", page.text.split('role="status"')[1])
    assert secret
    listing = as_editor.get("/admin/tokens").text
    assert secret.group(1) not in listing
    tokens = as_editor.get("/api/v1/admin/tokens").json()["tokens"]
    assert [t["name"] for t in tokens] == ["Ticketsystem"]
    assert "token" not in tokens[0]
    assert post(as_editor, f"/admin/tokens/{tokens[0]['id']}/revoke").status_code == 303
    assert as_editor.get("/api/v1/admin/tokens").json()["tokens"][0]["revoked_at"]
    actions = [e["action"] for e in as_editor.get("/api/v1/admin/audit").json()["entries"]]
    assert actions == ["token.revoke", "token.issue"]


def test_an_unknown_venue_gets_a_clear_error(as_editor: TestClient) -> None:
    answer = api_post(as_editor, "/api/v1/admin/tokens", {"name": "x", "venues": ["nirgendwo"]})
    assert answer.status_code == 400
    assert "nirgendwo" in answer.json()["title"]


def test_changing_the_password_ends_other_sessions(
    runtime: ConsoleRuntime, clock: FixedClock, as_editor: TestClient
) -> None:
    with client_for(runtime, clock) as other:
        sign_in(other, EMAILS["editor"])
        new = "a brand new passphrase"
        wrong = post(
            as_editor, "/admin/account/password", {"current": "nope nope nope", "new": new, "repeat": new}
        )
        assert wrong.status_code == 400
        answer = post(as_editor, "/admin/account/password", {"current": PASSWORD, "new": new, "repeat": new})
        assert answer.status_code == 303
        assert as_editor.get("/admin/account").status_code == 200  # this browser stays signed in
        assert other.get("/admin/account").status_code == 303
        assert sign_in(other, EMAILS["editor"], new).status_code == 303


def test_the_audit_log_filters_and_pages(as_admin: TestClient) -> None:
    for n in range(55):
        api_post(as_admin, "/api/v1/admin/keys", {"name": f"key {n}"})
    first = as_admin.get("/api/v1/admin/audit").json()
    assert (first["total"], first["pages"], len(first["entries"])) == (55, 2, 50)
    second = as_admin.get("/api/v1/admin/audit?page=2").json()
    assert len(second["entries"]) == 5
    assert as_admin.get("/api/v1/admin/audit?action=account.add").json()["total"] == 0
    page = as_admin.get("/admin/audit?action=key.issue&page=2")
    assert page.status_code == 200
    assert 'rel="prev"' in page.text


def test_the_console_speaks_english_when_asked(as_editor: TestClient) -> None:
    page = as_editor.get("/admin/?lang=en")
    assert "Overview" in page.text
    assert '<html lang="en">' in page.text
    assert "Overview" in as_editor.get("/admin/").text  # the choice is remembered
