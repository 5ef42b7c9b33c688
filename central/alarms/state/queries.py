"""Reading alarms for the API: the scoped list (filtered, sorted and paged in SQL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from psycopg.rows import dict_row

from central.alarms.state.store import ALARM_FIELDS

STATES = ("active", "acknowledged", "cleared", "open")

# Sort names a client may use → SQL (a whitelist: the route refuses any other name).
# Severity and state sort by meaning, not spelling: `-severity` puts 报警 before 预警.
ALARM_SORTS = {
    "id": "a.id", "updated_at": "a.updated_at", "opened_at": "a.opened_at",
    "severity": "CASE a.severity WHEN 'alarm' THEN 2 ELSE 1 END",
    "state": "CASE a.state WHEN 'active' THEN 1 WHEN 'acknowledged' THEN 2 ELSE 3 END",
    "depot": "a.depot", "rule": "a.rule",
}
DEFAULT_SORT = "-updated_at"
TIE = "a.id DESC"


@dataclass(frozen=True)
class AlarmFilter:
    state: str | None = None      # a state, or 'open' (active or acknowledged)
    depot: str | None = None
    rule: str | None = None
    severity: str | None = None
    since: datetime | None = None  # changed at or after
    q: str | None = None           # an ILIKE pattern over depot code, depot name and subject


def _where(flt: AlarmFilter, params: dict) -> list[str]:
    where = []
    if flt.state == "open":
        where.append("a.state <> 'cleared'")
    elif flt.state:
        where.append("a.state = %(state)s")
        params["state"] = flt.state
    for column, name in (("a.depot", "depot"), ("a.rule", "rule"), ("a.severity", "severity")):
        if getattr(flt, name):
            where.append(f"{column} = %({name})s")
            params[name] = getattr(flt, name)
    if flt.since is not None:
        where.append("a.updated_at >= %(since)s")
        params["since"] = flt.since
    if flt.q:
        where.append("(a.depot ILIKE %(q)s OR d.name ILIKE %(q)s OR a.subject ILIKE %(q)s)")
        params["q"] = flt.q
    return where


def list_alarms(conn, scope_where: str, scope_params: dict, flt: AlarmFilter, *,
                order_sql: str, page_sql: str, page_params: dict) -> tuple[list[dict], int]:
    """(one page of the alarms of the depots matching `scope_where` — a condition on depots
    `d` with named parameters — and the number the filter matches)."""
    params = {**scope_params, **page_params}
    where = " AND ".join([scope_where, *_where(flt, params)])
    cols = ", ".join(f"a.{c}" for c in ALARM_FIELDS)
    base = f"FROM alarms a JOIN depots d ON d.code = a.depot WHERE {where}"
    rows = conn.cursor(row_factory=dict_row).execute(
        f"SELECT {cols}, count(*) OVER () AS total_count {base} ORDER BY {order_sql} {page_sql}",
        params).fetchall()
    total = rows[0]["total_count"] if rows else None
    for row in rows:
        del row["total_count"]
    if total is None:  # an empty page, perhaps past the end: count on its own
        total = conn.execute(f"SELECT count(*) {base}", params).fetchone()[0]
    return rows, total
