"""Keeper's rounds (粮情检查: colour, smell, insects, condensation, hand measurements at blind
spots) and supervisory inspections (findings, a rectification deadline, its closing), beside
the insect inspections of central/alarms. A record is never edited: closing is a row of its
own. `overdue_job` raises `rectification_overdue` for every open rectification past its
deadline and clears it once closed."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

from psycopg.rows import dict_row

from central.alarms.state.store import report_rules
from central.rules.model import Finding
from central.rules.thresholds import Thresholds

RULE = "rectification_overdue"

COLUMNS = """i.id, i.depot, i.granary, i.kind, i.inspected_on, i.checks, i.findings,
    i.rectification_due, i.by_user AS by, i.recorded_at, c.closed_on, c.note AS closing_note,
    c.by_user AS closed_by"""


class InspectionConflict(Exception):
    """Closing what is closed, or what has nothing to rectify (answered 409)."""


def granary_exists(conn, depot: str, granary: str) -> bool:
    return conn.execute("SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
                        (depot, granary)).fetchone() is not None


def record(conn, depot: str, user: str, data: dict) -> dict:
    row = conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO reserve_inspections (depot, granary, kind, inspected_on, checks, findings,
                                            rectification_due, by_user)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (depot, data.get("granary"), data["kind"], data["inspected_on"],
         json.dumps(data.get("checks") or {}, ensure_ascii=False), data.get("findings"),
         data.get("rectification_due"), user)).fetchone()
    return get(conn, depot, row["id"])


def get(conn, depot: str, inspection_id: int) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(
        f"""SELECT {COLUMNS} FROM reserve_inspections i
            LEFT JOIN inspection_closings c ON c.inspection_id = i.id
            WHERE i.depot = %s AND i.id = %s""", (depot, inspection_id)).fetchone()


def close(conn, depot: str, inspection_id: int, closed_on: date, note: str | None, user: str) -> dict:
    row = get(conn, depot, inspection_id)
    if row["rectification_due"] is None:
        raise InspectionConflict(f"检查记录 {inspection_id} 没有整改要求，无需销号")
    if row["closed_on"] is not None:
        raise InspectionConflict(f"检查记录 {inspection_id} 的整改已于 {row['closed_on']} 销号")
    if closed_on < row["inspected_on"]:
        raise InspectionConflict(f"closed_on：整改销号日期早于检查日期 {row['inspected_on']}")
    conn.execute("INSERT INTO inspection_closings (inspection_id, closed_on, note, by_user)"
                 " VALUES (%s, %s, %s, %s)", (inspection_id, closed_on, note, user))
    report_rules(conn, depot, None, {RULE: [f for _d, f in _overdue(conn, depot, date.today())]},
                 datetime.now(UTC), Thresholds())
    return get(conn, depot, inspection_id)


def list_for(conn, scope_where: str, params: list, *, depot: str | None = None,
             open_only: bool = False, limit: int = 500) -> list[dict]:
    cond, args = [scope_where], list(params)
    if depot is not None:
        cond.append("i.depot = %s")
        args.append(depot)
    if open_only:
        cond.append("i.rectification_due IS NOT NULL AND c.closed_on IS NULL")
    return conn.cursor(row_factory=dict_row).execute(
        f"""SELECT {COLUMNS} FROM reserve_inspections i
            JOIN depots d ON d.code = i.depot
            LEFT JOIN inspection_closings c ON c.inspection_id = i.id
            WHERE {' AND '.join(cond)} ORDER BY i.inspected_on DESC, i.id DESC LIMIT %s""",
        [*args, limit]).fetchall()


def _overdue(conn, depot: str | None, today: date) -> list[tuple[str, Finding]]:
    rows = conn.execute(
        """SELECT i.id, i.depot, i.granary, i.rectification_due, i.findings FROM reserve_inspections i
           WHERE (%s::text IS NULL OR i.depot = %s) AND i.rectification_due < %s
             AND NOT EXISTS (SELECT 1 FROM inspection_closings c WHERE c.inspection_id = i.id)""",
        (depot, depot, today)).fetchall()
    return [(d, Finding(RULE, f"inspection:{i}", "alarm", float((today - due).days), 0.0,
                        f"检查记录{i}的整改期限{due.isoformat()}已过{(today - due).days}天仍未销号："
                        f"{(text or '')[:80]}", granary))
            for i, d, granary, due, text in rows]


def overdue_job(conn, settings=None, now: datetime | None = None) -> int:
    """Raise or clear `rectification_overdue` for every depot with rectifications."""
    now = now or datetime.now(UTC)
    by_depot: dict[str, list[Finding]] = {r[0]: [] for r in conn.execute(
        "SELECT DISTINCT depot FROM reserve_inspections WHERE rectification_due IS NOT NULL")}
    for depot, finding in _overdue(conn, None, now.date()):
        by_depot.setdefault(depot, []).append(finding)
    changes = 0
    for depot, found in by_depot.items():
        with conn.transaction():
            changes += len(report_rules(conn, depot, None, {RULE: found}, now, Thresholds()))
    return changes
