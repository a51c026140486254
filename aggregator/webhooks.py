"""Webhooks: every change matching a filter, POSTed in batches, signed per Standard Webhooks, retried.

:func:`register` keeps a URL (never a private-network one unless ``open_data.webhooks_allow_private``)
with a filter and a fresh ``whsec_`` secret. :func:`enqueue` turns the changes after each webhook's
cursor into queued deliveries (one JSON batch each, in the database, so a restart loses nothing);
:func:`deliver_due` POSTs what is due, one transaction per delivery, taking it with ``FOR UPDATE SKIP
LOCKED`` so two schedulers on PostgreSQL never attempt the same one. Headers ``webhook-id`` (the same on
every retry: receivers deduplicate by it), ``webhook-timestamp`` and ``webhook-signature`` (HMAC-SHA256,
signed by the ``standardwebhooks`` package). A failure retries after ``webhook_retry_seconds``, doubling
with jitter; ``webhook_max_failures`` failures in a row disable the webhook. Each attempt is logged
(:class:`~aggregator.models.WebhookAttempt`). A webhook's deliveries go out in order: a later batch waits
for the one before.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased, sessionmaker
from standardwebhooks.webhooks import Webhook as Signer

from aggregator.changes import read_changes
from aggregator.config import OpenDataSettings
from aggregator.models import Change, Webhook, WebhookAttempt, WebhookDelivery
from aggregator.public_addresses import is_public

PENDING, DELIVERED, ABANDONED = "pending", "delivered", "abandoned"
Resolver = Callable[[str], Sequence[str]]


class WebhookError(ValueError):
    """A webhook that cannot be registered or sent to, and why."""


class Answer(Protocol):
    """What :data:`Post` returns: the receiver's status code."""

    status_code: int


Post = Callable[[str, bytes, dict[str, str], float], Answer]
"""post(url, body, headers, timeout seconds) -> answer; raises on a network error or timeout."""


