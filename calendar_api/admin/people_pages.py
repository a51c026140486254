"""Who may write: console accounts (admins only) and the venues' push tokens (shown once)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from starlette.responses import JSONResponse, Response

from aggregator.accounts import AccountError, AccountInfo, add_account, disable, list_accounts
from aggregator.audit import record
from aggregator.login_sessions import end_sessions_of
from aggregator.normalise.venues import load_venues
from calendar_api.admin.console import ADMINS, EDITORS, Console, Context, NavItem, Problem, Texts
from calendar_api.push.tokens import PushToken, TokenError, issue_token, list_tokens, revoke_token

TEXTS: Texts = {
    "nav_tokens": ("Push-Tokens", "Push tokens"),
    "nav_users": ("Konten", "Accounts"),
    "users_title": ("Konten", "Accounts"),
    "users_add": ("Konto anlegen", "Add an account"),
    "user_email": ("E-Mail-Adresse", "E-mail address"),
    "user_name": ("Anzeigename", "Display name"),
    "user_role": ("Rolle", "Role"),
    "user_venues": (
        "Orte (Kürzel, durch Komma getrennt; nur für Rolle venue)",
        "Venues (slugs, comma-separated; role venue only)",
    ),
    "user_password": ("Erstes Passwort (mindestens 12 Zeichen)", "First password (at least 12 characters)"),
    "user_created": ("Angelegt", "Created"),
    "user_last_login": ("Letzte Anmeldung", "Last sign-in"),
    "user_disabled": ("Gesperrt", "Disabled"),
    "user_disable": ("Sperren", "Disable"),
    "notice_user_added": ("Das Konto ist angelegt.", "The account is added."),
    "notice_user_disabled": (
        "Das Konto ist gesperrt; seine Sitzungen sind beendet.",
        "The account is disabled; its sessions have ended.",
    ),
    "tokens_title": ("Push-Tokens der Veranstaltungsorte", "The venues' push tokens"),
    "tokens_intro": (
        "Mit einem Token schreibt ein Ort seine Termine über /api/v1/push. "
        "Das Token wird nur einmal angezeigt.",
        "With a token a venue writes its events through /api/v1/push. The token is shown once.",
    ),
    "token_name": ("Name (z. B. das exportierende System)", "Name (e.g. the exporting system)"),
    "token_venues": ("Orte (Kürzel, durch Komma getrennt)", "Venues (slugs, comma-separated)"),
    "token_read_only": ("Nur lesen", "Read only"),
    "token_read_write": ("Lesen und schreiben", "Read and write"),
    "token_issue": ("Token ausstellen", "Issue token"),
    "token_revoke": ("Widerrufen", "Revoke"),
    "token_source": ("Quelle", "Source"),
    "token_mode": ("Modus", "Mode"),
    "token_shown_once": (
        "Das neue Token – geben Sie es jetzt weiter, es wird nicht wieder angezeigt:",
        "The new token – pass it on now, it will not be shown again:",
    ),
    "notice_token_revoked": ("Das Token ist widerrufen.", "The token is revoked."),
}

NAV = [NavItem("/admin/tokens", "nav_tokens", EDITORS), NavItem("/admin/users", "nav_users", ADMINS)]


def account_json(account: AccountInfo) -> dict[str, Any]:
    """An account as the JSON API gives it (never its password hash)."""
    return {
        "id": account.id,
        "email": account.email,
        "display_name": account.display_name,
        "role": account.role,
        "venues": list(account.venues),
        "created_at": account.created_at.isoformat(),
        "last_login_at": account.last_login_at.isoformat() if account.last_login_at else None,
        "disabled_at": account.disabled_at.isoformat() if account.disabled_at else None,
    }


def token_json(token: PushToken) -> dict[str, Any]:
    """A push token as the JSON API gives it (never the token)."""
    data = asdict(token)
    data["venues"] = list(token.venues)
    for key in ("created_at", "revoked_at", "last_used_at"):
        data[key] = data[key].isoformat() if data[key] else None
    return data


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


# -- accounts --------------------------------------------------------------------------------------


def _add_user(ctx: Context) -> AccountInfo:
    venues = ctx.fields("venues") if ctx.body is not None else _split(ctx.field("venues"))
    try:
        account = add_account(
            ctx.factory,
            ctx.field("email"),
            role=ctx.field("role"),
            password=ctx.field("password"),
            venues=venues,
            display_name=ctx.field("display_name") or None,
            registry=load_venues(),
            now=ctx.now,
        )
    except AccountError as exc:
        raise Problem(400, exc.message, field=exc.field) from exc
    with ctx.factory() as session, session.begin():
        record(
            session,
            ctx.actor,
            "account.add",
            "account",
            str(account.id),
            at=ctx.now,
            after=account_json(account),
        )
    return account


def _disable_user(ctx: Context) -> AccountInfo:
    email = ctx.field("email")
    try:
        account = disable(ctx.factory, email, now=ctx.now)
    except AccountError as exc:
        raise Problem(404, exc.message, field="email") from exc
    with ctx.factory() as session, session.begin():
        ended = end_sessions_of(session, account.id)
        record(
            session,
            ctx.actor,
            "account.disable",
            "account",
            str(account.id),
            at=ctx.now,
            after={"disabled_at": ctx.now.isoformat(), "sessions_ended": ended},
        )
    return account


def users_page(ctx: Context, *, status: int = 200, error: str = "") -> Response:
    """``/admin/users``: every account, a form to add one, a button to disable one."""
    return ctx.render(
        "users.html",
        status=status,
        accounts=list_accounts(ctx.factory),
        error=error,
        roles=("editor", "admin", "venue"),
    )


def add_user(ctx: Context) -> Response:
    """Add an account from the form."""
    try:
        _add_user(ctx)
    except Problem as problem:
        return users_page(ctx, status=problem.status, error=problem.message)
    return ctx.done("/admin/users", "user_added")


def disable_user(ctx: Context) -> Response:
    """Disable an account from the list."""
    _disable_user(ctx)
    return ctx.done("/admin/users", "user_disabled")


def users_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/users``."""
    return JSONResponse({"accounts": [account_json(a) for a in list_accounts(ctx.factory)]})


