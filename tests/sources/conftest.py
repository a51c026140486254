"""Parametrise a test's ``listing`` argument over its module's ``LISTINGS`` (parsed once at import)."""

from __future__ import annotations

import pytest


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Run every test that takes ``listing`` once per item of the module's ``LISTINGS``."""
    if "listing" in metafunc.fixturenames:
        listings = getattr(metafunc.module, "LISTINGS", [])
        metafunc.parametrize("listing", listings, ids=[item.record_id for item in listings])
