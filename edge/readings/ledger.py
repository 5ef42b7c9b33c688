"""Which unit scan was stamped with which time, kept in the edge's SQLite file across restarts.

A unit scan is identified by the unit's scan counter, not by when it was read: the scan age
register is coarse, so two reads of the same scan give times up to a second (or more) apart.
The first read stamps the scan; every later read of the same counter gets that stamp back, and
once its messages are in the outbox the scan is `committed`: a re-poll or a restart then
publishes nothing new for it. Given the outbox's `transaction`, the ledger lives in the
outbox's own file. The stamp is written before the scan's rows and `committed` after them, so
a crash in between sends the scan again under the time it was first given (which central
keeps once), never under a new one.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from pathlib import Path
from typing import Any

_TABLE = """
CREATE TABLE IF NOT EXISTS unit_scans (
    bus TEXT NOT NULL,
    unit INTEGER NOT NULL,
    counter INTEGER NOT NULL,
    ts TEXT NOT NULL,
    committed INTEGER NOT NULL,
    PRIMARY KEY (bus, unit)
) WITHOUT ROWID
"""


class ScanLedger:
    """The last scan of every unit: (bus, unit) → (counter, time stamped, committed).

    `transaction` (the outbox's) opens a write transaction on the edge's database and yields
    it; with `path` instead the ledger keeps its own connection (tools, tests)."""

    def __init__(self, path: str | Path | None = None,
                 transaction: Callable[[], AbstractContextManager[Any]] | None = None):
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._transaction = transaction
        self._last: dict[tuple[str, int], tuple[int, datetime, bool]] = {}
        if transaction is None and path is not None:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._conn = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._conn.execute("PRAGMA busy_timeout=30000")
            # FULL: a stamp lost on power loss would let the same scan go out under a new time.
            self._conn.execute("PRAGMA synchronous=FULL")
        with self._tx() as db:
            if db is None:
                return
            db.execute(_TABLE)
            for bus, unit, counter, ts, committed in db.execute(
                    "SELECT bus, unit, counter, ts, committed FROM unit_scans").fetchall():
                self._last[(bus, unit)] = (counter, datetime.fromisoformat(ts), bool(committed))

    @contextlib.contextmanager
    def _tx(self):
        if self._transaction is not None:
            with self._transaction() as db:
                yield db
        elif self._conn is not None:
            with self._conn:  # commits, or rolls back on an exception
                yield self._conn
        else:
            yield None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def stamp(self, bus: str, unit: int, counter: int, ts: datetime) -> datetime:
        """The time of scan `counter`: `ts` if it is new, the time it was first stamped if not."""
        with self._lock:
            last = self._last.get((bus, unit))
            if last is not None and last[0] == counter:
                return last[1]
            self._write(bus, unit, counter, ts, False)
            self._last[(bus, unit)] = (counter, ts, False)
            return ts

    def is_committed(self, bus: str, unit: int, counter: int) -> bool:
        """True when scan `counter` of the unit is already in the outbox."""
        with self._lock:
            last = self._last.get((bus, unit))
            return last is not None and last[0] == counter and last[2]

    def mark_committed(self, bus: str, unit: int, counter: int) -> None:
        """The scan's messages are in the outbox (call after their transaction committed)."""
        with self._lock:
            last = self._last.get((bus, unit))
            if last is None or last[0] != counter or last[2]:
                return
            self._write(bus, unit, counter, last[1], True)
            self._last[(bus, unit)] = (counter, last[1], True)

    def _write(self, bus: str, unit: int, counter: int, ts: datetime, committed: bool) -> None:
        with self._tx() as db:
            if db is None:
                return
            db.execute(
                "INSERT INTO unit_scans (bus, unit, counter, ts, committed) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (bus, unit) DO UPDATE SET counter = excluded.counter, ts = excluded.ts, "
                "committed = excluded.committed",
                (bus, unit, counter, ts.isoformat(), int(committed)),
            )
