"""Webhooks in the console and the portal: register a URL for the changes, see every delivery attempt,
stop and resume it.

Editors (``/admin/webhooks``) register hooks for reusers — any filter of venues, categories and sources —
and see all of them. A venue account (``/venue/webhooks``) registers hooks for its own venues only and sees
only the hooks it registered; another's is a 404. The secret (``whsec_…``) that signs every delivery
(Standard Webhooks) is shown once, at registration. Deliveries themselves are the scheduler's
(:mod:`aggregator.webhooks`); these pages read their log. Every change is audited.
"""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import Response

from aggregator import webhooks as hooks
from aggregator.accounts import Role
from aggregator.audit import record
from aggregator.ingest import current_venues
from aggregator.models import Webhook
from aggregator.venue_portal import venue_names
from aggregator.webhooks import WebhookError, delivery_log, disable, enable, hook_filter, queue_ping
from calendar_api.admin.console import (
    EDITORS,
    PORTAL_PREFIX,
    VENUES,
    Console,
    Context,
    NavItem,
    Problem,
    Texts,
)
from calendar_api.admin.portal_entry_pages import ingest_context

ADMIN_PREFIX = "/admin"
LOG_ENTRIES = 100

TEXTS: Texts = {
    "nav_webhooks": ("Webhooks", "Webhooks"),
    "hooks_title": ("Webhooks", "Webhooks"),
    "hooks_intro": (
        "Ein Webhook bekommt jede Änderung, die zu seinem Filter passt, als signierte Nachricht "
        "(Standard Webhooks) per POST – neue, geänderte, abgesagte und gelöschte Termine. Das Geheimnis zum "
        "Prüfen der Signatur wird nur einmal angezeigt.",
        "A webhook gets every change matching its filter as a signed message (Standard Webhooks) by POST – "
        "new, changed, cancelled and deleted events. The secret to check the signature is shown once.",
    ),
    "hooks_none": ("Noch keine Webhooks.", "No webhooks yet."),
    "hooks_url": ("Adresse (https://…)", "Address (https://…)"),
    "hooks_owner": ("Verantwortlich (E-Mail)", "Owner (e-mail)"),
    "hooks_venues": (
        "Orte (Kürzel, durch Komma getrennt; leer: alle)",
        "Venues (slugs, comma-separated; empty: all)",
    ),
    "hooks_categories": (
        "Kategorien (Kürzel, durch Komma getrennt; leer: alle)",
        "Categories (slugs, comma-separated; empty: all)",
    ),
    "hooks_sources": ("Quellen (durch Komma getrennt; leer: alle)", "Sources (comma-separated; empty: all)"),
    "hooks_own_venues": ("Für diese Orte", "For these venues"),
    "hooks_register": ("Webhook eintragen", "Register the webhook"),
    "hooks_filter": ("Filter", "Filter"),
    "hooks_all": ("alle Änderungen", "every change"),
    "hooks_state": ("Zustand", "State"),
    "hooks_active": ("aktiv", "active"),
    "hooks_disabled": ("angehalten seit {when}: {why}", "stopped since {when}: {why}"),
    "hooks_failures": ("Fehlschläge in Folge", "Failures in a row"),
    "hooks_log": ("Zustellungen", "Deliveries"),
    "hooks_open": ("Protokoll", "Log"),
    "hooks_secret": (
        "Das Geheimnis dieses Webhooks – jetzt kopieren, es wird nicht wieder angezeigt:",
        "This webhook's secret – copy it now, it is not shown again:",
    ),
    "hooks_detail_title": ("Webhook {id}", "Webhook {id}"),
    "hooks_no_log": ("Noch keine Zustellung versucht.", "No delivery attempted yet."),
    "hooks_message": ("Nachricht", "Message"),
    "hooks_attempt": ("Versuch", "Attempt"),
    "hooks_at": ("Wann", "When"),
    "hooks_answer": ("Antwort", "Answer"),
    "hooks_ms": ("Dauer (ms)", "Duration (ms)"),
    "hooks_error": ("Fehler", "Error"),
    "hooks_delivery": ("Zustellung", "Delivery"),
    "hooks_disable": ("Anhalten", "Stop"),
    "hooks_enable": ("Wieder aufnehmen", "Resume"),
    "hooks_disabled_by": ("angehalten von {who}", "stopped by {who}"),
    "hooks_not_yours": (
        "Diesen Webhook gibt es nicht oder er gehört nicht zu Ihnen.",
        "There is no such webhook of yours.",
    ),
    "hooks_refused": ("Der Webhook wird nicht eingetragen: {why}", "The webhook is not registered: {why}"),
    "hooks_unknown_venue": ("Unbekannter Ort: {slug}", "Unknown venue: {slug}"),
    "hooks_no_url": ("Geben Sie eine Adresse ein.", "Enter an address."),
    "hooks_ping": ("Testnachricht senden", "Send a test message"),
    "hooks_ping_note": (
        "Die Testnachricht (type „stadtkalender.ping“) ist signiert wie jede Zustellung und geht mit der "
        "nächsten Zustellrunde hinaus; ihr Ergebnis steht dann unten.",
        "The test message (type “stadtkalender.ping”) is signed like every delivery and goes out with the "
        "next delivery round; its outcome then shows below.",
    ),
    "notice_hook_pinged": ("Die Testnachricht ist eingereiht.", "The test message is queued."),
    "notice_hook_disabled": ("Der Webhook ist angehalten.", "The webhook is stopped."),
    "notice_hook_enabled": (
        "Der Webhook läuft wieder; wartende Zustellungen folgen.",
        "The webhook runs again; waiting deliveries follow.",
    ),
}

