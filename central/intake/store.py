"""Batches in the database: a unique code at arrival, every step (who, when) appended to
`batch_steps`, and the decision: accepted into a lot (which records the movement), refused,
or sent to pretreatment (then re-tested). A refused batch keeps its record and its reason.

Nothing is updated: the arrival is a row of `intake_batch_records`, each decision a row of
`batch_decisions` (migration 0080), and the view `intake_batches` shows the batch with its
newest decision as its state. Accepted and refused are final by a unique key, so two
concurrent final decisions leave one."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal

from psycopg.rows import dict_row

from central.intake.rules import (
    GateResult,
    IntakeLimits,
    Refusal,
    mixing_refusal,
    quality_refusal,
)
from central.lots import store as lots
from central.lots.store import LotConflict, RuleRefusal

OPEN_STATES = ("arrived", "pretreatment")
STATE_NAMES = {"arrived": "待检", "accepted": "已入仓", "refused": "已退回", "pretreatment": "整理中"}


def _json(detail: dict) -> str:
    def plain(v):
        if isinstance(v, Decimal):
            return float(v)
        if isinstance(v, date | datetime):
            return v.isoformat()
        return v
    return json.dumps({k: plain(v) for k, v in detail.items()}, ensure_ascii=False)


def step(conn, code: str, name: str, user: str, detail: dict | None = None,
         at: datetime | None = None) -> None:
    """Append a step; `at` is for records entered afterwards (the seed), else now."""
    conn.execute("INSERT INTO batch_steps (code, step, by_user, detail, at)"
                 " VALUES (%s, %s, %s, %s, coalesce(%s, now()))",
                 (code, name, user, _json(detail or {}), at))


def _bump(conn, batch: dict, arrived=0, accepted=0, refused=0, pretreated=0, cycle_h=None) -> None:
    """Keep `batch_month` (by arrival month) in step with the batch."""
    conn.execute(
        """INSERT INTO batch_month AS m (depot, month, direction, arrived, accepted, refused, pretreated,
                                         cycle_h_sum, cycle_n)
           VALUES (%(depot)s, date_trunc('month', %(at)s::timestamptz)::date, %(dir)s, %(a)s, %(c)s, %(r)s,
                   %(p)s, %(h)s, %(n)s)
           ON CONFLICT (depot, month, direction) DO UPDATE SET arrived = m.arrived + EXCLUDED.arrived,
               accepted = m.accepted + EXCLUDED.accepted, refused = m.refused + EXCLUDED.refused,
               pretreated = m.pretreated + EXCLUDED.pretreated,
               cycle_h_sum = m.cycle_h_sum + EXCLUDED.cycle_h_sum, cycle_n = m.cycle_n + EXCLUDED.cycle_n""",
        {"depot": batch["depot"], "at": batch["arrived_at"], "dir": batch["direction"], "a": arrived,
         "c": accepted, "r": refused, "p": pretreated, "h": cycle_h or 0.0, "n": int(cycle_h is not None)})


def register(conn, user: str, data: dict) -> dict:
    """A new batch and its code: RK (入库) or CK (出库), arrival day, depot, running number."""
    seq = conn.execute("SELECT nextval('intake_batch_seq')").fetchone()[0]
    prefix = "RK" if data["direction"] == "in" else "CK"
    code = f"{prefix}{data['arrived_at']:%Y%m%d}-{data['depot']}-{seq:06d}"
    row = conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO intake_batch_records (code, depot, direction, category, variety, harvest_year,
                                            arrived_at, vehicle, created_by)
           VALUES (%(code)s, %(depot)s, %(direction)s, %(category)s, %(variety)s, %(harvest_year)s,
                   %(arrived_at)s, %(vehicle)s, %(user)s) RETURNING *""",
        {"harvest_year": None, "vehicle": None, **data, "code": code, "user": user}).fetchone()
    row = get(conn, code)
    step(conn, code, "registered", user, {k: data.get(k) for k in (
        "direction", "category", "variety", "harvest_year", "arrived_at", "vehicle")}, data["arrived_at"])
    _bump(conn, row, arrived=1)
    return row


