"""Shared fixtures: real servers (see tests/support/services.py), a scratch database per
test session, free ports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import services

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory) -> str:
    """The machine's broker when it answers; otherwise a private mosquitto for the session."""
    url = services.shared_mqtt_url()
    if services.mqtt_available(url):
        yield url
        return
    broker = services.start_private_mosquitto(tmp_path_factory.mktemp("mosquitto"))
    yield broker.url
    broker.stop()


@pytest.fixture
def private_broker(tmp_path):
    """A mosquitto of the test's own, for tests that stop or restart the broker."""
    broker = services.start_private_mosquitto(tmp_path / "mosquitto")
    yield broker
    broker.stop()


@pytest.fixture(scope="session")
def database_server_url() -> str:
    """A PostgreSQL server URL (the machine's, or a private one when it does not answer)."""
    url = services.shared_database_server_url()
    if services.database_available(url):
        yield url
        return
    pg = services.start_private_postgres()
    yield pg.url
    pg.stop()


@pytest.fixture(scope="session")
def database_url(database_server_url) -> str:
    """A fresh, empty database for this test session."""
    with services.scratch_database(database_server_url) as url:
        yield url


@pytest.fixture
def free_port() -> int:
    return services.free_port()


@pytest.fixture(autouse=True)
def _no_user_environment(monkeypatch):
    # The suite must not pick up a developer's own broker or database settings by accident.
    for name in list(os.environ):
        if name.startswith("GRAINLINK_") and not name.startswith("GRAINLINK_TEST_"):
            monkeypatch.delenv(name, raising=False)
