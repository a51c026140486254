"""Sources and runs in the console: health, runs, pause/resume/run now, and held-back runs (HTML and JSON).

Nothing here runs a source: "run now" stores a request the scheduler picks up
(:mod:`aggregator.source_control`). Confirming a held run applies its stored listings in this process
(:mod:`aggregator.held_runs`), as ``stadtkalender runs confirm`` does — no fetching involved.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote

from starlette.responses import JSONResponse, Response

from aggregator.actions import ActionRefused, Change
from aggregator.held_runs import HeldPreview, PreviewItem, confirm_held, discard_held, held_preview
from aggregator.run_details import COUNTS, RunDetails, RunSummary, run_details
from aggregator.runs import IngestContext
from aggregator.source_control import pause_source, request_run, resume_source
from aggregator.source_overview import SourceOverview, source_overview, sources_overview
from calendar_api.admin.console import EDITORS, Console, Context, NavItem, Problem, Texts

RECENT_RUNS = 20
"""Runs a source's page lists."""

TEXTS: Texts = {
    "nav_sources": ("Quellen", "Sources"),
    "sources_title": ("Quellen", "Sources"),
    "sources_intro": (
        "Jede Quelle mit Zustand, letztem und nächstem Lauf. „Jetzt abrufen“ bittet den Planer um einen "
        "Lauf; er startet ihn bei seiner nächsten Abfrage.",
        "Every source with its health, last and next run. “Run now” asks the scheduler for a run; it "
        "starts it at its next poll.",
    ),
    "source_name": ("Quelle", "Source"),
    "source_kind": ("Art", "Kind"),
    "source_schedule": ("Zeitplan", "Schedule"),
    "source_health": ("Zustand", "Health"),
    "source_last_run": ("Letzter Lauf", "Last run"),
    "source_next_run": ("Nächster Lauf", "Next run"),
    "source_backoff": ("Pause nach Fehlern", "Backoff"),
    "source_records": ("Einträge", "Records"),
    "source_failures": ("Fehlschläge in Folge", "Failures in a row"),
    "source_last_success": ("Letzter erfolgreicher Lauf", "Last successful run"),
    "source_actions": ("Aktionen", "Actions"),
    "source_recent_runs": ("Letzte Läufe", "Recent runs"),
    "source_held_runs": ("Zurückgehaltene Läufe", "Held-back runs"),
    "source_held_link": ("Lauf {id} wartet auf eine Entscheidung", "Run {id} awaits a decision"),
    "source_backoff_until": ("bis {when} ({failures} Fehlschläge)", "until {when} ({failures} failures)"),
    "source_paused_by": ("pausiert seit {when} von {who}", "paused since {when} by {who}"),
    "source_requested": ("Lauf angefordert um {when} von {who}", "Run requested at {when} by {who}"),
    "source_not_configured": (
        "Nicht konfiguriert (Import oder Push): nur die Läufe werden gezeigt.",
        "Not configured (an import or push): only its runs are shown.",
    ),
    "source_disabled_in_settings": (
        "In settings.toml abgeschaltet (enabled = false).",
        "Disabled in settings.toml (enabled = false).",
    ),
    "source_pause": ("Pausieren", "Pause"),
    "source_resume": ("Fortsetzen", "Resume"),
    "source_run_now": ("Jetzt abrufen", "Run now"),
    "source_no_runs": ("Noch keine Läufe.", "No runs yet."),
    "health_ok": ("in Ordnung", "ok"),
    "health_failing": ("fehlerhaft", "failing"),
    "health_suspicious": ("verdächtig", "suspicious"),
    "health_disabled": ("abgeschaltet", "disabled"),
    "health_never_run": ("noch nie gelaufen", "never run"),
    "health_degraded": (
        "eingeschränkt (nur strukturierte Daten der Seiten)",
        "degraded (structured data of the pages only)",
    ),
    "status_running": ("läuft", "running"),
    "status_success": ("erfolgreich", "success"),
    "status_failed": ("fehlgeschlagen", "failed"),
    "status_suspicious": ("zurückgehalten", "held back"),
    "status_confirmed": ("bestätigt", "confirmed"),
    "status_aborted": ("abgebrochen", "aborted"),
    "status_expired": ("verfallen", "expired"),
    "status_discarded": ("verworfen", "discarded"),
    "status_degraded": ("eingeschränkt", "degraded"),
    "run_title": ("Lauf {id} von {source}", "Run {id} of {source}"),
    "run_id": ("Lauf", "Run"),
    "run_status": ("Ergebnis", "Outcome"),
    "run_trigger": ("Anlass", "Trigger"),
    "run_started": ("Begonnen", "Started"),
    "run_finished": ("Beendet", "Finished"),
    "run_duration": ("Dauer", "Duration"),
    "run_error": ("Meldung", "Message"),
    "run_decision": ("Entscheidung", "Decision"),
    "run_decided": ("{decision} von {who} am {when}", "{decision} by {who} on {when}"),
    "run_counts": ("Zahlen", "Counts"),
    "count_listings": ("Einträge", "Listings"),
    "count_added": ("neu", "added"),
    "count_updated": ("geändert", "updated"),
    "count_unchanged": ("unverändert", "unchanged"),
    "count_cancelled": ("abgesagt", "cancelled"),
    "count_rejected": ("abgelehnt", "rejected"),
    "run_rejections": ("Abgelehnte Einträge", "Rejected listings"),
    "run_no_rejections": ("Keine abgelehnten Einträge.", "No rejected listings."),
    "rejection_record": ("Eintrag", "Record"),
    "rejection_step": ("Schritt", "Step"),
    "rejection_field": ("Feld", "Field"),
    "rejection_error": ("Ausnahme", "Exception"),
    "rejection_reason": ("Grund", "Reason"),
    "rejection_adapter": ("(Adapter)", "(adapter)"),
    "run_warnings": ("Hinweise", "Warnings"),
    "run_no_warnings": ("Keine Hinweise.", "No warnings."),
    "held_title": ("Vom Schutz vor Massenabsagen zurückgehalten", "Held back by the mass-cancellation guard"),
    "held_intro": (
        "Dieser Lauf hätte viele Termine verschwinden lassen und wurde deshalb nicht angewendet. Hier steht, "
        "was das Bestätigen jetzt bewirken würde, berechnet aus dem heutigen Datenbestand und so, als ob es "
        "{as_of} wäre (der Zeitpunkt des Laufs).",
        "This run would have made many dates vanish, so it was not applied. Below is what confirming it "
        "would do now, computed from the store as it is and as of {as_of} (when the run happened).",
    ),
    "held_summary": (
        "{listings} Einträge im Lauf; die Quelle hat {future} künftige Termine gespeichert. Bestätigen sagt "
        "{cancels} Termine ab; {counted} weitere fehlen und werden nach {threshold} Läufen ohne sie "
        "abgesagt.",
        "{listings} listings in the run; the source has {future} future dates stored. Confirming cancels "
        "{cancels} dates; {counted} more are missing and are cancelled after {threshold} runs without them.",
    ),
    "held_cancels": ("Diese Termine würden abgesagt", "These dates would be cancelled"),
    "held_no_cancels": ("Bestätigen sagt keinen Termin ab.", "Confirming cancels no date."),
    "held_counted": (
        "Diese Termine fehlen im Lauf, bleiben aber vorerst",
        "These dates are missing, but stay for now",
    ),
    "held_newer": (
        "Achtung: Nach diesem Lauf wurden schon neuere Läufe angewendet ({runs}). Bestätigen spielt einen "
        "älteren Stand ein.",
        "Caution: newer runs were applied after this one ({runs}). Confirming replays an older state.",
    ),
    "occ_title": ("Titel", "Title"),
    "occ_date": ("Datum", "Date"),
    "occ_venue": ("Ort", "Venue"),
    "occ_status": ("Status jetzt", "Status now"),
    "occ_last_seen": ("Zuletzt gelistet", "Last listed"),
    "occ_reason": ("Warum", "Why"),
    "occ_missing": ("Läufe ohne ihn", "Runs without it"),
    "reason_vanished": ("keine Quelle listet ihn mehr", "no source lists it any more"),
    "reason_moved": ("die Quelle listet ihn zu anderer Zeit", "the source lists it at another time"),
    "reason_source": ("die Quelle meldet ihn als abgesagt", "the source says it is cancelled"),
    "reason_counted": ("fehlt; wird später abgesagt", "missing; cancelled later"),
    "reason_listed_elsewhere": ("eine andere Quelle listet ihn noch", "another source still lists it"),
    "occ_scheduled": ("geplant", "scheduled"),
    "occ_cancelled": ("abgesagt", "cancelled"),
    "occ_postponed": ("verschoben", "postponed"),
    "occ_rescheduled": ("neu angesetzt", "rescheduled"),
    "held_decide": ("Entscheiden", "Decide"),
    "held_confirm": ("Bestätigen und anwenden", "Confirm and apply"),
    "held_discard": ("Verwerfen (nichts anwenden)", "Discard (apply nothing)"),
    "notice_source_paused": (
        "Die Quelle ist pausiert; geplante Läufe entfallen.",
        "The source is paused; scheduled runs are skipped.",
    ),
    "notice_source_resumed": ("Die Quelle läuft wieder nach Plan.", "The source runs on schedule again."),
    "notice_run_requested": (
        "Der Lauf ist angefordert; der Planer startet ihn in Kürze.",
        "The run is requested; the scheduler starts it shortly.",
    ),
    "notice_run_confirmed": ("Der Lauf ist bestätigt und angewendet.", "The run is confirmed and applied."),
    "notice_run_discarded": (
        "Der Lauf ist verworfen; nichts wurde angewendet.",
        "The run is discarded; nothing was applied.",
    ),
    "refused_unknown_source": (
        "Es gibt keine konfigurierte Quelle „{source}“.",
        "There is no configured source “{source}”.",
    ),
    "refused_disabled_in_settings": (
        "Die Quelle „{source}“ ist in settings.toml abgeschaltet; ändern Sie zuerst dort.",
        "The source “{source}” is disabled in settings.toml; change it there first.",
    ),
    "refused_already_paused": (
        "Die Quelle „{source}“ ist schon pausiert.",
        "The source “{source}” is paused already.",
    ),
    "refused_not_paused": (
        "Die Quelle „{source}“ ist nicht pausiert.",
        "The source “{source}” is not paused.",
    ),
    "refused_already_requested": (
        "Ein Lauf von „{source}“ ist schon angefordert (um {requested_at} von {requested_by}); der Planer "
        "hat ihn noch nicht gestartet.",
        "A run of “{source}” is requested already (at {requested_at} by {requested_by}); the scheduler has "
        "not started it yet.",
    ),
    "refused_no_run": ("Es gibt keinen Lauf {run}.", "There is no run {run}."),
    "refused_not_held": (
        "Lauf {run} ist {status} – nur zurückgehaltene Läufe können bestätigt oder verworfen werden.",
        "Run {run} is {status} – only held-back runs can be confirmed or discarded.",
    ),
    "refused_already_decided": (
        "Über Lauf {run} entscheidet gerade {decided_by} ({decision}).",
        "{decided_by} is deciding on run {run} right now ({decision}).",
    ),
    "refused_no_batch": (
        "Lauf {run} hat seine Einträge nicht mehr.",
        "Run {run} no longer has its listings.",
    ),
    "refused_confirm_failed": (
        "Lauf {run} ließ sich nicht anwenden (Versuch: Lauf {attempt}): {error}. Er bleibt zurückgehalten.",
        "Run {run} could not be applied (attempt: run {attempt}): {error}. It stays held back.",
    ),
    "refused_bad_run_id": ("„{value}“ ist keine Laufnummer.", "“{value}” is not a run number."),
}

