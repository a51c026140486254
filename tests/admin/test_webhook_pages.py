"""Webhooks in the console and the portal: registration with the secret shown once, refusals, the delivery
log, stop and resume; a venue account sees and touches only the hooks it registered for its own venues."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from _console import ConsoleRuntime, post
from sqlalchemy import func, select
from starlette.testclient import TestClient

from aggregator.clock import FixedClock
from aggregator.models import AuditEntry, Change, Webhook
from aggregator.webhooks import deliver_due, register

PUBLIC = "https://93.184.216.34/hook"


def _hooks(runtime: ConsoleRuntime) -> list[Webhook]:
    with runtime.factory() as session:
        return list(session.scalars(select(Webhook).order_by(Webhook.id)))


def _audited(runtime: ConsoleRuntime, action: str) -> int:
    with runtime.factory() as session:
        return int(session.scalar(select(func.count()).where(AuditEntry.action == action)) or 0)


def test_an_editor_registers_a_webhook_and_sees_its_secret_once(
    runtime: ConsoleRuntime, as_editor: TestClient
) -> None:
    answer = post(
        as_editor,
        "/admin/webhooks",
        {
            "url": PUBLIC,
            "owner": "app@dortmund.de",
            "venues": "konzerthaus-dortmund",
            "categories": "konzert",
        },
    )
    assert answer.status_code == 200, answer.text
    [hook] = _hooks(runtime)
    assert hook.secret in answer.text and hook.secret.startswith("whsec_")
    assert (hook.owner, hook.venues, hook.categories) == (
        "app@dortmund.de",
        "konzerthaus-dortmund",
        "konzert",
    )
    assert _audited(runtime, "webhook.add") == 1
    listed = as_editor.get("/admin/webhooks")
    assert PUBLIC in listed.text and hook.secret not in listed.text, "the secret is shown once"


def test_bad_webhooks_are_refused_with_the_reason_and_store_nothing(
    runtime: ConsoleRuntime, as_editor: TestClient
) -> None:
    for data, says in (
        ({"url": "http://10.0.0.7/hook"}, "private address"),
        ({"url": "file:///etc/passwd"}, "not an http(s) URL"),
        ({"url": PUBLIC, "venues": "gibt-es-nicht"}, "gibt-es-nicht"),
        ({"url": ""}, "Geben Sie eine Adresse ein"),
    ):
        answer = post(as_editor, "/admin/webhooks", data)
        assert answer.status_code == 400 and says in answer.text, (data, answer.text)
    assert _hooks(runtime) == []


def test_a_venue_registers_hooks_for_its_own_venues_only(
    runtime: ConsoleRuntime, as_venue: TestClient, as_editor: TestClient
) -> None:
    page = as_venue.get("/venue/webhooks")
    assert page.status_code == 200 and 'value="konzerthaus-dortmund"' in page.text
    assert post(as_venue, "/venue/webhooks", {"url": PUBLIC}).status_code == 200
    refused = post(as_venue, "/venue/webhooks", {"url": PUBLIC, "venues": "opernhaus-dortmund"})
    assert refused.status_code == 400 and "own venues" in refused.text
    [hook] = _hooks(runtime)
    assert (hook.owner, hook.venues) == ("kasse@konzerthaus.de", "konzerthaus-dortmund")
    assert PUBLIC in as_editor.get("/admin/webhooks").text, "editors see every hook"


def test_a_venue_sees_nothing_of_other_hooks(
    runtime: ConsoleRuntime, as_venue: TestClient, clock: FixedClock
) -> None:
    with runtime.factory() as session, session.begin():
        other = register(
            session, PUBLIC, owner="app@dortmund.de", settings=runtime.settings.open_data, now=clock()
        ).id
    assert PUBLIC not in as_venue.get("/venue/webhooks").text
    for method, path in (("GET", ""), ("POST", "/disable"), ("POST", "/enable")):
        url = f"/venue/webhooks/{other}{path}"
        answer = as_venue.get(url) if method == "GET" else post(as_venue, url, {})
        assert answer.status_code == 404, (method, url)
    [hook] = _hooks(runtime)
    assert hook.disabled_at is None


class _Answer:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def test_the_delivery_log_and_stopping_and_resuming_a_hook(
    runtime: ConsoleRuntime, as_editor: TestClient, clock: FixedClock
) -> None:
    with runtime.factory() as session, session.begin():
        hook_id = register(
            session, PUBLIC, owner="app@dortmund.de", settings=runtime.settings.open_data, now=clock()
        ).id
        session.add(
            Change(
                at=clock(),
                kind="created",
                event_id="evx",
                fields=[],
                data={},
                venue="",
                categories="",
                sources="",
            )
        )
    statuses = iter([503, 204])

    def post_it(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Any:
        return _Answer(next(statuses))

    settings = runtime.settings.open_data
    for moment in (clock(), clock() + timedelta(hours=1)):
        deliver_due(
            runtime.factory, settings=settings, clock=FixedClock(moment), post=post_it, jitter=lambda: 0.0
        )
    page = as_editor.get(f"/admin/webhooks/{hook_id}")
    assert page.status_code == 200
    assert page.text.count("msg_") == 2 and "503" in page.text and "204" in page.text

    assert post(as_editor, f"/admin/webhooks/{hook_id}/disable", {}).status_code == 303
    [hook] = _hooks(runtime)
    assert hook.disabled_at is not None and "editor@dortmund.de" in (hook.disabled_reason or "")
    assert post(as_editor, f"/admin/webhooks/{hook_id}/enable", {}).status_code == 303
    [hook] = _hooks(runtime)
    assert hook.disabled_at is None
    assert _audited(runtime, "webhook.disable") == _audited(runtime, "webhook.enable") == 1

    bodies: list[bytes] = []

    def receive(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Any:
        assert headers["webhook-signature"].startswith("v1,")
        bodies.append(body)
        return _Answer(200)

    assert post(as_editor, f"/admin/webhooks/{hook_id}/ping", {}).status_code == 303
    later = clock() + timedelta(hours=2)
    deliver_due(runtime.factory, settings=settings, clock=FixedClock(later), post=receive, jitter=lambda: 0.0)
    assert [json.loads(body)["type"] for body in bodies] == ["stadtkalender.ping"]
    assert as_editor.get(f"/admin/webhooks/{hook_id}").text.count("msg_") == 3
