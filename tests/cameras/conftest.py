"""The camera tests' servers: a private broker (camera stills are big, and the shared broker
carries other engineers' tests), a stills directory and an ingest worker with the service's
hooks (the snapshot hook among them), one of each per test module."""

from __future__ import annotations

import pytest

from central.db.migrate import migrate
from tests.central.ingest_support import running_worker
from tests.support import services


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    b = services.start_private_mosquitto(tmp_path_factory.mktemp("camera-broker"))
    yield b
    b.stop()


@pytest.fixture(scope="module")
def stills(tmp_path_factory):
    return tmp_path_factory.mktemp("stills")


@pytest.fixture(scope="module")
def worker(database_url, broker):
    migrate(database_url)
    with running_worker(database_url, broker.url, ingest_hooks=True) as w:
        yield w
