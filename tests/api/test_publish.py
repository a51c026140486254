"""Static publishing: the app's own bytes as files (plain, .gz, .br), rewritten only when they change."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest
from _data import NOW, populate
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from aggregator.config import PublishSettings, Settings
from aggregator.models import Venue
from calendar_api.app import create_app
from calendar_api.queries import current_version
from stadtkalender.extensions import EXTENSIONS
from stadtkalender.publish_commands import publish_jobs, publish_now
from stadtkalender.publishing import MANIFEST, PublishError, due, file_name, publish_day
from stadtkalender.runtime import Runtime


@pytest.fixture
def runtime(settings: Settings, engine: Any, factory: sessionmaker[Session]) -> Runtime:
    populate(factory)
    return Runtime(settings, engine, factory, {})


@pytest.fixture
def client(runtime: Runtime) -> Any:
    with TestClient(create_app(runtime, clock=lambda: NOW, extensions=EXTENSIONS, version_ttl=0)) as client:
        yield client


def _app_bytes(client: TestClient, url: str, encoding: str) -> tuple[bytes, dict[str, str]]:
    with client.stream("GET", url, headers={"Accept-Encoding": encoding}) as response:
        assert response.status_code == 200
        return b"".join(response.iter_raw()), dict(response.headers)


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/events.ics",
        "/feeds/venues/fzw.ics",
        "/feeds/categories/konzert.ics",
        "/api/v1/events",
        "/api/v1/events?limit=5",
        "/api/v1/venues",
        "/api/v1/categories",
        "/embed/widget.js",
    ],
)
def test_published_files_are_the_apps_bytes(
    runtime: Runtime, client: TestClient, tmp_path: Path, url: str
) -> None:
    publish_now(runtime, tmp_path, NOW)
    name = tmp_path / file_name(url)
    plain, headers = _app_bytes(client, url, "identity")
    assert name.read_bytes() == plain
    assert gzip.decompress((tmp_path / f"{file_name(url)}.gz").read_bytes()) == plain
    assert brotli.decompress((tmp_path / f"{file_name(url)}.br").read_bytes()) == plain
    for encoding, suffix in (("gzip", ".gz"), ("br", ".br")):
        sent, sent_headers = _app_bytes(client, url, encoding)
        if sent_headers.get("content-encoding") == encoding:  # small bodies the app sends plain
            assert (tmp_path / f"{file_name(url)}{suffix}").read_bytes() == sent
    entry = json.loads((tmp_path / MANIFEST).read_text("utf-8"))["urls"][url]
    assert (entry["etag"], entry["content_type"]) == (headers["etag"], headers["content-type"])


def test_the_feeds_are_compressed_by_the_app_itself(
    runtime: Runtime, client: TestClient, tmp_path: Path
) -> None:
    publish_now(runtime, tmp_path, NOW)
    sent, headers = _app_bytes(client, "/feeds/events.ics", "br")
    assert headers["content-encoding"] == "br"
    assert (tmp_path / "feeds/events.ics.br").read_bytes() == sent


def test_an_unchanged_republish_rewrites_nothing(runtime: Runtime, tmp_path: Path) -> None:
    first = publish_now(runtime, tmp_path, NOW)
    assert len(first.written) == 3 * len(first.urls)
    mtimes = {p: p.stat().st_mtime_ns for p in tmp_path.rglob("*") if p.is_file() and p.name != MANIFEST}
    inodes = {p: p.stat().st_ino for p in mtimes}
    again = publish_now(runtime, tmp_path, NOW + timedelta(seconds=30))  # same minute: same JSON list
    assert (again.written, again.unchanged) == ([], 3 * len(first.urls))
    assert {p: p.stat().st_mtime_ns for p in mtimes} == mtimes
    assert {p: p.stat().st_ino for p in mtimes} == inodes
    assert not list(tmp_path.rglob("*.tmp"))


def test_a_new_venue_gets_its_feed(runtime: Runtime, factory: sessionmaker[Session], tmp_path: Path) -> None:
    publish_now(runtime, tmp_path, NOW)
    assert not (tmp_path / "feeds/venues/pauluskirche.ics").exists()
    with factory() as session, session.begin():
        session.add(
            Venue(slug="pauluskirche", name="Pauluskirche", city="Dortmund", created_at=NOW, updated_at=NOW)
        )
    assert due(tmp_path, current_version(factory).token, publish_day(NOW))
    report = publish_now(runtime, tmp_path, NOW)
    assert tmp_path / "feeds/venues/pauluskirche.ics" in report.written
    assert b"Pauluskirche" in (tmp_path / "api/v1/venues").read_bytes()
    assert not due(tmp_path, current_version(factory).token, publish_day(NOW))
    assert due(tmp_path, current_version(factory).token, publish_day(NOW + timedelta(days=1)))


def test_a_vanished_venue_loses_its_files(runtime: Runtime, tmp_path: Path) -> None:
    publish_now(runtime, tmp_path, NOW)
    manifest = json.loads((tmp_path / MANIFEST).read_text("utf-8"))
    manifest["urls"]["/feeds/venues/gone.ics"] = {"file": "feeds/venues/gone.ics"}
    (tmp_path / MANIFEST).write_text(json.dumps(manifest), "utf-8")
    for suffix in ("", ".gz", ".br"):
        (tmp_path / f"feeds/venues/gone.ics{suffix}").write_bytes(b"old")
    report = publish_now(runtime, tmp_path, NOW)
    assert len(report.removed) == 3
    assert not (tmp_path / "feeds/venues/gone.ics").exists()


def test_a_file_as_dir_is_a_clear_error(runtime: Runtime, tmp_path: Path) -> None:
    target = tmp_path / "taken"
    target.write_text("x")
    with pytest.raises(PublishError, match="taken: exists and is not a directory"):
        publish_now(runtime, target, NOW)


def test_an_unwritable_dir_is_a_clear_error(runtime: Runtime, tmp_path: Path) -> None:
    with pytest.raises(PublishError, match="cannot create the directory"):
        publish_now(runtime, Path("/proc/stadtkalender-publish"), NOW)


def test_query_urls_get_their_own_file_name() -> None:
    assert file_name("/api/v1/events?limit=5") == "api/v1/events@limit=5"
    assert file_name("/feeds/events.ics") == "feeds/events.ics"
    with pytest.raises(PublishError):
        file_name("/feeds/../etc/passwd")


def test_the_scheduler_job_publishes_when_the_data_or_day_moved(
    settings: Settings, engine: Any, factory: sessionmaker[Session], tmp_path: Path
) -> None:
    populate(factory)
    configured = replace(settings, publish=PublishSettings(dir=str(tmp_path / "public")))
    runtime = Runtime(configured, engine, factory, {})
    assert publish_jobs(Runtime(settings, engine, factory, {})) == []
    (job,) = publish_jobs(runtime)
    job.run(NOW)
    manifest = tmp_path / "public" / MANIFEST
    written = manifest.stat().st_mtime_ns
    job.run(NOW + timedelta(seconds=30))
    assert manifest.stat().st_mtime_ns == written  # nothing moved: not even the manifest is rewritten
    job.run(NOW + timedelta(days=1))
    assert json.loads(manifest.read_text("utf-8"))["day"] == publish_day(NOW + timedelta(days=1))
