"""Stable, title-free identifiers.

IDs are derived once from the source key that created the row (so a rebuilt database gets the same
IDs from the same data) and are then stored: later title or time changes never change them.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable


def _digest(*parts: str) -> str:
    raw = hashlib.sha256("\x1f".join(parts).encode("utf-8")).digest()
    return base64.b32encode(raw).decode("ascii").lower()[:20]


def event_id(source: str, key: str) -> str:
    """The ID of an event first built from ``source``'s series (or record) ``key``."""
    return f"ev{_digest('event', source, key)}"


def occurrence_id(source: str, record_id: str) -> str:
    """The ID of an occurrence first built from ``source``'s record ``record_id``."""
    return f"oc{_digest('occurrence', source, record_id)}"


def with_suffix(base: str, attempt: int) -> str:
    """A fallback ID when ``base`` is taken by an unrelated row (never in practice)."""
    return base if attempt == 0 else f"{base[:20]}{_digest(base, str(attempt))[:8]}"


def first_free(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, or the first fallback of it that ``taken`` says is free."""
    attempt = 0
    while taken(with_suffix(base, attempt)):
        attempt += 1
    return with_suffix(base, attempt)