def get(conn, code: str, *, lock: bool = False) -> dict | None:
    """The batch with its current state; `lock` serialises the steps of one batch by locking
    its arrival record (the view's outer join cannot be locked itself)."""
    if lock and conn.execute("SELECT 1 FROM intake_batch_records WHERE code = %s FOR UPDATE",
                             (code,)).fetchone() is None:
        return None
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM intake_batches WHERE code = %s", (code,)).fetchone()


def _decision(conn, code: str, state: str, user: str, at: datetime | None,
              lot: str | None = None, movement_id: int | None = None) -> datetime:
    """Append a decision (the batch's new state); returns when it was taken."""
    return conn.execute(
        """INSERT INTO batch_decisions (code, state, lot, movement_id, decided_at, by_user)
           VALUES (%s, %s, %s, %s, coalesce(%s, now()), %s) RETURNING decided_at""",
        (code, state, lot, movement_id, at, user)).fetchone()[0]


def decisions(conn, code: str) -> list[dict]:
    """Every decision of the batch, oldest first: the superseded ones stay readable."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT id, state, lot, movement_id, decided_at, by_user AS by FROM batch_decisions
           WHERE code = %s ORDER BY id""", (code,)).fetchall()


def steps(conn, code: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT id, step, at, by_user AS by, detail FROM batch_steps WHERE code = %s ORDER BY id",
        (code,)).fetchall()


def _require_open(batch: dict) -> None:
    if batch["state"] not in OPEN_STATES:
        raise LotConflict(f"批次 {batch['code']} 已{STATE_NAMES[batch['state']]}，不能再处理")


def record_test(conn, batch: dict, user: str, data: dict, at: datetime | None = None) -> dict:
    """Sampling, physical, chemical or re-check result; a test after pretreatment re-opens
    the gate (the latest physical test or re-check is what the gate reads)."""
    batch = get(conn, batch["code"], lock=True)
    _require_open(batch)
    kind = data.pop("kind")
    step(conn, batch["code"], kind, user, data, at)
    return view(conn, batch["code"])


def gate(all_steps: list[dict]) -> GateResult:
    """What the gate sees: the latest physical test or re-check, and any failed chemical test
    since the batch was last registered or pretreated."""
    latest = None
    chemical_failed = False
    for s in all_steps:
        if s["step"] == "pretreatment":
            latest, chemical_failed = None, False
        elif s["step"] in ("physical", "recheck"):
            latest = s["detail"]
        elif s["step"] == "chemical" and s["detail"].get("passed") is False:
            chemical_failed = True
    if latest is None or latest.get("moisture_pct") is None or latest.get("impurity_pct") is None:
        return GateResult(None, None, (latest or {}).get("grade"), chemical_failed)
    # the limits judge the numbers; a physical test's own `passed` is the inspector's note
    return GateResult(Decimal(str(latest["moisture_pct"])), Decimal(str(latest["impurity_pct"])),
                      latest.get("grade"), chemical_failed)


def refusal_for(conn, batch: dict, lot: dict, limits: IntakeLimits) -> Refusal | None:
    """The first §8 rule that refuses this batch into this lot (capacity is checked by the
    movement itself)."""
    g = gate(steps(conn, batch["code"]))
    if batch["direction"] == "out":
        # grain leaving is tested for the record; only an untested batch is refused
        untested = quality_refusal(batch["code"], "finished_grain", batch["variety"], g, limits)
        if batch["variety"] != lot["variety"]:
            return mixing_refusal(batch["code"], batch, lot, g, [])
        return untested
    refusal = quality_refusal(batch["code"], lot["category"], batch["variety"], g, limits)
    if refusal:
        return refusal
    return mixing_refusal(batch["code"], batch, lot, g, lots.others_in_granary(conn, lot))


