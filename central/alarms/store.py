"""Alarm state in PostgreSQL: open, re-raise, escalate, clear after hysteresis, acknowledge,
record handling actions. The public functions other parts use:

- `raise_or_update(conn, depot, granary, finding, now=None)`: open the alarm of
  (depot, finding.rule, finding.subject) or update the open one (value, message, updated_at);
  a warning that comes back as an alarm escalates (and an acknowledged one becomes active
  again: the condition got worse than what was acknowledged).
- `condition_false(conn, depot, rule, subject, now, hysteresis)`: the condition is false
  now; the alarm clears once it has stayed false for `hysteresis` (minutes or timedelta).
- `report(conn, depot, rule, scope_granary, findings, now, th)`: the whole truth of one rule
  for one scope: raise/update the findings, mark that rule's other open alarms in the scope
  false (scope_granary None = the whole depot).

Every change writes `alarm_history` and `alarm_outbox` in the caller's transaction, so a
rolled-back ingest batch leaves no trace and a committed change is never left unsent.
State lives only here: any worker may evaluate any depot, and the partial unique index
`alarms_one_open_idx` makes two concurrent raises meet in ON CONFLICT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from central.rules.model import Finding
from central.rules.thresholds import Thresholds
from protocols.timefmt import format_ts

ALARM_FIELDS = ("id", "depot", "granary", "rule", "subject", "severity", "state", "value",
                "threshold", "message", "opened_at", "updated_at", "acknowledged_at",
                "acknowledged_by", "ack_note", "cleared_at")
ACTION_KINDS = ("plan", "approve", "execute", "result")


class AlarmError(ValueError):
    """A lifecycle step that is not allowed (answered 409 by the API)."""


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _minutes(hysteresis: float | timedelta) -> timedelta:
    return hysteresis if isinstance(hysteresis, timedelta) else timedelta(minutes=hysteresis)


def alarm_dict(row: Mapping) -> dict:
    """The alarm as the API and notifications show it (datetimes stay datetimes)."""
    return {k: row.get(k) for k in ALARM_FIELDS}


def _jsonable(alarm: dict) -> dict:
    return {k: (format_ts(v) if isinstance(v, datetime) else v) for k, v in alarm.items()}


def _record(conn, row: Mapping, change: str, at: datetime, by: str | None = None,
            notify: bool = True, note: str | None = None, extra: dict | None = None) -> None:
    """History row, and an outbox row for the notifier."""
    conn.execute(
        "INSERT INTO alarm_history (alarm_id, at, change, by_user, severity, state, value, message)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
        (row["id"], at, change, by, row["severity"], row["state"], row["value"],
         note if note is not None else row["message"]))
    if notify:
        payload = {**_jsonable(alarm_dict(row)), "change": change, **(extra or {})}
        conn.execute("INSERT INTO alarm_outbox (alarm_id, depot, change, payload) "
                     "VALUES (%s, %s, %s, %s)", (row["id"], row["depot"], change, Jsonb(payload)))


_RAISE = """
WITH old AS (
    SELECT id, severity, value, message FROM alarms
    WHERE depot = %(depot)s AND rule = %(rule)s AND subject = %(subject)s AND state <> 'cleared'
), up AS (
    INSERT INTO alarms (depot, granary, rule, subject, severity, state, value, threshold,
                        message, opened_at, updated_at)
    VALUES (%(depot)s, %(granary)s, %(rule)s, %(subject)s, %(severity)s, 'active', %(value)s,
            %(threshold)s, %(message)s, %(now)s, %(now)s)
    ON CONFLICT (depot, rule, subject) WHERE state <> 'cleared' DO UPDATE SET
        value = EXCLUDED.value,
        message = EXCLUDED.message,
        threshold = CASE WHEN alarms.severity = 'alarm' AND EXCLUDED.severity = 'warning'
                         THEN alarms.threshold ELSE EXCLUDED.threshold END,
        severity = CASE WHEN EXCLUDED.severity = 'alarm' THEN 'alarm' ELSE alarms.severity END,
        state = CASE WHEN alarms.severity = 'warning' AND EXCLUDED.severity = 'alarm'
                     THEN 'active' ELSE alarms.state END,
        updated_at = greatest(alarms.updated_at, EXCLUDED.updated_at),
        granary = coalesce(EXCLUDED.granary, alarms.granary),
        condition_false_since = NULL
    RETURNING *, (xmax = 0) AS inserted
)
SELECT up.*, old.severity AS old_severity, old.value AS old_value, old.message AS old_message
FROM up LEFT JOIN old ON old.id = up.id
"""


def raise_or_update(conn, depot: str, granary: str | None, finding: Finding,
                    now: datetime | None = None) -> tuple[str, dict]:
    """Open or update the alarm of this finding; returns (change, alarm) where change is
    'opened', 'escalated', 'updated' or 'unchanged' (same value and message)."""
    now = _now(now)
    row = conn.cursor(row_factory=dict_row).execute(_RAISE, {
        "depot": depot, "granary": granary if granary is not None else finding.granary,
        "rule": finding.rule, "subject": finding.subject, "severity": finding.severity,
        "value": finding.value, "threshold": finding.threshold, "message": finding.message,
        "now": now,
    }).fetchone()
    if row["inserted"]:
        change = "opened"
    elif row["old_severity"] == "warning" and row["severity"] == "alarm":
        change = "escalated"
    elif row["old_severity"] is not None and (row["old_value"], row["old_message"]) == (
            row["value"], row["message"]):
        change = "unchanged"
    else:
        change = "updated"
    if change != "unchanged":
        _record(conn, row, change, now)
    return change, alarm_dict(row)


_MARK_FALSE = """
UPDATE alarms a SET
    condition_false_since = coalesce(o.condition_false_since, %(now)s),
    state = CASE WHEN coalesce(o.condition_false_since, %(now)s) <= %(now)s - %(hyst)s
                 THEN 'cleared' ELSE o.state END,
    cleared_at = CASE WHEN coalesce(o.condition_false_since, %(now)s) <= %(now)s - %(hyst)s
                      THEN %(now)s ELSE NULL END,
    updated_at = CASE WHEN coalesce(o.condition_false_since, %(now)s) <= %(now)s - %(hyst)s
                      THEN greatest(o.updated_at, %(now)s) ELSE o.updated_at END