NAV = [NavItem("/admin/sources", "nav_sources", EDITORS)]

_STATUS_OF_REFUSAL = {"unknown_source": 404, "no_run": 404, "confirm_failed": 500}
"""HTTP status of each refusal; the others are conflicts with the current state (409)."""


# -- reading -----------------------------------------------------------------------------------------


def _ingest_context(ctx: Context) -> IngestContext:
    """What confirming and previewing a held run need: the sources' kinds rank their records."""
    runtime = ctx.console.runtime
    return IngestContext(
        ctx.factory,
        runtime.settings,
        kinds={name: spec.kind for name, spec in runtime.specs.items()},
        clock=ctx.console.clock,
        shift_weeks=runtime.settings.demo.shift_weeks,
    )


def _source(ctx: Context) -> SourceOverview:
    name = str(ctx.request.path_params["name"])
    found = source_overview(ctx.factory, ctx.console.runtime.specs, name, now=ctx.now, runs=RECENT_RUNS)
    if found is None:
        raise Problem(404, ctx.t("refused_unknown_source", source=name))
    return found


def _run_id(ctx: Context) -> int:
    value = str(ctx.request.path_params["run_id"])
    if not value.isdigit() or len(value) > 18:
        raise Problem(400, ctx.t("refused_bad_run_id", value=value))
    return int(value)


