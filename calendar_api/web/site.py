"""The HTML routes: the calendar page, event pages, the iframe view, the widget builder and the widget.

Pages are rendered on the server from the same queries and filters as the JSON API, cached like the
API's responses (per data version, language and minute), and work without JavaScript. Errors are
answered with an HTML page in the reader's language, not with problem JSON.
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from jinja2 import Environment, PackageLoader, StrictUndefined
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from aggregator.clock import Clock
from aggregator.config import Settings
from aggregator.licences import Licences
from aggregator.types import BERLIN
from calendar_api import queries
from calendar_api.caching import Publisher, RenderCache, render_body, respond
from calendar_api.demo_notice import demo_notice
from calendar_api.feeds import Moved, public_view
from calendar_api.filters import Cursor, berlin_midnight, path_value
from calendar_api.json_shapes import CategoryCatalog, feed_links
from calendar_api.problems import Problem
from calendar_api.web.filter_form import EMBED_FIELDS, EMBED_LIMIT, PAGE_LIMIT, ListRequest, list_request
from calendar_api.web.i18n import LANGUAGES, Lang, Texts, pick_language
from calendar_api.web.jsonld_writer import event_jsonld, script_json
from calendar_api.web.present import Card, by_day, card, detail

STATIC = Path(__file__).resolve().parent / "static"
HTML = "text/html; charset=utf-8"
PAGE_CACHE = "public, max-age=60"
_log = logging.getLogger(__name__)
WIDGET_ATTRIBUTES = (
    "venue",
    "category",
    "district",
    "q",
    "free",
    "available",
    "highlight",
    "sort",
    "limit",
    "lang",
)
_CSP = (
    "default-src 'self'; img-src 'self' https: http: data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'"
)
_CSS_PLACEHOLDER = '"__WIDGET_CSS__"'


class SiteRuntime(Protocol):
    """What the pages need of the runtime."""

    settings: Settings
    factory: sessionmaker[Session]


@dataclass(frozen=True, slots=True)
class Links:
    """URLs inside the site; they keep ``?lang=`` when the reader chose the language in the URL."""

    lang: Lang
    explicit: bool
    base_url: str

    def with_lang(self, url: str) -> str:
        """``url`` with ``lang`` added when the language was chosen explicitly."""
        if not self.explicit:
            return url
        return f"{url}{'&' if '?' in url else '?'}lang={self.lang}"

    def event(self, event_id: str) -> str:
        """The event page."""
        return self.with_lang(f"/events/{quote(event_id, safe='')}")

    def absolute(self, path: str) -> str:
        """``path`` on the public base URL."""
        return f"{self.base_url}{path}"


def widget_source(static: Path = STATIC) -> str:
    """The widget's JavaScript with its stylesheet built in (one file for site editors to load)."""
    script = (static / "widget.js").read_text(encoding="utf-8")
    if _CSS_PLACEHOLDER not in script:
        raise ValueError(f"{static / 'widget.js'} lacks the {_CSS_PLACEHOLDER} placeholder for its styles")
    css = (static / "widget.css").read_text(encoding="utf-8")
    return script.replace(_CSS_PLACEHOLDER, json.dumps(css, ensure_ascii=False))


def widget_snippet(base_url: str, attributes: list[tuple[str, str]]) -> str:
    """The two lines a site editor pastes: the script and the element with its attributes."""
    attrs = "".join(f' {name}="{html.escape(value)}"' for name, value in attributes)
    return (
        f'<script src="{base_url}/embed/widget.js" defer></script>\n'
        f"<stadtkalender-events{attrs}></stadtkalender-events>"
    )


def iframe_snippet(base_url: str, attributes: list[tuple[str, str]], title: str) -> str:
    """The iframe alternative for sites that allow no scripts."""
    url = f"{base_url}/embed"
    if attributes:
        url += "?" + urlencode(attributes)
    return (
        f'<iframe src="{html.escape(url)}" title="{html.escape(title)}" width="100%" height="480" '
        'style="border:0" loading="lazy"></iframe>'
    )