NAV = [
    NavItem(f"{ADMIN_PREFIX}/webhooks", "nav_webhooks", EDITORS),
    NavItem(f"{PORTAL_PREFIX}/webhooks", "nav_webhooks", VENUES),
]


def _venue_account(ctx: Context) -> bool:
    return ctx.account is not None and ctx.account.role == "venue"


def _base(ctx: Context) -> str:
    return PORTAL_PREFIX if _venue_account(ctx) else ADMIN_PREFIX


def _visible(ctx: Context, hook: Webhook) -> bool:
    """Editors see every hook; a venue account the ones it registered for its own venues."""
    if not _venue_account(ctx):
        return True
    assert ctx.account is not None
    venues = hook_filter(hook)["venues"]
    return hook.owner == ctx.actor.label and bool(venues) and set(venues) <= set(ctx.account.venues)


def _hooks(ctx: Context) -> list[Webhook]:
    with ctx.factory() as session:
        hooks = list(session.scalars(select(Webhook).order_by(Webhook.id)))
    return [hook for hook in hooks if _visible(ctx, hook)]


def _list(values: str) -> list[str]:
    return [value.strip() for value in values.split(",") if value.strip()]


def webhooks(ctx: Context, *, status: int = 200, error: str = "", secret: str = "") -> Response:
    """The hooks this account may see, with the form to register one."""
    own = {}
    if _venue_account(ctx):
        assert ctx.account is not None
        with ctx.factory() as session:
            own = venue_names(session, ctx.account.venues)
    return ctx.render(
        "webhooks.html",
        status=status,
        hooks=[(hook, hook_filter(hook)) for hook in _hooks(ctx)],
        base=_base(ctx),
        own_venues=own,
        error=error,
        secret=secret,
    )


def add(ctx: Context) -> Response:
    """Register a hook and show its secret once."""
    url = ctx.field("url")
    if not url:
        return webhooks(ctx, status=400, error=ctx.t("hooks_no_url"))
    owner_venues = None
    if _venue_account(ctx):
        assert ctx.account is not None
        owner_venues = list(ctx.account.venues)
        venues = ctx.fields("venues") or owner_venues
        owner, categories, sources = ctx.actor.label, [], []
    else:
        venues, categories = _list(ctx.field("venues")), _list(ctx.field("categories"))
        sources, owner = _list(ctx.field("sources")), ctx.field("owner") or ctx.actor.label
        registry = current_venues(ingest_context(ctx))
        unknown = [slug for slug in venues if registry.get(slug) is None]
        if unknown:
            return webhooks(ctx, status=400, error=ctx.t("hooks_unknown_venue", slug=", ".join(unknown)))
    try:
        with ctx.factory() as session, session.begin():
            hook = hooks.register(
                session,
                url[:1000],
                owner=owner[:320],
                venues=venues,
                categories=categories,
                sources=sources,
                owner_venues=owner_venues,
                settings=ctx.console.settings.open_data,
                now=ctx.now,
            )
            after = {"url": hook.url, "owner": hook.owner, **hook_filter(hook)}
            record(session, ctx.actor, "webhook.add", "webhook", str(hook.id), at=ctx.now, after=after)
            secret = hook.secret
    except WebhookError as refused:
        return webhooks(ctx, status=400, error=ctx.t("hooks_refused", why=str(refused)))
    return webhooks(ctx, secret=secret)


