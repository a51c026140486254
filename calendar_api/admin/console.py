"""The console's frame: sessions, the role guard, CSRF, templates and texts, in one place.

Every console URL is made by :meth:`Console.page` (HTML under ``/admin``) or :meth:`Console.api`
(JSON under ``/api/v1/admin``), each with the roles that may use it. The guard around every handler:

- finds the account: for HTML, by the session cookie; for the JSON API, by the session cookie or by a
  personal key (``Authorization: Bearer skp_…`` — then the cookie is ignored);
- refuses the anonymous (a redirect to the login page, or 401 for the API) and the wrong role (403);
- answers every response with ``Cache-Control: no-store``.

CSRF is asgi-csrf's double-submit cookie, wrapped around both sub-apps: every request but GET/HEAD
must carry the ``csrftoken`` form field (or ``x-csrftoken`` header) matching the signed cookie; a key
in ``Authorization`` skips it, since no browser sends one on its own. The login form is always
checked (as is every public form), so a foreign site cannot sign a visitor in to an account of its
choosing.

Handlers are plain functions ``handler(ctx: Context) -> Response`` and run in a worker thread, so
they may use the database directly.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol
from urllib.parse import quote, urlencode

from asgi_csrf import asgi_csrf  # type: ignore[import-untyped]
from itsdangerous import BadSignature, URLSafeSerializer
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from aggregator.accounts import AccountInfo, Role
from aggregator.app_secrets import shared_secret
from aggregator.audit import Actor
from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.health import SourceInfo
from aggregator.login_sessions import Lifetimes, account_for_key, resume_session
from aggregator.types import BERLIN
from aggregator.venue_feeds import FeedRegistration
from calendar_api.web.i18n import LANGUAGES, Lang, pick_language

_log = logging.getLogger(__name__)

SESSION_COOKIE = "sk_session"
CSRF_COOKIE = "csrftoken"
CSRF_FIELD = "csrftoken"
LANG_COOKIE = "sk_lang"
ADMIN_PREFIX = "/admin"
MULTIPART_MAX_BYTES = 2_000_000
"""The largest body a file form (``multipart=True``) may send; a larger one is refused unread."""
PORTAL_PREFIX = "/venue"
"""The venue portal: pages of the same console (sessions, CSRF, guard, texts) under their own prefix."""
API_PREFIX = "/api/v1/admin"

ADMINS: tuple[Role, ...] = ("admin",)
EDITORS: tuple[Role, ...] = ("admin", "editor")
VENUES: tuple[Role, ...] = ("venue",)
EVERYONE: tuple[Role, ...] = ("admin", "editor", "venue")
PUBLIC: tuple[Role, ...] = ()
"""No account needed (the login page)."""

Kind = Literal["page", "api"]


class ConsoleRuntime(Protocol):
    """What the console needs of the runtime."""

    settings: Settings
    factory: sessionmaker[Session]

    @property
    def specs(self) -> Mapping[str, SourceInfo]: ...


@dataclass(frozen=True, slots=True)
class NavItem:
    """An entry of the console's navigation, shown to the roles that may open it."""

    href: str
    text_key: str
    roles: tuple[Role, ...]


@dataclass(frozen=True, slots=True)
class Registered:
    """One console URL, its methods and the roles it admits (the security tests enumerate these)."""

    kind: Kind
    path: str
    methods: tuple[str, ...]
    roles: tuple[Role, ...]


class Problem(Exception):
    """A request a handler refuses: status and a message for the reader (JSON problem or an HTML page)."""

    def __init__(self, status: int, message: str, *, field: str | None = None) -> None:
        self.status = status
        self.message = message
        self.field = field
        super().__init__(message)


Texts = Mapping[str, tuple[str, str]]
"""Message key → (German, English)."""


