"""Training tests run without Django: no settings, no database."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Overrides tests/conftest.py's Django cache reset: training needs no Django."""
    yield
