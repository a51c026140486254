"""Venue push tokens: issue, look up, list and revoke.

A token is ``skp_`` plus :func:`secrets.token_urlsafe` of 32 random bytes (256 bits). Only its
SHA-256 hash is stored, with the first :data:`PREFIX_LENGTH` characters in the clear so that an
operator can tell tokens apart (``tokens list``) and revoke one by prefix.

Why a plain SHA-256 and not bcrypt/argon2: slow password hashes exist to make guessing a
*low-entropy* secret from a stolen hash expensive. A 256-bit random token cannot be guessed, so a
fast hash is just as safe, and it keeps authenticating every request cheap. Lookup goes by the
(public) prefix, and the hashes are compared with :func:`hmac.compare_digest`, so the time an
answer takes says nothing about how much of a presented token was right.

Every token writes into one source (default ``push:<venue>``), and all tokens of a source write for
the same venues: a source's records can then never belong to a venue some token of it may not
touch. A source name always starts with ``push:``, so it can never be a scraped source's name.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import ApiToken, Venue
from aggregator.normalise.venues import VenueRegistry

TOKEN_MARK = "skp_"
PREFIX_LENGTH = 12
"""``skp_`` plus 8 random characters: enough to tell tokens apart, far too little to guess the rest."""
SOURCE_PREFIX = "push:"
_MAX_SOURCE = 120


class TokenError(Exception):
    """A token could not be issued or revoked; ``subject`` names what was wrong (venue, source, token)."""

    def __init__(self, subject: str, message: str) -> None:
        self.subject = subject
        self.message = message
        super().__init__(f"{subject}: {message}")


class AuthError(Exception):
    """A request's credentials were refused; ``reason`` is safe to show to the caller."""

    def __init__(self, reason: str, *, presented: bool) -> None:
        self.reason = reason
        self.presented = presented
        super().__init__(reason)


@dataclass(frozen=True, slots=True)
class PushToken:
    """What a request may do: a detached snapshot of an :class:`~aggregator.models.ApiToken` row."""

    id: int
    name: str
    prefix: str
    source: str
    venues: tuple[str, ...]
    read_only: bool
    created_at: datetime
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    @classmethod
    def of(cls, row: ApiToken) -> PushToken:
        """The snapshot of ``row``."""
        return cls(
            row.id,
            row.name,
            row.prefix,
            row.source,
            tuple(str(v) for v in row.venues),
            row.read_only,
            row.created_at,
            row.revoked_at,
            row.last_used_at,
        )


