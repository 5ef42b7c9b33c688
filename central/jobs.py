"""Scheduled jobs of the central service (APScheduler, inside `grainlink central serve`).

- `refresh_aggregates`: plain PostgreSQL only (TimescaleDB refreshes its continuous
  aggregates by policy): REFRESH MATERIALIZED VIEW CONCURRENTLY of each aggregate.
- `mark_offline`: a depot whose last message is older than `offline_after_s`
  (expected scan interval x offline_after_scans) becomes 'offline'.
- `apply_retention`: plain PostgreSQL deletes raw readings past `raw_retention_days`
  (TimescaleDB drops chunks by policy); dead letters past `dead_letter_retention_days`.

Each job is a plain function of (connection, settings) on an autocommit connection, run
under an advisory lock so several `serve` processes do not repeat each other's work. Other
parts add theirs as a `*_JOBS` dict in a module of JOB_MODULES (central.alarms.jobs, ...).
"""

from __future__ import annotations

import importlib
import logging
import zlib

from central.db import plain
from central.db.migrate import STORAGE_VERSION
from central.db.pool import connect

log = logging.getLogger("central.jobs")


def storage_path(conn) -> str | None:
    """'plain' or 'timescale' as recorded by migrate (None before the first migrate)."""
    row = conn.execute("SELECT name FROM schema_migrations WHERE version = %s",
                       (STORAGE_VERSION,)).fetchone()
    return row[0].removeprefix("storage_") if row else None


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
    done = []
    for sql in plain.refresh_statements():
        conn.execute(sql)
        done.append(sql.rsplit(" ", 1)[-1])
    return done


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
    if settings.raw_retention_days and storage_path(conn) == "plain":
        for table in ("grain_readings", "air_readings"):
            cur = conn.execute(f"DELETE FROM {table} WHERE ts < now() - make_interval(days => %s)",
                               (settings.raw_retention_days,))
            out[table] = cur.rowcount
    return out


# name -> (function(conn, settings), Settings attribute with its interval in seconds, or None
# for hourly)
JOBS = {
    "refresh_aggregates": (refresh_aggregates, "aggregate_refresh_interval_s"),
    "mark_offline": (mark_offline, "offline_check_interval_s"),
    "apply_retention": (apply_retention, None),
}

# Other parts add jobs in the same shape as a module-level dict named `*_JOBS`.
JOB_MODULES = ("central.alarms.jobs", "central.lots.jobs", "central.cameras.jobs")


def all_jobs(modules: tuple[str, ...] = JOB_MODULES) -> dict:
    """JOBS plus the job tables of the other parts that are installed."""
    jobs = dict(JOBS)
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
                continue
            log.exception("job module %s failed to import", name)
            continue
        except Exception:
            log.exception("job module %s failed to import", name)
            continue
        for attr, table in vars(module).items():
            if attr.endswith("_JOBS") and isinstance(table, dict):
                jobs.update(table)
    return jobs
# (central.alarms.jobs.ALARM_JOBS is picked up by all_jobs() through JOB_MODULES.)


def run_job(settings, job: str) -> object:
    """Run one job on its own connection; errors are logged and recorded, never raised."""
    fn = all_jobs()[job][0]
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


def start_jobs(settings):
    """A started APScheduler BackgroundScheduler running every job; `.shutdown()` stops it."""
    from apscheduler.schedulers.background import BackgroundScheduler

    scheduler = BackgroundScheduler(timezone="UTC")
    for job, (_fn, interval_setting) in all_jobs().items():
        seconds = getattr(settings, interval_setting) if interval_setting else 3600.0
        scheduler.add_job(run_job, "interval", seconds=seconds, args=(settings, job), id=job,
                          max_instances=1, coalesce=True)
    scheduler.start()
    return scheduler
