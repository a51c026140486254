"""The audit log in the console: every editorial action, filtered and paged (HTML and JSON).

This module is the example a new part of the console copies: texts, a navigation entry, a handler
for the page and one for the JSON API, their OpenAPI path item, and ``register``.
"""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse, Response

from aggregator.audit import AuditFilter, actions, entries
from aggregator.models import AuditEntry
from calendar_api.admin.console import EDITORS, Console, Context, NavItem, Texts

TEXTS: Texts = {
    "nav_audit": ("Protokoll", "Audit log"),
    "audit_title": ("Protokoll der Redaktion", "Editorial audit log"),
    "audit_intro": (
        "Jede Änderung aus der Konsole, mit Person, Zeit, vorher und nachher.",
        "Every change made in the console, with who, when, before and after.",
    ),
    "audit_at": ("Zeit", "When"),
    "audit_actor": ("Person", "Who"),
    "audit_action": ("Aktion", "Action"),
    "audit_target": ("Betrifft", "Subject"),
    "audit_change": ("Vorher → nachher", "Before → after"),
    "audit_any": ("alle", "any"),
    "audit_count": ("{total} Einträge", "{total} entries"),
}

NAV = [NavItem("/admin/audit", "nav_audit", EDITORS)]


def _where(ctx: Context) -> tuple[AuditFilter, int]:
    query = ctx.request.query_params
    where = AuditFilter(
        actor=query.get("actor", "").strip(),
        action=query.get("action", "").strip(),
        target_type=query.get("target_type", "").strip(),
        target_id=query.get("target_id", "").strip(),
    )
    page = query.get("page", "1")
    return where, int(page) if page.isdigit() else 1


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    """One entry as the JSON API gives it."""
    return {
        "id": entry.id,
        "at": entry.at.isoformat(),
        "actor": entry.actor,
        "account_id": entry.account_id,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "before": entry.before,
        "after": entry.after,
        "note": entry.note,
    }


def audit_page(ctx: Context) -> Response:
    """``/admin/audit``: the log, newest first, with filters."""
    where, page = _where(ctx)
    with ctx.factory() as session:
        found = entries(session, where, page=page)
        names = actions(session)
    return ctx.render("audit.html", found=found, where=where, actions=names)


def audit_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/audit``."""
    where, page = _where(ctx)
    with ctx.factory() as session:
        found = entries(session, where, page=page)
    return JSONResponse(
        {
            "entries": [entry_json(entry) for entry in found.entries],
            "total": found.total,
            "page": found.page,
            "pages": found.pages,
        }
    )


def register(console: Console) -> None:
    """``/admin/audit`` and ``GET /api/v1/admin/audit``."""
    console.page("/audit", audit_page, roles=EDITORS)
    console.api("/audit", audit_api, roles=EDITORS)


_FILTERS = [
    {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
    for name in ("actor", "action", "target_type", "target_id")
]
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/audit": {
        "get": {
            "tags": ["admin"],
            "summary": "The editorial audit log, newest first (50 a page)",
            "security": [{"consoleSession": []}, {"personalKey": []}],
            "parameters": [
                *_FILTERS,
                {
                    "name": "page",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "integer", "minimum": 1},
                },
            ],
            "responses": {
                "200": {"description": "entries, total, page, pages"},
                "401": {"description": "not signed in"},
                "403": {"description": "not an editor or admin"},
            },
        }
    }
}
