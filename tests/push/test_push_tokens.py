"""Push tokens: only hashes stored, constant-time comparison, issuing rules, revoking, the CLI."""

from __future__ import annotations

import hashlib
import hmac
import re
from pathlib import Path
from typing import Any

import pytest
from _push import DOMICIL, KONZERTHAUS, PushRuntime
from fixed_clock import NOW
from sqlalchemy import select

from aggregator.db import make_engine, session_factory, upgrade
from aggregator.models import ApiToken
from calendar_api.push import tokens
from calendar_api.push.tokens import (
    AuthError,
    TokenError,
    authenticate,
    issue_token,
    list_tokens,
    revoke_token,
)


def _issue(runtime: PushRuntime, *venues: str, **options: Any) -> tuple[tokens.PushToken, str]:
    return issue_token(
        runtime.factory,
        list(venues or (KONZERTHAUS,)),
        name=options.pop("name", "Export"),
        registry=runtime.ingest_context.venues,
        now=NOW,
        **options,
    )


def test_only_a_hash_and_a_short_prefix_are_stored(runtime: PushRuntime) -> None:
    token, secret = _issue(runtime)
    assert secret.startswith("skp_") and len(secret) == 4 + 43
    with runtime.factory() as session:
        row = session.get_one(ApiToken, token.id)
        stored = [str(getattr(row, column.key)) for column in ApiToken.__table__.columns]
    assert row.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert row.prefix == secret[:12]
    assert not any(secret in value or secret[12:] in value for value in stored)
    assert (row.source, row.venues, row.read_only) == ("push:konzerthaus-dortmund", [KONZERTHAUS], False)


def test_tokens_are_random(runtime: PushRuntime) -> None:
    secrets = {_issue(runtime)[1] for _ in range(5)}
    assert len(secrets) == 5


def test_the_hashes_are_compared_in_constant_time(
    runtime: PushRuntime, monkeypatch: pytest.MonkeyPatch
) -> None:
    _token, secret = _issue(runtime)
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    assert authenticate(runtime.factory, f"Bearer {secret}", now=NOW).name == "Export"
    assert calls and calls[-1][1] == tokens.hash_token(secret)


@pytest.mark.parametrize(
    ("header", "presented"),
    [(None, False), ("", False), ("Bearer", True), ("Token abc", True), ("Bearer skp_wrong", True)],
)
def test_authentication_failures(runtime: PushRuntime, header: str | None, presented: bool) -> None:
    _issue(runtime)
    with pytest.raises(AuthError) as caught:
        authenticate(runtime.factory, header, now=NOW)
    assert caught.value.presented is presented


def test_the_bearer_scheme_is_case_insensitive(runtime: PushRuntime) -> None:
    _token, secret = _issue(runtime)
    assert authenticate(runtime.factory, f"bearer {secret}", now=NOW).source == "push:konzerthaus-dortmund"


def test_revoking_by_prefix_ends_the_token(runtime: PushRuntime) -> None:
    token, secret = _issue(runtime)
    _other, still = _issue(runtime, name="Zweiter")
    revoked = revoke_token(runtime.factory, token.prefix, now=NOW)
    assert revoked.revoked_at is not None
    with pytest.raises(AuthError, match="revoked"):
        authenticate(runtime.factory, f"Bearer {secret}", now=NOW)
    assert authenticate(runtime.factory, f"Bearer {still}", now=NOW).name == "Zweiter"


@pytest.mark.parametrize(
    ("key", "message"), [("999", "no token"), ("skp_", "at least"), ("skp_zzzzzzzz", "no token")]
)
def test_revoking_something_unknown_says_so(runtime: PushRuntime, key: str, message: str) -> None:
    _issue(runtime)
    with pytest.raises(TokenError, match=message):
        revoke_token(runtime.factory, key, now=NOW)


def test_issuing_rules(runtime: PushRuntime) -> None:
    with pytest.raises(TokenError, match="no venue 'gibt-es-nicht'"):
        _issue(runtime, "gibt-es-nicht")
    with pytest.raises(TokenError, match="starts with 'push:'"):
        _issue(runtime, source="konzerthaus")
    with pytest.raises(TokenError, match="is a configured source"):
        _issue(runtime, source="push:kh", reserved={"push:kh"})
    with pytest.raises(TokenError, match="name"):
        _issue(runtime, name="  ")
    _issue(runtime)
    _issue(runtime, name="Rotation")  # a second token for the same venue shares its source
    with pytest.raises(TokenError, match="same venues"):
        _issue(runtime, KONZERTHAUS, DOMICIL, source="push:konzerthaus-dortmund")
    both, _ = _issue(runtime, KONZERTHAUS, DOMICIL)
    assert both.source == "push:konzerthaus-dortmund+domicil"
    assert [t.name for t in list_tokens(runtime.factory)] == ["Export", "Rotation", "Export"]


def test_read_only_tokens_are_marked(runtime: PushRuntime) -> None:
    token, secret = _issue(runtime, read_only=True)
    assert authenticate(runtime.factory, f"Bearer {secret}", now=NOW).read_only
    with runtime.factory() as session:
        assert session.scalars(select(ApiToken.read_only).where(ApiToken.id == token.id)).one()


def test_the_cli_issues_lists_and_revokes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from stadtkalender.cli import main

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    engine = make_engine(url)
    upgrade(engine)
    monkeypatch.setenv("STADTKALENDER_DATABASE_URL", url)

    assert main(["tokens", "issue", KONZERTHAUS, "--name", "Spielplan-Export"]) == 0
    out = capsys.readouterr().out
    found = re.search(r"\bskp_[A-Za-z0-9_-]{43}\b", out)
    assert found is not None, out
    secret = found.group(0)
    factory = session_factory(engine)
    assert authenticate(factory, f"Bearer {secret}", now=NOW).name == "Spielplan-Export"

    assert main(["tokens", "issue", DOMICIL, "--name", "Check", "--read-only", "--source", "push:jazz"]) == 0
    capsys.readouterr()
    assert main(["tokens", "list"]) == 0
    listed = capsys.readouterr().out
    assert secret[:12] in listed and secret not in listed and "push:jazz" in listed and "read-only" in listed

    assert main(["tokens", "revoke", secret[:12]]) == 0
    assert "revoked" in capsys.readouterr().out
    with pytest.raises(AuthError):
        authenticate(factory, f"Bearer {secret}", now=NOW)
    assert main(["tokens", "issue", "nirgendwo", "--name", "x"]) == 1
    assert "no venue 'nirgendwo'" in capsys.readouterr().err
    engine.dispose()