def hash_token(token: str) -> str:
    """The stored form of ``token`` (hex SHA-256; see the module docstring for why that suffices)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> str:
    """A fresh random token."""
    return TOKEN_MARK + secrets.token_urlsafe(32)


def default_source(venues: Sequence[str]) -> str:
    """``push:<venue>`` (several venues: ``push:<a>+<b>``)."""
    return SOURCE_PREFIX + "+".join(venues)


def issue_token(
    factory: sessionmaker[Session],
    venues: Sequence[str],
    *,
    name: str,
    registry: VenueRegistry,
    read_only: bool = False,
    source: str | None = None,
    reserved: Collection[str] = (),
    now: datetime,
) -> tuple[PushToken, str]:
    """Create a token for ``venues``; returns its snapshot and the token itself (shown once, never stored).

    Venues must be registered (in ``registry`` or the venues table). ``reserved`` holds names of
    configured sources, which a push source must not take. Raises :class:`TokenError`.
    """
    name = name.strip()
    if not name or len(name) > 200:
        raise TokenError("name", "give the token a name of 1 to 200 characters (e.g. the exporting system)")
    wanted = list(dict.fromkeys(v.strip() for v in venues if v.strip()))
    if not wanted:
        raise TokenError("venue", "name at least one venue slug")
    source = (source or default_source(wanted)).strip()
    if not source.startswith(SOURCE_PREFIX) or len(source) <= len(SOURCE_PREFIX):
        raise TokenError("source", f"a push source name starts with {SOURCE_PREFIX!r}, got {source!r}")
    if len(source) > _MAX_SOURCE:
        raise TokenError("source", f"{source!r} is longer than {_MAX_SOURCE} characters; pass --source")
    if source in reserved:
        raise TokenError("source", f"{source!r} is a configured source; a push source needs its own name")
    token = new_token()
    with factory() as session, session.begin():
        known = set(session.scalars(select(Venue.slug).where(Venue.slug.in_(wanted))))
        unknown = [slug for slug in wanted if slug not in known and registry.get(slug) is None]
        if unknown:
            raise TokenError("venue", f"no venue {unknown[0]!r}; use a slug from the venue registry")
        for other in session.scalars(
            select(ApiToken).where(ApiToken.source == source, ApiToken.revoked_at.is_(None))
        ):
            if sorted(other.venues) != sorted(wanted):
                raise TokenError(
                    "source",
                    f"{source!r} belongs to tokens for {', '.join(sorted(other.venues))}; "
                    "all tokens of one source must write for the same venues (pass another --source)",
                )
        row = ApiToken(
            name=name,
            token_hash=hash_token(token),
            prefix=token[:PREFIX_LENGTH],
            venues=wanted,
            source=source,
            read_only=read_only,
            created_at=now,
        )
        session.add(row)
        session.flush()
        return PushToken.of(row), token


def authenticate(factory: sessionmaker[Session], authorization: str | None, *, now: datetime) -> PushToken:
    """The token an ``Authorization: Bearer …`` header presents; raises :class:`AuthError`.

    Records the time of use (at most once a minute per token, to keep busy tokens from writing
    a row on every request).
    """
    if not authorization:
        raise AuthError("this endpoint needs an Authorization: Bearer <token> header", presented=False)
    scheme, _, presented = authorization.strip().partition(" ")
    presented = presented.strip()
    if scheme.lower() != "bearer" or not presented:
        raise AuthError("the Authorization header must be 'Bearer <token>'", presented=True)
    digest = hash_token(presented)
    with factory() as session, session.begin():
        found: ApiToken | None = None
        for row in session.scalars(select(ApiToken).where(ApiToken.prefix == presented[:PREFIX_LENGTH])):
            if hmac.compare_digest(row.token_hash, digest):
                found = row
        if found is None:
            raise AuthError("the token is not valid", presented=True)
        if found.revoked_at is not None:
            raise AuthError("the token has been revoked", presented=True)
        if found.last_used_at is None or (now - found.last_used_at).total_seconds() >= 60:
            found.last_used_at = now
        return PushToken.of(found)


def list_tokens(factory: sessionmaker[Session]) -> list[PushToken]:
    """Every token, oldest first (revoked ones included)."""
    with factory() as session:
        return [PushToken.of(row) for row in session.scalars(select(ApiToken).order_by(ApiToken.id))]


def revoke_token(factory: sessionmaker[Session], id_or_prefix: str, *, now: datetime) -> PushToken:
    """Revoke the token with this id or prefix; raises :class:`TokenError` if none or several match."""
    key = id_or_prefix.strip()
    with factory() as session, session.begin():
        if key.isdigit():
            rows = [row] if (row := session.get(ApiToken, int(key))) is not None else []
        elif len(key) >= len(TOKEN_MARK) + 4:
            rows = [
                row
                for row in session.scalars(select(ApiToken).order_by(ApiToken.id))
                if row.prefix.startswith(key) or key.startswith(row.prefix)
            ]
        else:
            raise TokenError(key, f"give a token id or at least {len(TOKEN_MARK) + 4} characters of a prefix")
        if not rows:
            raise TokenError(key, "no token has this id or prefix")
        if len(rows) > 1:
            ids = ", ".join(str(r.id) for r in rows)
            raise TokenError(key, f"{len(rows)} tokens match ({ids}); give the id")
        row = rows[0]
        if row.revoked_at is None:
            row.revoked_at = now
        return PushToken.of(row)


PORTAL_TOKEN_NAME = "Veranstaltungsort-Portal / venue portal"
"""The name of the token the venue portal writes with (its secret is never shown or kept)."""


def portal_token(
    factory: sessionmaker[Session],
    venues: Sequence[str],
    *,
    registry: VenueRegistry,
    reserved: Collection[str] = (),
    now: datetime,
) -> PushToken:
    """The token the venue portal writes ``venues``' events with, made at the first write.

    Its source is the venues' push source (``push:<venue>``), so an event entered by form and one
    pushed by the venue's own system are records of one source, ranked as kind ``push``. Raises
    :class:`TokenError` as :func:`issue_token` does (e.g. the source belongs to other venues' tokens).
    """
    wanted = list(dict.fromkeys(venues))
    source = default_source(wanted)
    with factory() as session:
        for row in session.scalars(
            select(ApiToken)
            .where(
                ApiToken.source == source, ApiToken.name == PORTAL_TOKEN_NAME, ApiToken.revoked_at.is_(None)
            )
            .order_by(ApiToken.id)
        ):
            if sorted(row.venues) == sorted(wanted) and not row.read_only:
                return PushToken.of(row)
    token, _secret = issue_token(
        factory, wanted, name=PORTAL_TOKEN_NAME, registry=registry, source=source, reserved=reserved, now=now
    )
    return token
