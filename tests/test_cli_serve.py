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
