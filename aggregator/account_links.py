"""One-time account links: an invitation that creates an account, a reset that replaces its password.

The link's token is random and shown once (to the editor who made it, and in the e-mail); only its
SHA-256 is stored. A link works once and until it expires. An invited account exists from the start,
with a password hash no password matches, so it cannot sign in until the invitation is accepted.
Following a link sets the password (argon2, :mod:`aggregator.accounts`), ends the account's sessions
and every other open link of the account, and is written to the audit log in the same transaction.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, cast

from argon2 import PasswordHasher
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from aggregator import accounts
from aggregator.accounts import AccountError, AccountInfo, add_account, check_password, normalise_email
from aggregator.audit import Actor, record
from aggregator.login_sessions import end_sessions_of
from aggregator.models import Account, AccountLink
from aggregator.normalise.venues import VenueRegistry

Purpose = Literal["invite", "reset"]
_TOKEN_BYTES = 32
_MAX_TOKEN = 200


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class LinkError(Exception):
    """A link that does not work: unknown, already used, or expired (``reason``); the message is safe."""

    def __init__(self, reason: Literal["unknown", "used", "expired"]) -> None:
        self.reason = reason
        super().__init__(f"the link is {reason}")


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """A usable link: what it is for and whose account it sets."""

    purpose: Purpose
    email: str
    display_name: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class OpenLink:
    """A link as the console lists it (never its token)."""

    id: int
    purpose: Purpose
    email: str
    created_at: datetime
    expires_at: datetime
    used_at: datetime | None


def _new_link(
    session: Session, account_id: int, purpose: Purpose, *, now: datetime, lifetime: timedelta, by: Actor
) -> str:
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    session.add(
        AccountLink(
            token_hash=_digest(token),
            purpose=purpose,
            account_id=account_id,
            created_by_id=by.account_id,
            created_at=now,
            expires_at=now + lifetime,
        )
    )
    return token


def invite(
    factory: sessionmaker[Session],
    email: str,
    *,
    venues: Sequence[str],
    display_name: str | None = None,
    registry: VenueRegistry | None = None,
    now: datetime,
    lifetime: timedelta,
    by: Actor,
    hasher: PasswordHasher | None = None,
) -> tuple[AccountInfo, str]:
    """Create a venue account for ``email`` bound to ``venues``, and its invitation link's token.

    Raises :class:`~aggregator.accounts.AccountError` as :func:`~aggregator.accounts.add_account` does.
    The account and the link are audited (``account.invite``).
    """
    unusable = secrets.token_urlsafe(48)
    account = add_account(
        factory,
        email,
        role="venue",
        password=unusable,
        venues=venues,
        display_name=display_name,
        registry=registry,
        now=now,
        hasher=hasher,
    )
    with factory() as session, session.begin():
        token = _new_link(session, account.id, "invite", now=now, lifetime=lifetime, by=by)
        record(
            session,
            by,
            "account.invite",
            "account",
            str(account.id),
            at=now,
            after={
                "email": account.email,
                "role": account.role,
                "venues": list(account.venues),
                "expires_at": (now + lifetime).isoformat(),
            },
        )
    return account, token


def reset_link(
    factory: sessionmaker[Session],
    email: str,
    *,
    now: datetime,
    lifetime: timedelta,
    by: Actor,
    roles: Sequence[str] = accounts.ROLES,
) -> tuple[AccountInfo, str]:
    """A password-reset link for the (enabled) account ``email`` of one of ``roles``; audited.

    Raises :class:`~aggregator.accounts.AccountError` for an unknown or disabled account, or another role.
    """
    address = normalise_email(email)
    with factory() as session, session.begin():
        row = session.scalars(select(Account).where(Account.email == address)).one_or_none()
        if row is None or row.role not in roles:
            raise AccountError("email", f"no account for {address} you may reset")
        if row.disabled_at is not None:
            raise AccountError("email", f"the account {address} is disabled")
        token = _new_link(session, row.id, "reset", now=now, lifetime=lifetime, by=by)
        record(
            session,
            by,
            "account.reset_link",
            "account",
            str(row.id),
            at=now,
            after={"email": row.email, "expires_at": (now + lifetime).isoformat()},
        )
        return AccountInfo.of(row), token


def _usable(session: Session, token: str, now: datetime) -> tuple[AccountLink, Account]:
    if not token or len(token) > _MAX_TOKEN:
        raise LinkError("unknown")
    link = session.scalars(select(AccountLink).where(AccountLink.token_hash == _digest(token))).one_or_none()
    account = session.get(Account, link.account_id) if link is not None else None
    if link is None or account is None or account.disabled_at is not None:
        raise LinkError("unknown")
    if link.used_at is not None:
        raise LinkError("used")
    if now >= link.expires_at:
        raise LinkError("expired")
    return link, account


def check_link(factory: sessionmaker[Session], token: str, *, now: datetime) -> LinkInfo:
    """What the link ``token`` is for; raises :class:`LinkError` unless it works now."""
    with factory() as session:
        link, account = _usable(session, token, now)
        return LinkInfo(cast(Purpose, link.purpose), account.email, account.display_name, link.expires_at)


def use_link(
    factory: sessionmaker[Session],
    token: str,
    password: str,
    *,
    now: datetime,
    hasher: PasswordHasher | None = None,
) -> AccountInfo:
    """Set the password through the link ``token``, once; ends the account's sessions and other links.

    Raises :class:`LinkError` (the link does not work) or :class:`~aggregator.accounts.AccountError`
    (the password is too short or too long); then nothing changes.
    """
    check_password(password)
    password_hash = (hasher if hasher is not None else accounts.HASHER).hash(password)
    with factory() as session, session.begin():
        link, account = _usable(session, token, now)
        account.password_hash = password_hash
        session.execute(
            update(AccountLink)
            .where(AccountLink.account_id == account.id, AccountLink.used_at.is_(None))
            .values(used_at=now)
        )
        ended = end_sessions_of(session, account.id)
        record(
            session,
            Actor(account.id, account.email),
            "account.accept" if link.purpose == "invite" else "account.reset",
            "account",
            str(account.id),
            at=now,
            after={"link": link.id, "sessions_ended": ended},
        )
        return AccountInfo.of(account)


def open_links(factory: sessionmaker[Session], *, limit: int = 200) -> list[OpenLink]:
    """The newest links (used ones too), newest first, for the console."""
    with factory() as session:
        rows = session.execute(
            select(AccountLink, Account.email)
            .join(Account, Account.id == AccountLink.account_id)
            .order_by(AccountLink.created_at.desc(), AccountLink.id.desc())
            .limit(limit)
        ).all()
        return [
            OpenLink(
                link.id, cast(Purpose, link.purpose), email, link.created_at, link.expires_at, link.used_at
            )
            for link, email in rows
        ]
