"""The login throttle: too many failed logins for one account or from one client in a minute are refused.

Failures are rows in the database, so every worker process — and every host on one PostgreSQL — sees
the same count. A refused attempt does not run the password check at all, and is not counted again.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import LoginFailure

WINDOW = timedelta(minutes=1)


def throttle_keys(email: str, client: str | None) -> list[str]:
    """The keys a login attempt is counted under: the e-mail as typed (folded) and the client address."""
    keys = [f"account:{email.strip().lower()[:320]}"]
    if client:
        keys.append(f"client:{client[:64]}")
    return keys


def retry_after(
    factory: sessionmaker[Session], keys: Sequence[str], *, now: datetime, limit: int
) -> int | None:
    """Seconds until one more attempt is allowed, or ``None`` when it is allowed now."""
    with factory() as session:
        waits: list[int] = []
        for key in keys:
            times = list(
                session.scalars(
                    select(LoginFailure.at)
                    .where(LoginFailure.key == key, LoginFailure.at > now - WINDOW)
                    .order_by(LoginFailure.at.desc())
                    .limit(limit)
                )
            )
            if len(times) >= limit:
                oldest = times[-1]
                waits.append(max(1, int((oldest + WINDOW - now).total_seconds()) + 1))
        return max(waits) if waits else None


def note_failure(factory: sessionmaker[Session], keys: Sequence[str], *, now: datetime) -> None:
    """Count one failed attempt under every key; failures older than the window are dropped."""
    with factory() as session, session.begin():
        session.execute(delete(LoginFailure).where(LoginFailure.at <= now - WINDOW))
        session.add_all(LoginFailure(key=key, at=now) for key in keys)


def failures(factory: sessionmaker[Session], key: str, *, now: datetime) -> int:
    """How many failures ``key`` has in the current window."""
    with factory() as session:
        count = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.key == key, LoginFailure.at > now - WINDOW)
        )
        return int(count or 0)
