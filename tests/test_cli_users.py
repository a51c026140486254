"""``stadtkalender users``: console accounts created, listed, disabled and re-keyed from the command line."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fixed_clock import NOW
from sqlalchemy import select

from aggregator import accounts
from aggregator.accounts import LoginRefused, verify_login
from aggregator.db import make_engine, session_factory
from aggregator.models import Account
from stadtkalender.cli import main

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hash with tiny argon2 parameters: the recommended ones take tens of milliseconds a hash."""
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def _prompts(monkeypatch: pytest.MonkeyPatch, *answers: str) -> list[str]:
    asked: list[str] = []
    replies = iter(answers)

    def fake_getpass(prompt: str = "Password: ", stream: object = None) -> str:
        asked.append(prompt)
        return next(replies)

    monkeypatch.setattr("getpass.getpass", fake_getpass)
    return asked


def _login(database: Path, email: str, password: str) -> accounts.AccountInfo:
    engine = make_engine(f"sqlite:///{database}")
    try:
        return verify_login(session_factory(engine), email, password, now=NOW)
    finally:
        engine.dispose()


def _hashes(database: Path) -> list[str]:
    engine = make_engine(f"sqlite:///{database}")
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(Account.password_hash)))
    finally:
        engine.dispose()


def test_add_with_password_stdin_then_list(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert (
        main(["users", "add", "Anna@Dortmund.de", "--role", "editor", "--name", "Anna", "--password-stdin"])
        == 0
    )
    assert "account 1 created: anna@dortmund.de (editor, 'Anna')" in capsys.readouterr().out
    assert _login(database, "anna@dortmund.de", PASSWORD).role == "editor"
    assert all(h.startswith("$argon2id$") and PASSWORD not in h for h in _hashes(database))

    assert main(["users", "list"]) == 0
    out = capsys.readouterr().out
    assert "anna@dortmund.de" in out and "Anna" in out and "editor" in out
    assert PASSWORD not in out and "$argon2" not in out


def test_list_says_how_to_start(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "list"]) == 0
    assert "no accounts yet: stadtkalender users add EMAIL --role editor" in capsys.readouterr().out


def test_add_asks_twice_at_a_prompt(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = _prompts(monkeypatch, PASSWORD, PASSWORD)
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin"]) == 0
    assert len(asked) == 2 and "at least 12 characters" in asked[0]
    assert _login(database, "ops@dortmund.de", PASSWORD).role == "admin"


def test_two_different_prompt_answers_create_nothing(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _prompts(monkeypatch, PASSWORD, PASSWORD + "!")
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin"]) == 1
    assert "the two passwords differ" in capsys.readouterr().err
    assert _hashes(database) == []


def test_a_short_password_is_refused(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "too short\n")
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin", "--password-stdin"]) == 1
    assert "password: a password needs at least 12 characters, got 9" in capsys.readouterr().err
    assert _hashes(database) == []


def test_empty_standard_input_is_refused(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, "")
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin", "--password-stdin"]) == 1
    assert "standard input has no password line" in capsys.readouterr().err


def test_a_wrong_venue_is_reported_before_the_password_is_asked(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = _prompts(monkeypatch)
    assert main(["users", "add", "box@dortmund.de", "--role", "venue", "--venue", "nowhere"]) == 1
    assert "venues: no venue 'nowhere'" in capsys.readouterr().err
    assert asked == []
    assert main(["users", "add", "box@dortmund.de", "--role", "venue"]) == 1
    assert "a venue account needs at least one venue slug" in capsys.readouterr().err
    assert (
        main(["users", "add", "ed@dortmund.de", "--role", "editor", "--venue", "konzerthaus-dortmund"]) == 1
    )
    assert "only venue accounts are bound to venues" in capsys.readouterr().err
    assert asked == []


def test_a_venue_account_names_its_venues(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    command = ["users", "add", "box@dortmund.de", "--role", "venue", "--password-stdin"]
    assert main([*command, "--venue", "konzerthaus-dortmund", "--venue", "opernhaus-dortmund"]) == 0
    assert "(venue for konzerthaus-dortmund, opernhaus-dortmund," in capsys.readouterr().out
    assert _login(database, "box@dortmund.de", PASSWORD).venues == (
        "konzerthaus-dortmund",
        "opernhaus-dortmund",
    )


def test_an_unknown_role_is_an_argument_error(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["users", "add", "ops@dortmund.de", "--role", "owner"])
    assert exited.value.code == 2
    assert "invalid choice: 'owner'" in capsys.readouterr().err


def test_a_duplicate_email_is_refused(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin", "--password-stdin"]) == 0
    asked = _prompts(monkeypatch)
    assert main(["users", "add", "OPS@dortmund.de", "--role", "editor"]) == 1
    assert "email: an account for ops@dortmund.de already exists" in capsys.readouterr().err
    assert asked == []


def test_disable_stops_the_login(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin", "--password-stdin"]) == 0
    capsys.readouterr()
    assert main(["users", "disable", "ops@dortmund.de"]) == 0
    assert "ops@dortmund.de (admin, 'ops@dortmund.de') disabled at" in capsys.readouterr().out
    with pytest.raises(LoginRefused):
        _login(database, "ops@dortmund.de", PASSWORD)
    assert main(["users", "disable", "ops@dortmund.de"]) == 0
    assert "was already disabled" in capsys.readouterr().out
    assert main(["users", "list"]) == 0
    assert "ops@dortmund.de" in capsys.readouterr().out


def test_disable_of_an_unknown_account_names_it(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["users", "disable", "nobody@dortmund.de"]) == 1
    assert "email: no account for nobody@dortmund.de" in capsys.readouterr().err


def test_password_replaces_the_old_one(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _stdin(monkeypatch, PASSWORD + "\n")
    assert main(["users", "add", "ops@dortmund.de", "--role", "admin", "--password-stdin"]) == 0
    _stdin(monkeypatch, "a brand new passphrase\r\n")
    assert main(["users", "password", "ops@dortmund.de", "--password-stdin"]) == 0
    assert "new password set for ops@dortmund.de" in capsys.readouterr().out
    assert _login(database, "ops@dortmund.de", "a brand new passphrase").email == "ops@dortmund.de"
    with pytest.raises(LoginRefused):
        _login(database, "ops@dortmund.de", PASSWORD)
    _prompts(monkeypatch, "third passphrase!", "third passphrase!")
    assert main(["users", "password", "ops@dortmund.de"]) == 0
    assert _login(database, "ops@dortmund.de", "third passphrase!").email == "ops@dortmund.de"


def test_password_for_an_unknown_account_asks_nothing(
    database: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    asked = _prompts(monkeypatch)
    assert main(["users", "password", "nobody@dortmund.de"]) == 1
    assert "no account for nobody@dortmund.de" in capsys.readouterr().err
    assert asked == []