def _own(ctx: Context) -> Webhook:
    try:
        hook_id = int(str(ctx.request.path_params["hook_id"]))
    except ValueError:
        raise Problem(404, ctx.t("hooks_not_yours")) from None
    with ctx.factory() as session:
        hook = session.get(Webhook, hook_id)
    if hook is None or not _visible(ctx, hook):
        raise Problem(404, ctx.t("hooks_not_yours"))
    return hook


def webhook(ctx: Context) -> Response:
    """One hook with its delivery attempts, newest first."""
    hook = _own(ctx)
    with ctx.factory() as session:
        log = delivery_log(session, hook.id, limit=LOG_ENTRIES)
    return ctx.render("webhook.html", hook=hook, wanted=hook_filter(hook), log=log, base=_base(ctx))


def _switch(ctx: Context, *, on: bool) -> Response:
    hook = _own(ctx)
    with ctx.factory() as session, session.begin():
        before = {"disabled": hook.disabled_at is not None, "reason": hook.disabled_reason}
        if on:
            changed = enable(session, hook.id)
        else:
            changed = disable(session, hook.id, reason=f"stopped by {ctx.actor.label}", now=ctx.now)
        after = {"disabled": changed.disabled_at is not None, "reason": changed.disabled_reason}
        action = "webhook.enable" if on else "webhook.disable"
        record(session, ctx.actor, action, "webhook", str(hook.id), at=ctx.now, before=before, after=after)
    return ctx.done(f"{_base(ctx)}/webhooks/{hook.id}", "hook_enabled" if on else "hook_disabled")


def stop(ctx: Context) -> Response:
    """Stop delivering to a hook."""
    return _switch(ctx, on=False)


def resume(ctx: Context) -> Response:
    """Resume a stopped hook (after failures, or stopped by hand)."""
    return _switch(ctx, on=True)


def _routes(console: Console, prefix: str, roles: tuple[Role, ...]) -> None:
    """The pages under ``prefix`` for ``roles``."""
    console.page("/webhooks", webhooks, roles=roles, prefix=prefix)
    console.page("/webhooks", add, roles=roles, methods=("POST",), prefix=prefix)
    console.page("/webhooks/{hook_id}", webhook, roles=roles, prefix=prefix)
    console.page("/webhooks/{hook_id}/disable", stop, roles=roles, methods=("POST",), prefix=prefix)
    console.page("/webhooks/{hook_id}/enable", resume, roles=roles, methods=("POST",), prefix=prefix)
    console.page("/webhooks/{hook_id}/ping", ping, roles=roles, methods=("POST",), prefix=prefix)


def ping(ctx: Context) -> Response:
    """Queue a signed test message; the scheduler sends it with its next deliveries."""
    hook = _own(ctx)
    with ctx.factory() as session, session.begin():
        delivery = queue_ping(session, hook.id, now=ctx.now)
        record(
            session, ctx.actor, "webhook.ping", "webhook", str(hook.id), at=ctx.now, note=f"msg_{delivery.id}"
        )
    return ctx.done(f"{_base(ctx)}/webhooks/{hook.id}", "hook_pinged")


def register(console: Console) -> None:
    """``/admin/webhooks…`` for editors and ``/venue/webhooks…`` for venue accounts."""
    _routes(console, ADMIN_PREFIX, EDITORS)
    _routes(console, PORTAL_PREFIX, VENUES)
