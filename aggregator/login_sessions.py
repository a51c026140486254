"""Signed-in sessions and personal API keys of console accounts.

A session is a random token in an HttpOnly cookie; only its SHA-256 is stored, so a read of the
database does not let anyone sign in. A session ends when it has been idle for ``idle`` or has lived
for ``absolute``, when the account is disabled, or at logout. Signing in always starts a new session
(the token is rotated), and any session the browser brought along is ended.

A personal API key (``skp_…``) lets a script act as its account on the admin API; it too is stored
only as a hash, shown once, and revocable.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.accounts import AccountInfo
from aggregator.models import Account, ConsoleSession, PersonalKey

KEY_PREFIX = "skp_"
_TOKEN_BYTES = 32


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class Lifetimes:
    """How long a session may stay idle, and how long it may live at most."""

    idle: timedelta
    absolute: timedelta


def start_session(
    factory: sessionmaker[Session], account_id: int, *, now: datetime, replaces: str | None = None
) -> str:
    """A new session for the account; returns the cookie's token. ``replaces`` (the old token) ends."""
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    with factory() as session, session.begin():
        if replaces:
            session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _digest(replaces)))
        session.add(
            ConsoleSession(id_hash=_digest(token), account_id=account_id, created_at=now, last_seen_at=now)
        )
    return token


def resume_session(
    factory: sessionmaker[Session], token: str, *, now: datetime, lifetimes: Lifetimes
) -> AccountInfo | None:
    """The account of a live session (and the session is touched), or ``None``; dead sessions are ended."""
    if not token or len(token) > 200:
        return None
    with factory() as session, session.begin():
        row = session.get(ConsoleSession, _digest(token))
        if row is None:
            return None
        account = session.get(Account, row.account_id)
        expired = now - row.last_seen_at > lifetimes.idle or now - row.created_at > lifetimes.absolute
        if account is None or account.disabled_at is not None or expired:
            session.delete(row)
            return None
        row.last_seen_at = now
        return AccountInfo.of(account)


def end_session(factory: sessionmaker[Session], token: str) -> None:
    """Sign the session out (nothing happens for an unknown token)."""
    with factory() as session, session.begin():
        session.execute(delete(ConsoleSession).where(ConsoleSession.id_hash == _digest(token)))


def end_sessions_of(session: Session, account_id: int) -> int:
    """End every session of an account (at disabling or a password change); returns how many."""
    result = session.execute(delete(ConsoleSession).where(ConsoleSession.account_id == account_id))
    return int(getattr(result, "rowcount", 0) or 0)


def drop_stale_sessions(factory: sessionmaker[Session], *, now: datetime, lifetimes: Lifetimes) -> int:
    """Delete sessions past either timeout (housekeeping); returns how many."""
    with factory() as session, session.begin():
        result = session.execute(
            delete(ConsoleSession).where(
                (ConsoleSession.last_seen_at < now - lifetimes.idle)
                | (ConsoleSession.created_at < now - lifetimes.absolute)
            )
        )
        return int(getattr(result, "rowcount", 0) or 0)


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """A personal key without its secret."""

    id: int
    account_id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None

    @classmethod
    def of(cls, row: PersonalKey) -> KeyInfo:
        """The snapshot of ``row``."""
        return cls(
            row.id, row.account_id, row.name, row.prefix, row.created_at, row.revoked_at, row.last_used_at
        )


class PersonalKeyError(Exception):
    """A personal key could not be made or revoked; the message says why."""


def issue_key(session: Session, account_id: int, name: str, *, now: datetime) -> tuple[str, KeyInfo]:
    """A new key for the account: the secret (shown once) and its stored description."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise PersonalKeyError("a key needs a name of 1 to 200 characters")
    secret = KEY_PREFIX + secrets.token_urlsafe(_TOKEN_BYTES)
    row = PersonalKey(
        account_id=account_id, name=name, key_hash=_digest(secret), prefix=secret[:12], created_at=now
    )
    session.add(row)
    session.flush()
    return secret, KeyInfo.of(row)


def keys_of(session: Session, account_id: int) -> list[KeyInfo]:
    """The account's keys, newest first (revoked ones included)."""
    rows = session.scalars(
        select(PersonalKey).where(PersonalKey.account_id == account_id).order_by(PersonalKey.id.desc())
    )
    return [KeyInfo.of(row) for row in rows]


def revoke_key(session: Session, account_id: int, key_id: int, *, now: datetime) -> KeyInfo:
    """Revoke one of the account's own keys."""
    row = session.get(PersonalKey, key_id)
    if row is None or row.account_id != account_id:
        raise PersonalKeyError(f"no key {key_id} belongs to this account")
    if row.revoked_at is None:
        row.revoked_at = now
    return KeyInfo.of(row)


def account_for_key(factory: sessionmaker[Session], secret: str, *, now: datetime) -> AccountInfo | None:
    """The account a live key acts for (and the key's last use is noted), or ``None``."""
    if not secret.startswith(KEY_PREFIX) or len(secret) > 200:
        return None
    with factory() as session, session.begin():
        row = session.scalars(
            select(PersonalKey).where(PersonalKey.key_hash == _digest(secret))
        ).one_or_none()
        if row is None or row.revoked_at is not None:
            return None
        account = session.get(Account, row.account_id)
        if account is None or account.disabled_at is not None:
            return None
        row.last_used_at = now
        return AccountInfo.of(account)