FROM alarms o
WHERE o.id = a.id AND a.state <> 'cleared' AND {where}
RETURNING a.*, o.condition_false_since AS was_false_since
"""


def _mark_false(conn, where: str, params: dict, now: datetime,
                hysteresis: float | timedelta) -> list[tuple[str, dict]]:
    rows = conn.cursor(row_factory=dict_row).execute(
        _MARK_FALSE.format(where=where), {**params, "now": now, "hyst": _minutes(hysteresis)},
    ).fetchall()
    out = []
    for row in rows:
        if row["state"] == "cleared":
            change = "cleared"
        elif row["was_false_since"] is None:
            change = "condition_false"
        else:
            continue  # still false, still within the hysteresis: nothing new
        _record(conn, row, change, now, notify=change == "cleared")
        out.append((change, alarm_dict(row)))
    return out


def condition_false(conn, depot: str, rule: str, subject: str, now: datetime | None,
                    hysteresis: float | timedelta) -> list[tuple[str, dict]]:
    """The condition of (depot, rule, subject) is false at `now`; returns the changes
    ('condition_false' when it first turns false, 'cleared' once the hysteresis passed)."""
    return _mark_false(conn, "a.depot = %(depot)s AND a.rule = %(rule)s AND a.subject = %(subject)s",
                       {"depot": depot, "rule": rule, "subject": subject}, _now(now), hysteresis)


def open_subjects(conn, depot: str, rules: Iterable[str], scope_granary: str | None) -> dict[str, set[str]]:
    """Open alarms' subjects per rule in the scope (one indexed query)."""
    rows = conn.execute(
        "SELECT rule, subject FROM alarms WHERE depot = %s AND rule = ANY(%s) "
        "AND state <> 'cleared' AND (%s::text IS NULL OR granary = %s)",
        (depot, list(rules), scope_granary, scope_granary)).fetchall()
    out: dict[str, set[str]] = {}
    for rule, subject in rows:
        out.setdefault(rule, set()).add(subject)
    return out