def add_user_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/users``."""
    return JSONResponse(account_json(_add_user(ctx)), status_code=201)


def disable_user_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/users/disable`` with ``{"email": …}``."""
    return JSONResponse(account_json(_disable_user(ctx)))


# -- push tokens -----------------------------------------------------------------------------------


def _issue_token(ctx: Context) -> tuple[PushToken, str]:
    venues = ctx.fields("venues") if ctx.body is not None else _split(ctx.field("venues"))
    read_only = ctx.field("read_only") in ("on", "true", "1") or (
        isinstance(ctx.body, dict) and ctx.body.get("read_only") is True
    )
    return issue_audited(ctx, venues, read_only=read_only, source=ctx.field("source") or None)


def issue_audited(
    ctx: Context, venues: Sequence[str], *, read_only: bool, source: str | None = None
) -> tuple[PushToken, str]:
    """Issue a push token named by the ``name`` field for ``venues`` and audit it; 400 on bad input."""
    try:
        token, secret = issue_token(
            ctx.factory,
            venues,
            name=ctx.field("name"),
            registry=load_venues(),
            read_only=read_only,
            source=source,
            reserved=set(ctx.console.runtime.specs),
            now=ctx.now,
        )
    except TokenError as exc:
        raise Problem(400, exc.message, field=exc.subject) from exc
    with ctx.factory() as session, session.begin():
        record(
            session,
            ctx.actor,
            "token.issue",
            "push_token",
            str(token.id),
            at=ctx.now,
            after=token_json(token),
        )
    return token, secret


def _revoke_token(ctx: Context) -> PushToken:
    return revoke_audited(ctx, str(ctx.request.path_params["token_id"]))


def revoke_audited(ctx: Context, token_id: str) -> PushToken:
    """Revoke the push token ``token_id`` and audit it; 404 when there is none."""
    try:
        token = revoke_token(ctx.factory, token_id, now=ctx.now)
    except TokenError as exc:
        raise Problem(404, exc.message) from exc
    with ctx.factory() as session, session.begin():
        record(
            session,
            ctx.actor,
            "token.revoke",
            "push_token",
            str(token.id),
            at=ctx.now,
            after=token_json(token),
        )
    return token


