"""Console accounts on SQLite and PostgreSQL: argon2 hashes, login checks, and the rules of roles."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Literal
from unittest import mock

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import PasswordHasher
from fixed_clock import NOW
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator import accounts
from aggregator.accounts import (
    AccountError,
    LoginRefused,
    add_account,
    disable,
    get_account,
    list_accounts,
    set_password,
    verify_login,
)
from aggregator.models import Account, Base
from aggregator.normalise.venues import load_venues

PASSWORD = "correct horse battery"
SHIPPED = accounts.HASHER
CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Hash with tiny argon2 parameters: the recommended ones take tens of milliseconds a hash."""
    monkeypatch.setattr(accounts, "HASHER", CHEAP)
    yield


class _CountingHasher(PasswordHasher):
    """A hasher that notes the hash of every verification it runs."""

    def __init__(self) -> None:
        super().__init__(time_cost=1, memory_cost=8, parallelism=1)
        self.verified: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verified.append(str(hash))
        return super().verify(hash, password)


def _editor(factory: sessionmaker[Session], email: str = "Anna.Schmidt@Dortmund.de") -> accounts.AccountInfo:
    return add_account(factory, email, role="editor", password=PASSWORD, display_name="Anna", now=NOW)


def _stored_hash(factory: sessionmaker[Session], email: str) -> str:
    with factory() as session:
        return session.scalars(select(Account.password_hash).where(Account.email == email)).one()


def test_the_shipped_hasher_uses_argon2_cffis_recommended_parameters() -> None:
    recommended = PasswordHasher()
    assert SHIPPED.type.name == "ID"
    for name in ("type", "time_cost", "memory_cost", "parallelism", "hash_len", "salt_len"):
        assert getattr(SHIPPED, name) == getattr(recommended, name)


def test_the_migration_creates_the_table_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if "accounts" in repr(diff)] == []


def test_an_account_is_stored_with_a_lower_cased_email_and_an_argon2_hash(
    factory: sessionmaker[Session],
) -> None:
    account = _editor(factory)
    assert account.email == "anna.schmidt@dortmund.de"
    assert (account.role, account.venues, account.display_name) == ("editor", (), "Anna")
    assert account.created_at == NOW and account.last_login_at is None and not account.disabled
    stored = _stored_hash(factory, "anna.schmidt@dortmund.de")
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    assert CHEAP.verify(stored, PASSWORD)


def test_the_display_name_defaults_to_the_email(factory: sessionmaker[Session]) -> None:
    account = add_account(factory, "ops@dortmund.de", role="admin", password=PASSWORD, now=NOW)
    assert account.display_name == "ops@dortmund.de"


def test_login_with_the_right_password_records_the_time(factory: sessionmaker[Session]) -> None:
    _editor(factory)
    later = NOW + timedelta(hours=1)
    account = verify_login(factory, "  ANNA.schmidt@dortmund.de ", PASSWORD, now=later)
    assert account.email == "anna.schmidt@dortmund.de" and account.last_login_at == later
    assert get_account(factory, "anna.schmidt@dortmund.de").last_login_at == later


@pytest.mark.parametrize(
    ("email", "password", "reason"),
    [
        ("anna.schmidt@dortmund.de", "correct horse battery!", "password"),
        ("anna.schmidt@dortmund.de", "", "password"),
        ("anna.schmidt@dortmund.de", "x" * 5000, "password"),
        ("nobody@dortmund.de", PASSWORD, "unknown"),
        ("not an address", PASSWORD, "unknown"),
    ],
)
def test_login_is_refused_with_one_message(
    factory: sessionmaker[Session], email: str, password: str, reason: str
) -> None:
    _editor(factory)
    with pytest.raises(LoginRefused, match=r"^wrong e-mail or password$") as refused:
        verify_login(factory, email, password, now=NOW)
    assert refused.value.reason == reason
    assert get_account(factory, "anna.schmidt@dortmund.de").last_login_at is None


def test_a_disabled_account_cannot_sign_in(factory: sessionmaker[Session]) -> None:
    _editor(factory)
    account = disable(factory, "anna.schmidt@dortmund.de", now=NOW)
    assert account.disabled and account.disabled_at == NOW
    again = disable(factory, "anna.schmidt@dortmund.de", now=NOW + timedelta(days=1))
    assert again.disabled_at == NOW
    with pytest.raises(LoginRefused, match=r"^wrong e-mail or password$") as refused:
        verify_login(factory, "anna.schmidt@dortmund.de", PASSWORD, now=NOW)
    assert refused.value.reason == "disabled"


@pytest.mark.parametrize("case", ["right", "wrong", "disabled", "unknown"])
def test_every_login_runs_exactly_one_argon2_verification(factory: sessionmaker[Session], case: str) -> None:
    _editor(factory)
    if case == "disabled":
        disable(factory, "anna.schmidt@dortmund.de", now=NOW)
    email = "nobody@dortmund.de" if case == "unknown" else "anna.schmidt@dortmund.de"
    password = "wrong password!" if case == "wrong" else PASSWORD
    counting = _CountingHasher()
    try:
        verify_login(factory, email, password, now=NOW, hasher=counting)
    except LoginRefused:
        assert case != "right"
    assert len(counting.verified) == 1
    assert counting.verified[0].startswith("$argon2id$v=19$m=8,t=1,p=1$")


