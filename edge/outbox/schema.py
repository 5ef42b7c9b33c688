"""The edge's one SQLite file: opening it safely and its tables (outbox, counters, history,
command log)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA_VERSION = 1

_TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL
);
-- AUTOINCREMENT: a row id is never handed out twice, so a late PUBACK for a dropped row can
-- never delete a newer row that happened to get the same id.
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    priority INTEGER NOT NULL,
    batch INTEGER,
    created_at REAL NOT NULL,
    readings INTEGER NOT NULL,
    nbytes INTEGER NOT NULL,
    stamped INTEGER NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_drain ON outbox (priority, id);
CREATE TABLE IF NOT EXISTS history_grain (
    granary TEXT NOT NULL,
    cable INTEGER NOT NULL,
    ts REAL NOT NULL,
    temps_c TEXT NOT NULL,
    faults TEXT NOT NULL,
    PRIMARY KEY (granary, cable, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_grain_ts ON history_grain (ts);
CREATE TABLE IF NOT EXISTS history_air (
    place TEXT NOT NULL,
    granary TEXT NOT NULL,
    ts REAL NOT NULL,
    temp_c REAL,
    rh_pct REAL,
    PRIMARY KEY (place, granary, ts)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS history_air_ts ON history_air (ts);
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    received_at REAL NOT NULL,
    result BLOB
);
"""


class Database:
    """The edge database's one connection. (Plain sqlite3: the agent used nothing of
    sqlite-utils but `execute`, and importing it pulled in numpy, click and dateutil.)"""

    def __init__(self, conn: sqlite3.Connection):
        self.conn = conn

    def execute(self, sql: str, parameters=()) -> sqlite3.Cursor:
        return self.conn.execute(sql, parameters)

    def close(self) -> None:
        self.conn.close()


def open_database(path: str | Path) -> Database:
    """Open (creating if needed) the edge database in WAL mode with synchronous=FULL.

    FULL, not NORMAL: in WAL mode NORMAL may lose the last commits on power loss. A lost
    commit of the batch counter after its message was already published would hand the same
    batch number to a different message, which the contract forbids. One fsync per scan or
    per group of PUBACKs is cheap next to that.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # One connection shared by the agent's threads; every use is serialised by Outbox's lock.
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
    db = Database(conn)
    # Takes effect on a new file only: lets housekeeping hand the space of a drained backlog
    # back to the SD card (PRAGMA incremental_vacuum) without a full VACUUM.
    db.execute("PRAGMA auto_vacuum=INCREMENTAL")
    db.execute("PRAGMA journal_mode=wal")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("PRAGMA busy_timeout=30000")
    # The outbox is appended at one end and drained at the other through its indexes: a
    # small page cache serves that as well as SQLite's default 2 MB, which a Pi Zero needs.
    db.execute("PRAGMA cache_size=-512")
    for statement in _TABLES.split(";"):
        if statement.strip():
            db.execute(statement)
    db.conn.commit()
    return db