def _run(ctx: Context) -> tuple[RunDetails, HeldPreview | None]:
    run_id = _run_id(ctx)
    with ctx.factory() as session:
        details = run_details(session, run_id)
        if details is None:
            raise Problem(404, ctx.t("refused_no_run", run=run_id))
        preview = None
        if details.run.awaiting_decision and details.held_listings is not None:
            preview = held_preview(session, _ingest_context(ctx), run_id)
    return details, preview


def refusal(ctx: Context, refused: ActionRefused) -> Problem:
    """The console's words for a refused action, in the request's language."""
    values = {key: ctx.when(v) if isinstance(v, datetime) else v for key, v in refused.params.items()}
    if "status" in values:
        values["status"] = ctx.t(f"status_{values['status']}")
    key = f"refused_{refused.code}"
    message = ctx.t(key, **values) if key in ctx.console.texts else refused.message
    return Problem(_STATUS_OF_REFUSAL.get(refused.code, 409), message)


def duration(span: timedelta | None) -> str:
    """``2 min 5 s``, ``1 h 3 min`` or ``12 s`` (– while running)."""
    if span is None:
        return "–"
    seconds = int(span.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {seconds} s" if minutes else f"{seconds} s"


_HELPERS: dict[str, Any] = {"duration": duration, "counts": COUNTS}
"""What the templates use besides the console's common values."""


# -- pages -------------------------------------------------------------------------------------------


def sources_page(ctx: Context, *, status: int = 200, error: str = "") -> Response:
    """``/admin/sources``: every source with health, last run, next run, backoff and its buttons."""
    rows = sources_overview(ctx.factory, ctx.console.runtime.specs, now=ctx.now, runs=1)
    return ctx.render("sources.html", status=status, rows=rows, error=error, **_HELPERS)


def source_page(ctx: Context, *, status: int = 200, error: str = "") -> Response:
    """``/admin/sources/{name}``: one source, its state and its recent runs."""
    return ctx.render("source.html", status=status, source=_source(ctx), error=error, **_HELPERS)


def run_page(ctx: Context, *, status: int = 200, error: str = "") -> Response:
    """``/admin/runs/{run_id}``: counts, rejections, warnings; for a held run the preview and the decision."""
    details, preview = _run(ctx)
    return ctx.render("run.html", status=status, details=details, preview=preview, error=error, **_HELPERS)


def _steer(ctx: Context, act: Any) -> Change:
    name = str(ctx.request.path_params["name"])
    try:
        change: Change = act(ctx.factory, ctx.console.runtime.specs, name, actor=ctx.actor, now=ctx.now)
    except ActionRefused as refused:
        raise refusal(ctx, refused) from refused
    return change


def _steer_form(ctx: Context, act: Any, notice: str) -> Response:
    name = str(ctx.request.path_params["name"])
    back_to_list = ctx.field("back") == "list"
    try:
        _steer(ctx, act)
    except Problem as problem:
        if problem.status == 404:
            raise
        if back_to_list:
            return sources_page(ctx, status=problem.status, error=problem.message)
        return source_page(ctx, status=problem.status, error=problem.message)
    return ctx.done("/admin/sources" if back_to_list else f"/admin/sources/{quote(name, safe='')}", notice)


def pause_form(ctx: Context) -> Response:
    """Pause a source from the list or its page."""
    return _steer_form(ctx, pause_source, "source_paused")


def resume_form(ctx: Context) -> Response:
    """Resume a source from the list or its page."""
    return _steer_form(ctx, resume_source, "source_resumed")


def run_form(ctx: Context) -> Response:
    """Ask for a run now, from the list or the source's page."""
    return _steer_form(ctx, request_run, "run_requested")


def _decide(ctx: Context, decision: str) -> Change:
    run_id = _run_id(ctx)
    try:
        if decision == "confirm":
            return confirm_held(_ingest_context(ctx), run_id, actor=ctx.actor, now=ctx.now)
        return discard_held(ctx.factory, run_id, actor=ctx.actor, now=ctx.now)
    except ActionRefused as refused:
        raise refusal(ctx, refused) from refused


def _decide_form(ctx: Context, decision: str, notice: str) -> Response:
    try:
        _decide(ctx, decision)
    except Problem as problem:
        if problem.status in (400, 404):
            raise
        return run_page(ctx, status=problem.status, error=problem.message)
    return ctx.done(f"/admin/runs/{_run_id(ctx)}", notice)


def confirm_form(ctx: Context) -> Response:
    """Confirm a held-back run from its page."""
    return _decide_form(ctx, "confirm", "run_confirmed")


def discard_form(ctx: Context) -> Response:
    """Discard a held-back run from its page."""
    return _decide_form(ctx, "discard", "run_discarded")


# -- JSON ----------------------------------------------------------------------------------------------


def _at(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def run_json(run: RunSummary) -> dict[str, Any]:
    """A run's summary as the JSON API gives it."""
    return {
        "id": run.id,
        "source": run.source,
        "status": run.status,
        "trigger": run.trigger,
        "started_at": _at(run.started_at),
        "finished_at": _at(run.finished_at),
        "duration_seconds": run.duration.total_seconds() if run.duration is not None else None,
        "counts": dict(run.counts),
        "error": run.error,
        "decision": run.decision,
        "decided_by": run.decided_by,
        "decided_at": _at(run.decided_at),
        "awaiting_decision": run.awaiting_decision,
    }


def source_json(row: SourceOverview) -> dict[str, Any]:
    """A source as the JSON API gives it."""
    return {
        "name": row.name,
        "kind": row.kind,
        "schedule": row.schedule,
        "health": row.health,
        "configured": row.configured,
        "enabled_in_settings": row.enabled_in_settings,
        "paused": row.paused,
        "paused_at": _at(row.paused_at),
        "paused_by": row.paused_by,
        "records": row.records,
        "consecutive_failures": row.consecutive_failures,
        "last_success": _at(row.last_success),
        "backoff_until": _at(row.backoff_until),
        "next_run": _at(row.next_run),
        "run_requested_at": _at(row.run_requested_at),
        "run_requested_by": row.run_requested_by,
        "runs": [run_json(run) for run in row.runs],
        "held_runs": list(row.held_runs),
    }


def _item_json(item: PreviewItem) -> dict[str, Any]:
    occurrence = asdict(item.occurrence)
    for key in ("start", "end"):
        occurrence[key] = _at(occurrence[key])
    return {
        "occurrence": occurrence,
        "record_id": item.record_id,
        "last_seen": _at(item.last_seen),
        "missing_runs": item.missing_runs,
        "reason": item.reason,
    }


def preview_json(preview: HeldPreview) -> dict[str, Any]:
    """What confirming a held run would do, as the JSON API gives it."""
    return {
        "as_of": _at(preview.as_of),
        "listings": preview.listings,
        "future": preview.future,
        "missing_runs_before_cancel": preview.missing_runs_before_cancel,
        "cancels": [_item_json(item) for item in preview.cancels],
        "counts_missing": [_item_json(item) for item in preview.counts_missing],
        "newer_runs": [run.id for run in preview.newer_runs],
    }


def change_json(change: Change) -> dict[str, Any]:
    """An action's outcome: what it changed, before and after."""
    return {
        "action": change.action,
        "target_type": change.target_type,
        "target_id": change.target_id,
        "before": change.before,
        "after": change.after,
        **({"detail": change.detail} if change.detail else {}),
    }


def sources_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/sources``."""
    rows = sources_overview(ctx.factory, ctx.console.runtime.specs, now=ctx.now, runs=5)
    return JSONResponse({"sources": [source_json(row) for row in rows]})


def source_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/sources/{name}``."""
    return JSONResponse(source_json(_source(ctx)))


def pause_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/sources/{name}/pause``."""
    return JSONResponse(change_json(_steer(ctx, pause_source)))


def resume_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/sources/{name}/resume``."""
    return JSONResponse(change_json(_steer(ctx, resume_source)))


def run_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/sources/{name}/run``: the request is stored; 202, the scheduler runs it."""
    return JSONResponse(change_json(_steer(ctx, request_run)), status_code=202)


def run_details_api(ctx: Context) -> Response:
    """``GET /api/v1/admin/runs/{run_id}``."""
    details, preview = _run(ctx)
    return JSONResponse(
        {
            "run": run_json(details.run),
            "rejections": [rejection.to_data() for rejection in details.rejections],
            "warnings": list(details.warnings),
            "held_listings": details.held_listings,
            "preview": preview_json(preview) if preview is not None else None,
        }
    )


def confirm_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/runs/{run_id}/confirm``."""
    return JSONResponse(change_json(_decide(ctx, "confirm")))


def discard_api(ctx: Context) -> Response:
    """``POST /api/v1/admin/runs/{run_id}/discard``."""
    return JSONResponse(change_json(_decide(ctx, "discard")))


def register(console: Console) -> None:
    """The sources' and runs' pages and their JSON API, for editors and admins."""
    console.page("/sources", sources_page, roles=EDITORS)
    console.page("/sources/{name}", source_page, roles=EDITORS)
    console.page("/sources/{name}/pause", pause_form, roles=EDITORS, methods=("POST",))
    console.page("/sources/{name}/resume", resume_form, roles=EDITORS, methods=("POST",))
    console.page("/sources/{name}/run", run_form, roles=EDITORS, methods=("POST",))
    console.page("/runs/{run_id}", run_page, roles=EDITORS)
    console.page("/runs/{run_id}/confirm", confirm_form, roles=EDITORS, methods=("POST",))
    console.page("/runs/{run_id}/discard", discard_form, roles=EDITORS, methods=("POST",))
    console.api("/sources", sources_api, roles=EDITORS)
    console.api("/sources/{name}", source_api, roles=EDITORS)
    console.api("/sources/{name}/pause", pause_api, roles=EDITORS, methods=("POST",))
    console.api("/sources/{name}/resume", resume_api, roles=EDITORS, methods=("POST",))
    console.api("/sources/{name}/run", run_api, roles=EDITORS, methods=("POST",))
    console.api("/runs/{run_id}", run_details_api, roles=EDITORS)
    console.api("/runs/{run_id}/confirm", confirm_api, roles=EDITORS, methods=("POST",))
    console.api("/runs/{run_id}/discard", discard_api, roles=EDITORS, methods=("POST",))


def _op(
    summary: str, ok: str, description: str, *, param: str | None = None, refusals: str = ""
) -> dict[str, Any]:
    responses: dict[str, Any] = {
        ok: {"description": description},
        "401": {"description": "not signed in"},
        "403": {"description": "not an editor or admin"},
    }
    if param is not None:
        responses["404"] = {"description": f"no such {'source' if param == 'name' else 'run'}"}
    if refusals:
        responses["409"] = {"description": refusals}
    op: dict[str, Any] = {
        "tags": ["admin"],
        "summary": summary,
        "security": [{"consoleSession": []}, {"personalKey": []}],
        "responses": responses,
    }
    if param is not None:
        schema = {"type": "string"} if param == "name" else {"type": "string", "pattern": "^[0-9]+$"}
        op["parameters"] = [{"name": param, "in": "path", "required": True, "schema": schema}]
    return op


_CHANGE = "the change: action, target_type, target_id, before, after (and detail)"
OPENAPI_PATHS: dict[str, Any] = {
    "/api/v1/admin/sources": {
        "get": _op(
            "Every source: health, newest runs, next run, backoff, pause, pending run request, held runs",
            "200",
            "sources",
        )
    },
    "/api/v1/admin/sources/{name}": {
        "get": _op("One source with its last 20 runs", "200", "the source", param="name")
    },
    "/api/v1/admin/sources/{name}/pause": {
        "post": _op(
            "Pause a source: its scheduled runs are skipped",
            "200",
            _CHANGE,
            param="name",
            refusals="paused already, or disabled in the settings",
        )
    },
    "/api/v1/admin/sources/{name}/resume": {
        "post": _op(
            "Resume a paused source",
            "200",
            _CHANGE,
            param="name",
            refusals="not paused, or disabled in the settings",
        )
    },
    "/api/v1/admin/sources/{name}/run": {
        "post": _op(
            "Ask the scheduler to run a source now (even while paused or backing off)",
            "202",
            _CHANGE,
            param="name",
            refusals="a request is already waiting, or disabled in the settings",
        )
    },
    "/api/v1/admin/runs/{run_id}": {
        "get": _op(
            "A run: counts, rejections, warnings; for a held-back run, what confirming it would cancel",
            "200",
            "run, rejections, warnings, held_listings, preview",
            param="run_id",
        )
    },
    "/api/v1/admin/runs/{run_id}/confirm": {
        "post": _op(
            "Confirm a held-back run: apply it as of when it was held (500: applying failed, it stays held)",
            "200",
            _CHANGE,
            param="run_id",
            refusals="not held back, or someone is deciding on it",
        )
    },
    "/api/v1/admin/runs/{run_id}/discard": {
        "post": _op(
            "Discard a held-back run: apply nothing and drop its listings",
            "200",
            _CHANGE,
            param="run_id",
            refusals="not held back, or someone is deciding on it",
        )
    },
}
