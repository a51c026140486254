"""The venue's push tokens in the portal: issue one (shown once), revoke one, and read the push log.

A venue account sees only tokens that write for its venues alone, and the log of its venues' push
sources; another venue's token is a 404. Issuing and revoking are audited.
"""

from __future__ import annotations

from starlette.responses import Response

from calendar_api.admin.console import PORTAL_PREFIX, VENUES, Console, Context, NavItem, Problem, Texts
from calendar_api.admin.people_pages import issue_audited, revoke_audited
from calendar_api.push.audit import read_log
from calendar_api.push.tokens import (
    PORTAL_TOKEN_NAME,
    PushToken,
    list_tokens,
)

LOG_ENTRIES = 100

TEXTS: Texts = {
    "nav_portal_tokens": ("Push-Schnittstelle", "Push API"),
    "ptokens_title": ("Push-Schnittstelle: Tokens und Protokoll", "Push API: tokens and log"),
    "ptokens_intro": (
        "Mit einem Token schreibt Ihr eigenes System Termine über /api/v1/push (Beschreibung unter "
        "/api/docs). Das Token wird nur einmal angezeigt.",
        "With a token your own system writes events through /api/v1/push (described at /api/docs). The "
        "token is shown once.",
    ),
    "ptokens_none": ("Noch keine Tokens.", "No tokens yet."),
    "plog_title": ("Protokoll der letzten Schreibvorgänge", "Log of the latest writes"),
    "plog_none": ("Noch nichts geschrieben.", "Nothing written yet."),
    "plog_when": ("Wann", "When"),
    "plog_token": ("Token", "Token"),
    "plog_request": ("Anfrage", "Request"),
    "plog_status": ("Antwort", "Answer"),
    "plog_summary": ("Ergebnis", "Result"),
}

NAV = [NavItem(f"{PORTAL_PREFIX}/tokens", "nav_portal_tokens", VENUES)]


def _own(ctx: Context, token: PushToken) -> bool:
    assert ctx.account is not None
    return bool(token.venues) and set(token.venues) <= set(ctx.account.venues)


def _tokens(ctx: Context) -> list[PushToken]:
    return [t for t in list_tokens(ctx.factory) if _own(ctx, t) and t.name != PORTAL_TOKEN_NAME]


def _log(ctx: Context) -> list[dict[str, object]]:
    sources = {t.source for t in list_tokens(ctx.factory) if _own(ctx, t)}
    entries = [
        e for source in sorted(sources) for e in read_log(ctx.factory, source, limit=LOG_ENTRIES).entries
    ]
    return sorted(entries, key=lambda e: int(str(e["id"])), reverse=True)[:LOG_ENTRIES]


def tokens_page(ctx: Context, *, status: int = 200, error: str = "", new_token: str = "") -> Response:
    """``/venue/tokens``: the venue's tokens, a form to issue one, and the push log."""
    return ctx.render(
        "portal_tokens.html",
        status=status,
        tokens=_tokens(ctx),
        log=_log(ctx),
        error=error,
        new_token=new_token,
    )


def issue(ctx: Context) -> Response:
    """Issue a token for the account's venues and show it once."""
    assert ctx.account is not None
    read_only = ctx.field("read_only") in ("on", "true", "1")
    try:
        _token, secret = issue_audited(ctx, ctx.account.venues, read_only=read_only)
    except Problem as problem:
        return tokens_page(ctx, status=problem.status, error=problem.message)
    return tokens_page(ctx, new_token=secret)


def revoke(ctx: Context) -> Response:
    """Revoke one of the venue's tokens (another venue's is a 404)."""
    token_id = str(ctx.request.path_params["token_id"])
    found = next((t for t in _tokens(ctx) if str(t.id) == token_id), None)
    if found is None:
        raise Problem(404, ctx.t("portal_not_yours"))
    revoke_audited(ctx, str(found.id))
    return ctx.done(f"{PORTAL_PREFIX}/tokens", "token_revoked")


def register(console: Console) -> None:
    """``/venue/tokens`` and ``/venue/tokens/{token_id}/revoke``, for venue accounts."""
    console.page("/tokens", tokens_page, roles=VENUES, prefix=PORTAL_PREFIX)
    console.page("/tokens", issue, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
    console.page("/tokens/{token_id}/revoke", revoke, roles=VENUES, methods=("POST",), prefix=PORTAL_PREFIX)
