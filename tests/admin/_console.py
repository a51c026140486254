"""Helpers for console tests: a runtime, the whole app, accounts per role, and signing in by the form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.accounts import add_account
from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.normalise.venues import load_venues
from calendar_api.app import create_app
from stadtkalender.extensions import EXTENSIONS

PASSWORD = "correct horse battery staple"
EMAILS = {"admin": "admin@dortmund.de", "editor": "editor@dortmund.de", "venue": "kasse@konzerthaus.de"}


@dataclass
class ConsoleRuntime:
    """The parts of :class:`stadtkalender.runtime.Runtime` the app uses."""

    settings: Settings
    engine: Engine
    factory: sessionmaker[Session]
    specs: dict[str, Any] = field(default_factory=dict)


def make_accounts(factory: sessionmaker[Session], clock: FixedClock) -> None:
    """One account per role (the venue account speaks for the Konzerthaus)."""
    registry = load_venues()
    for role, email in EMAILS.items():
        venues = ["konzerthaus-dortmund"] if role == "venue" else []
        add_account(
            factory,
            email,
            role=role,
            password=PASSWORD,
            venues=venues,
            registry=registry,
            now=clock(),
            display_name=role.title(),
        )


def client_for(runtime: ConsoleRuntime, clock: FixedClock) -> TestClient:
    """A client of the whole app (every extension), not following redirects."""
    app = create_app(runtime, clock=clock, extensions=EXTENSIONS, version_ttl=0)
    return TestClient(app, follow_redirects=False)


def csrf(client: TestClient) -> str:
    """The client's CSRF token, fetched from the login page when it has none yet."""
    token = client.cookies.get("csrftoken")
    if token is None:
        client.get("/admin/login")
        token = client.cookies.get("csrftoken")
    assert token, "the console set no csrftoken cookie"
    return token


def form_token(html: str) -> str:
    """The CSRF token a page's form carries."""
    found = re.search(r'name="csrftoken" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> Any:
    """Sign in through the login form, as a browser does."""
    page = client.get("/admin/login")
    token = form_token(page.text) if page.status_code == 200 else csrf(client)
    return client.post("/admin/login", data={"email": email, "password": password, "csrftoken": token})


def post(client: TestClient, path: str, data: dict[str, Any] | None = None) -> Any:
    """A form POST carrying the CSRF token."""
    return client.post(path, data={**(data or {}), "csrftoken": csrf(client)})


def api_post(client: TestClient, path: str, body: Any = None) -> Any:
    """A JSON POST with the CSRF header (session-authenticated)."""
    return client.post(path, json=body, headers={"x-csrftoken": csrf(client)})