@dataclass
class Context:
    """One request as a handler sees it: who asks, in which language, what they sent."""

    console: Console
    request: Request
    account: AccountInfo | None
    lang: Lang
    now: datetime
    form: FormData | None = None
    body: Any = None
    """The parsed JSON body of an API request (``None`` for none)."""
    cookies_out: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    @property
    def factory(self) -> sessionmaker[Session]:
        """Sessions on the store."""
        return self.console.factory

    @property
    def actor(self) -> Actor:
        """The signed-in account as the audit log names it."""
        if self.account is None:
            raise Problem(401, "not signed in")
        return Actor(self.account.id, self.account.email)

    def t(self, key: str, **values: object) -> str:
        """The text ``key`` in the request's language."""
        return self.console.text(self.lang, key, **values)

    def field(self, name: str, default: str = "") -> str:
        """A form field (HTML) or a string member of the JSON body (API), stripped."""
        if self.form is not None:
            value = self.form.get(name)
            return value.strip() if isinstance(value, str) else default
        if isinstance(self.body, dict):
            value = self.body.get(name)
            return value.strip() if isinstance(value, str) else default
        return default

    def fields(self, name: str) -> list[str]:
        """Every value of a repeated form field, or a JSON list of strings."""
        if self.form is not None:
            return [v.strip() for v in self.form.getlist(name) if isinstance(v, str) and v.strip()]
        if isinstance(self.body, dict) and isinstance(self.body.get(name), list):
            return [str(v).strip() for v in self.body[name] if str(v).strip()]
        return []

    def render(self, template: str, *, status: int = 200, **values: Any) -> Response:
        """The page ``template`` with the console's common values (texts, account, navigation, CSRF)."""
        page = self.console.env.get_template(template)
        body = page.render(**self.common(), **values)
        return HTMLResponse(body, status_code=status)

    def common(self) -> dict[str, Any]:
        """The values every console template may use."""
        token_fn = self.request.scope.get("csrftoken")
        csrf = token_fn() if callable(token_fn) else ""
        other: Lang = "en" if self.lang == "de" else "de"
        query = dict(self.request.query_params)
        query["lang"] = other
        return {
            "lang": self.lang,
            "other_lang": other,
            "switch_url": f"{self.request.url.path}?{urlencode(query)}",
            "t": self.t,
            "account": self.account,
            "nav": [item for item in self.console.nav if self.account and self.account.role in item.roles],
            "current_path": self.request.url.path,
            "csrf_field": CSRF_FIELD,
            "csrf_token": csrf,
            "when": self.when,
            "notice": self.t(f"notice_{self.request.query_params['done']}")
            if self.request.query_params.get("done", "") in self.console.notices
            else "",
        }

    def when(self, instant: datetime | None) -> str:
        """A stored instant as Berlin wall-clock time, ``2026-11-21 13:00``."""
        if instant is None:
            return "–"
        return instant.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M")

    def done(self, url: str, notice: str | None = None) -> Response:
        """Redirect after a successful form (303), with a notice key the next page shows."""
        if notice is not None:
            if notice not in self.console.notices:
                raise KeyError(f"no notice text notice_{notice}")
            url += ("&" if "?" in url else "?") + f"done={notice}"
        return RedirectResponse(url, status_code=303)


Handler = Callable[[Context], Response]


