"""Editorial actions: who acted (:class:`Actor`), what changed (:class:`Change`), and a refusal.

Every function behind a console button takes an actor and ``now`` and returns a :class:`Change`, so
that the caller can write the audit log entry (who, when, what, before, after) without reading the
database a second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Actor:
    """Who did something: a console account (its id and e-mail), or a named tool without an account."""

    account_id: int | None
    email: str

    @property
    def label(self) -> str:
        """What a row records as its author: the e-mail (or the tool's name)."""
        return self.email


COMMAND_LINE = Actor(None, "command line")
"""The author of a decision taken with ``stadtkalender`` on the server."""


@dataclass(frozen=True, slots=True)
class Change:
    """What one action changed: ``action`` on ``target``, its state ``before`` and ``after`` (JSON-ready)."""

    action: str
    target: str
    before: dict[str, Any]
    after: dict[str, Any]
    detail: dict[str, Any] = field(default_factory=dict)
    """More about the outcome that is not state (e.g. the run a confirmation applied)."""


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