class Site:
    """The HTML side of one app."""

    def __init__(self, runtime: SiteRuntime, clock: Clock) -> None:
        self.base_url = runtime.settings.server.base_url.rstrip("/")
        self.categories = CategoryCatalog.load()
        self.licences = Licences.from_settings(runtime.settings)
        self.env = Environment(
            loader=PackageLoader("calendar_api.web", "templates"),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self._fallback = Publisher(
            runtime.factory, RenderCache(runtime.settings.feeds.cache_entries), clock=clock
        )
        started = clock().replace(microsecond=0)
        self._widget = render_body(widget_source().encode("utf-8"), "text/javascript; charset=utf-8", started)
        digest = hashlib.blake2b(digest_size=6)
        for name in ("site.css", "widget.css", "builder.js"):
            digest.update((STATIC / name).read_bytes())
        self.asset_version = digest.hexdigest()
        self.demo_notices = {lang: demo_notice(runtime.settings.demo, lang) for lang in LANGUAGES}

    def routes(self) -> list[BaseRoute]:
        """The pages, the widget script and the static files."""
        return [
            Route("/", self.index, methods=["GET"], name="web_index"),
            Route("/events/{id}", self.event, methods=["GET"], name="web_event"),
            Route("/embed", self.embed, methods=["GET"], name="web_embed"),
            Route("/embed/builder", self.builder, methods=["GET"], name="web_builder"),
            Route("/embed/widget.js", self.widget_js, methods=["GET"], name="web_widget"),
            Mount("/static", app=StaticFiles(directory=STATIC), name="web_static"),
        ]

    def _publisher(self, request: Request) -> Publisher:
        found = getattr(request.app.state, "publisher", None)
        return found if isinstance(found, Publisher) else self._fallback

    def _context(self, request: Request) -> tuple[Texts, Links]:
        lang, explicit = pick_language(
            request.query_params.get("lang"), request.headers.get("accept-language")
        )
        return Texts(lang), Links(lang, explicit, self.base_url)

    def _render(self, template: str, texts: Texts, links: Links, request: Request, **values: Any) -> str:
        other: Lang = "en" if texts.lang == "de" else "de"
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        switch = request.url.path + "?" + urlencode([*params, ("lang", other)])
        return self.env.get_template(template).render(
            t=texts,
            lang=texts.lang,
            links=links,
            other_lang=other,
            switch_url=switch,
            asset_version=self.asset_version,
            demo_notice=self.demo_notices[texts.lang],
            **values,
        )

    def _serve(
        self,
        request: Request,
        texts: Texts,
        links: Links,
        *,
        key: str,
        render: Callable[[Session], str],
        csp: str = _CSP + "; frame-ancestors 'self'",
    ) -> Response:
        """Answer from the render cache; problems become HTML error pages, merged events redirect."""
        publisher = self._publisher(request)
        now = publisher.clock()
        minute = now.astimezone(UTC).replace(second=0, microsecond=0)

        def body(session: Session, version: queries.DataVersion) -> tuple[bytes, str, datetime]:
            return render(session).encode("utf-8"), HTML, version.time

        try:
            # The raw query is part of the key because the language switch link repeats it.
            response = publisher.serve(
                request,
                kind="html",
                query=f"{texts.lang}|{links.explicit}|{key}|{request.url.query}",
                bucket=minute,
                render=body,
                cache_control=PAGE_CACHE,
            )
        except Moved as moved:
            return RedirectResponse(links.event(moved.target), status_code=308)
        except Problem as problem:
            response = self._error(request, texts, links, problem)
        except Exception:  # a page answers even its failures as a page in the reader's language
            _log.exception("page %s failed", request.url.path)
            response = self._error(request, texts, links, Problem(500, "server-error", texts("server_error")))
        response.headers["Vary"] = "Accept-Encoding, Accept-Language"
        response.headers["Content-Security-Policy"] = csp
        return response

    def _error(self, request: Request, texts: Texts, links: Links, problem: Problem) -> Response:
        title = {404: "not_found_title", 410: "gone_title", 400: "bad_request_title"}.get(
            problem.status, "error_title"
        )
        message = {
            404: texts("not_found"),
            410: texts("gone"),
            400: f"{texts('bad_request')} {problem.detail}",
        }.get(problem.status, problem.detail)
        page = self._render(
            "error.html", texts, links, request, title=texts(title), message=message, status=problem.status
        )
        return Response(
            page, status_code=problem.status, media_type=HTML, headers={"Cache-Control": "no-store"}
        )

    def _lists(self, session: Session) -> dict[str, Any]:
        """Choices for the filter forms: venues, categories and districts."""
        venues = queries.venues(session)
        used = () if self.categories.has_vocabulary else queries.used_categories(session)
        return {
            "venues": [(v.slug, v.name) for v in venues],
            "category_choices": [(c.slug, c.labels) for c in self.categories.all(used)],
            "districts": sorted({v.district for v in venues if v.district}, key=str.casefold),
        }

    def _cards(
        self, session: Session, listing: ListRequest, texts: Texts, links: Links, now: datetime
    ) -> tuple[list[Card], Cursor | None]:
        page = queries.event_page(session, listing.filters, listing.window)
        cards = [
            card(view, texts, self.categories, now=now, link=links.event)
            for view in page.events
            if view.occurrences
        ]
        return cards, page.next_cursor

    def index(self, request: Request) -> Response:
        """The calendar page: upcoming events by day, the filter form and the subscribe links."""
        texts, links = self._context(request)
        now = self._publisher(request).clock()
        try:
            listing = list_request(request.query_params.multi_items(), now, limit=PAGE_LIMIT)
        except Problem as problem:
            return self._error(request, texts, links, problem)
        query = f"?{listing.feed_query}" if listing.feed_query else ""
        feeds = feed_links(f"{self.base_url}/feeds/events.ics{query}")

        def render(session: Session) -> str:
            cards, cursor = self._cards(session, listing, texts, links, now)
            next_url = None if cursor is None else links.with_lang(listing.url("/", cursor=cursor.encode()))
            first = listing.filters.sort == "highlights"
            picks = [c for c in cards if c.highlight] if first else []
            return self._render(
                "index.html",
                texts,
                links,
                request,
                listing=listing,
                highlights=picks,
                days=by_day(
                    [c for c in cards if not (first and c.highlight)], texts, now.astimezone(BERLIN).date()
                ),
                next_url=next_url,
                feeds=feeds,
                reset_url=links.with_lang("/"),
                **self._lists(session),
            )

        return self._serve(request, texts, links, key=_key(listing), render=render)

    def event(self, request: Request) -> Response:
        """One event: every date with its prices and ticket links, the venue, sources, JSON-LD."""
        texts, links = self._context(request)
        now = self._publisher(request).clock()
        try:
            event_id = path_value(request.path_params, "id")
        except Problem as problem:
            return self._error(request, texts, links, problem)

        today = berlin_midnight(now.astimezone(BERLIN).date())

        def render(session: Session) -> str:
            view = public_view(session, event_id, today)
            page_url = links.absolute(f"/events/{quote(event_id, safe='')}")
            return self._render(
                "event.html",
                texts,
                links,
                request,
                event=detail(view, texts, self.categories, now=now, licences=self.licences),
                page_url=page_url,
                jsonld=script_json(event_jsonld(view, page_url)),
                ics_url=f"/events/{quote(event_id, safe='')}.ics",
                back_url=links.with_lang("/"),
            )

        return self._serve(request, texts, links, key="", render=render)

    def embed(self, request: Request) -> Response:
        """The iframe view: the widget's list rendered on the server, for sites that allow no scripts."""
        texts, links = self._context(request)
        now = self._publisher(request).clock()
        try:
            listing = list_request(
                request.query_params.multi_items(), now, fields=EMBED_FIELDS, limit=EMBED_LIMIT
            )
        except Problem as problem:
            return self._error(request, texts, links, problem)
        more = {k: v for k, v in listing.given if k != "limit"}

        def render(session: Session) -> str:
            cards, _more = self._cards(session, listing, texts, links, now)
            return self._render(
                "embed.html",
                texts,
                links,
                request,
                cards=cards,
                all_url=links.with_lang("/" + (f"?{urlencode(more)}" if more else "")),
            )

        return self._serve(request, texts, links, key=_key(listing), render=render, csp=_CSP)

    def builder(self, request: Request) -> Response:
        """The widget builder: pick filters, see a preview and copy the snippet (works without JS, too)."""
        texts, links = self._context(request)
        chosen = {"limit": "5", "lang": texts.lang, **_builder_choices(request.query_params.multi_items())}
        title = texts("embed_label")
        attributes = [(k, chosen[k]) for k in WIDGET_ATTRIBUTES if chosen.get(k)]

        def render(session: Session) -> str:
            return self._render(
                "builder.html",
                texts,
                links,
                request,
                chosen=chosen,
                attributes=attributes,
                snippet=widget_snippet(self.base_url, attributes),
                iframe=iframe_snippet(self.base_url, attributes, title),
                preview_url="/embed" + (f"?{urlencode(attributes)}" if attributes else ""),
                **self._lists(session),
            )

        return self._serve(request, texts, links, key=urlencode(sorted(chosen.items())), render=render)

    def widget_js(self, request: Request) -> Response:
        """The widget script (its stylesheet inside); any site may load it."""
        return respond(request.headers, self._widget, "public, max-age=3600")


def _builder_choices(params: list[tuple[str, str]]) -> dict[str, str]:
    """The builder form's values: widget attributes, with the widget's language as ``widget_lang``."""
    chosen: dict[str, str] = {}
    for name, value in params:
        key = "lang" if name == "widget_lang" else name
        if key in WIDGET_ATTRIBUTES and name != "lang" and value.strip() and key not in chosen:
            chosen[key] = value.strip()[:120]
    if chosen.get("limit") and not (chosen["limit"].isdigit() and 1 <= int(chosen["limit"]) <= 50):
        del chosen["limit"]
    if chosen.get("lang") not in (None, "de", "en"):
        del chosen["lang"]
    for flag in ("free", "available", "highlight"):
        if chosen.get(flag) not in (None, "true"):
            del chosen[flag]
    if chosen.get("sort") not in (None, "highlights"):
        del chosen["sort"]
    return chosen


def _key(listing: ListRequest) -> str:
    """What a list page depends on besides language and data: the filters and the form as given."""
    return f"{listing.query}|{urlencode(sorted(listing.given))}"
