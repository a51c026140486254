"""The console's boundaries, enumerated route by route: roles, CSRF, sessions, the throttle, cookies."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

import pytest
from _console import EMAILS, PASSWORD, ConsoleRuntime, api_post, client_for, csrf, post, sign_in
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.models import AuditEntry, ConsoleSession
from calendar_api.admin import build_console
from calendar_api.admin.console import PUBLIC, Registered


def _routes(runtime: ConsoleRuntime, clock: FixedClock) -> list[Registered]:
    return build_console(runtime, clock).registered


def _concrete(path: str) -> str:
    """A URL for a route template: every path parameter becomes ``1``."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_the_console_has_routes_of_every_kind(runtime: ConsoleRuntime, clock: FixedClock) -> None:
    routes = _routes(runtime, clock)
    assert {r.kind for r in routes} == {"page", "api"}
    assert any("POST" in r.methods for r in routes)
    assert all(r.path.startswith(("/admin", "/api/v1/admin", "/venue")) for r in routes)
    assert any(r.path.startswith("/venue") for r in routes), "the venue portal registers its pages here"


def test_the_portal_admits_venue_accounts_only(
    runtime: ConsoleRuntime, clock: FixedClock, as_editor: TestClient, as_admin: TestClient
) -> None:
    portal = [r for r in _routes(runtime, clock) if r.path.startswith("/venue")]
    assert portal
    for route in portal:
        assert route.roles == ("venue",), route.path
        for client in (as_editor, as_admin):
            for method in route.methods:
                headers = {"x-csrftoken": csrf(client)}
                status = client.request(method, _concrete(route.path), headers=headers).status_code
                assert status == 403, (method, route.path, status)


def test_anonymous_visitors_get_nothing_but_the_login_page(
    runtime: ConsoleRuntime, clock: FixedClock, anonymous: TestClient
) -> None:
    for route in _routes(runtime, clock):
        if route.roles == PUBLIC:
            continue
        for method in route.methods:
            anonymous.cookies.clear()
            status = anonymous.request(method, _concrete(route.path)).status_code
            if route.kind == "page" and method == "GET":
                assert status == 303, (method, route.path)
                location = anonymous.get(_concrete(route.path)).headers["location"]
                assert location.startswith("/admin/login?next="), route.path
            else:
                assert status == 401, (method, route.path, status)


