"""The DCAT-AP.de catalogue of the open data: what German open-data portals (GovData) harvest.

One ``dcat:Catalog`` with one ``dcat:Dataset`` (the events in Dortmund) and its distributions: the JSON
API, the change feed, the iCalendar feed and the three nightly exports. Publisher, contact point,
licence (``open_data.licence_uri``, with the attribution text the licence asks for), update frequency,
temporal coverage (the first and last date stored), spatial coverage (Dortmund: GeoNames and the
municipality key 05913000) and keywords. Written by rdflib as JSON-LD (``/open-data/catalog.jsonld``)
and Turtle (``/open-data/catalog.ttl``); every node has an IRI, so the same data gives the same bytes.
"""

from __future__ import annotations

from datetime import datetime

from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aggregator.config import Settings
from aggregator.models import Occurrence
from aggregator.types import BERLIN
from calendar_api.caching import Publisher
from calendar_api.dumps import EXPORTS
from calendar_api.filters import no_parameters
from calendar_api.queries import DataVersion

DCATDE = Namespace("http://dcat-ap.de/def/dcatde/")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
EU = "http://publications.europa.eu/resource/authority/"
IANA = "https://www.iana.org/assignments/media-types/"
DORTMUND_GEONAMES = URIRef("http://sws.geonames.org/2935517/")
DORTMUND_MUNICIPALITY = URIRef("http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05913000")
MUNICIPALITY_LEVEL = URIRef("http://dcat-ap.de/def/politicalGeocoding/Level/municipality")
KEYWORDS = ("Veranstaltungen", "Kultur", "Konzerte", "Theater", "Kalender", "Dortmund", "events")
CONTEXT = {
    "dcat": str(DCAT),
    "dct": str(DCTERMS),
    "foaf": str(FOAF),
    "vcard": str(VCARD),
    "dcatde": str(DCATDE),
    "xsd": str(XSD),
}
_FORMATS = {
    "application/json": "JSON",
    "application/ld+json": "JSON_LD",
    "text/csv": "CSV",
    "text/calendar": "ICAL",
}


