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
- `raise_many`, `mark_false_many`, `report_many`: the same for many alarms at once, in a
  fixed number of statements (ingest evaluates a whole batch of scans with them: on a busy
  machine every round trip to the database costs milliseconds).

Every change writes `alarm_history` and `alarm_outbox` in the caller's transaction, so a
rolled-back ingest batch leaves no trace and a committed change is never left unsent.
State lives only here: any worker may evaluate any depot, and the partial unique index
`alarms_one_open_idx` makes two concurrent raises meet in ON CONFLICT.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
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


class SelfApproval(AlarmError):
    """The user who wrote the plan being approved may not approve it (four eyes, domain.md
    §10; answered 403 by the API)."""


def approval_refused(kind: str, user: str, planner: str | None) -> bool:
    """Whether `user` recording `kind` breaks four eyes: an approval by the author of the
    latest plan (the plan it approves). A later plan by someone else may be approved by
    the earlier planner: that person did not write what is approved."""
    return kind == "approve" and planner is not None and planner == user


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _minutes(hysteresis: float | timedelta) -> timedelta:
    return hysteresis if isinstance(hysteresis, timedelta) else timedelta(minutes=hysteresis)


def alarm_dict(row: Mapping) -> dict:
    """The alarm as the API and notifications show it (datetimes stay datetimes)."""
    return {k: row.get(k) for k in ALARM_FIELDS}


def _float(value) -> float | None:
    """Rules give ints and floats alike; an array parameter must hold one type."""
    return None if value is None else float(value)


def _jsonable(alarm: dict) -> dict:
    return {k: (format_ts(v) if isinstance(v, datetime) else v) for k, v in alarm.items()}


_RECORD = """
WITH h AS (
    INSERT INTO alarm_history (alarm_id, at, change, by_user, severity, state, value, message)
    SELECT alarm_id, at, change, by_user, severity, state, value, message
    FROM unnest(%(id)s::bigint[], %(at)s::timestamptz[], %(change)s::text[], %(by)s::text[],
                %(severity)s::text[], %(state)s::text[], %(value)s::float8[], %(message)s::text[])
         WITH ORDINALITY AS h(alarm_id, at, change, by_user, severity, state, value, message, n)
    ORDER BY n
)
INSERT INTO alarm_outbox (alarm_id, depot, change, payload)
SELECT alarm_id, depot, change, payload
FROM unnest(%(o_id)s::bigint[], %(o_depot)s::text[], %(o_change)s::text[], %(o_payload)s::jsonb[])
     WITH ORDINALITY AS o(alarm_id, depot, change, payload, n)
ORDER BY n
"""


def _record_many(conn, records: list[tuple[Mapping, str, datetime, str | None, bool, str | None,
                                           dict | None]]) -> None:
    """History rows, and outbox rows for the notifier, in one statement; each record is
    (alarm row, change, at, by, notify, note, extra)."""
    if not records:
        return
    notified = [(row, change, extra) for row, change, _, _, notify, _, extra in records if notify]
    conn.execute(_RECORD, {
        "id": [r["id"] for r, *_ in records], "at": [at for _, _, at, *_ in records],
        "change": [c for _, c, *_ in records], "by": [by for _, _, _, by, *_ in records],
        "severity": [r["severity"] for r, *_ in records], "state": [r["state"] for r, *_ in records],
        "value": [_float(r["value"]) for r, *_ in records],
        "message": [note if note is not None else r["message"]
                    for r, _, _, _, _, note, _ in records],
        "o_id": [r["id"] for r, _, _ in notified], "o_depot": [r["depot"] for r, _, _ in notified],
        "o_change": [c for _, c, _ in notified],
        "o_payload": [Jsonb({**_jsonable(alarm_dict(r)), "change": c, **(extra or {})})
                      for r, c, extra in notified],
    })


def _record(conn, row: Mapping, change: str, at: datetime, by: str | None = None,
            notify: bool = True, note: str | None = None, extra: dict | None = None) -> None:
    _record_many(conn, [(row, change, at, by, notify, note, extra)])


