"""Lots, movements and storage-loss settlement (contract api.md, "Lots, movements and
storage loss"). A lot is seen and changed only by users whose scope holds its depot."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException
from pydantic import BaseModel, ConfigDict, Field, field_validator

from central.api.auth import User, current_user, get_depot_or_404, require_write
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.lots import alerts, store
from central.lots.settlement import SettlementError

router = APIRouter(tags=["lots"])

CODE = r"^[A-Za-z0-9_-]{1,64}$"
LOT = r"^[A-Za-z0-9_.-]{1,64}$"


class LotBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depot: str = Field(pattern=CODE)
    granary: str = Field(pattern=CODE)
    lot: str = Field(pattern=LOT)
    category: Literal["raw_grain", "oilseed", "edible_oil"]
    variety: str = Field(min_length=1, max_length=64)
    harvest_year: int | None = Field(None, ge=1900, le=2200)
    card_established: str = Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")
    production_date: date | None = None
    shelf_life_days: int | None = Field(None, gt=0, le=36500)


class MovementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Literal["in", "out"]
    date: date
    quantity_t: Decimal = Field(gt=0, le=Decimal("10000000"), max_digits=14, decimal_places=3)
    moisture_pct: Decimal = Field(ge=0, lt=100, max_digits=7, decimal_places=4)
    impurity_pct: Decimal = Field(ge=0, lt=100, max_digits=7, decimal_places=4)
    voucher: str = Field(min_length=1, max_length=64)
    batch_code: str | None = Field(None, max_length=64)

    @field_validator("quantity_t", "moisture_pct", "impurity_pct", mode="before")
    @classmethod
    def _exact(cls, value):
        # JSON numbers arrive as floats: go through their shortest text so 0.1 stays 0.1
        return Decimal(str(value)) if isinstance(value, float) else value


class CorrectionBody(MovementBody):
    direction: Literal["in", "out"] | None = None  # taken from the corrected movement
    reason: str = Field(min_length=1, max_length=500)


class SettleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cleared_on: date
    confirm_loss: bool = Field(False, description="settle even though the book remainder is "
                               "larger than a plausible loss (it is then reported as one)")


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    granary: str = Field(pattern=CODE)
    approval_ref: str | None = Field(None, max_length=128)


def lot_or_404(conn, user: User, lot: str) -> dict:
    row = store.get_lot(conn, lot)
    if row is None:
        raise HTTPException(404, f"lot {lot!r} not found")
    try:
        get_depot_or_404(conn, user, row["depot"])
    except HTTPException:
        raise HTTPException(404, f"lot {lot!r} not found") from None
    return row


def _granary_or_422(conn, depot: str, granary: str) -> None:
    if conn.execute("SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
                    (depot, granary)).fetchone() is None:
        raise HTTPException(422, f"granary {granary!r} is not registered in depot {depot!r}")


def _plain(row: dict) -> dict:
    out = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            value = float(value)
        elif isinstance(value, date) and not hasattr(value, "hour"):
            value = value.isoformat()
        out[key] = value
    if "card_established" in out and out["card_established"]:
        out["card_established"] = out["card_established"][:7]
    return out


def _run(conn, fn, *args):
    """Run a store change in one transaction; its refusals become 409/422 answers."""
    try:
        with conn.transaction():
            return fn(conn, *args)
    except store.LotConflict as exc:
        raise HTTPException(409, str(exc)) from None
    except (store.LotInvalid, SettlementError) as exc:
        raise HTTPException(422, str(exc)) from None


def lot_view(conn, row: dict) -> dict:
    all_movements = store.movements(conn, row["lot"])
    current = store.effective(all_movements)
    view = _plain({k: v for k, v in row.items() if k not in ("settlement", "settled_at")})
    view["movements"] = [_plain(m) | {"superseded": m not in current} for m in all_movements]
    remainder = float(store.balance_t(current))
    # once settled, the book remainder is the lot's loss, written off: nothing is held
    view["balance_t"] = 0.0 if row["settled_at"] else remainder
    if row["settled_at"]:
        view["loss_written_off_t"] = remainder
    view["settled_at"] = row["settled_at"]
    view["settlement"] = row["settlement"]
    return view


@router.post("/lots", status_code=201, summary="create a lot (货位) in a granary")
def create_lot(body: LotBody, user: User = Depends(require_write), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, body.depot)
    _granary_or_422(conn, body.depot, body.granary)
    data = body.model_dump()
    data["card_established"] = date.fromisoformat(body.card_established + "-01")
    row = _run(conn, store.create_lot, user.name, data)
    return json_answer(lot_view(conn, row), status_code=201)


@router.get("/lots/{lot}", summary="the lot, its movements, balance and settlement")
def get_lot(lot: str, user: User = Depends(current_user), conn=Depends(db_conn)):
    return json_answer(lot_view(conn, lot_or_404(conn, user, lot)))


@router.post("/lots/{lot}/movements", status_code=201, summary="record an inbound or outbound movement")
def add_movement(lot: str, body: MovementBody, user: User = Depends(require_write), conn=Depends(db_conn)):
    row = lot_or_404(conn, user, lot)
    return json_answer(_plain(_run(conn, store.add_movement, row, user.name, body.model_dump())),
                       status_code=201)


@router.post("/lots/{lot}/movements/{movement_id}/correct", status_code=201,
             summary="correct a movement: a new entry supersedes it (nothing is edited)")
def correct_movement(lot: str, movement_id: int, body: CorrectionBody,
                     user: User = Depends(require_write), conn=Depends(db_conn)):
    row = lot_or_404(conn, user, lot)
    data = body.model_dump(exclude={"reason"}) | {"direction": body.direction or "in"}
    return json_answer(_plain(_run(conn, store.add_movement, row, user.name, data, movement_id)),
                       status_code=201)


@router.post("/lots/{lot}/transfer", summary="move a lot to another granary (needs an approval)")
def transfer(lot: str, body: TransferBody, user: User = Depends(require_write), conn=Depends(db_conn)):
    row = lot_or_404(conn, user, lot)
    _granary_or_422(conn, row["depot"], body.granary)
    updated = _run(conn, store.transfer, row, user.name, body.granary, body.approval_ref)
    return json_answer(lot_view(conn, updated))


@router.post("/lots/{lot}/settle", summary="settle storage loss at clear-out (domain.md §6)")
def settle(lot: str, body: SettleBody, user: User = Depends(require_write), conn=Depends(db_conn)):
    row = lot_or_404(conn, user, lot)

    def settle_and_alarm(conn):
        result = store.settle_lot(conn, row, user.name, body.cleared_on, confirm_loss=body.confirm_loss)
        if result.storage_accident:
            alerts.storage_accident(conn, row, result)
        return result

    result = _run(conn, settle_and_alarm)
    return json_answer(store.settlement_dict(lot, result))


@router.get("/lots/{lot}/ledger", summary="the lot's append-only ledger")
def lot_ledger(lot: str, user: User = Depends(current_user), conn=Depends(db_conn)):
    lot_or_404(conn, user, lot)
    return json_answer(store.ledger(conn, lot))
