"""Secrets every process of one installation shares, made on first use and kept in the database.

The CSRF signing key must be the same in every worker, or a form rendered by one would be refused by
another; an installation that sets no secret of its own gets one made here, once.
"""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from aggregator.models import AppSecret


def shared_secret(factory: sessionmaker[Session], name: str, *, now: datetime) -> str:
    """The secret called ``name``; the first process to ask makes it, every later one reads it."""
    with factory() as session:
        row = session.get(AppSecret, name)
        if row is not None:
            return row.value
    try:
        with factory() as session, session.begin():
            session.add(AppSecret(name=name, value=secrets.token_urlsafe(48), created_at=now))
    except IntegrityError:  # another process made it first
        pass
    with factory() as session:
        return session.get_one(AppSecret, name).value
