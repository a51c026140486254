"""One's own account: change the password (other sessions end), and personal API keys (shown once)."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from aggregator.accounts import AccountError, LoginRefused, set_password, verify_login
from aggregator.audit import record
from aggregator.login_sessions import (
    PersonalKeyError,
    end_sessions_of,
    issue_key,
    keys_of,
    revoke_key,
    start_session,
)
from calendar_api.admin.console import EVERYONE, Console, Context, NavItem, Problem, Texts

TEXTS: Texts = {
    "nav_account": ("Mein Konto", "My account"),
    "account_title": ("Mein Konto", "My account"),
    "account_role": ("Rolle: {role}", "Role: {role}"),
    "account_venues": ("Orte: {venues}", "Venues: {venues}"),
    "password_change": ("Passwort ändern", "Change password"),
    "password_current": ("Bisheriges Passwort", "Current password"),
    "password_new": ("Neues Passwort (mindestens 12 Zeichen)", "New password (at least 12 characters)"),
    "password_repeat": ("Neues Passwort wiederholen", "Repeat the new password"),
    "password_save": ("Passwort ändern", "Change password"),
    "password_mismatch": (
        "Die beiden neuen Passwörter stimmen nicht überein.",
        "The two new passwords differ.",
    ),
    "password_wrong": ("Das bisherige Passwort stimmt nicht.", "The current password is wrong."),
    "notice_password_changed": (
        "Das Passwort ist geändert; alle anderen Sitzungen sind beendet.",
        "The password is changed; every other session has ended.",
    ),
    "keys_title": ("Persönliche API-Schlüssel", "Personal API keys"),
    "keys_intro": (
        "Ein Schlüssel erlaubt einem Skript, als Sie die JSON-API unter /api/v1/admin zu nutzen "
        "(Authorization: Bearer …). Er wird nur einmal angezeigt.",
        "A key lets a script use the JSON API under /api/v1/admin as you (Authorization: Bearer …). "
        "It is shown once.",
    ),
    "key_name": ("Name des Schlüssels", "Key name"),
    "key_issue": ("Schlüssel erzeugen", "Create key"),
    "key_revoke": ("Widerrufen", "Revoke"),
    "key_prefix": ("Anfang", "Prefix"),
    "key_created": ("Erzeugt", "Created"),
    "key_used": ("Zuletzt benutzt", "Last used"),
    "key_revoked": ("Widerrufen", "Revoked"),
    "key_shown_once": (
        "Ihr neuer Schlüssel – kopieren Sie ihn jetzt, er wird nicht wieder angezeigt:",
        "Your new key – copy it now, it will not be shown again:",
    ),
    "notice_key_revoked": ("Der Schlüssel ist widerrufen.", "The key is revoked."),
    "actions": ("Aktionen", "Actions"),
}

NAV = [NavItem("/admin/account", "nav_account", EVERYONE)]


def _page(ctx: Context, *, status: int = 200, error: str = "", new_key: str = "") -> Response:
    assert ctx.account is not None
    with ctx.factory() as session:
        keys = keys_of(session, ctx.account.id)
    return ctx.render("account.html", status=status, keys=keys, error=error, new_key=new_key)


def account_page(ctx: Context) -> Response:
    """``/admin/account``."""
    return _page(ctx)


def change_password(ctx: Context) -> Response:
    """Check the current password, store the new one, end every other session, rotate this one."""
    assert ctx.account is not None
    current, new, repeat = ctx.field("current"), ctx.field("new"), ctx.field("repeat")
    if new != repeat:
        return _page(ctx, status=400, error=ctx.t("password_mismatch"))
    try:
        verify_login(ctx.factory, ctx.account.email, current, now=ctx.now)
    except LoginRefused:
        return _page(ctx, status=400, error=ctx.t("password_wrong"))
    try:
        set_password(ctx.factory, ctx.account.email, new)
    except AccountError as exc:
        return _page(ctx, status=400, error=exc.message)
    with ctx.factory() as session, session.begin():
        ended = end_sessions_of(session, ctx.account.id)
        record(
            session,
            ctx.actor,
            "account.password",
            "account",
            str(ctx.account.id),
            at=ctx.now,
            after={"sessions_ended": ended},
        )
    ctx.console.session_cookie(ctx, start_session(ctx.factory, ctx.account.id, now=ctx.now))
    return ctx.done("/admin/account", "password_changed")


def _issue(ctx: Context) -> tuple[str, dict[str, Any]]:
    assert ctx.account is not None
    try:
        with ctx.factory() as session, session.begin():
            secret, key = issue_key(session, ctx.account.id, ctx.field("name"), now=ctx.now)
            record(
                session,
                ctx.actor,
                "key.issue",
                "personal_key",
                str(key.id),
                at=ctx.now,
                after={"name": key.name, "prefix": key.prefix},
            )
    except PersonalKeyError as exc:
        raise Problem(400, str(exc), field="name") from exc
    return secret, {
        "id": key.id,
        "name": key.name,
        "prefix": key.prefix,
        "created_at": key.created_at.isoformat(),
    }


def issue(ctx: Context) -> Response:
    """Make a key and show it once."""
    try:
        secret, _ = _issue(ctx)
    except Problem as problem:
        return _page(ctx, status=400, error=problem.message)
    return _page(ctx, new_key=secret)


def _revoke(ctx: Context, key_id: str) -> dict[str, Any]:
    assert ctx.account is not None
    if not key_id.isdigit():
        raise Problem(404, f"no key {key_id}")
    try:
        with ctx.factory() as session, session.begin():
            key = revoke_key(session, ctx.account.id, int(key_id), now=ctx.now)
            record(
                session,
                ctx.actor,
                "key.revoke",
                "personal_key",
                str(key.id),
                at=ctx.now,
                after={"revoked_at": ctx.now.isoformat()},
            )
    except PersonalKeyError as exc:
        raise Problem(404, str(exc)) from exc
    return {"id": key.id, "name": key.name, "revoked": True}


def revoke(ctx: Context) -> Response:
    """Revoke one of one's keys."""
    _revoke(ctx, str(ctx.request.path_params["key_id"]))
    return ctx.done("/admin/account", "key_revoked")


