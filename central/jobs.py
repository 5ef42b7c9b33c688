"""Scheduled jobs of the central service (APScheduler, inside `grainlink central serve`).

- `refresh_aggregates`: plain PostgreSQL only (TimescaleDB refreshes its continuous
  aggregates by policy): REFRESH MATERIALIZED VIEW CONCURRENTLY of each aggregate.
- `mark_offline`: a depot whose last message is older than `offline_after_s`
  (expected scan interval x offline_after_scans) becomes 'offline'.
- `apply_retention`: plain PostgreSQL deletes raw readings past `raw_retention_days`
  (TimescaleDB drops chunks by policy); dead letters past `dead_letter_retention_days`;
  commands to the edge past `commands_retention_days` (central/commands/log.py).

Each job is a plain function of (connection, settings) on an autocommit connection, run
under an advisory lock so several `serve` processes do not repeat each other's work. The
scheduler runs the jobs it is given: central/wiring.py lists them all, these and the other
parts' (alarms, lots, cameras).
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable, Mapping
from typing import NamedTuple

from central.commands import log as command_log
from central.db.pool import connect
from central.db.storage import recorded_path
from central.db.storage import refresh_aggregates as refresh_views

log = logging.getLogger("central.jobs")


storage_path = recorded_path


def _locked(conn, job: str) -> bool:
    key = zlib.crc32(f"grainlink-job:{job}".encode())
    return conn.execute("SELECT pg_try_advisory_lock(%s)", (key,)).fetchone()[0]


def _unlock(conn, job: str) -> None:
    key = zlib.crc32(f"grainlink-job:{job}".encode())
    conn.execute("SELECT pg_advisory_unlock(%s)", (key,))


def _record(conn, job: str, ok: bool, detail: str) -> None:
    conn.execute(
        "INSERT INTO job_runs (job, last_run_at, last_ok, detail) VALUES (%s, now(), %s, %s) "
        "ON CONFLICT (job) DO UPDATE SET last_run_at = now(), last_ok = EXCLUDED.last_ok, "
        "detail = EXCLUDED.detail", (job, ok, detail[:1000]))


def refresh_aggregates(conn, settings=None) -> list[str]:
    """Refresh the materialized views (plain path); returns those refreshed."""
    if storage_path(conn) != "plain":
        return []
    return refresh_views(conn, "plain")


def mark_offline(conn, settings) -> list[str]:
    """Depots silent for longer than settings.offline_after_s -> 'offline'; returns them."""
    rows = conn.execute(
        """UPDATE depots SET state = 'offline', state_since = now(), updated_at = now()
           WHERE state <> 'offline'
             AND coalesce(last_seen, registered_at) < now() - make_interval(secs => %s)
           RETURNING code""", (settings.offline_after_s,)).fetchall()
    return sorted(r[0] for r in rows)


def apply_retention(conn, settings) -> dict[str, int]:
    """Delete what is past its retention; returns rows deleted per table."""
    out = {}
    cur = conn.execute("DELETE FROM dead_letters WHERE received_at < now() - make_interval("
                       "days => %s)", (settings.dead_letter_retention_days,))
    out["dead_letters"] = cur.rowcount
    out["depot_commands"] = command_log.prune(conn, settings.commands_retention_days)
    if settings.raw_retention_days and storage_path(conn) == "plain":
        for table in ("grain_readings", "air_readings"):
            cur = conn.execute(f"DELETE FROM {table} WHERE ts < now() - make_interval(days => %s)",
                               (settings.raw_retention_days,))
            out[table] = cur.rowcount
    return out


class Job(NamedTuple):
    """A scheduled job: `fn(conn, settings)`, and the Settings attribute holding its interval
    in seconds (None: hourly)."""
    fn: Callable
    interval_setting: str | None = None


def run_job(settings, job: str, fn: Callable) -> object:
    """Run `fn` as job `job` on its own connection; errors are logged and recorded, never
    raised."""
    try:
        with connect(settings.database_url, autocommit=True,
                     application_name=f"grainlink-job {job}") as conn:
            if not _locked(conn, job):
                return None  # another process is running it right now
            try:
                result = fn(conn, settings)
                _record(conn, job, True, repr(result))
                return result
            except Exception as exc:
                log.exception("job %s failed", job)
                _record(conn, job, False, f"{type(exc).__name__}: {exc}")
                return None
            finally:
                _unlock(conn, job)
    except Exception as exc:  # database unreachable: the next run tries again
        log.warning("job %s could not run: %s", job, str(exc).strip())
        return None


def start_jobs(settings, jobs: Mapping[str, Job]):
    """A started APScheduler BackgroundScheduler running these jobs; `.shutdown()` stops it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    for job, (fn, interval_setting) in jobs.items():
        seconds = getattr(settings, interval_setting) if interval_setting else 3600.0
        scheduler.add_job(run_job, "interval", seconds=seconds, args=(settings, job, fn), id=job,
                          max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