def tokens_page(ctx: Context, *, status: int = 200, error: str = "", new_token: str = "") -> Response:
    """``/admin/tokens``: every token, a form to issue one, a button to revoke one."""
    return ctx.render(
        "tokens.html", status=status, tokens=list_tokens(ctx.factory), error=error, new_token=new_token
    )


def issue(ctx: Context) -> Response:
    """Issue a token from the form and show it once."""
    try:
        _token, secret = _issue_token(ctx)
    except Problem as problem:
        return tokens_page(ctx, status=problem.status, error=problem.message)
    return tokens_page(ctx, new_token=secret)


def revoke(ctx: Context) -> Response:
    """Revoke a token from the list."""
    _revoke_token(ctx)
    return ctx.done("/admin/tokens", "token_revoked")


def tokens_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/tokens``."""
    return JSONResponse({"tokens": [token_json(t) for t in list_tokens(ctx.factory)]})


def issue_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/tokens``: the token is in the answer, once."""
    token, secret = _issue_token(ctx)
    return JSONResponse({**token_json(token), "token": secret}, status_code=201)


def revoke_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/tokens/{id}/revoke``."""
    return JSONResponse(token_json(_revoke_token(ctx)))


def register(console: Console) -> None:
    """Accounts (admins) and push tokens (editors), as pages and JSON."""
    console.page("/users", users_page, roles=ADMINS)
    console.page("/users", add_user, roles=ADMINS, methods=("POST",))
    console.page("/users/disable", disable_user, roles=ADMINS, methods=("POST",))
    console.api("/users", users_api, roles=ADMINS)
    console.api("/users", add_user_api, roles=ADMINS, methods=("POST",))
    console.api("/users/disable", disable_user_api, roles=ADMINS, methods=("POST",))
    console.page("/tokens", tokens_page, roles=EDITORS)
    console.page("/tokens", issue, roles=EDITORS, methods=("POST",))
    console.page("/tokens/{token_id}/revoke", revoke, roles=EDITORS, methods=("POST",))
    console.api("/tokens", tokens_api, roles=EDITORS)
    console.api("/tokens", issue_api, roles=EDITORS, methods=("POST",))
    console.api("/tokens/{token_id}/revoke", revoke_api, roles=EDITORS, methods=("POST",))


_SECURITY: list[dict[str, list[str]]] = [{"consoleSession": []}, {"personalKey": []}]


def _op(
    summary: str, ok: str, *, body: dict[str, Any] | None = None, path_param: str | None = None
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "tags": ["admin"],
        "summary": summary,
        "security": _SECURITY,
        "responses": {
            ok: {"description": "done"},
            "400": {"description": "bad input (title, field)"},
            "401": {"description": "not signed in"},
            "403": {"description": "wrong role"},
        },
    }
    if body is not None:
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    if path_param:
        op["parameters"] = [
            {"name": path_param, "in": "path", "required": True, "schema": {"type": "string"}}
        ]
    return op


_USER = {
    "type": "object",
    "required": ["email", "role", "password"],
    "properties": {
        "email": {"type": "string"},
        "display_name": {"type": "string"},
        "role": {"type": "string", "enum": ["admin", "editor", "venue"]},
        "venues": {"type": "array", "items": {"type": "string"}},
        "password": {"type": "string", "minLength": 12},
    },
}
_TOKEN = {
    "type": "object",
    "required": ["name", "venues"],
    "properties": {
        "name": {"type": "string"},
        "venues": {"type": "array", "items": {"type": "string"}},
        "read_only": {"type": "boolean"},
        "source": {"type": "string"},
    },
}

OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/users": {
        "get": _op("Every console account (admins only)", "200"),
        "post": _op("Add a console account (admins only)", "201", body=_USER),
    },
    "/api/v1/admin/users/disable": {
        "post": _op(
            "Disable an account and end its sessions (admins only)",
            "200",
            body={"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}},
        ),
    },
    "/api/v1/admin/tokens": {
        "get": _op("Every push token (never the token itself)", "200"),
        "post": _op("Issue a venue push token (the token is in the answer, once)", "201", body=_TOKEN),
    },
    "/api/v1/admin/tokens/{token_id}/revoke": {
        "post": _op("Revoke a push token", "200", path_param="token_id"),
    },
}