def test_a_venue_account_is_refused_every_editorial_url(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    refused = 0
    for route in _routes(runtime, clock):
        if "venue" in route.roles or route.roles == PUBLIC:
            continue
        for method in route.methods:
            headers = {"x-csrftoken": csrf(as_venue)}
            status = as_venue.request(method, _concrete(route.path), headers=headers).status_code
            assert status == 403, (method, route.path, status)
            refused += 1
    assert refused > 10


def test_an_editor_is_refused_every_admin_only_url(
    runtime: ConsoleRuntime, clock: FixedClock, as_editor: TestClient
) -> None:
    admin_only = [r for r in _routes(runtime, clock) if r.roles == ("admin",)]
    assert admin_only
    for route in admin_only:
        for method in route.methods:
            status = as_editor.request(
                method, _concrete(route.path), headers={"x-csrftoken": csrf(as_editor)}
            )
            assert status.status_code == 403, (method, route.path)


def test_every_state_changing_request_without_a_valid_csrf_token_is_refused(
    runtime: ConsoleRuntime, clock: FixedClock, as_admin: TestClient
) -> None:
    writes = [(r, m) for r in _routes(runtime, clock) for m in r.methods if m not in ("GET", "HEAD")]
    assert len(writes) >= 8
    before = _audit_count(runtime)
    for route, method in writes:
        url = _concrete(route.path)
        missing = as_admin.request(method, url, data={"name": "x"})
        assert missing.status_code == 403, (method, route.path, missing.status_code)
        wrong = as_admin.request(method, url, data={"name": "x", "csrftoken": "forged"})
        assert wrong.status_code == 403, (method, route.path)
        header = as_admin.request(method, url, json={"name": "x"}, headers={"x-csrftoken": "forged"})
        assert header.status_code == 403, (method, route.path)
    assert _audit_count(runtime) == before
    assert as_admin.get("/admin/").status_code == 200  # still signed in: nothing was done


def _audit_count(runtime: ConsoleRuntime) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def test_a_foreign_site_cannot_sign_a_visitor_in(anonymous: TestClient) -> None:
    answer = anonymous.post("/admin/login", data={"email": EMAILS["editor"], "password": PASSWORD})
    assert answer.status_code == 403
    assert "sk_session" not in answer.cookies


def test_every_console_response_is_not_stored(
    runtime: ConsoleRuntime, clock: FixedClock, as_admin: TestClient, anonymous: TestClient
) -> None:
    for route in _routes(runtime, clock):
        if "GET" in route.methods:
            assert as_admin.get(_concrete(route.path)).headers["cache-control"] == "no-store", route.path
    assert anonymous.get("/admin/login").headers["cache-control"] == "no-store"
    assert anonymous.post("/admin/logout").headers["cache-control"] == "no-store"


def test_the_session_cookie_is_http_only_and_same_site(anonymous: TestClient) -> None:
    answer = sign_in(anonymous, EMAILS["editor"])
    cookie = next(h for h in answer.headers.get_list("set-cookie") if h.startswith("sk_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Path=/" in cookie
    assert "Secure" not in cookie  # base_url is http here


def test_on_https_the_cookies_are_secure(runtime: ConsoleRuntime, clock: FixedClock) -> None:
    settings = replace(
        runtime.settings, server=replace(runtime.settings.server, base_url="https://kalender.dortmund.de")
    )
    with client_for(replace(runtime, settings=settings), clock) as client:
        client.base_url = client.base_url.copy_with(scheme="https")
        answer = sign_in(client, EMAILS["editor"])
        cookies = answer.headers.get_list("set-cookie")
        assert any(c.startswith("sk_session=") and "Secure" in c for c in cookies)


def test_signing_in_rotates_the_session(
    runtime: ConsoleRuntime, clock: FixedClock, anonymous: TestClient
) -> None:
    sign_in(anonymous, EMAILS["editor"])
    first = anonymous.cookies["sk_session"]
    sign_in(anonymous, EMAILS["editor"])
    second = anonymous.cookies["sk_session"]
    assert first != second
    with runtime.factory() as session:
        assert session.scalar(select(func.count()).select_from(ConsoleSession)) == 1  # the old one ended
    with client_for(runtime, clock) as stranger:
        stranger.cookies.set("sk_session", first)
        assert stranger.get("/admin/").status_code == 303


def test_a_planted_session_id_is_not_adopted(
    runtime: ConsoleRuntime, clock: FixedClock, anonymous: TestClient
) -> None:
    token = csrf(anonymous)
    answer = anonymous.post(
        "/admin/login",
        data={"email": EMAILS["editor"], "password": PASSWORD, "csrftoken": token},
        headers={"cookie": f"csrftoken={token}; sk_session=chosen-by-the-attacker"},
    )
    assert answer.status_code == 303
    given = answer.cookies["sk_session"]
    assert given != "chosen-by-the-attacker"
    assert len(given) >= 40
    with client_for(runtime, clock) as attacker:
        attacker.cookies.set("sk_session", "chosen-by-the-attacker")
        assert attacker.get("/admin/").status_code == 303


def test_an_idle_session_ends(clock: FixedClock, as_editor: TestClient) -> None:
    clock.advance(timedelta(minutes=29))
    assert as_editor.get("/admin/").status_code == 200
    clock.advance(timedelta(minutes=31))
    assert as_editor.get("/admin/").status_code == 303


def test_a_busy_session_ends_after_the_absolute_timeout(clock: FixedClock, as_editor: TestClient) -> None:
    for _ in range(35):  # every 20 minutes for 11 h 40 min
        clock.advance(timedelta(minutes=20))
        assert as_editor.get("/admin/").status_code == 200
    clock.advance(timedelta(minutes=21))
    assert as_editor.get("/admin/").status_code == 303


def test_logging_out_ends_the_session_on_the_server(
    runtime: ConsoleRuntime, clock: FixedClock, as_editor: TestClient
) -> None:
    token = as_editor.cookies["sk_session"]
    assert post(as_editor, "/admin/logout").status_code == 303
    with client_for(runtime, clock) as replay:
        replay.cookies.set("sk_session", token)
        assert replay.get("/admin/").status_code == 303


def test_a_disabled_account_loses_its_sessions_at_once(
    runtime: ConsoleRuntime, clock: FixedClock, as_admin: TestClient, as_editor: TestClient
) -> None:
    assert post(as_admin, "/admin/users/disable", {"email": EMAILS["editor"]}).status_code == 303
    assert as_editor.get("/admin/").status_code == 303


class TestThrottle:
    def test_five_failures_a_minute_lock_the_account_even_for_the_right_password(
        self, anonymous: TestClient, clock: FixedClock
    ) -> None:
        for _ in range(5):
            assert sign_in(anonymous, EMAILS["editor"], "wrong password!!").status_code == 401
        refused = sign_in(anonymous, EMAILS["editor"])
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= 61
        assert "sk_session" not in refused.cookies
        clock.advance(timedelta(seconds=61))
        assert sign_in(anonymous, EMAILS["editor"]).status_code == 303

    def test_one_client_trying_many_accounts_is_throttled(self, anonymous: TestClient) -> None:
        for n in range(5):
            assert sign_in(anonymous, f"nobody{n}@example.org", "wrong password!!").status_code == 401
        assert sign_in(anonymous, EMAILS["admin"]).status_code == 429

    def test_the_count_is_shared_by_every_worker(self, runtime: ConsoleRuntime, clock: FixedClock) -> None:
        with client_for(runtime, clock) as first, client_for(runtime, clock) as second:
            for n in range(3):
                sign_in(first, EMAILS["editor"], f"wrong password {n}!")
            for n in range(2):
                sign_in(second, EMAILS["editor"], f"wrong password {n}!")
            assert sign_in(first, EMAILS["editor"]).status_code == 429
            assert sign_in(second, EMAILS["editor"]).status_code == 429


class TestPersonalKeys:
    def _key(self, client: TestClient) -> str:
        answer = api_post(client, "/api/v1/admin/keys", {"name": "nightly script"})
        assert answer.status_code == 201, answer.text
        return str(answer.json()["key"])

    def test_a_key_acts_as_its_account_on_the_api_only(
        self, runtime: ConsoleRuntime, clock: FixedClock, as_editor: TestClient
    ) -> None:
        key = self._key(as_editor)
        with client_for(runtime, clock) as script:
            bearer = {"authorization": f"Bearer {key}"}
            me = script.get("/api/v1/admin/me", headers=bearer)
            assert me.status_code == 200
            assert me.json()["email"] == EMAILS["editor"]
            assert script.get("/admin/", headers=bearer).status_code == 401
            assert script.get("/api/v1/admin/users", headers=bearer).status_code == 403  # an editor's key

    def test_a_key_needs_no_csrf_and_ignores_cookies(
        self, runtime: ConsoleRuntime, clock: FixedClock, as_admin: TestClient, as_editor: TestClient
    ) -> None:
        key = self._key(as_editor)
        bearer = {"authorization": f"Bearer {key}"}
        me = as_admin.get("/api/v1/admin/me", headers=bearer)  # the admin's session cookie goes along
        assert me.json()["role"] == "editor"
        assert (
            as_admin.post("/api/v1/admin/keys", json={"name": "made by key"}, headers=bearer).status_code
            == 201
        )

    def test_a_revoked_or_forged_key_is_refused(
        self, runtime: ConsoleRuntime, clock: FixedClock, as_editor: TestClient
    ) -> None:
        key = self._key(as_editor)
        key_id = as_editor.get("/admin/account").text.count("/revoke")
        assert key_id == 1
        page = as_editor.get("/admin/account").text
        revoke_path = re.search(r'action="(/admin/account/keys/\d+/revoke)"', page)
        assert revoke_path
        assert post(as_editor, revoke_path.group(1)).status_code == 303
        with client_for(runtime, clock) as script:
            assert (
                script.get("/api/v1/admin/me", headers={"authorization": f"Bearer {key}"}).status_code == 401
            )
            assert (
                script.get("/api/v1/admin/me", headers={"authorization": "Bearer skp_forged"}).status_code
                == 401
            )
            assert script.get("/api/v1/admin/me", headers={"authorization": "Basic eDp5"}).status_code == 401


@pytest.mark.parametrize(
    "path", ["/", "/api/v1/events", "/api/v1/venues", "/openapi.json", "/feeds/events.ics", "/healthz"]
)
def test_no_account_data_in_public_responses(anonymous: TestClient, as_admin: TestClient, path: str) -> None:
    answer = anonymous.get(path)
    assert answer.status_code in (200, 503), path
    for email in EMAILS.values():
        assert email not in answer.text
    assert "argon2" not in answer.text
    assert "sk_session" not in answer.headers.get("set-cookie", "")


def test_a_file_form_is_refused_without_its_csrf_token_or_when_too_large(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    console = build_console(runtime, clock)
    file_forms = sorted(console._multipart)
    assert file_forms == ["/venue/upload"]
    before = _audit_count(runtime)
    upload = {"file": ("p.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar")}
    for path in file_forms:
        token = csrf(as_venue)
        assert as_venue.post(path, files=upload).status_code == 403
        assert as_venue.post(path, data={"csrftoken": "forged"}, files=upload).status_code == 403
        assert as_venue.post(path, data={"csrftoken": token + "x"}, files=upload).status_code == 403
        big = {"file": ("p.ics", b"x" * 2_000_001, "text/calendar")}
        assert as_venue.post(path, data={"csrftoken": token}, files=big).status_code == 413
        assert as_venue.post(path, data={"csrftoken": token}, files=upload).status_code == 400  # then read
        as_venue.cookies.pop("csrftoken")
        assert as_venue.post(path, data={"csrftoken": token}, files=upload).status_code == 403
    assert _audit_count(runtime) == before
