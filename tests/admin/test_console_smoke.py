"""Signing in, out, and the pages of the console's frame."""

from __future__ import annotations

from _console import EMAILS, post, sign_in
from starlette.testclient import TestClient


def test_signing_in_lands_on_the_overview(as_editor: TestClient) -> None:
    page = as_editor.get("/admin/")
    assert page.status_code == 200, page.text
    assert "Übersicht" in page.text
    assert page.headers["cache-control"] == "no-store"


def test_pages_render(as_admin: TestClient) -> None:
    for path in ("/admin/audit", "/admin/account", "/admin/users", "/admin/tokens", "/admin/?lang=en"):
        page = as_admin.get(path)
        assert page.status_code == 200, (path, page.text)


def test_anonymous_is_sent_to_login(anonymous: TestClient) -> None:
    answer = anonymous.get("/admin/audit")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/admin/login?next=/admin/audit"


def test_logout(as_editor: TestClient) -> None:
    answer = post(as_editor, "/admin/logout")
    assert answer.status_code == 303
    assert as_editor.get("/admin/").status_code == 303


def test_wrong_password(anonymous: TestClient) -> None:
    answer = sign_in(anonymous, EMAILS["editor"], "wrong password!!")
    assert answer.status_code == 401
