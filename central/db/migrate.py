"""Versioned, idempotent schema migrations: `migrate(conn_or_url)`.

`central/db/migrations/NNNN_name.sql` files are applied in version order, each in its own
transaction, and recorded in `schema_migrations`; an applied version is never run again.
Then the storage step: the TimescaleDB statements (`timescale.py`) when the server offers
the extension (installed and preloaded: `storage.timescale_problem`), else the
plain-PostgreSQL ones (`plain.py`); it is recorded as version 9000 with a checksum of its
statements and re-run only when they change (for example a new retention setting). A session advisory lock makes concurrent `migrate` calls (several workers starting
at once) take turns.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import psycopg

from central.db import plain, timescale
from central.db.pool import connect
from central.db.storage import STORAGE_VERSION, timescale_problem

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
LOCK_KEY = 0x6772_6169_6E6C_6B01  # "grainlk" + 1: one number for this schema's migrations
_FILE_RE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

log = logging.getLogger("central.db.migrate")


class MigrationError(RuntimeError):
    """A migration could not be applied; the message names the file."""


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """The migration files in version order; a badly named or duplicate file is an error."""
    found: dict[int, Migration] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_RE.match(path.name)
        if not match:
            raise MigrationError(f"{path}：文件名须为 NNNN_小写名称.sql")
        version = int(match.group(1))
        if version in found or version >= STORAGE_VERSION:
            raise MigrationError(f"{path}：版本号 {version} 重复或为保留值")
        found[version] = Migration(version, match.group(2), path.read_text(encoding="utf-8"))
    return [found[v] for v in sorted(found)]


_CREATE_TABLE = """CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY,
    name        text NOT NULL,
    checksum    text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
)"""


def _applied(conn) -> dict[int, tuple[str, str]]:
    rows = conn.execute("SELECT version, name, checksum FROM schema_migrations").fetchall()
    return {v: (n, c) for v, n, c in rows}


def storage_path(conn, settings) -> str:
    """'timescale' or 'plain' for this database and `settings.timescale` (auto|on|off)."""
    mode = getattr(settings, "timescale", "auto")
    if mode == "off":
        return "plain"
    problem = timescale_problem(conn)
    if problem is None:
        return "timescale"
    if mode == "on":
        raise MigrationError(f"timescale=on 无法满足：{problem}")
    log.warning("改用普通 PostgreSQL 存储（timescale=auto）：%s", problem)
    return "plain"


def storage_statements(path: str, settings) -> list[str]:
    if path == "timescale":
        return timescale.timescale_statements(settings)
    return plain.plain_statements(settings)


def _run(conn, sql: str, what: str) -> None:
    try:
        conn.execute(sql)
    except psycopg.Error as exc:
        raise MigrationError(f"{what}：{str(exc).strip()}") from exc


def _apply_files(conn, migrations: list[Migration], applied: dict,
                 path: str) -> tuple[list[str], bool]:
    """(what was applied, whether a TimescaleDB conversion ran: the storage step then runs
    again even when its statements did not change)."""
    done, converted = [], False
    for m in migrations:
        if m.version in applied:
            if applied[m.version][1] != m.checksum:
                log.warning("迁移 %04d_%s 在应用后被修改过，不会重新执行",
                            m.version, m.name)
            continue
        # What a file cannot do on a hypertable (timescale.before_migration) runs first,
        # outside the file's transaction; the storage step then runs again.
        before = timescale.before_migration(conn, m.version) if path == "timescale" else []
        if before:
            _run_each_autocommit(conn, before, f"迁移 {m.version:04d}（TimescaleDB 转换）")
            done.append(f"{m.version:04d}_{m.name}: TimescaleDB conversion")
            converted = True
        with conn.transaction():
            _run(conn, m.sql, f"迁移 {m.version:04d}_{m.name}.sql")
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (m.version, m.name, m.checksum),
            )
        done.append(f"{m.version:04d}_{m.name}")
    return done, converted


def _chosen_path(conn, settings, applied: dict) -> str:
    recorded = applied.get(STORAGE_VERSION)
    # Once built, a database keeps its storage path: converting plain tables is a planned,
    # manual step (create_hypertable with migrate_data on billions of rows).
    return recorded[0].removeprefix("storage_") if recorded else storage_path(conn, settings)


def _apply_storage(conn, path: str, settings, applied: dict, force: bool = False) -> list[str]:
    recorded = applied.get(STORAGE_VERSION)
    statements = storage_statements(path, settings)
    name = f"storage_{path}"
    checksum = hashlib.sha256("\n;\n".join(statements).encode()).hexdigest()
    if recorded == (name, checksum) and not force:
        return []
    if path == "timescale":
        # Some TimescaleDB DDL (continuous aggregates, policies) refuses to run inside a
        # transaction block; every statement is idempotent, so run each on its own. Then
        # fill any aggregate a conversion rebuilt (before_migration).
        head, policies = timescale.split_before_policies(statements)
        _run_each_autocommit(conn, head, name)
        _run_each_autocommit(conn, timescale.rebuild_followup(conn), f"{name}（重建聚合）")
        _run_each_autocommit(conn, policies, f"{name}（刷新策略）")
    else:
        with conn.transaction():
            for i, sql in enumerate(statements):
                _run(conn, sql, f"{name} 第 {i + 1} 条语句")
    with conn.transaction():
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s) "
            "ON CONFLICT (version) DO UPDATE SET name = EXCLUDED.name, "
            "checksum = EXCLUDED.checksum, applied_at = now()",
            (STORAGE_VERSION, name, checksum),
        )
    return [name]


def _run_each_autocommit(conn, statements: list[str], name: str) -> None:
    was = conn.autocommit
    if not was:
        conn.commit()
        conn.autocommit = True
    try:
        for i, sql in enumerate(statements):
            _run(conn, sql, f"{name} 第 {i + 1} 条语句")
    finally:
        if not was:
            conn.autocommit = False


def migrate(conn_or_url, settings=None, directory: Path = MIGRATIONS_DIR) -> list[str]:
    """Bring the schema up to date; returns what was applied (empty when nothing was due)."""
    if settings is None:
        from central.settings import Settings

        settings = Settings()
    migrations = discover(directory)
    if isinstance(conn_or_url, str):
        with connect(conn_or_url, autocommit=True, application_name="grainlink-migrate") as conn:
            return _migrate_locked(conn, migrations, settings)
    conn = conn_or_url
    done = _migrate_locked(conn, migrations, settings)
    if not conn.autocommit:
        conn.commit()
    return done


def _migrate_locked(conn, migrations: list[Migration], settings) -> list[str]:
    conn.execute("SELECT pg_advisory_lock(%s)", (LOCK_KEY,))
    try:
        with conn.transaction():
            conn.execute(_CREATE_TABLE)
        applied = _applied(conn)
        # Decided first, so that timescale=on on a server that cannot offer it changes nothing.
        path = _chosen_path(conn, settings, applied)
        done, converted = _apply_files(conn, migrations, applied, path)
        done += _apply_storage(conn, path, settings, _applied(conn), force=converted)
        for item in done:
            log.info("已应用 %s", item)
        return done
    finally:
        conn.execute("SELECT pg_advisory_unlock(%s)", (LOCK_KEY,))
