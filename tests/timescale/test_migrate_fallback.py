"""`grainlink central migrate` on a server that cannot offer TimescaleDB: `timescale=auto`
falls back to plain PostgreSQL and says why; `timescale=on` stops with the fix and changes
nothing (issue 17.3)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from central.db.migrate import MigrationError, migrate
from central.db.storage import timescale_problem
from central.settings import Settings
from tests.support import services

FIX = "shared_preload_libraries = 'timescaledb'"
ROOT = Path(__file__).resolve().parents[2]


def _grainlink(*args: str, **settings: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRAINLINK_")}
    env.update({f"GRAINLINK_{k.upper()}": v for k, v in settings.items()})
    return subprocess.run([sys.executable, "-m", "grainlink", *args], capture_output=True,
                          text=True, timeout=120, env=env, cwd=ROOT)


def _tables(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
                            ).fetchone()[0]


def test_installed_but_not_preloaded(not_preloaded_server, caplog):
    with services.scratch_database(not_preloaded_server, prefix="grainlink_np") as url:
        with psycopg.connect(url) as conn:
            problem = timescale_problem(conn)
            # the probe left this connection usable (a failed CREATE EXTENSION would not)
            assert conn.execute("SELECT 1").fetchone() == (1,)
        assert "未预加载" in problem and FIX in problem

        auto = _grainlink("central", "migrate", "--database-url", url)  # auto: the default
        assert auto.returncode == 0, auto.stderr
        assert "storage_plain" in auto.stdout
        assert "改用普通 PostgreSQL 存储" in auto.stderr and FIX in auto.stderr

    with services.scratch_database(not_preloaded_server, prefix="grainlink_np") as url:
        on = _grainlink("central", "migrate", "--database-url", url, timescale="on")
        assert on.returncode == 1 and FIX in on.stderr, on.stderr
        with pytest.raises(MigrationError, match=f"timescale=on 无法满足：.*{FIX}"):
            migrate(url, Settings(database_url=url, timescale="on"))
        assert _tables(url) == 1  # only schema_migrations: nothing else was applied
        with caplog.at_level(logging.WARNING, logger="central.db.migrate"):
            assert migrate(url, Settings(database_url=url))[-1] == "storage_plain"
        assert FIX in caplog.text


def test_the_test_server_path_is_chosen_and_explained(database_server_url, caplog):
    """Whatever the test server is (plain, TimescaleDB installed or preloaded), migrate
    picks the path it offers and, when that is plain, says why in words."""
    with services.scratch_database(database_server_url, prefix="grainlink_tp") as url:
        with psycopg.connect(url) as conn:
            problem = timescale_problem(conn)
            installed = conn.execute("SELECT 1 FROM pg_available_extensions "
                                     "WHERE name = 'timescaledb'").fetchone() is not None
        if problem is None:
            assert migrate(url, Settings(database_url=url, timescale="on"))[-1] == \
                "storage_timescale"
            return
        assert ("未预加载" in problem) if installed else ("未安装" in problem)
        with pytest.raises(MigrationError, match="timescale=on 无法满足"):
            migrate(url, Settings(database_url=url, timescale="on"))
        with caplog.at_level(logging.WARNING, logger="central.db.migrate"):
            assert migrate(url, Settings(database_url=url))[-1] == "storage_plain"
        assert problem in caplog.text
        assert migrate(url, Settings(database_url=url, timescale="off")) == []