def accept(conn, batch: dict, user: str, lot_code: str, quantity_t: Decimal, on: date,
           limits: IntakeLimits, *, exception_approval: int | None = None,
           at: datetime | None = None) -> dict:
    """Put the batch into (or take it out of) the lot: the movement, its ledgers, the step."""
    batch = get(conn, batch["code"], lock=True)
    _require_open(batch)
    lot = lots.get_lot(conn, lot_code, lock=True)
    if lot is None or lot["depot"] != batch["depot"]:
        raise lots.LotInvalid(f"lot：货位 {lot_code} 不在粮库 {batch['depot']}")
    if lot["settled_at"] is not None:
        raise LotConflict(f"货位 {lot_code} 已核销，不能再出入库")
    refusal = refusal_for(conn, batch, lot, limits)
    if refusal and not (exception_approval and refusal.exception_allowed):
        raise RuleRefusal(refusal)
    g = gate(steps(conn, batch["code"]))
    movement = lots.add_movement(conn, lot, user, {
        "direction": batch["direction"], "date": on, "quantity_t": quantity_t,
        "moisture_pct": g.moisture_pct, "impurity_pct": g.impurity_pct,
        "voucher": batch["code"], "batch_code": batch["code"]},
        exception_approved=exception_approval is not None)
    if lot.get("grade") is None and g.grade and batch["direction"] == "in":
        # the first grade found completes the card; recorded, not written into it
        conn.execute("INSERT INTO lot_gradings (lot, grade, batch_code) VALUES (%s, %s, %s)"
                     " ON CONFLICT (lot) DO NOTHING", (lot["lot"], g.grade, batch["code"]))
    decided = _decision(conn, batch["code"], "accepted", user, at, lot["lot"], movement["id"])
    _bump(conn, batch, accepted=1, cycle_h=(decided - batch["arrived_at"]).total_seconds() / 3600
          if batch["direction"] == "in" else None)
    step(conn, batch["code"], "accepted", user, {
        "lot": lot["lot"], "quantity_t": quantity_t, "date": on, "movement_id": movement["id"],
        "exception_approval": exception_approval}, at)
    return view(conn, batch["code"])


def decide(conn, batch: dict, user: str, state: str, reason: str, at: datetime | None = None) -> dict:
    """Refuse (final) or send to pretreatment (drying, cleaning; then re-tested)."""
    batch = get(conn, batch["code"], lock=True)
    _require_open(batch)
    _decision(conn, batch["code"], state, user, at)
    first_pretreatment = state == "pretreatment" and not any(
        s["step"] == "pretreatment" for s in steps(conn, batch["code"]))
    _bump(conn, batch, refused=int(state == "refused"), pretreated=int(first_pretreatment))
    step(conn, batch["code"], "refused" if state == "refused" else "pretreatment", user,
         {"reason": reason}, at)
    return view(conn, batch["code"])


def view(conn, code: str) -> dict:
    batch = get(conn, code)
    out = dict(batch)
    out["state_name"] = STATE_NAMES[batch["state"]]
    out["steps"] = steps(conn, code)
    reasons = [s["detail"].get("reason") for s in out["steps"] if s["step"] in ("refused", "pretreatment")]
    out["reason"] = reasons[-1] if reasons else None
    return out


def for_lot(conn, lot: str) -> list[dict]:
    """The batches that went into or out of the lot, each with its steps."""
    # by the decisions' lot index: a final decision is the newest, so these are accepted ones
    codes = [r[0] for r in conn.execute(
        """SELECT r.code FROM batch_decisions x JOIN intake_batch_records r ON r.code = x.code
           WHERE x.lot = %s AND x.state = 'accepted' ORDER BY r.arrived_at, r.code""", (lot,))]
    return [view(conn, code) for code in codes]