def catalog_graph(
    settings: Settings, *, coverage: tuple[datetime, datetime] | None, modified: datetime
) -> Graph:
    """The catalogue as an RDF graph; ``coverage`` is the first and last start stored (None: no dates)."""
    data = settings.open_data
    base = settings.server.base_url.rstrip("/")
    graph = Graph()
    for prefix, uri in CONTEXT.items():
        graph.bind(prefix, Namespace(uri))
    catalog = URIRef(f"{base}/open-data/catalog")
    dataset = URIRef(f"{base}/open-data/#events")
    publisher = URIRef(data.publisher_url or f"{base}/#publisher")
    contact = URIRef(f"{base}/open-data/#contact")
    licence = URIRef(data.licence_uri)
    when = Literal(modified.astimezone(BERLIN).replace(microsecond=0).isoformat(), datatype=XSD.dateTime)

    graph.add((publisher, RDF.type, FOAF.Agent))
    graph.add((publisher, FOAF.name, Literal(data.publisher)))
    graph.add((contact, RDF.type, VCARD.Organization))
    graph.add((contact, VCARD.fn, Literal(data.publisher)))
    if data.contact_email:
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{data.contact_email}")))

    graph.add((catalog, RDF.type, DCAT.Catalog))
    graph.add((catalog, DCTERMS.title, Literal(settings.server.calendar_name, lang="de")))
    graph.add(
        (
            catalog,
            DCTERMS.description,
            Literal("Offene Daten des Veranstaltungskalenders für Dortmund.", lang="de"),
        )
    )
    graph.add(
        (catalog, DCTERMS.description, Literal("Open data of the events calendar of Dortmund.", lang="en"))
    )
    graph.add((catalog, DCTERMS.publisher, publisher))
    graph.add((catalog, DCTERMS.license, licence))
    graph.add((catalog, DCTERMS.language, URIRef(f"{EU}language/DEU")))
    graph.add((catalog, FOAF.homepage, URIRef(f"{base}/")))
    graph.add((catalog, DCTERMS.modified, when))
    graph.add((catalog, DCAT.dataset, dataset))

    graph.add((dataset, RDF.type, DCAT.Dataset))
    graph.add((dataset, DCTERMS.identifier, Literal(str(dataset))))
    graph.add((dataset, DCTERMS.title, Literal("Veranstaltungen in Dortmund", lang="de")))
    graph.add((dataset, DCTERMS.title, Literal("Events in Dortmund", lang="en")))
    description_de = (
        "Alle Termine aus Spielstätten, dem Stadtportal und Ticketshops, zusammengeführt und "
        "dedupliziert: Titel, Zeit, Ort, Status (abgesagt, verlegt), Preise und Quellen. "
        "Änderungen mit Grabsteinen für gelöschte und zusammengeführte Termine unter /api/v1/changes."
    )
    description_en = (
        "Every date from venues, the city portal and ticket shops, merged and deduplicated: title, "
        "time, place, status (cancelled, rescheduled), prices and sources; changes with tombstones "
        "at /api/v1/changes."
    )
    graph.add((dataset, DCTERMS.description, Literal(description_de, lang="de")))
    graph.add((dataset, DCTERMS.description, Literal(description_en, lang="en")))
    graph.add((dataset, DCTERMS.publisher, publisher))
    graph.add((dataset, DCAT.contactPoint, contact))
    graph.add((dataset, DCATDE.maintainer, publisher))
    if data.contributor_id:
        graph.add((dataset, DCATDE.contributorID, URIRef(data.contributor_id)))
    graph.add((dataset, DCAT.theme, URIRef(f"{EU}data-theme/EDUC")))
    graph.add((dataset, DCAT.landingPage, URIRef(f"{base}/")))
    graph.add((dataset, DCTERMS.accrualPeriodicity, URIRef(f"{EU}frequency/CONT")))
    graph.add((dataset, DCTERMS.spatial, DORTMUND_GEONAMES))
    graph.add((dataset, DCATDE.politicalGeocodingURI, DORTMUND_MUNICIPALITY))
    graph.add((dataset, DCATDE.politicalGeocodingLevelURI, MUNICIPALITY_LEVEL))
    graph.add((dataset, DCTERMS.modified, when))
    for keyword in KEYWORDS:
        graph.add((dataset, DCAT.keyword, Literal(keyword)))
    if coverage is not None:
        period = URIRef(f"{base}/open-data/#coverage")
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        first, last = (moment.astimezone(BERLIN).date().isoformat() for moment in coverage)
        graph.add((period, DCAT.startDate, Literal(first, datatype=XSD.date)))
        graph.add((period, DCAT.endDate, Literal(last, datatype=XSD.date)))
        graph.add((dataset, DCTERMS.temporal, period))

    distributions = [
        ("api", f"{base}/api/v1/events", None, "application/json", "JSON-API der Veranstaltungen"),
        ("changes", f"{base}/api/v1/changes", None, "application/json", "Änderungen seit einem Cursor"),
        ("feed", f"{base}/feeds/events.ics", None, "text/calendar", "iCalendar-Abonnement"),
        *(
            (
                export.name,
                f"{base}/open-data/",
                f"{base}/open-data/{export.name}",
                export.media_type,
                export.name,
            )
            for export in EXPORTS
        ),
    ]
    for key, access, download, media_type, title in distributions:
        node = URIRef(f"{base}/open-data/#{key}")
        graph.add((dataset, DCAT.distribution, node))
        graph.add((node, RDF.type, DCAT.Distribution))
        graph.add((node, DCTERMS.title, Literal(title, lang="de")))
        graph.add((node, DCAT.accessURL, URIRef(access)))
        if download is not None:
            graph.add((node, DCAT.downloadURL, URIRef(download)))
            graph.add((node, DCAT.compressFormat, URIRef(f"{IANA}application/gzip")))
            graph.add((node, DCTERMS.description, Literal("Nächtlicher Gesamtexport (gzip).", lang="de")))
        graph.add((node, DCAT.mediaType, URIRef(f"{IANA}{media_type}")))
        graph.add((node, DCTERMS["format"], URIRef(f"{EU}file-type/{_FORMATS[media_type]}")))
        graph.add((node, DCTERMS.license, licence))
        graph.add((node, DCATDE.licenseAttributionByText, Literal(data.attribution)))
        graph.add((node, DCTERMS.modified, when))
    return graph


def _coverage(session: Session) -> tuple[datetime, datetime] | None:
    first, last = session.execute(select(func.min(Occurrence.start), func.max(Occurrence.start))).one()
    if first is None or last is None:
        return None
    return first, last


class Catalogue:
    """``/open-data/catalog.jsonld`` and ``/open-data/catalog.ttl``, cached per data version."""

    def __init__(self, publisher: Publisher, settings: Settings) -> None:
        self.publisher = publisher
        self.settings = settings

    def routes(self) -> list[Route]:
        """The routes (GET and HEAD); mount them before ``/open-data/{name}``."""
        return [
            Route("/open-data/catalog.jsonld", self.jsonld, methods=["GET"], name="catalog_jsonld"),
            Route("/open-data/catalog.ttl", self.turtle, methods=["GET"], name="catalog_turtle"),
        ]

    def _serve(self, request: Request, rdf_format: str, media_type: str) -> Response:
        no_parameters(request.query_params.multi_items())

        def render(session: Session, version: DataVersion) -> tuple[bytes, str, datetime]:
            graph = catalog_graph(self.settings, coverage=_coverage(session), modified=version.time)
            if rdf_format == "json-ld":
                text = graph.serialize(format="json-ld", context=CONTEXT, indent=1, sort_keys=True)
            else:
                text = graph.serialize(format="turtle")
            return text.encode("utf-8"), media_type, version.time

        return self.publisher.serve(
            request,
            kind=rdf_format,
            query="",
            bucket=None,
            render=render,
            cache_control="public, max-age=3600",
        )

    def jsonld(self, request: Request) -> Response:
        """The catalogue as JSON-LD."""
        return self._serve(request, "json-ld", "application/ld+json")

    def turtle(self, request: Request) -> Response:
        """The catalogue as Turtle."""
        return self._serve(request, "turtle", "text/turtle")
