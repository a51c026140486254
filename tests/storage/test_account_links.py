"""One-time account links on SQLite and PostgreSQL: invitations and resets work once, until they expire."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from argon2 import PasswordHasher
from fixed_clock import NOW
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator import accounts
from aggregator.account_links import LinkError, check_link, invite, open_links, reset_link, use_link
from aggregator.accounts import AccountError, LoginRefused, add_account, disable, verify_login
from aggregator.audit import Actor
from aggregator.login_sessions import Lifetimes, resume_session, start_session
from aggregator.models import AccountLink, AuditEntry, Base
from aggregator.normalise.venues import load_venues

DAY = timedelta(days=1)
EDITOR = Actor(None, "editor@dortmund.de")
NEW_PASSWORD = "brauerei museum 1887"


@pytest.fixture(autouse=True)
def _cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(accounts, "HASHER", PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    yield


def _invite(factory: sessionmaker[Session], email: str = "Info@Brauerei-Museum.de") -> str:
    _account, token = invite(
        factory,
        email,
        venues=["konzerthaus-dortmund"],
        display_name="Museum",
        registry=load_venues(),
        now=NOW,
        lifetime=DAY,
        by=EDITOR,
    )
    return token


def test_the_migration_creates_the_table_the_model_describes(engine: Engine) -> None:
    with engine.connect() as connection:
        diffs = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [diff for diff in diffs if "account_links" in repr(diff)] == []


def test_an_invited_account_cannot_sign_in_until_it_accepts(factory: sessionmaker[Session]) -> None:
    token = _invite(factory)
    link = check_link(factory, token, now=NOW)
    assert (link.purpose, link.email, link.display_name) == ("invite", "info@brauerei-museum.de", "Museum")
    with pytest.raises(LoginRefused):
        verify_login(factory, "info@brauerei-museum.de", "", now=NOW)
    account = use_link(factory, token, NEW_PASSWORD, now=NOW + timedelta(hours=1))
    assert account.role == "venue" and account.venues == ("konzerthaus-dortmund",)
    assert verify_login(factory, account.email, NEW_PASSWORD, now=NOW).id == account.id
    with factory() as session:
        actions = list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)))
    assert actions == ["account.invite", "account.accept"]


def test_only_a_hash_of_the_token_is_stored(factory: sessionmaker[Session]) -> None:
    token = _invite(factory)
    with factory() as session:
        stored = session.scalars(select(AccountLink.token_hash)).one()
    assert token not in stored and len(stored) == 64


def test_a_link_works_once(factory: sessionmaker[Session]) -> None:
    token = _invite(factory)
    use_link(factory, token, NEW_PASSWORD, now=NOW)
    with pytest.raises(LinkError) as used:
        use_link(factory, token, "another password 2", now=NOW)
    assert used.value.reason == "used"
    assert verify_login(factory, "info@brauerei-museum.de", NEW_PASSWORD, now=NOW)


def test_a_link_expires(factory: sessionmaker[Session]) -> None:
    token = _invite(factory)
    assert check_link(factory, token, now=NOW + DAY - timedelta(seconds=1))
    with pytest.raises(LinkError) as expired:
        use_link(factory, token, NEW_PASSWORD, now=NOW + DAY)
    assert expired.value.reason == "expired"


@pytest.mark.parametrize("token", ["", "nonsense", "x" * 5000])
def test_an_unknown_link_does_not_work(factory: sessionmaker[Session], token: str) -> None:
    _invite(factory)
    with pytest.raises(LinkError) as unknown:
        check_link(factory, token, now=NOW)
    assert unknown.value.reason == "unknown"


def test_a_short_password_changes_nothing(factory: sessionmaker[Session]) -> None:
    token = _invite(factory)
    with pytest.raises(AccountError):
        use_link(factory, token, "short", now=NOW)
    assert check_link(factory, token, now=NOW).purpose == "invite"


def test_inviting_an_existing_address_or_an_unknown_venue_is_refused(factory: sessionmaker[Session]) -> None:
    _invite(factory)
    with pytest.raises(AccountError, match="already exists"):
        _invite(factory, "info@brauerei-museum.de")
    with pytest.raises(AccountError, match="no venue"):
        invite(factory, "a@b.de", venues=["nowhere"], now=NOW, lifetime=DAY, by=EDITOR)
    with pytest.raises(AccountError, match="at least one venue"):
        invite(factory, "a@b.de", venues=[], now=NOW, lifetime=DAY, by=EDITOR)
    with factory() as session:
        assert session.scalar(select(func.count()).select_from(AccountLink)) == 1


def test_a_reset_sets_a_new_password_and_ends_sessions_and_older_links(
    factory: sessionmaker[Session],
) -> None:
    add_account(
        factory,
        "kasse@konzerthaus.de",
        role="venue",
        password="the old password",
        now=NOW,
        venues=["konzerthaus-dortmund"],
        registry=load_venues(),
    )
    cookie = start_session(factory, _id(factory, "kasse@konzerthaus.de"), now=NOW)
    _account, first = reset_link(factory, "kasse@konzerthaus.de", now=NOW, lifetime=DAY, by=EDITOR)
    _account, second = reset_link(factory, "kasse@konzerthaus.de", now=NOW, lifetime=DAY, by=EDITOR)
    assert check_link(factory, second, now=NOW).purpose == "reset"
    use_link(factory, second, NEW_PASSWORD, now=NOW)
    lifetimes = Lifetimes(idle=DAY, absolute=DAY)
    assert resume_session(factory, cookie, now=NOW, lifetimes=lifetimes) is None
    with pytest.raises(LinkError):
        use_link(factory, first, "yet another password", now=NOW)
    with pytest.raises(LoginRefused):
        verify_login(factory, "kasse@konzerthaus.de", "the old password", now=NOW)
    assert [link.used_at for link in open_links(factory)] == [NOW, NOW]


def _id(factory: sessionmaker[Session], email: str) -> int:
    return accounts.get_account(factory, email).id


def test_a_reset_is_refused_for_another_role_a_disabled_or_an_unknown_account(
    factory: sessionmaker[Session],
) -> None:
    add_account(factory, "editor@dortmund.de", role="editor", password="the old password", now=NOW)
    with pytest.raises(AccountError):
        reset_link(factory, "editor@dortmund.de", now=NOW, lifetime=DAY, by=EDITOR, roles=("venue",))
    with pytest.raises(AccountError):
        reset_link(factory, "nobody@dortmund.de", now=NOW, lifetime=DAY, by=EDITOR)
    _account, token = reset_link(factory, "editor@dortmund.de", now=NOW, lifetime=DAY, by=EDITOR)
    disable(factory, "editor@dortmund.de", now=NOW)
    with pytest.raises(AccountError, match="disabled"):
        reset_link(factory, "editor@dortmund.de", now=NOW, lifetime=DAY, by=EDITOR)
    with pytest.raises(LinkError):
        check_link(factory, token, now=NOW)
