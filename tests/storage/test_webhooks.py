"""Webhooks against a real local receiver, on SQLite and PostgreSQL: signatures, retries after 500 and
timeouts, disabling, a restart in the middle of a retry series, order, and nothing lost or sent twice."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fixed_clock import NOW
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session, sessionmaker
from standardwebhooks.webhooks import Webhook as Verifier

from aggregator.changes import ChangeKind, record_change
from aggregator.clock import FixedClock, system_clock
from aggregator.config import OpenDataSettings, Settings
from aggregator.db import session_factory
from aggregator.models import Event, Webhook, WebhookAttempt, WebhookDelivery
from aggregator.webhooks import WebhookError, check_target, deliver_due, enable, http_post, register


@dataclass
class Receiver:
    """A local HTTP server answering each POST with the next planned status (200 when none is left)."""

    plan: list[int | str] = field(default_factory=list)
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    release = threading.Event()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = found.plan.pop(0) if found.plan else 200
            if answer == "hang":
                release.wait(5)
                return
            found.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(int(answer))
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    found.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield found
    release.set()
    server.shutdown()
    server.server_close()


@pytest.fixture
def hooks(settings: Settings) -> OpenDataSettings:
    return replace(
        settings.open_data,
        webhooks_allow_private=True,
        webhook_timeout_seconds=0.5,
        webhook_retry_seconds=60,
        webhook_max_failures=4,
        webhook_batch=2,
    )


def _changes(factory: sessionmaker[Session], count: int, *, at: datetime = NOW) -> None:
    event = Event(id="evcarmen", title="Carmen", title_key="carmen", venue_slug=None, categories=[])
    with factory() as session, session.begin():
        for step in range(count):
            record_change(session, ChangeKind.UPDATED, event, now=at, fields=[f"f{step}"])


def _register(
    factory: sessionmaker[Session], url: str, hooks: OpenDataSettings, **extra: Any
) -> tuple[int, str]:
    with factory() as session, session.begin():
        hook = register(session, url, owner="anna@dortmund.de", settings=hooks, now=NOW, **extra)
        return hook.id, hook.secret


def _deliver(factory: sessionmaker[Session], hooks: OpenDataSettings, clock: FixedClock) -> list[Any]:
    return deliver_due(factory, post=http_post, settings=hooks, clock=clock, jitter=lambda: 0.5)


def _fields(received: list[tuple[dict[str, str], bytes]]) -> list[str]:
    return [c["fields"][0] for _headers, body in received for c in json.loads(body)["changes"]]


def test_each_batch_is_signed_and_verifies(
    factory: sessionmaker[Session], hooks: OpenDataSettings, receiver: Receiver
) -> None:
    _, secret = _register(factory, receiver.url, hooks)
    _changes(factory, 3)
    wall = FixedClock(system_clock())  # the verifier checks the timestamp against the wall clock
    outcomes = _deliver(factory, hooks, wall)
    assert [o.delivered for o in outcomes] == [True, True]
    assert _fields(receiver.received) == ["f0", "f1", "f2"]
    for headers, body in receiver.received:
        payload = Verifier(secret).verify(body, headers)
        assert payload["type"] == "stadtkalender.changes" and headers["webhook-id"].startswith("msg_")
    assert _deliver(factory, hooks, wall) == []


def test_a_500_and_a_timeout_are_retried_later_with_the_same_id(
    factory: sessionmaker[Session], hooks: OpenDataSettings, receiver: Receiver
) -> None:
    _register(factory, receiver.url, hooks)
    _changes(factory, 1)
    clock = FixedClock(NOW)
    receiver.plan = [500, "hang"]
    (first,) = _deliver(factory, hooks, clock)
    assert (first.delivered, first.status_code) == (False, 500)
    assert _deliver(factory, hooks, clock) == []  # not due yet: 60 s × (0.5 + 0.5)
    clock.advance(timedelta(seconds=61))
    (second,) = _deliver(factory, hooks, clock)
    assert not second.delivered and second.status_code is None and "imeout" in (second.error or "")
    clock.advance(timedelta(seconds=121))
    (third,) = _deliver(factory, hooks, clock)
    assert third.delivered
    ids = {headers["webhook-id"] for headers, _body in receiver.received}
    assert (
        len(ids) == 1 and len(receiver.received) == 2
    )  # the 500 and the success; the hung one never answered
    with factory() as session:
        attempts = session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.id)).all()
        assert [(a.attempt, a.status_code) for a in attempts] == [(1, 500), (2, None), (3, 200)]
        assert all(a.duration_ms >= 0 for a in attempts)
        assert session.scalars(select(WebhookDelivery)).one().status == "delivered"


def test_a_run_of_failures_disables_the_webhook_until_enabled(
    factory: sessionmaker[Session], hooks: OpenDataSettings, receiver: Receiver
) -> None:
    hook_id, _ = _register(factory, receiver.url, hooks)
    _changes(factory, 1)
    clock = FixedClock(NOW)
    receiver.plan = [500] * 4
    for _ in range(4):
        _deliver(factory, hooks, clock)
        clock.advance(timedelta(hours=7))
    with factory() as session:
        hook = session.get_one(Webhook, hook_id)
        assert hook.disabled_at is not None and "4 failed attempts" in (hook.disabled_reason or "")
    assert _deliver(factory, hooks, clock) == []
    with factory() as session, session.begin():
        enable(session, hook_id)
    (outcome,) = _deliver(factory, hooks, clock)
    assert outcome.delivered and len(receiver.received) == 5


def test_a_restart_in_a_retry_series_loses_nothing_and_sends_nothing_twice(
    engine: Engine, hooks: OpenDataSettings, receiver: Receiver
) -> None:
    first_process = session_factory(engine)
    _register(first_process, receiver.url, hooks)
    _changes(first_process, 5)
    clock = FixedClock(NOW)
    receiver.plan = [500]
    outcomes = _deliver(first_process, hooks, clock)
    assert [o.delivered for o in outcomes] == [False]  # the first batch failed; the others wait behind it
    second_process = session_factory(engine)  # a new process: only the database carries the queue
    clock.advance(timedelta(minutes=5))
    outcomes = _deliver(second_process, hooks, clock)
    assert [o.delivered for o in outcomes] == [True, True, True]
    delivered = receiver.received[1:]
    assert _fields(delivered) == ["f0", "f1", "f2", "f3", "f4"]
    assert len({headers["webhook-id"] for headers, _ in delivered}) == 3
    _changes(second_process, 1, at=NOW + timedelta(minutes=6))
    clock.advance(timedelta(minutes=2))
    assert [o.delivered for o in _deliver(first_process, hooks, clock)] == [True]
    assert _fields(receiver.received[1:]) == ["f0", "f1", "f2", "f3", "f4", "f0"]


def test_filters_and_private_targets(factory: sessionmaker[Session], hooks: OpenDataSettings) -> None:
    def public(_host: str) -> list[str]:
        return ["93.184.216.34"]

    strict = replace(hooks, webhooks_allow_private=False)
    with pytest.raises(WebhookError, match="private address"):
        check_target("http://127.0.0.1:9/hook", allow_private=False)
    with pytest.raises(WebhookError, match="private address"):
        check_target("http://intranet.example/hook", allow_private=False, resolve=lambda _h: ["10.1.2.3"])
    with pytest.raises(WebhookError, match="not an http"):
        check_target("ftp://example.org/hook", allow_private=True)
    check_target("https://example.org/hook", allow_private=False, resolve=public)
    with factory() as session, session.begin():
        with pytest.raises(WebhookError, match="own venues"):
            register(
                session,
                "https://example.org/hook",
                owner="fzw@example.org",
                venues=["depot"],
                owner_venues=["fzw"],
                settings=strict,
                now=NOW,
                resolve=public,
            )
        hook = register(
            session,
            "https://example.org/hook",
            owner="fzw@example.org",
            venues=["fzw"],
            owner_venues=["fzw"],
            settings=strict,
            now=NOW,
            resolve=public,
        )
        assert hook.secret.startswith("whsec_") and hook.venues == "fzw"


def test_a_webhook_gets_only_the_changes_of_its_filter_from_its_registration_on(
    factory: sessionmaker[Session], hooks: OpenDataSettings, receiver: Receiver
) -> None:
    _changes(factory, 2)  # before the registration: not sent
    _register(factory, receiver.url, hooks, venues=["fzw"])
    fzw = Event(id="evpunk", title="Punk", title_key="punk", venue_slug="fzw", categories=[])
    with factory() as session, session.begin():
        record_change(session, ChangeKind.CANCELLED, fzw, now=NOW, occurrence_id="ocpunk")
    _changes(factory, 1)
    _deliver(factory, hooks, FixedClock(NOW))
    (only,) = [c for _h, body in receiver.received for c in json.loads(body)["changes"]]
    assert (only["event"], only["kind"], only["occurrence"]) == ("evpunk", "cancelled", "ocpunk")


@pytest.mark.postgres
def test_two_schedulers_on_postgresql_attempt_each_delivery_once(
    postgres_schema_url: str, hooks: OpenDataSettings, receiver: Receiver
) -> None:
    from aggregator.db import make_engine, upgrade

    engine = make_engine(postgres_schema_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory() as session, session.begin():
        for table in (WebhookAttempt, WebhookDelivery, Webhook):
            session.execute(delete(table))
    for _ in range(3):
        _register(factory, receiver.url, hooks)
    _changes(factory, 10)
    clock = FixedClock(NOW)
    threads = [threading.Thread(target=_deliver, args=(factory, hooks, clock)) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    engine.dispose()
    ids = [headers["webhook-id"] for headers, _body in receiver.received]
    assert len(ids) == len(set(ids)) == 15  # 3 webhooks × 5 batches of 2, each sent once
