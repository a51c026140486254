"""Fixtures for the push API: a runtime on the parametrised database, tokens, and a client (all in _push.py)."""

from __future__ import annotations

from _push import client, domicil, konzerthaus, push_settings, runtime

FIXTURES = (client, domicil, konzerthaus, push_settings, runtime)  # pytest finds fixtures by their names here
