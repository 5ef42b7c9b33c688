"""Fixtures of the central tests that work on the session's database directly."""

from __future__ import annotations

import pytest

from central.db.pool import connect
from tests.central.api_support import migrated_settings


@pytest.fixture(scope="module")
def url(database_url):
    """The session's scratch database, migrated."""
    migrated_settings(database_url)
    return database_url


@pytest.fixture
def conn(url):
    """An autocommit connection to it."""
    with connect(url, autocommit=True) as c:
        yield c
