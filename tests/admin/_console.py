"""Helpers for console tests: a runtime, the whole app, accounts per role, and signing in by the form."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.accounts import add_account
from aggregator.clock import FixedClock
from aggregator.config import Settings
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing, Rejection
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


@dataclass(frozen=True)
class Spec:
    """A configured source as the console sees it (:class:`aggregator.health.SourceInfo`)."""

    name: str
    kind: str = "venue"
    schedule: str = "interval:6h"
    enabled: bool = True


def add_held_run(
    factory: sessionmaker[Session],
    settings: Settings,
    now: datetime,
    *,
    source: str = "domicil",
    title: str = "Jazz im Keller",
    venue: str = "domicil",
) -> dict[str, str]:
    """Runs of ``source``: twelve dates (one rejection, one warning), a run without the last date, and a
    held-back run of two dates whose preview cancels that date and counts nine missing.

    Returns the console's path samples: ``{"name": source, "run_id": <the held run>}``.
    """
    ctx = IngestContext(factory, settings, kinds={source: "venue"}, clock=FixedClock(now))

    def programme(days: range) -> list[Listing]:
        return [
            Listing(
                source=source,
                record_id=f"{source}-{day}",
                title=title,
                series_key=source,
                fetched_at=now,
                start=now + timedelta(days=day, hours=10),
                venue_name=venue,
            )
            for day in days
        ]

    bad = Rejection(source, f"{source}-x", "no start date", "start", "dates")
    ingest(
        ctx, source, programme(range(1, 13)), rejections=[bad], warnings=["unknown category: Swing"], now=now
    )
    ingest(ctx, source, programme(range(1, 12)), now=now + timedelta(minutes=10))
    held = ingest(ctx, source, programme(range(1, 3)), now=now + timedelta(minutes=20))
    assert held.status.value == "suspicious", held.error
    return {"name": source, "run_id": str(held.run_id)}
