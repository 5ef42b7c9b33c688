"""Batch numbers received per depot, and the gaps between them (lost or still buffered)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class BatchGap:
    first_missing: int
    last_missing: int

    @property
    def missing(self) -> int:
        return self.last_missing - self.first_missing + 1


def batch_gaps(conn, depot: str, limit: int = 1000) -> list[BatchGap]:
    """Ranges of batch numbers missing between the first and the last one received."""
    rows = conn.execute(
        "SELECT first_missing, last_missing FROM batch_gaps WHERE depot = %s "
        "ORDER BY first_missing LIMIT %s", (depot, limit)).fetchall()
    return [BatchGap(int(a), int(b)) for a, b in rows]


def batch_summary(conn, depot: str) -> dict:
    """First and last batch, how many received, missing and redelivered."""
    row = conn.execute(
        "SELECT min(batch), max(batch), count(*), count(*) FILTER (WHERE deliveries > 1) "
        "FROM batches WHERE depot = %s", (depot,)).fetchone()
    first, last, received, redelivered = row
    missing = 0 if first is None else int(last - first + 1 - received)
    return {"first": first, "last": last, "received": received, "missing": missing,
            "redelivered": redelivered}
