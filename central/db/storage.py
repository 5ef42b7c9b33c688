"""Which storage path a database offers (TimescaleDB or plain PostgreSQL), and the few
operations whose statements differ between the two.

TimescaleDB refuses to load unless the server preloads it: a `CREATE EXTENSION` on a server
that has the package installed but not in `shared_preload_libraries` is FATAL and closes the
connection. So the probe first reads the server's setting, and tries the extension only on a
connection of its own, in a transaction it rolls back.
"""

from __future__ import annotations

import logging

import psycopg
from psycopg.conninfo import make_conninfo

from central.db.aggregates import AGGREGATES
from central.db.pool import connect

log = logging.getLogger("central.db.storage")

PRELOAD_FIX = ("在 postgresql.conf 中加入一行 shared_preload_libraries = 'timescaledb'"
               "（已列出的库请保留，用逗号分隔），然后重启 PostgreSQL")
STORAGE_VERSION = 9000


def recorded_path(conn) -> str | None:
    """'plain' or 'timescale' as recorded by migrate (None before the first migrate)."""
    row = conn.execute("SELECT name FROM schema_migrations WHERE version = %s",
                       (STORAGE_VERSION,)).fetchone()
    return row[0].removeprefix("storage_") if row else None


def _in_transaction(conn) -> bool:
    return conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE


def _separate_connection(conn) -> psycopg.Connection:
    password = conn.info.password
    dsn = make_conninfo(conn.info.dsn, **({"password": password} if password else {}))
    return connect(dsn, application_name="grainlink-migrate-probe")


def timescale_problem(conn) -> str | None:
    """None when TimescaleDB can be used in this database, else why not, in words an
    operator can act on. `conn` is never put at risk: the extension is tried elsewhere."""
    if conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'timescaledb'").fetchone():
        return None
    if not conn.execute("SELECT 1 FROM pg_available_extensions "
                        "WHERE name = 'timescaledb'").fetchone():
        return "此 PostgreSQL 服务器未安装 timescaledb 扩展"
    # pg_settings leaves out what this role may not read (shared_preload_libraries needs
    # pg_read_all_settings): unknown then, and the probe on its own connection decides.
    row = conn.execute("SELECT setting FROM pg_settings "
                       "WHERE name = 'shared_preload_libraries'").fetchone()
    preload = row[0] if row else None
    if preload is not None and "timescaledb" not in [p.strip().strip('"')
                                                      for p in preload.split(",")]:
        return ("timescaledb 已安装但未预加载（当前 shared_preload_libraries = "
                f"'{preload}'）：{PRELOAD_FIX}")
    try:
        with _separate_connection(conn) as probe:
            probe.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
            probe.rollback()
    except psycopg.Error as exc:
        return f"timescaledb 已安装，但无法在此数据库中启用：{str(exc).strip()}"
    return None


def refresh_aggregates(conn, path: str | None = None) -> list[str]:
    """Bring every aggregate up to date with the raw readings now, on either path (tests,
    and operators after a bulk load); returns the aggregates refreshed. Needs an autocommit connection outside a transaction (the
    TimescaleDB procedure refuses to run inside one)."""
    path = path or recorded_path(conn)
    if path is None:
        return []
    if _in_transaction(conn) or not conn.autocommit:
        raise RuntimeError("refresh_aggregates needs an autocommit connection")
    done = []
    for agg in AGGREGATES:
        if path == "timescale":
            # Never where retention may have dropped raw chunks: a refresh there would empty
            # buckets that only the aggregate still holds.
            row = conn.execute(
                "SELECT now() - (config->>'drop_after')::interval "
                "FROM timescaledb_information.jobs WHERE proc_name = 'policy_retention' "
                "AND hypertable_schema = current_schema() AND hypertable_name = %s",
                (agg.source,)).fetchone()
            conn.execute("CALL refresh_continuous_aggregate(%s, %s::timestamptz, NULL)",
                         (agg.name, row[0] if row else None))
        else:
            conn.execute(f"REFRESH MATERIALIZED VIEW CONCURRENTLY {agg.name}")
        done.append(agg.name)
    return done
