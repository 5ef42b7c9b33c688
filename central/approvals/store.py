"""Approval requests in the database: created by the routes of the actions that need four
eyes, listed in the caller's scope, decided once. Approving runs the request's action in the
same transaction (central/approvals/actions.py): when the action is refused now (the lot was
settled meanwhile, the granary filled up), nothing is decided and the refusal is answered.

Requests (`approval_requests`) and decisions (`approval_decisions`, keyed by the request's
id) are separate append-only records (migration 0080); the view `approvals` joins them. The
decision's key, not a lock, makes a request decided once: of two concurrent decisions the
second finds the key taken, and its transaction (its action included) rolls back."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row

from central.approvals.rules import KIND_NAMES, PENDING, Refused, decide, decided_refusal
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
    new_id = conn.execute(
        """INSERT INTO approval_requests (kind, depot, region, subject, payload, reason, requested_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id""",
        (kind, depot, region, subject,
         json.dumps({k: _plain(v) for k, v in payload.items()}, ensure_ascii=False), reason, user),
    ).fetchone()[0]
    return get(conn, new_id)


def pending_answer(row: dict) -> dict:
    """What a four-eyes action answers with 202."""
    return {"approval": row["id"], "state": row["state"], "kind": row["kind"],
            "message": f"{KIND_NAMES.get(row['kind'], row['kind'])}申请已提交，待另一位有权限的人员审批"}


def get(conn, approval_id: int) -> dict | None:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM approvals WHERE id = %s", (approval_id,)).fetchone()


def in_scope(row: dict, user: User, visible_depot, covers_region) -> bool:
    if row["depot"] is not None:
        return visible_depot(row["depot"])
    return row["region"] is not None and covers_region(user, row["region"])


def decide_and_apply(conn, row: dict, user: User, approve: bool, note: str | None, execute) -> dict:
    """Decide by the four-eyes rules, run the action when approved, record the decision.
    The state read first only answers the common case early (409); the decision's key is
    what refuses a second decision that raced past that read."""
    row = get(conn, row["id"])
    decision = decide(row["kind"], row["state"], row["requested_by"], user.name, user.roles, approve)
    result = execute(conn, row, user) if decision.state != PENDING and approve else None
    recorded = conn.execute(
        """INSERT INTO approval_decisions (approval_id, state, decided_by, note, result)
           VALUES (%s, %s, %s, %s, %s) ON CONFLICT (approval_id) DO NOTHING RETURNING approval_id""",
        (row["id"], decision.state, user.name, note,
         json.dumps(result, ensure_ascii=False, default=_plain) if result is not None else None),
    ).fetchone()
    if recorded is None:
        # another decision committed meanwhile: the caller rolls back this one's action
        other = get(conn, row["id"])
        raise Refused(409, decided_refusal(other["state"]))
    return get(conn, row["id"])


def answer(row: dict) -> dict:
    out = {k: row[k] for k in FIELDS}
    out["kind_name"] = KIND_NAMES.get(row["kind"], row["kind"])
    return out


def for_subject(conn, subject: str) -> list[dict]:
    return [answer(r) for r in conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM approvals WHERE subject = %s ORDER BY id", (subject,)).fetchall()]
