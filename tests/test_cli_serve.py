"""``stadtkalender serve --workers N``: the factory goes to uvicorn, the scheduler stays in the parent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette

import scheduler.service
import stadtkalender.open_data_commands
from stadtkalender.asgi import FACTORY, create
from stadtkalender.cli import main


class _Scheduler:
    def __init__(self) -> None:
        self.shut_down = False

    def shutdown(self, wait: bool) -> None:
        self.shut_down = wait


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What serve asked of uvicorn and the scheduler (neither really runs)."""
    seen: dict[str, Any] = {"schedulers": []}

    def run(app: Any, **options: Any) -> None:
        seen["app"], seen["options"] = app, options

    def start(runtime: Any, **_options: Any) -> _Scheduler:
        seen["schedulers"].append(_Scheduler())
        return seen["schedulers"][-1]  # type: ignore[no-any-return]

    monkeypatch.setattr(uvicorn, "run", run)
    monkeypatch.setattr(scheduler.service, "start_background_scheduler", start)
    monkeypatch.setattr(stadtkalender.open_data_commands, "export_job", lambda _runtime: None)
    return seen


def test_workers_get_the_factory_and_the_scheduler_runs_once_in_the_parent(
    database: Path, started: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--workers", "3", "--with-scheduler", "--port", "8123"]) == 0
    assert started["app"] == FACTORY
    assert started["options"]["factory"] is True
    assert started["options"]["workers"] == 3
    assert len(started["schedulers"]) == 1 and started["schedulers"][0].shut_down
    out = capsys.readouterr().out
    assert "with 3 worker processes" in out
    assert "SQLite file (WAL)" in out


def test_one_worker_serves_the_app_in_this_process(database: Path, started: dict[str, Any]) -> None:
    assert main(["serve", "--port", "8123"]) == 0
    assert isinstance(started["app"], Starlette)
    assert "workers" not in started["options"]
    assert started["schedulers"] == []


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_workers_must_be_a_positive_number(value: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--workers", value])
    assert "is not a whole number ≥ 1" in capsys.readouterr().err


def test_the_factory_builds_the_app_from_the_environment(database: Path) -> None:
    app = create()
    assert isinstance(app, Starlette)
    assert app.state.listener is None, "SQLite: no NOTIFY, the short TTL"


@pytest.mark.realtime
def test_sqlite_serves_from_several_workers(database: Path, tmp_path: Path) -> None:
    """Two real workers on one SQLite file (WAL): both start, answer, and see a commit within the TTL."""
    import os
    import socket
    import subprocess
    import sys
    import time

    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "PYTHONPATH": str(repo)}
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "stadtkalender", "serve", "--port", str(port), "--workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, (tmp_path / "serve.log").read_text(errors="replace")
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "serve --workers 2 on SQLite did not answer"
            time.sleep(0.1)
        answers = {httpx.get(f"{url}/api/v1/events", timeout=10).status_code for _ in range(6)}
    finally:
        process.terminate()
        process.wait(timeout=15)
    assert answers == {200}
    assert "with 2 worker processes" in (tmp_path / "serve.log").read_text(errors="replace")