def http_post(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST with requests; redirects are not followed (a webhook's URL is the one registered)."""
    response: Answer = requests.post(url, data=body, headers=headers, timeout=timeout, allow_redirects=False)
    return response


def _addresses(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def check_target(url: str, *, allow_private: bool, resolve: Resolver = _addresses) -> None:
    """Raise :class:`WebhookError` unless ``url`` is http(s) to a host whose every address is public."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookError(f"{url!r} is not an http(s) URL")
    if allow_private:
        return
    try:
        addresses = resolve(parts.hostname)
    except OSError as exc:
        raise WebhookError(f"the host of {url!r} does not resolve: {exc}") from exc
    for address in addresses:
        if not is_public(address):
            raise WebhookError(f"{url!r} points at the private address {address}; not allowed")


def _joined(values: Sequence[str]) -> str:
    return "|".join(sorted(set(values)))


def _split(text: str) -> list[str]:
    return [value for value in text.split("|") if value]


def register(
    session: Session,
    url: str,
    *,
    owner: str,
    venues: Sequence[str] = (),
    categories: Sequence[str] = (),
    sources: Sequence[str] = (),
    owner_venues: Sequence[str] | None = None,
    settings: OpenDataSettings,
    now: datetime,
    resolve: Resolver = _addresses,
) -> Webhook:
    """Keep a webhook for the changes from now on; ``owner_venues`` (a venue account's venues) confines
    its filter to them. Raises :class:`WebhookError` for a URL or filter it may not have."""
    check_target(url, allow_private=settings.webhooks_allow_private, resolve=resolve)
    if owner_venues is not None and (not venues or not set(venues) <= set(owner_venues)):
        raise WebhookError("a venue's webhook must name its own venues, and only those")
    start = session.scalar(select(Change.id).order_by(Change.id.desc()).limit(1)) or 0
    webhook = Webhook(
        url=url,
        secret="whsec_" + base64.b64encode(secrets.token_bytes(24)).decode("ascii"),
        venues=_joined(venues),
        categories=_joined(categories),
        sources=_joined(sources),
        owner=owner,
        cursor=start,
        failures=0,
        created_at=now,
    )
    session.add(webhook)
    session.flush()
    return webhook


def _locked(session: Session, statement: Any) -> Any:
    if session.get_bind().dialect.name == "postgresql":
        return statement.with_for_update(skip_locked=True)
    return statement


def enqueue(session: Session, *, settings: OpenDataSettings, now: datetime) -> int:
    """Queue the changes after each active webhook's cursor, a batch per delivery; returns how many."""
    queued = 0
    hooks = session.scalars(_locked(session, select(Webhook).where(Webhook.disabled_at.is_(None)))).all()
    for hook in hooks:
        while True:
            page = read_changes(
                session,
                hook.cursor,
                settings.webhook_batch,
                venues=_split(hook.venues),
                categories=_split(hook.categories),
                sources=_split(hook.sources),
            )
            hook.cursor = page.next_cursor
            if not page.changes:
                break
            body = {
                "type": "stadtkalender.changes",
                "changes": [_change(change) for change in page.changes],
                "cursor": str(page.next_cursor),
            }
            session.add(_delivery(hook.id, body, now))
            queued += 1
            if len(page.changes) < settings.webhook_batch:
                break
    session.flush()
    return queued


def _delivery(webhook_id: int, body: dict[str, Any], now: datetime) -> WebhookDelivery:
    return WebhookDelivery(
        webhook_id=webhook_id,
        payload=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status=PENDING,
        attempts=0,
        next_attempt_at=now,
        created_at=now,
    )


def queue_ping(session: Session, webhook_id: int, *, now: datetime) -> WebhookDelivery:
    """Queue a test message (``{"type": "stadtkalender.ping"}``, signed like every delivery) for the next
    delivery round, so a receiver can check that it verifies signatures; it carries no changes."""
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise WebhookError(f"there is no webhook {webhook_id}")
    delivery = _delivery(hook.id, {"type": "stadtkalender.ping", "at": now.isoformat()}, now)
    session.add(delivery)
    session.flush()
    return delivery


def _change(change: Change) -> dict[str, Any]:
    return {
        "cursor": str(change.id),
        "kind": change.kind,
        "at": change.at.isoformat(),
        "event": change.event_id,
        "occurrence": change.occurrence_id,
        "fields": list(change.fields),
        "data": dict(change.data),
    }


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt did."""

    delivery_id: int
    webhook_id: int
    delivered: bool
    status_code: int | None
    error: str | None


def message_id(delivery: WebhookDelivery) -> str:
    """The ``webhook-id`` of a delivery: the same on every retry."""
    return f"msg_{delivery.id}"


def _next_due(session: Session, now: datetime) -> WebhookDelivery | None:
    other = aliased(WebhookDelivery)
    oldest = (
        select(func.min(other.id))
        .where(other.webhook_id == WebhookDelivery.webhook_id, other.status == PENDING)
        .scalar_subquery()
    )
    statement = (
        select(WebhookDelivery)
        .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
        .where(
            WebhookDelivery.status == PENDING,
            WebhookDelivery.next_attempt_at <= now,
            Webhook.disabled_at.is_(None),
            WebhookDelivery.id == oldest,  # a webhook's batches go out in order
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(1)
    )
    found: WebhookDelivery | None = session.scalars(_locked(session, statement)).first()
    return found


def attempt(
    session: Session,
    delivery: WebhookDelivery,
    *,
    post: Post,
    settings: OpenDataSettings,
    now: datetime,
    jitter: Callable[[], float],
    resolve: Resolver = _addresses,
) -> Outcome:
    """POST ``delivery`` once, log the attempt, and schedule a retry or disable the webhook on failure."""
    hook = session.get_one(Webhook, delivery.webhook_id)
    body = delivery.payload.encode("utf-8")
    msg = message_id(delivery)
    headers = {
        "content-type": "application/json",
        "webhook-id": msg,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(hook.secret).sign(msg, now, body),
    }
    delivery.attempts += 1
    status_code: int | None = None
    error: str | None = None
    started = time.monotonic()
    try:
        check_target(hook.url, allow_private=settings.webhooks_allow_private, resolve=resolve)
        status_code = post(hook.url, body, headers, settings.webhook_timeout_seconds).status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except Exception as exc:  # refused, timed out, unreachable: all count as a failed attempt
        error = f"{type(exc).__name__}: {exc}"[:500]
    duration = int((time.monotonic() - started) * 1000)
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id,
            attempt=delivery.attempts,
            at=now,
            status_code=status_code,
            error=error,
            duration_ms=duration,
        )
    )
    if error is None:
        delivery.status, delivery.delivered_at = DELIVERED, now
        hook.failures = 0
    else:
        hook.failures += 1
        delay = min(
            settings.webhook_retry_max_seconds, settings.webhook_retry_seconds * 2 ** (delivery.attempts - 1)
        )
        delivery.next_attempt_at = now + timedelta(seconds=delay * (0.5 + jitter()))
        if hook.failures >= settings.webhook_max_failures:
            hook.disabled_at = now
            hook.disabled_reason = f"{hook.failures} failed attempts in a row; last: {error}"
    session.flush()
    return Outcome(delivery.id, hook.id, error is None, status_code, error)


def deliver_due(
    factory: sessionmaker[Session],
    *,
    post: Post,
    settings: OpenDataSettings,
    clock: Callable[[], datetime],
    jitter: Callable[[], float],
    limit: int = 100,
    resolve: Resolver = _addresses,
) -> list[Outcome]:
    """Queue new changes, then attempt every delivery that is due (at most ``limit``), each in its own
    transaction that holds the delivery's row, so a second scheduler takes the next one instead."""
    with factory() as session, session.begin():
        enqueue(session, settings=settings, now=clock())
    outcomes: list[Outcome] = []
    for _ in range(limit):
        with factory() as session, session.begin():
            now = clock()
            delivery = _next_due(session, now)
            if delivery is None:
                break
            outcomes.append(
                attempt(
                    session, delivery, post=post, settings=settings, now=now, jitter=jitter, resolve=resolve
                )
            )
    return outcomes


def enable(session: Session, webhook_id: int) -> Webhook:
    """Enable a disabled webhook again (its queued deliveries resume where they stopped)."""
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise WebhookError(f"there is no webhook {webhook_id}")
    hook.disabled_at, hook.disabled_reason, hook.failures = None, None, 0
    return hook


def disable(session: Session, webhook_id: int, *, reason: str, now: datetime) -> Webhook:
    """Stop delivering to a webhook (its queue stays; :func:`enable` resumes it)."""
    hook = session.get(Webhook, webhook_id)
    if hook is None:
        raise WebhookError(f"there is no webhook {webhook_id}")
    if hook.disabled_at is None:
        hook.disabled_at, hook.disabled_reason = now, reason
    return hook


def hook_filter(hook: Webhook) -> dict[str, list[str]]:
    """What a webhook asks for: ``venues``, ``categories`` and ``sources`` (an empty list: all)."""
    return {
        "venues": _split(hook.venues),
        "categories": _split(hook.categories),
        "sources": _split(hook.sources),
    }


@dataclass(frozen=True, slots=True)
class LoggedAttempt:
    """One delivery attempt as the delivery log shows it."""

    delivery_id: int
    attempt: int
    at: datetime
    status_code: int | None
    duration_ms: int
    error: str | None
    delivery_status: str

    @property
    def message_id(self) -> str:
        """The ``webhook-id`` the receiver saw."""
        return f"msg_{self.delivery_id}"


def delivery_log(session: Session, webhook_id: int, *, limit: int = 50) -> list[LoggedAttempt]:
    """The newest ``limit`` delivery attempts of webhook ``webhook_id``, newest first."""
    found = session.execute(
        select(WebhookAttempt, WebhookDelivery.status)
        .join(WebhookDelivery, WebhookDelivery.id == WebhookAttempt.delivery_id)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookAttempt.id.desc())
        .limit(limit)
    ).all()
    return [
        LoggedAttempt(a.delivery_id, a.attempt, a.at, a.status_code, a.duration_ms, a.error, status)
        for a, status in found
    ]
