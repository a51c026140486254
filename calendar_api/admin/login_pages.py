"""Signing in and out of the console: the login form, the throttle, session rotation, logout."""

from __future__ import annotations

from starlette.responses import RedirectResponse, Response

from aggregator.accounts import LoginRefused, verify_login
from aggregator.login_sessions import end_session, start_session
from aggregator.login_throttle import note_failure, retry_after, throttle_keys
from calendar_api.admin.console import (
    ADMIN_PREFIX,
    EVERYONE,
    PORTAL_PREFIX,
    PUBLIC,
    SESSION_COOKIE,
    Console,
    Context,
    Texts,
)

TEXTS: Texts = {
    "login_title": ("Anmelden", "Sign in"),
    "login_intro": (
        "Die Redaktion des Stadtkalenders und die Veranstaltungsorte melden sich hier an.",
        "The calendar's editors and the venues sign in here.",
    ),
    "email": ("E-Mail-Adresse", "E-mail address"),
    "password": ("Passwort", "Password"),
    "login_button": ("Anmelden", "Sign in"),
    "login_refused": ("E-Mail-Adresse oder Passwort ist falsch.", "Wrong e-mail address or password."),
    "login_throttled": (
        "Zu viele fehlgeschlagene Anmeldungen. Bitte warten Sie {seconds} Sekunden.",
        "Too many failed sign-ins. Please wait {seconds} seconds.",
    ),
    "notice_signed_out": ("Sie sind abgemeldet.", "You are signed out."),
}


def _safe_next(target: str) -> str:
    """Where to go after signing in: only a path of this site's console or portal, never elsewhere."""
    if target.startswith(("/admin", "/venue")) and not target.startswith("//") and "\\" not in target:
        return target
    return f"{ADMIN_PREFIX}/"


def landing(role: str, target: str) -> str:
    """Where an account goes after signing in: ``target`` when it is safe, else its role's home."""
    if target:
        return _safe_next(target)
    return f"{PORTAL_PREFIX}/" if role == "venue" else f"{ADMIN_PREFIX}/"


def login_form(ctx: Context) -> Response:
    """The login form (a signed-in visitor goes straight on)."""
    target = ctx.request.query_params.get("next", "")
    if ctx.account is not None:
        return RedirectResponse(landing(ctx.account.role, target), status_code=303)
    return ctx.render("login.html", error="", email="", next=target)


def login(ctx: Context) -> Response:
    """Check the password (unless throttled), rotate the session, and go on."""
    email, password, target = ctx.field("email"), ctx.field("password"), ctx.field("next")
    client = ctx.request.client.host if ctx.request.client else None
    keys = throttle_keys(email, client)
    limit = ctx.console.settings.console.login_failures_per_minute
    wait = retry_after(ctx.factory, keys, now=ctx.now, limit=limit)
    if wait is not None:
        response = ctx.render(
            "login.html", status=429, error=ctx.t("login_throttled", seconds=wait), email=email, next=target
        )
        response.headers["Retry-After"] = str(wait)
        return response
    try:
        account = verify_login(ctx.factory, email, password, now=ctx.now)
    except LoginRefused:
        note_failure(ctx.factory, keys, now=ctx.now)
        return ctx.render("login.html", status=401, error=ctx.t("login_refused"), email=email, next=target)
    old = ctx.request.cookies.get(SESSION_COOKIE) or None
    token = start_session(ctx.factory, account.id, now=ctx.now, replaces=old)
    ctx.console.session_cookie(ctx, token)
    return RedirectResponse(landing(account.role, target), status_code=303)


def logout(ctx: Context) -> Response:
    """End the session and forget the cookie."""
    token = ctx.request.cookies.get(SESSION_COOKIE)
    if token:
        end_session(ctx.factory, token)
    ctx.console.clear_session_cookie(ctx)
    return ctx.done(f"{ADMIN_PREFIX}/login", "signed_out")


def register(console: Console) -> None:
    """``/admin/login`` (GET, POST) and ``/admin/logout`` (POST)."""
    console.page("/login", login_form, roles=PUBLIC)
    console.page("/login", login, roles=PUBLIC, methods=("POST",))
    console.page("/logout", logout, roles=EVERYONE, methods=("POST",))
