"""The stills retention job (the scheduler runs it: central/wiring.py lists it)."""

from __future__ import annotations

from datetime import UTC, datetime

from central.cameras.store import cutoff_for, delete_older_than, retention_days, stills_dir


def stills_retention_job(conn, settings=None, now: datetime | None = None) -> int:
    now = now or datetime.now(UTC)
    return delete_older_than(conn, stills_dir(settings), cutoff_for(now, retention_days(settings)))