def report_rules(conn, depot: str, scope_granary: str | None, by_rule: Mapping[str, list[Finding]],
                 now: datetime | None, th: Thresholds,
                 manages: Callable[[str], bool] | None = None,
                 opened: Mapping[str, set[str]] | None = None) -> list[tuple[str, dict]]:
    """`report` for several rules at once: one query finds what is open (none when the
    caller passes `opened`, rule → open subjects in the scope); only the alarms that change
    are written. `manages(subject)` limits which open subjects this report may mark false
    (two evaluators sharing one rule)."""
    now = _now(now)
    if opened is None:
        opened = open_subjects(conn, depot, by_rule, scope_granary)
    changes = []
    for rule, findings in by_rule.items():
        found = set()
        for finding in findings:
            found.add(finding.subject)
            change, alarm = raise_or_update(conn, depot, scope_granary or finding.granary,
                                            finding, now)
            if change != "unchanged":
                changes.append((change, alarm))
        stale = sorted(s for s in opened.get(rule, set()) - found if manages is None or manages(s))
        if stale:
            changes += _mark_false(
                conn, "a.depot = %(depot)s AND a.rule = %(rule)s AND a.subject = ANY(%(subjects)s)",
                {"depot": depot, "rule": rule, "subjects": stale}, now, th.clear_hysteresis_min)
    return changes


def report(conn, depot: str, rule: str, scope_granary: str | None, findings: list[Finding],
           now: datetime | None, th: Thresholds,
           manages: Callable[[str], bool] | None = None) -> list[tuple[str, dict]]:
    """Raise/update `findings` of `rule`; mark the rule's other open alarms in the scope false."""
    return report_rules(conn, depot, scope_granary, {rule: findings}, now, th, manages)


def get_alarm(conn, alarm_id: int) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM alarms WHERE id = %s", (alarm_id,)).fetchone()


def acknowledge(conn, alarm_id: int, user: str, note: str | None,
                now: datetime | None = None) -> dict:
    """active → acknowledged (who, when, note); acknowledging twice changes nothing; a
    cleared alarm cannot be acknowledged (AlarmError)."""
    now = _now(now)
    row = conn.cursor(row_factory=dict_row).execute(
        """UPDATE alarms SET state = 'acknowledged', acknowledged_at = %s, acknowledged_by = %s,
                  ack_note = %s, updated_at = greatest(updated_at, %s)
           WHERE id = %s AND state = 'active' RETURNING *""",
        (now, user, note, now, alarm_id)).fetchone()
    if row is not None:
        _record(conn, row, "acknowledged", now, by=user)
        return alarm_dict(row)
    current = get_alarm(conn, alarm_id)
    if current is None:
        raise LookupError(f"alarm {alarm_id} not found")
    if current["state"] == "cleared":
        raise AlarmError(f"alarm {alarm_id} is already cleared")
    return alarm_dict(current)


def add_action(conn, alarm_id: int, kind: str, text: str, user: str,
               now: datetime | None = None) -> dict:
    """Record a handling step (plan, approve, execute, result) against the alarm."""
    if kind not in ACTION_KINDS:
        raise AlarmError(f"kind {kind!r}: must be one of {', '.join(ACTION_KINDS)}")
    now = _now(now)
    alarm = get_alarm(conn, alarm_id)
    if alarm is None:
        raise LookupError(f"alarm {alarm_id} not found")
    conn.execute("INSERT INTO alarm_actions (alarm_id, kind, text, by_user, at) "
                 "VALUES (%s, %s, %s, %s, %s)", (alarm_id, kind, text, user, now))
    _record(conn, alarm, "action", now, by=user, note=f"{kind}: {text}",
            extra={"action": {"kind": kind, "text": text, "by": user, "at": format_ts(now)}})
    return alarm_dict(alarm)


def actions(conn, alarm_id: int) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT kind, text, by_user AS by, at FROM alarm_actions WHERE alarm_id = %s ORDER BY id",
        (alarm_id,)).fetchall()


def history(conn, alarm_id: int) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT at, change, by_user AS by, severity, state, value, message FROM alarm_history "
        "WHERE alarm_id = %s ORDER BY id", (alarm_id,)).fetchall()
