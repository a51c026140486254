"""Console accounts: who may sign in, with which role, and the checking of their passwords.

Passwords are hashed with argon2id (argon2-cffi's recommended parameters, :data:`HASHER`); only the hash
is stored. :func:`verify_login` takes the same time whether the e-mail is unknown, the account disabled
or the password wrong — each runs one argon2 verification — so the answer's timing does not tell an
attacker which e-mails have accounts. A hash made with older parameters is replaced at the next login.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import Account, Venue
from aggregator.normalise.venues import VenueRegistry

Role = Literal["admin", "editor", "venue"]
ROLES: tuple[Role, ...] = ("admin", "editor", "venue")
"""``admin`` manages accounts and everything else, ``editor`` runs the calendar, ``venue`` its own venues."""
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
"""Far above any real passphrase; keeps a login request from hashing megabytes."""
_MAX_EMAIL = 320
_MAX_NAME = 200

HASHER = PasswordHasher()
"""The password hasher: argon2id with argon2-cffi's recommended parameters (RFC 9106, low memory).

Tests may replace it with cheaper parameters; every function here reads it when called.
"""
_dummy_hashes: dict[tuple[object, ...], str] = {}


class AccountError(Exception):
    """An account could not be created or changed; ``field`` names the input that was wrong."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


class LoginRefused(Exception):
    """A login failed. The message is the same for every cause and safe to show; ``reason`` is for logs."""

    def __init__(self, reason: Literal["unknown", "disabled", "password"]) -> None:
        self.reason = reason
        super().__init__("wrong e-mail or password")


@dataclass(frozen=True, slots=True)
class AccountInfo:
    """A detached snapshot of an :class:`~aggregator.models.Account` row, without its password hash."""

    id: int
    email: str
    display_name: str
    role: Role
    venues: tuple[str, ...]
    created_at: datetime
    last_login_at: datetime | None
    disabled_at: datetime | None

    @property
    def disabled(self) -> bool:
        """True when the account may no longer sign in."""
        return self.disabled_at is not None

    @classmethod
    def of(cls, row: Account) -> AccountInfo:
        """The snapshot of ``row``."""
        return cls(
            row.id,
            row.email,
            row.display_name,
            cast(Role, row.role),
            tuple(str(slug) for slug in row.venues),
            row.created_at,
            row.last_login_at,
            row.disabled_at,
        )


def normalise_email(email: str) -> str:
    """``email`` trimmed and lower-cased; raises :class:`AccountError` unless it looks like an address."""
    address = email.strip().lower()
    local, at, domain = address.partition("@")
    if not at or not local or not domain or "@" in domain or any(c.isspace() for c in address):
        raise AccountError("email", f"{email!r} is not an e-mail address like name@example.org")
    if len(address) > _MAX_EMAIL:
        raise AccountError("email", f"an e-mail address has at most {_MAX_EMAIL} characters")
    return address


def check_password(password: str) -> None:
    """Raise :class:`AccountError` unless ``password`` is long enough (and not absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            "password", f"a password needs at least {MIN_PASSWORD_LENGTH} characters, got {len(password)}"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise AccountError("password", f"a password has at most {MAX_PASSWORD_LENGTH} characters")


def _hasher(hasher: PasswordHasher | None) -> PasswordHasher:
    return hasher if hasher is not None else HASHER


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash no password matches, made with ``hasher``'s parameters so verifying it costs the same."""
    key = (hasher.type, hasher.time_cost, hasher.memory_cost, hasher.parallelism, hasher.hash_len)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = hasher.hash(secrets.token_urlsafe(32))
    return _dummy_hashes[key]


def _check_role(role: str, venues: Sequence[str]) -> tuple[Role, list[str]]:
    if role not in ROLES:
        raise AccountError("role", f"{role!r} is not a role; choose one of {', '.join(ROLES)}")
    wanted = list(dict.fromkeys(slug.strip() for slug in venues if slug.strip()))
    if role == "venue" and not wanted:
        raise AccountError("venues", "a venue account needs at least one venue slug (--venue SLUG)")
    if role != "venue" and wanted:
        raise AccountError("venues", f"only venue accounts are bound to venues, not {role} accounts")
    return role, wanted


def _find(session: Session, email: str) -> Account:
    address = normalise_email(email)
    row = session.scalars(select(Account).where(Account.email == address)).one_or_none()
    if row is None:
        raise AccountError("email", f"no account for {address}")
    return row


@dataclass(frozen=True, slots=True)
class NewAccount:
    """What :func:`check_new_account` found acceptable, normalised."""

    email: str
    display_name: str
    role: Role
    venues: tuple[str, ...]