class Console:
    """The console's routes, texts, templates and guard for one runtime."""

    def __init__(
        self,
        runtime: ConsoleRuntime,
        clock: Clock,
        texts: Iterable[Texts],
        nav: Iterable[NavItem],
        *,
        feeds: FeedRegistration | None = None,
    ) -> None:
        self.runtime = runtime
        self.feeds = feeds
        """How the portal checks and registers feed URLs (None: this installation offers no feeds)."""
        self.settings = runtime.settings
        self.factory = runtime.factory
        self.clock = clock
        self.secure = runtime.settings.server.base_url.startswith("https://")
        self.lifetimes = Lifetimes(
            idle=timedelta(minutes=runtime.settings.console.idle_minutes),
            absolute=timedelta(hours=runtime.settings.console.absolute_hours),
        )
        merged: dict[str, tuple[str, str]] = {}
        for table in texts:
            for key, value in table.items():
                if key in merged and merged[key] != value:
                    raise ValueError(f"console text {key!r} is defined twice, differently")
                merged[key] = value
        self.texts = merged
        self.notices = {key.removeprefix("notice_") for key in merged if key.startswith("notice_")}
        self.nav = list(nav)
        self.env = Environment(
            loader=PackageLoader("calendar_api.admin", "templates"),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["tojson_pretty"] = lambda value: json.dumps(
            value, ensure_ascii=False, indent=2, default=str
        )
        self.registered: list[Registered] = []
        self._mounts: dict[str, list[BaseRoute]] = {}
        self._multipart: set[str] = set()
        self._csrf_secret = ""

    def text(self, lang: Lang, key: str, **values: object) -> str:
        """The text ``key`` in ``lang``."""
        try:
            text = self.texts[key][0 if lang == "de" else 1]
        except KeyError as exc:
            raise KeyError(f"no console text {key!r}") from exc
        return text.format(**values) if values else text

    # -- registration -------------------------------------------------------------------------

    def page(
        self,
        path: str,
        handler: Handler,
        *,
        roles: tuple[Role, ...],
        methods: Sequence[str] = ("GET",),
        prefix: str = ADMIN_PREFIX,
        multipart: bool = False,
    ) -> None:
        """An HTML page or form target at ``{prefix}{path}`` for ``roles`` (``PUBLIC``: anyone).

        ``prefix`` is ``/admin`` (the console) or :data:`PORTAL_PREFIX` (the venue portal).
        ``multipart``: the form sends a file (``multipart/form-data``, at most
        :data:`MULTIPART_MAX_BYTES`); its CSRF token is checked by the guard once the form is read,
        since asgi-csrf's own multipart reading fails with the python-multipart of today.
        """
        if prefix not in (ADMIN_PREFIX, PORTAL_PREFIX):
            raise ValueError(f"no console prefix {prefix!r}")
        if multipart:
            self._multipart.add(prefix + path)
        self._register("page", path, handler, roles, methods, prefix)

    def api(
        self, path: str, handler: Handler, *, roles: tuple[Role, ...], methods: Sequence[str] = ("GET",)
    ) -> None:
        """A JSON endpoint at ``/api/v1/admin{path}`` for ``roles``."""
        self._register("api", path, handler, roles, methods, API_PREFIX)

    def _register(
        self,
        kind: Kind,
        path: str,
        handler: Handler,
        roles: tuple[Role, ...],
        methods: Sequence[str],
        prefix: str,
    ) -> None:
        self.registered.append(Registered(kind, prefix + path, tuple(methods), roles))
        endpoint = self._guarded(kind, handler, roles)
        route = Route(path, endpoint, methods=list(methods))
        self._mounts.setdefault(prefix, []).append(route)

    def public_writes(self) -> set[str]:
        """Paths of public forms (the login, the welcome link): CSRF-checked even without a cookie."""
        return {r.path for r in self.registered if r.roles == PUBLIC and set(r.methods) - {"GET", "HEAD"}}

    def routes(self) -> list[BaseRoute]:
        """The console's mounts (each behind CSRF and ``no-store``) and ``/admin`` → ``/admin/``."""

        def protect(routes: list[BaseRoute], kind: Kind) -> ASGIApp:
            def build() -> ASGIApp:
                secret = self.settings.console.csrf_secret or shared_secret(
                    self.factory, "csrf", now=self.clock()
                )
                self._csrf_secret = secret
                app = Starlette(routes=routes)
                app.router.redirect_slashes = False
                return asgi_csrf(  # type: ignore[no-any-return]
                    app,
                    signing_secret=secret,
                    always_protect=self.public_writes(),
                    cookie_secure=self.secure,
                    skip_if_scope=self._checks_own_csrf,
                    send_csrf_failed=self._csrf_failed(kind),
                )

            return _NoStore(_BuiltOnFirstRequest(build))

        routes: list[BaseRoute] = []
        for prefix, mounted in self._mounts.items():
            if prefix != API_PREFIX:
                routes.append(Route(prefix, _slash_redirect(prefix)))
            routes.append(Mount(prefix, app=protect(mounted, "api" if prefix == API_PREFIX else "page")))
        return routes

    # -- the guard ----------------------------------------------------------------------------

    def _checks_own_csrf(self, scope: Scope) -> bool:
        """A file form of a ``multipart`` page: the guard checks its token (:meth:`_multipart_csrf`)."""
        return scope.get("path") in self._multipart and _is_multipart(Request(scope))

    def _multipart_csrf(self, request: Request, form: FormData) -> bool:
        """The form's token matches the signed cookie (asgi-csrf's double submit, checked here)."""
        cookie = request.cookies.get(CSRF_COOKIE, "")
        sent = form.get(CSRF_FIELD)
        if not cookie or not isinstance(sent, str) or not self._csrf_secret:
            return False
        try:
            URLSafeSerializer(self._csrf_secret).loads(cookie, "csrftoken")
        except BadSignature:
            return False
        return secrets.compare_digest(sent, cookie)

    def language(self, request: Request) -> Lang:
        """``?lang=``, then the language cookie, then ``Accept-Language``."""
        explicit = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
        lang, _ = pick_language(explicit, request.headers.get("accept-language"))
        return lang

    def _guarded(
        self, kind: Kind, handler: Handler, roles: tuple[Role, ...]
    ) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            now = self.clock()
            lang = self.language(request)
            authorization = request.headers.get("authorization")
            account: AccountInfo | None
            if authorization is not None:
                scheme, _, secret = authorization.partition(" ")
                if kind != "api" or scheme.lower() != "bearer":
                    return self._refuse(kind, request, lang, 401, "problem_key_only_api")
                account = await run_in_threadpool(account_for_key, self.factory, secret.strip(), now=now)
                if account is None:
                    return self._refuse(kind, request, lang, 401, "problem_bad_key")
            else:
                token = request.cookies.get(SESSION_COOKIE, "")
                account = (
                    await run_in_threadpool(
                        resume_session, self.factory, token, now=now, lifetimes=self.lifetimes
                    )
                    if token
                    else None
                )
            if roles:
                if account is None:
                    if kind == "page" and request.method in ("GET", "HEAD"):
                        target = quote(
                            request.url.path + (f"?{request.url.query}" if request.url.query else "")
                        )
                        return RedirectResponse(f"{ADMIN_PREFIX}/login?next={target}", status_code=303)
                    return self._refuse(kind, request, lang, 401, "problem_signed_out")
                if account.role not in roles:
                    return self._refuse(kind, request, lang, 403, "problem_forbidden")
            ctx = Context(self, request, account, lang, now)
            own_csrf = request.url.path in self._multipart and _is_multipart(request)
            if own_csrf:
                length = request.headers.get("content-length", "")
                if not length.isdigit() or int(length) > MULTIPART_MAX_BYTES:
                    return self._refuse(kind, request, lang, 413, "problem_too_large")
            try:
                if request.method not in ("GET", "HEAD"):
                    if kind == "page":
                        ctx.form = await request.form(max_files=1 if own_csrf else 20, max_fields=2000)
                        if own_csrf and not self._multipart_csrf(request, ctx.form):
                            return self._refuse(kind, request, lang, 403, "problem_csrf")
                    else:
                        ctx.body = await _json_body(request)
                response = await run_in_threadpool(handler, ctx)
            except Problem as problem:
                return self._problem(kind, ctx, problem)
            finally:
                if ctx.form is not None:
                    await ctx.form.close()
            if request.query_params.get("lang") in LANGUAGES:
                response.set_cookie(
                    LANG_COOKIE, lang, max_age=31536000, httponly=True, samesite="lax", secure=self.secure
                )
            for name, value, options in ctx.cookies_out:
                response.set_cookie(name, value, **options)
            return response

        return endpoint

    def _problem(self, kind: Kind, ctx: Context, problem: Problem) -> Response:
        if kind == "api":
            body: dict[str, Any] = {"title": problem.message, "status": problem.status}
            if problem.field:
                body["field"] = problem.field
            return JSONResponse(body, status_code=problem.status, media_type="application/problem+json")
        return ctx.render("error.html", status=problem.status, message=problem.message)

    def _refuse(self, kind: Kind, request: Request, lang: Lang, status: int, key: str) -> Response:
        message = self.text(lang, key)
        if kind == "api":
            return JSONResponse(
                {"title": message, "status": status},
                status_code=status,
                media_type="application/problem+json",
            )
        ctx = Context(self, request, None, lang, self.clock())
        return ctx.render("error.html", status=status, message=message)

    def _csrf_failed(self, kind: Kind) -> Callable[[Scope, Send, object], Awaitable[None]]:
        async def send(scope: Scope, send: Send, _reason: object) -> None:
            request = Request(scope)
            response = self._refuse(kind, request, self.language(request), 403, "problem_csrf")
            await response(scope, _no_receive, send)

        return send

    # -- cookies ------------------------------------------------------------------------------

    def session_cookie(self, ctx: Context, token: str) -> None:
        """Set the session cookie (HttpOnly, SameSite=Lax, Secure on https)."""
        ctx.cookies_out.append(
            (SESSION_COOKIE, token, {"httponly": True, "samesite": "lax", "secure": self.secure, "path": "/"})
        )

    def clear_session_cookie(self, ctx: Context) -> None:
        """Expire the session cookie."""
        ctx.cookies_out.append(
            (
                SESSION_COOKIE,
                "",
                {"httponly": True, "samesite": "lax", "secure": self.secure, "path": "/", "max_age": 0},
            )
        )


def _is_multipart(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "multipart/form-data"


def _slash_redirect(prefix: str) -> Callable[[Request], Response]:
    def redirect(_request: Request) -> Response:
        return RedirectResponse(f"{prefix}/", status_code=308)

    return redirect


async def _json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    if request.headers.get("content-type", "").split(";")[0].strip() not in ("application/json", ""):
        raise Problem(415, "send JSON (Content-Type: application/json)")
    try:
        return json.loads(raw)
    except ValueError as exc:
        raise Problem(400, f"the body is not JSON: {exc}") from exc


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}


class _NoStore:
    """Adds ``Cache-Control: no-store`` to every response of the wrapped app."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"cache-control"]
                headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_no_store)


class _BuiltOnFirstRequest:
    """An app made at its first request: the CSRF secret lives in the database, which the app factory
    must not touch (it refuses to start on an outdated schema only once serving begins)."""

    def __init__(self, build: Callable[[], ASGIApp]) -> None:
        self._build = build
        self._app: ASGIApp | None = None
        self._lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._app is None:
            await run_in_threadpool(self._make)
        assert self._app is not None
        await self._app(scope, receive, send)

    def _make(self) -> None:
        with self._lock:
            if self._app is None:
                self._app = self._build()