def issue_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/keys``: ``{"name": …}`` → the key, once."""
    secret, key = _issue(ctx)
    return JSONResponse({**key, "key": secret}, status_code=201)


def revoke_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/keys/{id}/revoke``."""
    return JSONResponse(_revoke(ctx, str(ctx.request.path_params["key_id"])))


def register(console: Console) -> None:
    """``/admin/account`` and its forms; the keys' JSON API."""
    console.page("/account", account_page, roles=EVERYONE)
    console.page("/account/password", change_password, roles=EVERYONE, methods=("POST",))
    console.page("/account/keys", issue, roles=EVERYONE, methods=("POST",))
    console.page("/account/keys/{key_id}/revoke", revoke, roles=EVERYONE, methods=("POST",))
    console.api("/keys", issue_api, roles=EVERYONE, methods=("POST",))
    console.api("/keys/{key_id}/revoke", revoke_api, roles=EVERYONE, methods=("POST",))


_SECURITY: list[dict[str, list[str]]] = [{"consoleSession": []}, {"personalKey": []}]
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/keys": {
        "post": {
            "tags": ["admin"],
            "summary": "Make a personal API key for the signed-in account (the key is in the answer, once)",
            "security": _SECURITY,
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "required": ["name"],
                            "properties": {"name": {"type": "string"}},
                        }
                    }
                }
            },
            "responses": {
                "201": {"description": "id, name, prefix, created_at, key"},
                "400": {"description": "bad name"},
            },
        }
    },
    "/api/v1/admin/keys/{key_id}/revoke": {
        "post": {
            "tags": ["admin"],
            "summary": "Revoke one of the account's own keys",
            "security": _SECURITY,
            "parameters": [{"name": "key_id", "in": "path", "required": True, "schema": {"type": "integer"}}],
            "responses": {
                "200": {"description": "revoked"},
                "404": {"description": "no such key of this account"},
            },
        }
    },
}
