"""What an approved request does, per kind. Each takes the request's payload as the
requester wrote it and performs it in the approver's transaction; the requester stays the
author of the change and the approver is recorded beside it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from central.alarms.state import thresholds_store as thresholds
from central.intake import store as batches
from central.intake.rules import IntakeLimits
from central.lots import alerts, plans
from central.lots import store as lots
from central.rules.thresholds import floor_message
from central.users import User


def _lot(conn, code: str) -> dict:
    row = lots.get_lot(conn, code)
    if row is None:
        raise lots.LotConflict(f"货位 {code} 已不存在")
    return row


def _transfer(conn, p: dict, row: dict, user: User, settings) -> dict:
    lot = lots.transfer(conn, _lot(conn, p["lot"]), row["requested_by"], p["granary"],
                        f"approval:{row['id']}")
    return {"lot": lot["lot"], "granary": lot["granary"]}


def _correction(conn, p: dict, row: dict, user: User, settings) -> dict:
    data = {"direction": "in", "date": date.fromisoformat(p["date"]),
            "quantity_t": Decimal(p["quantity_t"]), "moisture_pct": Decimal(p["moisture_pct"]),
            "impurity_pct": Decimal(p["impurity_pct"]), "voucher": p["voucher"],
            "batch_code": p.get("batch_code"), "reason": p["reason"]}
    movement = lots.add_movement(conn, _lot(conn, p["lot"]), row["requested_by"], data, int(p["movement_id"]))
    return {"lot": p["lot"], "movement_id": movement["id"], "correction_of": movement["correction_of"]}


def _intake_exception(conn, p: dict, row: dict, user: User, settings) -> dict:
    batch = batches.get(conn, p["code"])
    view = batches.accept(conn, batch, row["requested_by"], p["lot"], Decimal(p["quantity_t"]),
                          date.fromisoformat(p["date"]), IntakeLimits.from_settings(settings),
                          exception_approval=row["id"])
    return {"code": view["code"], "lot": view["lot"], "movement_id": view["movement_id"]}


def _write_off(conn, p: dict, row: dict, user: User, settings) -> dict:
    lot = _lot(conn, p["lot"])
    result = lots.settle_lot(conn, lot, row["requested_by"], date.fromisoformat(p["cleared_on"]),
                             confirm_loss=True)
    if result.storage_accident:
        alerts.storage_accident(conn, lot, result)
    return lots.settlement_dict(lot["lot"], result)


def _plan_change(conn, p: dict, row: dict, user: User, settings) -> dict:
    return plans.apply(conn, p["scope_kind"], p["scope"], p["variety"], Decimal(p["quantity_t"]),
                       row["requested_by"], user.name, row["id"])


def _threshold_loosening(conn, p: dict, row: dict, user: User, settings) -> dict:
    if p.get("region"):
        floor = thresholds.set_floor(conn, p["region"], p["settings"], row["requested_by"])
        return {"region": p["region"], "settings": floor}
    # The floor may have been raised since the request: checked again, as when asked.
    province, breaches = thresholds.below_floor(conn, p["depot"], p["granary"], p["settings"])
    if breaches:
        raise lots.LotConflict(floor_message(province, breaches))
    new = thresholds.set_overrides(conn, p["depot"], p["granary"], p["settings"], row["requested_by"])
    return {"depot": p["depot"], "granary": p["granary"] or None, "settings": new}


ACTIONS: dict[str, Callable] = {
    "transfer": _transfer,
    "correction": _correction,
    "intake_exception": _intake_exception,
    "write_off": _write_off,
    "plan_change": _plan_change,
    "threshold_loosening": _threshold_loosening,
}


def executor(settings) -> Callable:
    """fn(conn, approval_row, approver) running the approved request."""

    def execute(conn, row: dict, user: User):
        action = ACTIONS.get(row["kind"])
        if action is None:
            raise lots.LotConflict(f"无法执行的申请类型 {row['kind']}")
        return action(conn, row["payload"], row, user, settings)

    return execute