# Many findings in one statement. Rows are inserted in key order, so two workers raising
# the same alarms lock them in the same order; two raising one new alarm at once meet in
# ON CONFLICT (the partial unique index) and the later one updates.
_RAISE = """
WITH f AS (
    SELECT * FROM unnest(%(depot)s::text[], %(granary)s::text[], %(rule)s::text[],
                         %(subject)s::text[], %(severity)s::text[], %(value)s::float8[],
                         %(threshold)s::float8[], %(message)s::text[])
             AS f(depot, granary, rule, subject, severity, value, threshold, message)
), old AS (
    SELECT a.id, a.severity, a.value, a.message FROM alarms a
    JOIN f ON a.depot = f.depot AND a.rule = f.rule AND a.subject = f.subject
    WHERE a.state <> 'cleared'
), up AS (
    INSERT INTO alarms (depot, granary, rule, subject, severity, state, value, threshold,
                        message, opened_at, updated_at)
    SELECT depot, granary, rule, subject, severity, 'active', value, threshold, message,
           %(now)s, %(now)s
    FROM f ORDER BY depot, rule, subject
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


def _raised(row: Mapping) -> str:
    if row["inserted"]:
        return "opened"
    if row["old_severity"] == "warning" and row["severity"] == "alarm":
        return "escalated"
    if row["old_severity"] is not None and (row["old_value"], row["old_message"]) == (
            row["value"], row["message"]):
        return "unchanged"
    return "updated"


def raise_many(conn, items: Sequence[tuple[str, str | None, Finding]],
               now: datetime | None = None) -> list[tuple[str, dict]]:
    """`raise_or_update` of many (depot, granary, finding) in two statements, whatever their
    number; returns (change, alarm) for each item, in order. Of two items with the same
    (depot, rule, subject) the later one counts."""
    if not items:
        return []
    now = _now(now)
    unique = {(d, f.rule, f.subject): (d, g if g is not None else f.granary, f) for d, g, f in items}
    rows = conn.cursor(row_factory=dict_row).execute(_RAISE, {
        "depot": [d for d, _, _ in unique.values()], "granary": [g for _, g, _ in unique.values()],
        "rule": [f.rule for *_, f in unique.values()],
        "subject": [f.subject for *_, f in unique.values()],
        "severity": [f.severity for *_, f in unique.values()],
        "value": [_float(f.value) for *_, f in unique.values()],
        "threshold": [_float(f.threshold) for *_, f in unique.values()],
        "message": [f.message for *_, f in unique.values()], "now": now,
    }).fetchall()
    by_key = {(r["depot"], r["rule"], r["subject"]): (_raised(r), r) for r in rows}
    _record_many(conn, [(r, change, now, None, True, None, None)
                        for change, r in (by_key[k] for k in unique) if change != "unchanged"])
    return [(by_key[(d, f.rule, f.subject)][0], alarm_dict(by_key[(d, f.rule, f.subject)][1]))
            for d, _, f in items]


def raise_or_update(conn, depot: str, granary: str | None, finding: Finding,
                    now: datetime | None = None) -> tuple[str, dict]:
    """Open or update the alarm of this finding; returns (change, alarm) where change is
    'opened', 'escalated', 'updated' or 'unchanged' (same value and message)."""
    return raise_many(conn, [(depot, granary, finding)], now)[0]


# The rows are locked in id order first, so two workers marking the same alarms of a depot
# (its messages split between them) wait for each other instead of deadlocking.
_MARK_FALSE = """
UPDATE alarms a SET
    condition_false_since = coalesce(o.condition_false_since, %(now)s),
    state = CASE WHEN coalesce(o.condition_false_since, %(now)s) <= %(now)s - o.hyst
                 THEN 'cleared' ELSE o.state END,
    cleared_at = CASE WHEN coalesce(o.condition_false_since, %(now)s) <= %(now)s - o.hyst
                      THEN %(now)s ELSE NULL END,
    updated_at = CASE WHEN coalesce(o.condition_false_since, %(now)s) <= %(now)s - o.hyst
                      THEN greatest(o.updated_at, %(now)s) ELSE o.updated_at END
FROM (SELECT x.id, x.condition_false_since, x.state, x.updated_at, s.hyst
      FROM alarms x
      JOIN unnest(%(depot)s::text[], %(rule)s::text[], %(subject)s::text[],
                  %(hyst)s::interval[]) AS s(depot, rule, subject, hyst)
        ON x.depot = s.depot AND x.rule = s.rule AND x.subject = s.subject
      WHERE x.state <> 'cleared'
      ORDER BY x.id FOR UPDATE OF x) o
