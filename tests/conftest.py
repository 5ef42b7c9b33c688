"""Shared fixtures: real servers (see tests/support/services.py), a scratch database per
test session, free ports."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support import services

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


# Workers of a parallel run (pytest-xdist) share the database server but each works in a
# scratch database of its own. A test file runs whole on one worker (its module fixtures are made
# once); the deployment tests' files together, as they share one session set-up.
DEPLOY_TESTS = "tests/deploy/"


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadfile`, with the files of DEPLOY_TESTS as one unit of work. (`loadgroup` would
    do it with marks, but pytest-xdist 3.8 cannot rename pytest 9's test ids: the marks are
    ignored.)"""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadFileScheduling

    class FolderOrFileScheduling(LoadFileScheduling):
        def _split_scope(self, nodeid: str) -> str:
            path = nodeid.split("::", 1)[0]
            return DEPLOY_TESTS if path.startswith(DEPLOY_TESTS) else path

    return FolderOrFileScheduling(config, log)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid.startswith(DEPLOY_TESTS):
            # the first deploy test's set-up runs the playbooks twice (install, then nothing
            # to change), several minutes when the other worker keeps a core busy
            item.add_marker(pytest.mark.timeout(900))


def _parallel_worker() -> str | None:
    """The pytest-xdist worker this session is ("gw1", …), None when run alone or as the first."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return worker if worker and worker != "gw0" else None


@pytest.fixture(scope="session")
def mqtt_url(tmp_path_factory) -> str:
    """The machine's broker when it answers; otherwise a private mosquitto for the session. The
    second and later workers of a parallel run take a private one too: tests subscribe to
    wildcards, and a message of another worker's test must not reach them."""
    url = services.shared_mqtt_url()
    if services.mqtt_available(url) and not _parallel_worker():
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
