"""Licences and credits: a source's own data licence and an image's credit and licence, from the source
through the store to the API, the event page, its JSON-LD, the change feed and the exports."""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from calendar_rows import Runtime
from fixed_clock import NOW, clock
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.changes import read_changes
from aggregator.config import Settings
from aggregator.formats.schemaorg.jsonld_reader import parse_jsonld
from aggregator.ingest import IngestContext, ingest
from aggregator.listing import Listing
from aggregator.models import SourceRecord
from aggregator.serialise import content_hash, listing_to_data
from calendar_api.app import create_app
from calendar_api.dumps import write_exports
from stadtkalender.extensions import WEB

CC_BY = "https://creativecommons.org/licenses/by/4.0/"
PICTURE = "https://example.org/carmen.jpg"


@pytest.fixture
def licensed(settings: Settings, tmp_path: Path) -> Settings:
    sources = {**settings.sources, "konzerthaus": {"licence": "CC BY 4.0", "licence_url": CC_BY}}
    open_data = replace(settings.open_data, export_dir=str(tmp_path / "open-data"))
    return replace(settings, sources=sources, open_data=open_data)


@pytest.fixture
def ctx(factory: sessionmaker[Session], licensed: Settings) -> IngestContext:
    return IngestContext(
        factory, licensed, kinds={"konzerthaus": "venue", "dortmund_de": "city"}, clock=clock()
    )


@pytest.fixture
def client(licensed: Settings, engine: Any, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    app = create_app(
        Runtime(licensed, engine, factory, {}), clock=lambda: NOW, extensions=(WEB,), version_ttl=0
    )
    with TestClient(app) as client:
        yield client


def _carmen(source: str, record_id: str, **extra: Any) -> Listing:
    values: dict[str, Any] = {
        "source": source,
        "record_id": record_id,
        "title": "Carmen",
        "fetched_at": NOW,
        "start": datetime(2026, 12, 5, 19, 30, tzinfo=UTC),
        "venue_name": "Konzerthaus Dortmund",
    }
    values.update(extra)
    return Listing(**values)


def _event_id(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        return session.scalars(select(SourceRecord.event_id)).first() or ""


def test_the_credit_and_licences_reach_the_api_the_page_and_its_json_ld(
    client: TestClient, ctx: IngestContext
) -> None:
    pictured = _carmen(
        "konzerthaus", "k1", image=PICTURE, image_credit="Foto: Anna Bild", image_licence=CC_BY
    )
    ingest(ctx, "konzerthaus", [pictured], now=NOW)
    ingest(ctx, "dortmund_de", [_carmen("dortmund_de", "d1", venue_name="Konzerthaus")], now=NOW)
    event_id = _event_id(ctx.factory)
    event = client.get(f"/api/v1/events/{event_id}").json()
    assert (event["image"], event["image_credit"], event["image_licence"]) == (
        PICTURE,
        "Foto: Anna Bild",
        CC_BY,
    )
    licences = {s["source"]: s["licence"] for s in event["sources"]}
    assert licences["konzerthaus"] == {"name": "CC BY 4.0", "url": CC_BY}
    assert licences["dortmund_de"]["name"] == "Datenlizenz Deutschland – Namensnennung – Version 2.0"

    page = client.get(f"/events/{event_id}").text
    assert "Bild: Foto: Anna Bild" in page and f'href="{CC_BY}" rel="noopener license"' in page
    assert '<span class="source-licence">' in page
    start = page.index('<script type="application/ld+json">') + len('<script type="application/ld+json">')
    jsonld = json.loads(page[start : page.index("</script>", start)])
    assert jsonld[0]["image"] == [
        {
            "@type": "ImageObject",
            "url": PICTURE,
            "contentUrl": PICTURE,
            "creditText": "Foto: Anna Bild",
            "license": CC_BY,
        }
    ]
    english = client.get(f"/events/{event_id}?lang=en").text
    assert "Image: Foto: Anna Bild" in english


def test_a_new_credit_is_a_change_and_old_records_keep_their_hash(ctx: IngestContext) -> None:
    plain = _carmen("konzerthaus", "k1", image=PICTURE)
    ingest(ctx, "konzerthaus", [plain], now=NOW)
    # a listing without credits hashes as it did before the fields existed
    before = {k: v for k, v in listing_to_data(plain).items() if k not in {"fetched_at", "raw", "warnings"}}
    del before["image_credit"], before["image_licence"]
    encoded = json.dumps(before, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")
    assert content_hash(plain) == hashlib.sha256(encoded).hexdigest()
    credited = plain.evolve(image_credit="Anna Bild")
    assert content_hash(credited) != content_hash(plain)
    ingest(ctx, "konzerthaus", [credited], now=NOW + timedelta(hours=1))
    with ctx.factory() as session:
        last = read_changes(session, 0, 10).changes[-1]
    assert (last.kind, last.fields) == ("updated", ["image_credit"])


def test_the_exports_carry_credits_and_licences(ctx: IngestContext, licensed: Settings) -> None:
    pictured = _carmen(
        "konzerthaus", "k1", image=PICTURE, image_credit="Anna Bild", image_licence="CC BY 4.0"
    )
    ingest(ctx, "konzerthaus", [pictured], now=NOW)
    manifest = write_exports(ctx.factory, licensed, now=NOW)
    assert manifest["licence"]["sources"] == {"konzerthaus": {"name": "CC BY 4.0", "url": CC_BY}}
    directory = licensed.project_path(licensed.open_data.export_dir)
    text = gzip.decompress((directory / "occurrences.csv.gz").read_bytes()).decode("utf-8")
    (row,) = list(csv.DictReader(io.StringIO(text)))
    assert (row["image_credit"], row["image_licence"], row["licence"]) == (
        "Anna Bild",
        "CC BY 4.0",
        "CC BY 4.0",
    )
    graph = json.loads(gzip.decompress((directory / "events.jsonld.gz").read_bytes()))
    assert graph["@graph"][0]["image"][0]["creditText"] == "Anna Bild"


def test_a_schema_org_image_object_gives_the_credit_and_licence() -> None:
    document = {
        "@context": "https://schema.org",
        "@type": "Event",
        "name": "Carmen",
        "startDate": "2026-12-05T19:30:00+01:00",
        "location": {"@type": "Place", "name": "Konzerthaus Dortmund"},
        "image": {
            "@type": "ImageObject",
            "url": PICTURE,
            "copyrightHolder": {"@type": "Person", "name": "Anna Bild"},
            "license": CC_BY,
        },
    }
    (listing,) = parse_jsonld(json.dumps(document), source="web", fetched_at=NOW).listings
    assert (listing.image, listing.image_credit, listing.image_licence) == (PICTURE, "Anna Bild", CC_BY)
    document["image"] = {"@type": "ImageObject", "url": PICTURE, "creditText": "Foto: X", "license": "CC0"}
    (named,) = parse_jsonld(json.dumps(document), source="web", fetched_at=NOW).listings
    assert (named.image_credit, named.image_licence) == ("Foto: X", "CC0")
    document["image"] = PICTURE
    (bare,) = parse_jsonld(json.dumps(document), source="web", fetched_at=NOW).listings
    assert (bare.image_credit, bare.image_licence) == (None, None)
