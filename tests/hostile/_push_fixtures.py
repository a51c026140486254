"""Shared by the hostile push and API tests: the push suite's fixtures and tokens, the API suite's calendar.

Imported explicitly (not a conftest), so other hostile test files are not affected.
"""

from __future__ import annotations

import sys
from pathlib import Path

_TESTS = Path(__file__).resolve().parents[1]
for _folder in ("push", "api"):
    if str(_TESTS / _folder) not in sys.path:
        sys.path.append(str(_TESTS / _folder))

from _data import NOW as API_NOW  # noqa: E402
from _data import open_client  # noqa: E402
from _push import JSONLD, KONZERTHAUS, PushRuntime, Venue, client, event, konzerthaus, push_settings, runtime  # noqa: E402
from fixed_clock import NOW  # noqa: E402

__all__ = [
    "API_NOW",
    "JSONLD",
    "KONZERTHAUS",
    "NOW",
    "PushRuntime",
    "Venue",
    "client",
    "event",
    "konzerthaus",
    "open_client",
    "push_settings",
    "runtime",
]
