"""PostgreSQL connections for the central service: psycopg 3 pools and single connections.

Every session runs with `timezone=UTC`, so timestamptz values come back as UTC datetimes
whatever the server's default zone is.
"""

from __future__ import annotations

import psycopg
from psycopg_pool import ConnectionPool

SESSION_OPTIONS = "-c timezone=UTC"


def connection_kwargs(application_name: str = "grainlink", options: str = "") -> dict:
    return {"options": f"{SESSION_OPTIONS} {options}".strip(), "application_name": application_name}


def connect(url: str, *, autocommit: bool = False, application_name: str = "grainlink",
            connect_timeout: int = 5, options: str = "") -> psycopg.Connection:
    """One connection (caller closes it), session in UTC; `options` adds server settings
    (`-c name=value ...`) for this session."""
    return psycopg.connect(url, autocommit=autocommit, connect_timeout=connect_timeout,
                           **connection_kwargs(application_name, options))


def get_pool(settings, *, min_size: int | None = None, max_size: int | None = None,
             name: str = "grainlink", wait: bool = False, timeout: float = 10.0) -> ConnectionPool:
    """A new, opened pool for `settings.database_url`; the caller closes it.

    It does not wait for the database unless `wait` (the server may still be starting); a
    connection is checked before it is handed out, so the pool recovers from a restart of
    the database by itself.
    """
    pool = ConnectionPool(
        settings.database_url,
        min_size=settings.db_pool_min if min_size is None else min_size,
        max_size=settings.db_pool_max if max_size is None else max_size,
        kwargs={**connection_kwargs(name), "connect_timeout": 5},
        check=ConnectionPool.check_connection,
        name=name,
        timeout=timeout,
        open=False,
    )
    pool.open(wait=wait, timeout=timeout)
    return pool
