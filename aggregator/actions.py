"""Editorial actions: what one changed (:class:`Change`, written to the audit log) and a refusal.

Every function behind a console button takes an :class:`~aggregator.audit.Actor` and ``now``, writes
its audit entry in the transaction of its change (:func:`audited`), and returns the :class:`Change`
for the caller's answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from aggregator.audit import Actor, record

COMMAND_LINE = Actor.machine("cli")
"""The author of a decision taken with ``stadtkalender`` on the server."""


@dataclass(frozen=True, slots=True)
class Change:
    """What one action changed: ``action`` on a target, its state ``before`` and ``after`` (JSON-ready)."""

    action: str
    target_type: str
    target_id: str
    before: dict[str, Any]
    after: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    """More about the outcome that is not state (e.g. the run a confirmation applied)."""


def audited(session: Session, actor: Actor, change: Change, *, now: datetime) -> Change:
    """Write ``change`` to the audit log in ``session``'s transaction; returns it."""
    note = ", ".join(f"{key}={value}" for key, value in change.detail.items()) or None
    record(
        session,
        actor,
        change.action,
        change.target_type,
        change.target_id,
        at=now,
        before=change.before,
        after=change.after,
        note=note,
    )
    return change


class ActionRefused(Exception):
    """An action cannot be done as asked; nothing was changed.

    ``code`` is stable (the console maps it to its German and English texts), ``params`` fill them in,
    and the message is the English text.
    """

    def __init__(self, code: str, message: str, **params: Any) -> None:
        self.code = code
        self.message = message
        self.params = params
        super().__init__(message)
