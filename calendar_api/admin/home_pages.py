"""The console's front page: what needs an editor now (failing sources, held runs, recent changes)."""

from __future__ import annotations

from sqlalchemy import select
from starlette.responses import JSONResponse, Response

from aggregator.audit import entries
from aggregator.health import source_health
from aggregator.models import SourceRun
from aggregator.review_queue import review_queue
from aggregator.types import Health, RunStatus
from calendar_api.admin.console import EDITORS, EVERYONE, Console, Context, NavItem, Texts

TEXTS: Texts = {
    "nav_home": ("Übersicht", "Overview"),
    "home_title": ("Übersicht", "Overview"),
    "home_attention": ("Braucht Aufmerksamkeit", "Needs attention"),
    "home_all_well": ("Alle Quellen laufen, keine Läufe warten.", "Every source runs; no run is waiting."),
    "home_failing": ("Quelle {name}: {health}", "Source {name}: {health}"),
    "home_held": (
        "Lauf {id} von {source} wurde zurückgehalten ({when})",
        "Run {id} of {source} was held back ({when})",
    ),
    "home_review": (
        "{count} mögliche Dubletten und Widersprüche warten auf eine Entscheidung",
        "{count} possible duplicates and conflicts await a decision",
    ),
    "home_recent": ("Letzte Änderungen", "Recent changes"),
    "home_sources": ("{count} Quellen", "{count} sources"),
}

NAV = [NavItem("/admin/", "nav_home", EDITORS)]


def _attention(ctx: Context) -> tuple[list[tuple[str, str]], list[SourceRun], int]:
    health = source_health(ctx.factory, ctx.console.runtime.specs)
    failing = [
        (row.name, row.health)
        for row in health
        if row.health in (Health.FAILING.value, Health.SUSPICIOUS.value, Health.DEGRADED.value)
    ]
    with ctx.factory() as session:
        held = list(
            session.scalars(
                select(SourceRun)
                .where(SourceRun.status == RunStatus.SUSPICIOUS.value)
                .order_by(SourceRun.id.desc())
            )
        )
        for run in held:
            session.expunge(run)
    return failing, held, len(health)


def home(ctx: Context) -> Response:
    """``/admin/``: sources that fail, runs the guard held back, the latest audit entries."""
    failing, held, count = _attention(ctx)
    with ctx.factory() as session:
        recent = entries(session).entries[:10]
        open_items = len(review_queue(session, ctx.console.settings.dedupe, ctx.now))
    return ctx.render(
        "home.html", failing=failing, held=held, recent=recent, source_count=count, open_items=open_items
    )


def me(ctx: Context) -> Response:
    """``GET /api/v1/admin/me``: the account the request acts as."""
    account = ctx.account
    assert account is not None
    return JSONResponse(
        {
            "id": account.id,
            "email": account.email,
            "display_name": account.display_name,
            "role": account.role,
            "venues": list(account.venues),
        }
    )


def register(console: Console) -> None:
    """``/admin/`` and ``GET /api/v1/admin/me``."""
    console.page("/", home, roles=EDITORS)
    console.api("/me", me, roles=EVERYONE)


OPENAPI_PATHS = {
    "/api/v1/admin/me": {
        "get": {
            "tags": ["admin"],
            "summary": "The account this request acts as",
            "security": [{"consoleSession": []}, {"personalKey": []}],
            "responses": {
                "200": {"description": "id, email, display_name, role, venues"},
                "401": {"description": "not signed in"},
            },
        }
    }
}