def test_a_hash_with_old_parameters_is_replaced_at_login(factory: sessionmaker[Session]) -> None:
    _editor(factory)
    old = _stored_hash(factory, "anna.schmidt@dortmund.de")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1)
    verify_login(factory, "anna.schmidt@dortmund.de", PASSWORD, now=NOW, hasher=stronger)
    new = _stored_hash(factory, "anna.schmidt@dortmund.de")
    assert new != old and "m=16,t=2,p=1" in new
    assert stronger.verify(new, PASSWORD)
    verify_login(factory, "anna.schmidt@dortmund.de", PASSWORD, now=NOW, hasher=stronger)
    assert _stored_hash(factory, "anna.schmidt@dortmund.de") == new


@pytest.mark.parametrize("password", ["", "short", "elevenchars"])
def test_a_password_needs_twelve_characters(factory: sessionmaker[Session], password: str) -> None:
    with pytest.raises(AccountError, match="at least 12 characters") as error:
        add_account(factory, "anna@dortmund.de", role="editor", password=password, now=NOW)
    assert error.value.field == "password"
    assert list_accounts(factory) == []
    add_account(factory, "anna@dortmund.de", role="editor", password="twelve chars", now=NOW)


def test_an_email_has_one_account(factory: sessionmaker[Session]) -> None:
    _editor(factory)
    with pytest.raises(AccountError, match="already exists") as error:
        _editor(factory, "ANNA.SCHMIDT@dortmund.de")
    assert error.value.field == "email"
    assert len(list_accounts(factory)) == 1


def test_the_database_refuses_a_second_row_for_an_email_too(factory: sessionmaker[Session]) -> None:
    _editor(factory)
    with (
        mock.patch.object(accounts, "select", side_effect=[select(Account.id).where(Account.id < 0)]),
        pytest.raises(AccountError, match="already exists"),
    ):
        _editor(factory)
    assert len(list_accounts(factory)) == 1


@pytest.mark.parametrize("email", ["", "anna", "anna@", "@dortmund.de", "an na@dortmund.de", "a@b@c"])
def test_an_email_must_look_like_one(factory: sessionmaker[Session], email: str) -> None:
    with pytest.raises(AccountError, match="not an e-mail address") as error:
        add_account(factory, email, role="editor", password=PASSWORD, now=NOW)
    assert error.value.field == "email"


def test_an_unknown_role_is_refused(factory: sessionmaker[Session]) -> None:
    with pytest.raises(AccountError, match="'owner' is not a role; choose one of admin, editor, venue"):
        add_account(factory, "anna@dortmund.de", role="owner", password=PASSWORD, now=NOW)


def test_a_venue_account_needs_venues_from_the_registry(factory: sessionmaker[Session]) -> None:
    registry = load_venues()
    with pytest.raises(AccountError, match="at least one venue slug") as error:
        add_account(factory, "box@dortmund.de", role="venue", password=PASSWORD, registry=registry, now=NOW)
    assert error.value.field == "venues"
    with pytest.raises(AccountError, match="no venue 'nowhere'"):
        add_account(
            factory,
            "box@dortmund.de",
            role="venue",
            venues=["konzerthaus-dortmund", "nowhere"],
            password=PASSWORD,
            registry=registry,
            now=NOW,
        )
    account = add_account(
        factory,
        "box@dortmund.de",
        role="venue",
        venues=["konzerthaus-dortmund", " opernhaus-dortmund ", "konzerthaus-dortmund"],
        password=PASSWORD,
        registry=registry,
        now=NOW,
    )
    assert account.venues == ("konzerthaus-dortmund", "opernhaus-dortmund")
    assert get_account(factory, "box@dortmund.de").venues == account.venues


def test_only_venue_accounts_take_venues(factory: sessionmaker[Session]) -> None:
    with pytest.raises(AccountError, match="only venue accounts are bound to venues") as error:
        add_account(
            factory,
            "anna@dortmund.de",
            role="editor",
            venues=["konzerthaus-dortmund"],
            password=PASSWORD,
            registry=load_venues(),
            now=NOW,
        )
    assert error.value.field == "venues"


def test_a_new_password_replaces_the_old(factory: sessionmaker[Session]) -> None:
    _editor(factory)
    with pytest.raises(AccountError, match="at least 12"):
        set_password(factory, "anna.schmidt@dortmund.de", "too short")
    set_password(factory, "Anna.Schmidt@dortmund.de", "a brand new passphrase")
    with pytest.raises(LoginRefused):
        verify_login(factory, "anna.schmidt@dortmund.de", PASSWORD, now=NOW)
    assert verify_login(factory, "anna.schmidt@dortmund.de", "a brand new passphrase", now=NOW)


def test_changing_an_unknown_account_names_it(factory: sessionmaker[Session]) -> None:
    with pytest.raises(AccountError, match=r"no account for nobody@dortmund\.de"):
        set_password(factory, "nobody@dortmund.de", PASSWORD)
    with pytest.raises(AccountError, match=r"no account for nobody@dortmund\.de"):
        disable(factory, "Nobody@dortmund.de", now=NOW)


def test_accounts_are_listed_by_email(factory: sessionmaker[Session]) -> None:
    _editor(factory, "zora@dortmund.de")
    _editor(factory, "anna@dortmund.de")
    disable(factory, "zora@dortmund.de", now=NOW)
    listed = list_accounts(factory)
    assert [(a.email, a.disabled) for a in listed] == [
        ("anna@dortmund.de", False),
        ("zora@dortmund.de", True),
    ]
