"""Approval requests in the database: created by the routes of the actions that need four
eyes, listed in the caller's scope, decided once. Approving runs the request's action in the
same transaction (central/approvals/actions.py): when the action is refused now (the lot was
settled meanwhile, the granary filled up), nothing is decided and the refusal is answered."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row

from central.approvals.rules import KIND_NAMES, PENDING, decide
from central.users import User

FIELDS = ("id", "kind", "depot", "region", "subject", "payload", "reason", "requested_by",
          "requested_at", "state", "decided_by", "decided_at", "note", "result")


def _plain(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def request(conn, kind: str, user: str, subject: str, payload: dict, reason: str | None,
            *, depot: str | None = None, region: str | None = None) -> dict:
    return conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO approvals (kind, depot, region, subject, payload, reason, requested_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING *""",
        (kind, depot, region, subject,
         json.dumps({k: _plain(v) for k, v in payload.items()}, ensure_ascii=False), reason, user),
    ).fetchone()


def pending_answer(row: dict) -> dict:
    """What a four-eyes action answers with 202."""
    return {"approval": row["id"], "state": row["state"], "kind": row["kind"],
            "message": f"{KIND_NAMES.get(row['kind'], row['kind'])}申请已提交，待另一位有权限的人员审批"}


def get(conn, approval_id: int, *, lock: bool = False) -> dict | None:
    sql = "SELECT * FROM approvals WHERE id = %s" + (" FOR UPDATE" if lock else "")
    return conn.cursor(row_factory=dict_row).execute(sql, (approval_id,)).fetchone()


def in_scope(row: dict, user: User, visible_depot, covers_region) -> bool:
    if row["depot"] is not None:
        return visible_depot(row["depot"])
    return row["region"] is not None and covers_region(user, row["region"])


def listing(conn, state: str | None, depot_where: str, params: list, region_codes_ok,
            limit: int = 500) -> list[dict]:
    """Requests of depots in scope (by SQL) and of regions the caller's scope holds."""
    cond = ["(a.depot IS NULL OR a.depot IN (SELECT d.code FROM depots d WHERE " + depot_where + "))"]
    args = list(params)
    if state:
        cond.append("a.state = %s")
        args.append(state)
    rows = conn.cursor(row_factory=dict_row).execute(
        f"SELECT a.* FROM approvals a WHERE {' AND '.join(cond)} ORDER BY a.id DESC LIMIT %s",
        [*args, limit]).fetchall()
    return [r for r in rows if r["depot"] is not None or region_codes_ok(r["region"])]


def decide_and_apply(conn, row: dict, user: User, approve: bool, note: str | None, execute) -> dict:
    """Lock, decide by the four-eyes rules, run the action when approved, record it all."""
    row = get(conn, row["id"], lock=True)
    decision = decide(row["kind"], row["state"], row["requested_by"], user.name, user.roles, approve)
    result = execute(conn, row, user) if decision.state != PENDING and approve else None
    return conn.cursor(row_factory=dict_row).execute(
        """UPDATE approvals SET state = %s, decided_by = %s, decided_at = now(), note = %s,
                                result = %s
           WHERE id = %s AND state = 'pending' RETURNING *""",
        (decision.state, user.name, note,
         json.dumps(result, ensure_ascii=False, default=_plain) if result is not None else None,
         row["id"])).fetchone()


def answer(row: dict) -> dict:
    out = {k: row[k] for k in FIELDS}
    out["kind_name"] = KIND_NAMES.get(row["kind"], row["kind"])
    return out


def for_subject(conn, subject: str) -> list[dict]:
    return [answer(r) for r in conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM approvals WHERE subject = %s ORDER BY id", (subject,)).fetchall()]