WHERE a.id = o.id
RETURNING a.*, o.condition_false_since AS was_false_since
"""


def mark_false_many(conn, items: Sequence[tuple[str, str, str, float | timedelta]],
                    now: datetime | None = None) -> list[tuple[str, dict]]:
    """`condition_false` of many (depot, rule, subject, hysteresis) in two statements;
    returns the changes in the order of the items."""
    if not items:
        return []
    now = _now(now)
    unique = {(d, r, s): _minutes(h) for d, r, s, h in items}
    rows = conn.cursor(row_factory=dict_row).execute(_MARK_FALSE, {
        "depot": [d for d, _, _ in unique], "rule": [r for _, r, _ in unique],
        "subject": [s for _, _, s in unique], "hyst": list(unique.values()), "now": now,
    }).fetchall()
    by_key = {(r["depot"], r["rule"], r["subject"]): r for r in rows}
    out = []
    for key in unique:
        row = by_key.get(key)
        if row is None:
            continue  # not open (any more)
        if row["state"] == "cleared":
            out.append(("cleared", row))
        elif row["was_false_since"] is None:
            out.append(("condition_false", row))
        # else: still false, still within the hysteresis: nothing new
    _record_many(conn, [(row, change, now, None, change == "cleared", None, None)
                        for change, row in out])
    return [(change, alarm_dict(row)) for change, row in out]


def condition_false(conn, depot: str, rule: str, subject: str, now: datetime | None,
                    hysteresis: float | timedelta) -> list[tuple[str, dict]]:
    """The condition of (depot, rule, subject) is false at `now`; returns the changes
    ('condition_false' when it first turns false, 'cleared' once the hysteresis passed)."""
    return mark_false_many(conn, [(depot, rule, subject, hysteresis)], now)


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


@dataclass(frozen=True)
class Report:
    """The whole truth of some rules for one scope: `by_rule` maps each rule to its findings
    (empty: the rule found nothing); `opened` the rules' open subjects in the scope;
    `manages(subject)` limits which open subjects this report may mark false (two evaluators
    sharing one rule); open alarms not found clear after `hysteresis` minutes."""

    depot: str
    scope_granary: str | None
    by_rule: Mapping[str, list[Finding]]
    opened: Mapping[str, set[str]]
    hysteresis: float | timedelta
    manages: Callable[[str], bool] | None = None


def report_many(conn, reports: Sequence[Report], now: datetime | None = None
                ) -> list[tuple[str, dict]]:
    """Apply many reports in at most four statements (raise, its records, mark false, its
    records): only the alarms that change are written."""
    now = _now(now)
    raises, stale = [], []
    for rep in reports:
        for rule, findings in rep.by_rule.items():
            raises += [(rep.depot, rep.scope_granary or f.granary, f) for f in findings]
            found = {f.subject for f in findings}
            stale += [(rep.depot, rule, s, rep.hysteresis)
                      for s in sorted(rep.opened.get(rule, set()) - found)
                      if rep.manages is None or rep.manages(s)]
    changes = [(c, a) for c, a in raise_many(conn, raises, now) if c != "unchanged"]
    return changes + mark_false_many(conn, stale, now)


def report_rules(conn, depot: str, scope_granary: str | None, by_rule: Mapping[str, list[Finding]],
                 now: datetime | None, th: Thresholds,
                 manages: Callable[[str], bool] | None = None,
                 opened: Mapping[str, set[str]] | None = None) -> list[tuple[str, dict]]:
    """`report` for several rules at once: one query finds what is open (none when the
    caller passes `opened`, rule → open subjects in the scope)."""
    if opened is None:
        opened = open_subjects(conn, depot, by_rule, scope_granary)
    return report_many(conn, [Report(depot, scope_granary, by_rule, opened,
                                     th.clear_hysteresis_min, manages)], now)


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
    if kind == "approve":
        # Locked with the alarm row so a plan recorded meanwhile cannot slip past the check.
        conn.execute("SELECT 1 FROM alarms WHERE id = %s FOR UPDATE", (alarm_id,))
        planner = conn.execute(
            "SELECT by_user FROM alarm_actions WHERE alarm_id = %s AND kind = 'plan'"
            " ORDER BY id DESC LIMIT 1", (alarm_id,)).fetchone()
        if approval_refused(kind, user, planner[0] if planner else None):
            raise SelfApproval(f"处置方案由 {user} 本人制定，不能由本人审批，请由其他人员审批")
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