def check_new_account(
    factory: sessionmaker[Session],
    email: str,
    *,
    role: str,
    venues: Sequence[str] = (),
    display_name: str | None = None,
    registry: VenueRegistry | None = None,
) -> NewAccount:
    """Check everything about a new account but its password; raises :class:`AccountError`.

    A command calls it before asking for a password, so that a typo is reported first. A ``venue``
    account needs venue slugs, each registered (in ``registry`` or the venues table); the other roles
    take none. ``display_name`` defaults to the e-mail address.
    """
    address = normalise_email(email)
    checked_role, wanted = _check_role(role, venues)
    name = (display_name if display_name is not None else address).strip()
    if not name or len(name) > _MAX_NAME:
        raise AccountError("display_name", f"a display name has 1 to {_MAX_NAME} characters")
    with factory() as session:
        if session.scalars(select(Account.id).where(Account.email == address)).first() is not None:
            raise AccountError("email", f"an account for {address} already exists")
        if wanted:
            known = set(session.scalars(select(Venue.slug).where(Venue.slug.in_(wanted))))
            unknown = [s for s in wanted if s not in known and (registry is None or registry.get(s) is None)]
            if unknown:
                raise AccountError("venues", f"no venue {unknown[0]!r}; use a slug from the venue registry")
    return NewAccount(address, name, checked_role, tuple(wanted))


def add_account(
    factory: sessionmaker[Session],
    email: str,
    *,
    role: str,
    password: str,
    venues: Sequence[str] = (),
    display_name: str | None = None,
    registry: VenueRegistry | None = None,
    now: datetime,
    hasher: PasswordHasher | None = None,
) -> AccountInfo:
    """Create an account; raises :class:`AccountError` naming the first wrong input.

    The rules are :func:`check_new_account`'s, and the password needs :data:`MIN_PASSWORD_LENGTH`
    characters.
    """
    new = check_new_account(
        factory, email, role=role, venues=venues, display_name=display_name, registry=registry
    )
    check_password(password)
    row = Account(
        email=new.email,
        display_name=new.display_name,
        role=new.role,
        venues=list(new.venues),
        password_hash=_hasher(hasher).hash(password),
        created_at=now,
    )
    try:
        with factory() as session, session.begin():
            session.add(row)
            session.flush()
            return AccountInfo.of(row)
    except IntegrityError as exc:  # another process created the same e-mail since the check
        raise AccountError("email", f"an account for {new.email} already exists") from exc


def set_password(
    factory: sessionmaker[Session], email: str, password: str, *, hasher: PasswordHasher | None = None
) -> AccountInfo:
    """Give the account a new password; raises :class:`AccountError` (unknown account, short password)."""
    check_password(password)
    password_hash = _hasher(hasher).hash(password)
    with factory() as session, session.begin():
        row = _find(session, email)
        row.password_hash = password_hash
        return AccountInfo.of(row)


def disable(factory: sessionmaker[Session], email: str, *, now: datetime) -> AccountInfo:
    """Stop the account from signing in (it stays, for the audit trail); twice keeps the first time."""
    with factory() as session, session.begin():
        row = _find(session, email)
        if row.disabled_at is None:
            row.disabled_at = now
        return AccountInfo.of(row)


def get_account(factory: sessionmaker[Session], email: str) -> AccountInfo:
    """The account for ``email``; raises :class:`AccountError` when there is none."""
    with factory() as session:
        return AccountInfo.of(_find(session, email))


def list_accounts(factory: sessionmaker[Session]) -> list[AccountInfo]:
    """Every account, disabled ones included, by e-mail."""
    with factory() as session:
        return [AccountInfo.of(row) for row in session.scalars(select(Account).order_by(Account.email))]


def verify_login(
    factory: sessionmaker[Session],
    email: str,
    password: str,
    *,
    now: datetime,
    hasher: PasswordHasher | None = None,
) -> AccountInfo:
    """The account ``email`` and ``password`` sign in to; records the login time.

    Raises :class:`LoginRefused` when the e-mail is unknown, the account disabled or the password wrong;
    every case runs exactly one argon2 verification. A hash made with other parameters than the
    hasher's current ones is replaced.
    """
    active = _hasher(hasher)
    try:
        address = normalise_email(email)
    except AccountError:
        address = None
    with factory() as session, session.begin():
        row = (
            session.scalars(select(Account).where(Account.email == address)).one_or_none()
            if address is not None
            else None
        )
        usable = row is not None and row.disabled_at is None
        stored = row.password_hash if row is not None and usable else _dummy_hash(active)
        candidate = password[:MAX_PASSWORD_LENGTH]
        try:
            matched = active.verify(stored, candidate) and usable and len(password) <= MAX_PASSWORD_LENGTH
        except (VerificationError, InvalidHashError):
            matched = False
        if row is None:
            raise LoginRefused("unknown")
        if row.disabled_at is not None:
            raise LoginRefused("disabled")
        if not matched:
            raise LoginRefused("password")
        if active.check_needs_rehash(row.password_hash):
            row.password_hash = active.hash(password)
        row.last_login_at = now
        return AccountInfo.of(row)
