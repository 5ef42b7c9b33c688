"""Time-driven alarm rules, run by `central serve`'s scheduler (listed in central/wiring.py).

- `time_rules_job` (every `offline_check_interval_s`): depot_offline (last will or silence),
  camera_offline (from edge events, after the hold time), indoor_humidity_high (held),
  inspection_overdue (from the per-granary scan marks the ingest hook keeps) and
  insect_treatment_overdue (inspection deadlines).
- `daily_rules_job` (hourly; the rules compare days): temp_rise per point and stuck sensors,
  one depot at a time through the readings' primary key; old delivered notifications go.

Each rule's findings are reported against what is open, so a condition that went away is
marked false and clears after the hysteresis. One depot's failure is logged and skipped.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import UTC, datetime

from central.alarms.scheduled import checks
from central.alarms.state import store
from central.alarms.state.thresholds_store import ThresholdBook
from central.rules.model import Finding

log = logging.getLogger("central.alarms.scheduled.jobs")

TIME_RULES = ("depot_offline", "camera_offline", "indoor_humidity_high", "inspection_overdue",
              "insect_treatment_overdue")
OUTBOX_KEEP_DAYS = 7


def _books(conn) -> dict[str, ThresholdBook]:
    by_depot: dict[str, dict] = defaultdict(dict)
    for depot, granary, settings in conn.execute(
            "SELECT depot, granary, settings FROM alarm_thresholds").fetchall():
        by_depot[depot][granary] = dict(settings)
    return defaultdict(lambda: ThresholdBook({}), {d: ThresholdBook(o) for d, o in by_depot.items()})


def _open_alarms(conn, rules) -> dict[str, dict[str, set[str]]]:
    """Open alarms of these rules: depot → rule → subjects."""
    out: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for depot, rule, subject in conn.execute(
            "SELECT depot, rule, subject FROM alarms WHERE state <> 'cleared' AND rule = ANY(%s)",
            (list(rules),)).fetchall():
        out[depot][rule].add(subject)
    return out


def apply_findings(conn, depot: str, rule: str, findings: list[Finding], open_now: set[str],
                   now: datetime, book: ThresholdBook, manages=None) -> list:
    """Raise the findings; mark the rule's other open alarms of the depot false (each with
    the hysteresis of its granary). Writes nothing when nothing is found or open."""
    raised = store.raise_many(conn, [(depot, f.granary, f) for f in findings], now)
    changes = [(change, alarm) for change, alarm in raised if change != "unchanged"]
    found = {f.subject for f in findings}
    stale = []
    for subject in sorted(open_now - found):
        if manages is not None and not manages(subject):
            continue
        granary = subject.split("/", 1)[0] if "/" in subject else None
        stale.append((depot, rule, subject, book.for_granary(granary).clear_hysteresis_min))
    return changes + store.mark_false_many(conn, stale, now)


def _per_depot(conn, depots, fn) -> int:
    done = 0
    for depot in depots:
        try:
            with conn.transaction():
                done += len(fn(depot))
        except Exception:
            log.exception("alarm rules failed for depot %s", depot)
    return done


def time_rules_job(conn, settings=None, now: datetime | None = None,
                   only: set[str] | None = None) -> int:
    """Evaluate the minute-scale time rules for every depot (or those in `only`); returns
    the number of alarm changes made."""
    now = now or datetime.now(UTC)
    books = _books(conn)
    opened = _open_alarms(conn, TIME_RULES)
    found = checks.time_findings(conn, books, now, settings)  # depot → rule → findings
    depots = sorted(d for d in set(found) | set(opened) if only is None or d in only)

    def one(depot: str) -> list:
        changes = []
        for rule in TIME_RULES:
            changes += apply_findings(conn, depot, rule, found.get(depot, {}).get(rule, []),
                                      opened.get(depot, {}).get(rule, set()), now, books[depot])
        return changes

    return _per_depot(conn, depots, one)


def daily_rules_job(conn, settings=None, now: datetime | None = None,
                    only: set[str] | None = None) -> int:
    """temp_rise and stuck sensors per point, depot by depot; returns alarm changes made."""
    now = now or datetime.now(UTC)
    books = _books(conn)
    opened = _open_alarms(conn, ("temp_rise", "sensor_fault"))
    depots = sorted(d for d in set(checks.depots_with_recent_readings(conn, now)) | set(opened)
                    if only is None or d in only)

    def one(depot: str) -> list:
        book = books[depot]
        rise, stuck = checks.point_findings(conn, depot, book, now)
        open_now = opened.get(depot, {})
        return (apply_findings(conn, depot, "temp_rise", rise, open_now.get("temp_rise", set()),
                               now, book)
                + apply_findings(conn, depot, "sensor_fault", stuck,
                                 open_now.get("sensor_fault", set()), now, book,
                                 manages=checks.is_stuck_subject))

    changes = _per_depot(conn, depots, one)
    conn.execute(
        """DELETE FROM alarm_outbox o WHERE o.created_at < %s - make_interval(days => %s)
           AND o.fanned_out AND NOT EXISTS (SELECT 1 FROM alarm_deliveries d
               WHERE d.outbox_id = o.id AND d.delivered_at IS NULL AND d.failed_at IS NULL)""",
        (now, OUTBOX_KEEP_DAYS))
    return changes

