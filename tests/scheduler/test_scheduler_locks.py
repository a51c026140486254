"""Run locks: PostgreSQL advisory locks between instances, one scheduler per SQLite database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from aggregator.db import make_engine
from scheduler.locks import (
    SchedulerAlreadyRunning,
    SchedulerLock,
    source_lock,
    source_lock_key,
    sqlite_lock_path,
)

pytestmark = pytest.mark.realtime  # locks held by child processes across real waits


def test_keys_are_stable_signed_64_bit_and_distinct() -> None:
    code = "from scheduler.locks import source_lock_key; print(source_lock_key('konzerthaus'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert int(out) == source_lock_key("konzerthaus")
    keys = {source_lock_key(name) for name in ("konzerthaus", "fzw", "domicil", "theater", "")}
    keys.add(source_lock_key("konzerthaus", schema="staging"))
    assert len(keys) == 6
    assert all(-(2**63) <= key < 2**63 for key in keys)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/db/stadtkalender.db", "var/db/stadtkalender.db.scheduler.lock"),
        ("sqlite:////srv/k.db", "/srv/k.db.scheduler.lock"),
        ("sqlite://", None),
        ("sqlite:///:memory:", None),
        ("postgresql+psycopg://u@h/db", None),
    ],
)
def test_lock_file_sits_beside_the_database(url: str, expected: str | None) -> None:
    path = sqlite_lock_path(url)
    assert (str(path) if path else None) == expected


def test_second_scheduler_on_sqlite_refuses_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "k.db.scheduler.lock"
    first = SchedulerLock(path)
    first.acquire()
    with pytest.raises(SchedulerAlreadyRunning) as info:
        SchedulerLock(path).acquire()
    message = str(info.value)
    assert str(path) in message
    assert "another scheduler is already running" in message
    assert f"process {os.getpid()}" in message
    first.release()
    again = SchedulerLock(path)
    again.acquire()
    assert again.held
    again.release()


def test_lock_is_freed_when_the_holding_process_dies(tmp_path: Path) -> None:
    path = tmp_path / "k.db.scheduler.lock"
    code = (
        "import sys; from pathlib import Path; from scheduler.locks import SchedulerLock; "
        "lock = SchedulerLock(Path(sys.argv[1])); lock.acquire(); print('held', flush=True); "
        "sys.stdin.read()"
    )
    with subprocess.Popen(
        [sys.executable, "-c", code, str(path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "held"
            with pytest.raises(SchedulerAlreadyRunning):
                SchedulerLock(path).acquire()
        finally:
            child.kill()
    lock = SchedulerLock(path)
    lock.acquire()
    lock.release()


def test_source_lock_is_always_taken_on_sqlite(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'k.db'}")
    with source_lock(engine, "fzw") as one, source_lock(engine, "fzw") as two:
        assert one and two
    engine.dispose()


@pytest.fixture
def two_pg_engines(postgres_schema_url: str) -> Iterator[tuple[Engine, Engine]]:
    one, two = make_engine(postgres_schema_url), make_engine(postgres_schema_url)
    yield one, two
    one.dispose()
    two.dispose()


@pytest.mark.postgres
def test_advisory_lock_excludes_the_other_instance(two_pg_engines: tuple[Engine, Engine]) -> None:
    one, two = two_pg_engines
    with source_lock(one, "fzw") as first:
        assert first
        with source_lock(two, "fzw") as second:
            assert not second
        with source_lock(two, "domicil") as other_source:
            assert other_source
    with source_lock(two, "fzw") as after_release:
        assert after_release


@pytest.mark.postgres
def test_advisory_lock_dies_with_a_killed_holder(
    postgres_schema_url: str, two_pg_engines: tuple[Engine, Engine]
) -> None:
    code = (
        "import sys; from aggregator.db import make_engine; from scheduler.locks import source_lock; "
        "engine = make_engine(sys.argv[1]); lock = source_lock(engine, 'fzw'); "
        "print('held' if lock.__enter__() else 'busy', flush=True); sys.stdin.read()"
    )
    one, _ = two_pg_engines
    with subprocess.Popen(
        [sys.executable, "-c", code, postgres_schema_url],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            assert child.stdout.readline().strip() == "held"
            with source_lock(one, "fzw") as taken:
                assert not taken
        finally:
            child.kill()
    deadline = time.monotonic() + 10
    while True:
        with source_lock(one, "fzw") as taken:
            if taken or time.monotonic() > deadline:
                break
        time.sleep(0.05)
    assert taken


@pytest.mark.postgres
def test_installations_in_other_schemas_do_not_block_each_other(
    postgres_schema_url: str, two_pg_engines: tuple[Engine, Engine]
) -> None:
    one, _ = two_pg_engines
    with one.connect() as connection:
        schema = connection.execute(text("SELECT current_schema()")).scalar()
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}_other"'))
        connection.commit()
    other = make_engine(
        postgres_schema_url.replace(f"search_path%3D{schema}", f"search_path%3D{schema}_other")
    )
    try:
        with source_lock(one, "fzw") as here, source_lock(other, "fzw") as there:
            assert here and there
    finally:
        other.dispose()
        with one.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}_other"'))
            connection.commit()
