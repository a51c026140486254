"""Isolation of venues in the portal, route by route: every portal URL and form, called by one venue with
another venue's ids, answers 403 or 404 and writes nothing."""

from __future__ import annotations

import re
from typing import Any

from _console import PASSWORD, ConsoleRuntime, client_for, post, sign_in
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.accounts import add_account
from aggregator.audit import Actor
from aggregator.clock import FixedClock
from aggregator.models import (
    ApiToken,
    AuditEntry,
    Event,
    Occurrence,
    PushLog,
    SourceRecord,
    SourceState,
    VenueFeed,
    Webhook,
    WebhookDelivery,
)
from aggregator.normalise.venues import load_venues
from aggregator.venue_feeds import add_feed
from aggregator.webhooks import register
from calendar_api.admin import build_console
from calendar_api.push.tokens import issue_token

OPERA = "oper@theaterdo.de"
FORM = {"title": "Tosca", "venue": "opernhaus-dortmund", "dates": "05.12.2026 19:30", "status": "scheduled"}
WRITES: dict[str, dict[str, str]] = {
    "move": {"day": "2026-12-06", "time": "17:00"},
    "edit": {**FORM, "venue": "konzerthaus-dortmund", "dates": "05.12.2026 20:00"},
}
"""A valid form per action, so that only the ids can be why it is refused."""


def _opera(runtime: ConsoleRuntime, clock: FixedClock) -> dict[str, str]:
    """The opera's account publishes an event by the portal; its ids, by path parameter name."""
    add_account(
        runtime.factory,
        OPERA,
        role="venue",
        password=PASSWORD,
        venues=["opernhaus-dortmund"],
        registry=load_venues(),
        now=clock(),
    )
    with client_for(runtime, clock) as opera:
        assert sign_in(opera, OPERA).status_code == 303
        answer = post(opera, "/venue/new", FORM)
        assert answer.status_code == 303, answer.text
    with runtime.factory() as session:
        event_id, occurrence_id = session.execute(select(Event.id, Occurrence.id).join(Occurrence)).one()
    token, _secret = issue_token(
        runtime.factory, ["opernhaus-dortmund"], name="Tosca-Export", registry=load_venues(), now=clock()
    )
    feed = add_feed(
        runtime.factory,
        venue="opernhaus-dortmund",
        venue_name="Opernhaus Dortmund",
        url="https://www.theaterdo.de/tosca.ics",
        config={"type": "ical", "url": "https://www.theaterdo.de/tosca.ics"},
        actor=Actor.machine("oper"),
        now=clock(),
    )
    with runtime.factory() as session, session.begin():
        hook = register(
            session,
            "https://93.184.216.34/oper-hook",
            owner=OPERA,
            venues=["opernhaus-dortmund"],
            owner_venues=["opernhaus-dortmund"],
            settings=runtime.settings.open_data,
            now=clock(),
        )
        hook_id = str(hook.id)
    return {
        "event_id": event_id,
        "occurrence_id": occurrence_id,
        "token_id": str(token.id),
        "feed_id": str(feed.id),
        "hook_id": hook_id,
    }


def _state(runtime: ConsoleRuntime) -> tuple[object, ...]:
    with runtime.factory() as session:
        counts = tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (
                Event,
                Occurrence,
                SourceRecord,
                PushLog,
                AuditEntry,
                ApiToken,
                VenueFeed,
                WebhookDelivery,
            )
        )
        statuses = tuple(sorted(session.scalars(select(Occurrence.status))))
        feeds = tuple(session.execute(select(VenueFeed.source, VenueFeed.removed_at)).all())
        requests = tuple(session.execute(select(SourceState.source, SourceState.run_requested_at)).all())
        hooks = tuple(session.execute(select(Webhook.id, Webhook.disabled_at, Webhook.failures)).all())
    return (*counts, len(statuses), *(hash(s) for s in statuses), feeds, requests, hooks)


def test_every_portal_url_with_another_venues_ids_is_refused_and_writes_nothing(
    runtime: ConsoleRuntime, clock: FixedClock, as_venue: TestClient
) -> None:
    ids = _opera(runtime, clock)
    before = _state(runtime)
    checked = 0
    refused: set[tuple[str, str]] = set()
    for route in build_console(runtime, clock).registered:
        if not route.path.startswith("/venue"):
            continue
        params = re.findall(r"\{([^}]+)\}", route.path)
        assert set(params) <= set(ids), f"{route.path}: add its parameters to this test"
        url = route.path
        for name in params:
            url = url.replace(f"{{{name}}}", ids[name])
        for method in route.methods:
            if not params and method == "GET":
                page = as_venue.get(url)
                assert page.status_code == 200 and "Tosca" not in page.text, url
                assert "push:opernhaus" not in page.text and "tosca.ics" not in page.text, url
                assert "oper-hook" not in page.text, url
                continue
            data: dict[str, Any] = {**WRITES.get(url.rsplit("/", 1)[-1], {})}
            if not params:  # a form without ids: it names the other venue instead
                data = {**FORM}
            answer = post(as_venue, url, data) if method == "POST" else as_venue.request(method, url)
            assert answer.status_code in (400, 403, 404), (method, url, answer.status_code)
            assert "Tosca" not in answer.text or not params, (
                method,
                url,
            )  # a refused form shows its own input
            checked += 1
            refused.add((method, route.path))
    assert checked >= 6
    assert {(m, "/venue/events/{event_id}/edit") for m in ("GET", "POST")} <= refused
    assert _state(runtime) == before
