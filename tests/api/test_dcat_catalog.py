"""The DCAT-AP.de catalogue: parsed back with rdflib, it has every mandatory property and the same content
in JSON-LD and Turtle."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from _data import NOW, populate
from calendar_rows import Runtime
from rdflib import Graph, Literal, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, XSD
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import Settings
from calendar_api.app import create_app
from calendar_api.catalog import DCATDE, VCARD

LICENCE = URIRef("http://dcat-ap.de/def/licenses/dl-by-de/2.0")
# rdflib 7.6's own JSON-LD parser still goes through its deprecated ConjunctiveGraph
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")


@pytest.fixture
def catalog_settings(settings: Settings) -> Settings:
    open_data = replace(
        settings.open_data,
        contact_email="opendata@example.org",
        contributor_id="http://dcat-ap.de/def/contributors/beispielstadt",
    )
    return replace(settings, open_data=open_data)


@pytest.fixture
def client(catalog_settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    populate(factory)
    app = create_app(
        Runtime(catalog_settings, engine, factory, {}), clock=lambda: NOW, extensions=(), version_ttl=0
    )
    with TestClient(app) as client:
        yield client


def _graph(client: TestClient, path: str, rdf_format: str) -> Graph:
    response = client.get(path)
    assert response.status_code == 200, response.text
    return Graph().parse(data=response.text, format=rdf_format)


def _one(graph: Graph, kind: URIRef) -> URIRef:
    (node,) = graph.subjects(RDF.type, kind)
    assert isinstance(node, URIRef)
    return node


def test_the_catalogue_has_the_mandatory_dcat_ap_de_properties(client: TestClient) -> None:
    graph = _graph(client, "/open-data/catalog.jsonld", "json-ld")
    catalog, dataset = _one(graph, DCAT.Catalog), _one(graph, DCAT.Dataset)
    for prop in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCAT.dataset, DCTERMS.license):
        assert graph.value(catalog, prop) is not None, prop
    assert (catalog, DCAT.dataset, dataset) in graph
    for prop in (
        DCTERMS.title,
        DCTERMS.description,
        DCTERMS.publisher,
        DCAT.contactPoint,
        DCAT.distribution,
        DCAT.theme,
        DCAT.keyword,
        DCTERMS.accrualPeriodicity,
        DCTERMS.spatial,
        DCTERMS.temporal,
        DCATDE.contributorID,
        DCATDE.politicalGeocodingURI,
        DCATDE.politicalGeocodingLevelURI,
    ):
        assert graph.value(dataset, prop) is not None, prop
    assert {str(t.language) for t in graph.objects(dataset, DCTERMS.title) if isinstance(t, Literal)} == {
        "de",
        "en",
    }
    publisher = graph.value(dataset, DCTERMS.publisher)
    assert (publisher, RDF.type, FOAF.Agent) in graph and graph.value(publisher, FOAF.name) is not None
    contact = graph.value(dataset, DCAT.contactPoint)
    assert graph.value(contact, VCARD.hasEmail) == URIRef("mailto:opendata@example.org")
    assert graph.value(dataset, DCATDE.politicalGeocodingURI) == URIRef(
        "http://dcat-ap.de/def/politicalGeocoding/municipalityKey/05913000"
    )
    period = graph.value(dataset, DCTERMS.temporal)
    start, end = graph.value(period, DCAT.startDate), graph.value(period, DCAT.endDate)
    assert isinstance(start, Literal) and start.datatype == XSD.date and start <= end
    distributions = list(graph.objects(dataset, DCAT.distribution))
    assert len(distributions) == 6
    for distribution in distributions:
        assert (distribution, RDF.type, DCAT.Distribution) in graph
        assert graph.value(distribution, DCTERMS.license) == LICENCE
        for prop in (DCAT.accessURL, DCTERMS["format"], DCAT.mediaType, DCATDE.licenseAttributionByText):
            assert graph.value(distribution, prop) is not None, (distribution, prop)
    downloads = {str(d) for d in graph.objects(None, DCAT.downloadURL)}
    assert downloads == {
        f"http://127.0.0.1:8080/open-data/{name}"
        for name in ("events.jsonld.gz", "occurrences.csv.gz", "events.ics.gz")
    }


def test_json_ld_and_turtle_say_the_same_and_answer_304(client: TestClient) -> None:
    assert isomorphic(
        _graph(client, "/open-data/catalog.jsonld", "json-ld"),
        _graph(client, "/open-data/catalog.ttl", "turtle"),
    )
    first = client.get("/open-data/catalog.ttl")
    assert first.headers["content-type"].startswith("text/turtle")
    again = client.get("/open-data/catalog.ttl", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
