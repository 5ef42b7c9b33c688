"""Every part of the central service and how data reaches it, assembled by plain imports.

One reading's way: a depot's MQTT message → `IngestWorker` (central/ingest/: decode, store
the rows in one transaction) → inside that transaction, the ingest hooks listed in
`ingest_hooks()` (the alarm rules: central/alarms/evaluate/, then alarm state in
central/alarms/state/) → commit, then the broker's acknowledgement. Afterwards the
scheduler's jobs (`scheduled_jobs()`) check what only time reveals, the notifier sends alarm
changes out, and the API (`build_app()`: the routers in `ROUTES`) answers from the database.

`grainlink central serve|ingest` and the tests build their parts with these functions; no
part finds another by name or registers itself at import.
"""

from __future__ import annotations

from fastapi import FastAPI

from central import jobs
from central.alarms import advice
from central.alarms.evaluate import ingest_hook as alarm_evaluation
from central.alarms.notify.delivery import Notifier
from central.alarms.scheduled import jobs as alarm_jobs
from central.alarms.state import thresholds_store
from central.api.app import API_PREFIX, create_app
from central.api.routes import (
    alarms,
    approvals,
    batches,
    cameras,
    checks,
    commands,
    dashboard,
    depots,
    figures,
    inspections,
    live_hooks,
    lots,
    plans,
    readings,
    reports,
    session,
    stock,
    thresholds,
)
from central.cameras import alarm_stills as camera_alarm_stills
from central.cameras import ingest_hook as camera_ingest
from central.cameras import jobs as camera_jobs
from central.commands import log as command_log
from central.figures import completeness as figures_completeness
from central.ingest.hooks import NO_HOOKS, IngestHooks
from central.ingest.worker import IngestWorker
from central.inspections import store as reserve_inspections
from central.jobs import Job
from central.lots import alerts as lot_alerts
from protocols.mqtt import topics

# --- ingest: MQTT → database rows → alarms, in one transaction per batch -------------------


def ingest_hooks(settings) -> IngestHooks:
    """What runs inside each ingest transaction (none when `settings.ingest_hooks` is off)."""
    if not settings.ingest_hooks:
        return NO_HOOKS
    return IngestHooks(
        # on the network thread as telemetry is decoded: each scan's figures
        preparers={alarm_evaluation.PREPARER: alarm_evaluation.prepare_scans},
        # once per batch of new telemetry: the scan rules → alarms
        batch=(alarm_evaluation.evaluate_batch,),
        messages={
            topics.LAYOUT: (thresholds_store.follow_floor_on_layout,),  # province floor
            topics.STATUS: (alarm_evaluation.on_status,),      # last will → depot_offline
            topics.EVENTS: (alarm_evaluation.on_event,),       # camera_online clears its alarm
            topics.SNAPSHOT: (camera_ingest.store_snapshot,),  # camera stills
            topics.CMD_RESULT: (command_log.on_result,),       # the device page's commands
        },
    )


def ingest_worker(settings, *, client_id: str | None = None) -> IngestWorker:
    """An ingest worker (not started) with the hooks above."""
    return IngestWorker(settings, ingest_hooks(settings), client_id=client_id)


# --- scheduled: what only time reveals, and notifications --------------------------------


def scheduled_jobs() -> dict[str, Job]:
    """name → Job(fn(conn, settings), Settings attribute of its interval, or None: hourly)."""
    return {
        "refresh_aggregates": Job(jobs.refresh_aggregates, "aggregate_refresh_interval_s"),
        "mark_offline": Job(jobs.mark_offline, "offline_check_interval_s"),
        "apply_retention": Job(jobs.apply_retention),
        "alarm_time_rules": Job(alarm_jobs.time_rules_job, "offline_check_interval_s"),
        "alarm_daily_rules": Job(alarm_jobs.daily_rules_job),
        "stock_rules": Job(lot_alerts.stock_rules_job),
        "rectification_overdue": Job(reserve_inspections.overdue_job, "rectification_check_interval_s"),
        "scan_completeness": Job(figures_completeness.completeness_job),
        "stills_retention": Job(camera_jobs.stills_retention_job),
        # granary alarms → a `snapshot` cmd; the stills are kept with the alarm
        "alarm_stills": Job(camera_alarm_stills.alarm_stills_job, "offline_check_interval_s"),
    }


def start_scheduler(settings):
    """A started scheduler running every job above; `.shutdown()` stops it."""
    return jobs.start_jobs(settings, scheduled_jobs())


def start_notifier(settings) -> Notifier:
    """Alarm changes out to MQTT and webhooks from the alarms' outbox; `.stop()` it."""
    return Notifier(settings).start()


# --- API: the database → HTTP ---------------------------------------------------------------

# (prefix, router) in the order FastAPI matches them; adding a router is one line here.
ROUTES = [
    (API_PREFIX, depots.router),
    (API_PREFIX, readings.router),
    (API_PREFIX, lots.router),
    (API_PREFIX, plans.router),
    (API_PREFIX, stock.router),
    (API_PREFIX, batches.router),
    (API_PREFIX, approvals.router),
    (API_PREFIX, figures.router),
    (API_PREFIX, checks.router),
    (API_PREFIX, reports.router),
    ("", live_hooks.router),  # the media server's publish checks, not the API (loopback only)
    ("", dashboard.router),  # the web pages own "/"
    (API_PREFIX, alarms.router),
    (API_PREFIX, thresholds.router),
    (API_PREFIX, inspections.router),
    (API_PREFIX, cameras.router),
    (API_PREFIX, session.router),
    (API_PREFIX, commands.router),
]

# What `/latest` shows beside the readings.
ADVISORS = (advice.granary_advice,)


def build_app(settings, pool=None, *, advisors=ADVISORS) -> FastAPI:
    """The API application (opens its own pool when none is given)."""
    return create_app(settings, ROUTES, advisors=advisors, pool=pool)
