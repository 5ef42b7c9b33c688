"""TimescaleDB servers for the tests of the TimescaleDB-only behaviour.

They run against the test server when it preloads timescaledb, or, when the extension is
installed on this machine, against a private server started here with it preloaded; they skip
with the reason otherwise (TimescaleDB is in none of the project's package sources, so CI
machines usually lack it). A server with the extension installed but not preloaded is started
on demand for the migrate fallback tests.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import psycopg
import pytest

from central.db.storage import timescale_problem
from tests.support import services


def timescale_library() -> Path | None:
    """The installed timescaledb.so of the PostgreSQL whose initdb the tests use, if any."""
    try:
        lib = services._pg_bindir().parent / "lib" / "timescaledb.so"
    except RuntimeError:
        return None
    return lib if lib.exists() else None


def start_private(preload: bool) -> services.PrivatePostgres:
    """A private server (initdb in a temp dir, free port), preloading timescaledb or not."""
    bindir = services._pg_bindir()
    root = Path(tempfile.mkdtemp(prefix="grainlink-tsdb-"))
    os.chmod(root, 0o777)
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    pg = services.PrivatePostgres(datadir=root / "data", port=services.free_port(), bindir=bindir)
    pg._run("initdb", "-D", str(pg.datadir), "-U", "postgres", "-A", "trust", "--no-sync")
    with open(pg.datadir / "postgresql.conf", "a", encoding="utf-8") as conf:
        conf.write("timescaledb.telemetry_level = off\n")
        if preload:
            conf.write("shared_preload_libraries = 'timescaledb'\n")
    pg.start()
    return pg


def _offers_timescale(server_url: str) -> bool:
    with services.scratch_database(server_url, prefix="grainlink_probe") as url, \
            psycopg.connect(url) as conn:
        return timescale_problem(conn) is None


@pytest.fixture(scope="session")
def timescale_server(database_server_url):
    """A server URL that offers TimescaleDB (preloaded), or the tests skip."""
    if _offers_timescale(database_server_url):
        yield database_server_url
        return
    if timescale_library() is None:
        pytest.skip("TimescaleDB is not installed here (no timescaledb.so in PostgreSQL's "
                    "lib dir) and the test server does not preload it")
    pg = start_private(preload=True)
    try:
        yield pg.url
    finally:
        pg.stop()


@pytest.fixture
def not_preloaded_server():
    """A private server with the extension installed but not preloaded (the common mistake)."""
    if timescale_library() is None:
        pytest.skip("TimescaleDB is not installed here (no timescaledb.so in PostgreSQL's lib "
                    "dir): the installed-but-not-preloaded case cannot be built")
    pg = start_private(preload=False)
    try:
        yield pg.url
    finally:
        pg.stop()
