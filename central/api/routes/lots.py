"""Lots, movements, storage-loss settlement and counts (contract api.md, "Lots, movements
and storage loss" and "Stock, intake, counts…"). A lot is seen and changed only by users
whose scope holds its depot; the changes §10 puts under four eyes answer 202 with the
approval they wait for."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from central.api import reserve_lists
from central.api.deps import (
    CurrentUser,
    DbConn,
    LotRef,
    WriteUser,
    depot_or_404,
    lot_in_scope,
    lot_not_found,
)
from central.api.encoding import json_answer
from central.api.listing import TOTAL_HEADER, order_or_422, with_total
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import (
    CODE,
    LOT,
    FactDate,
    Factor,
    Metres,
    Percent,
    TestWeight,
    Text,
    Tonnes,
    plain,
    run,
    scope_where,
    settings_of,
)
from central.approvals import store as approvals
from central.intake import store as batches
from central.lots import alerts, ledgers, store
from central.stocktake import store as counts

router = APIRouter(tags=["lots"])

CATEGORIES = Literal["raw_grain", "oilseed", "edible_oil", "finished_grain"]


class LotBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depot: str = Field(pattern=CODE)
    granary: str = Field(pattern=CODE)
    lot: str = Field(pattern=LOT)
    category: CATEGORIES
    variety: str = Field(min_length=1, max_length=64)
    grade: str | None = Field(None, min_length=1, max_length=32)
    harvest_year: int | None = Field(None, ge=2000, le=2100)
    card_established: str = Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="专卡建立年月，格式 YYYY-MM")
    production_date: FactDate | None = Field(None, description="成品粮的生产日期")
    shelf_life_days: int | None = Field(None, gt=0, le=36500)
    cell: str | None = Field(None, pattern=CODE, description="分廒仓房登记的廒间")
    packaged: bool = False


class MovementBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    direction: Literal["in", "out"]
    date: FactDate
    quantity_t: Tonnes
    moisture_pct: Percent
    impurity_pct: Percent
    voucher: str = Field(min_length=1, max_length=64)
    batch_code: str | None = Field(None, max_length=64)


class CorrectionBody(MovementBody):
    direction: Literal["in", "out"] | None = None  # taken from the corrected movement
    reason: Text


class SettleBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cleared_on: FactDate
    confirm_loss: bool = Field(False, description="将账面余数核销为损耗："
                               "须经监管人员审批的申请（返回 202）")


class TransferBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    granary: str = Field(pattern=CODE)
    reason: Text | None = None


class CountBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    date: FactDate
    method: Literal["measure", "bags"]
    shape: Literal["flat", "round"] | None = None
    length_m: Metres | None = None
    width_m: Metres | None = None
    height_m: Metres | None = None
    diameter_m: Metres | None = None
    cone_height_m: Metres | None = None
    deduction_m3: Annotated[Tonnes, Field(le=10_000_000)] | None = None
    bags: int | None = Field(None, gt=0, le=10_000_000)
    bag_kg: Metres | None = None
    test_weight_g_l: TestWeight | None = Field(None, description="容重 g/L")
    correction_factor: Factor | None = Field(None, description="密度修正系数 k")
    moisture_pct: Percent | None = None
    impurity_pct: Percent | None = None


def _granary_or_422(conn, depot: str, granary: str) -> None:
    if conn.execute("SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
                    (depot, granary)).fetchone() is None:
        raise HTTPException(422, f"granary：粮库 {depot} 没有登记仓房 {granary}")


def lot_view(conn, row: dict) -> dict:
    all_movements = store.movements(conn, row["lot"])
    current = store.effective(all_movements)
    view = plain({k: v for k, v in row.items() if k not in ("settlement", "settled_at")})
    view["card_established"] = view["card_established"][:7]
    view["movements"] = [plain(mv) | {"superseded": mv not in current} for mv in all_movements]
    remainder = float(store.balance_t(current))
    # once settled, the book remainder is the lot's loss, written off: nothing is held
    view["balance_t"] = 0.0 if row["settled_at"] else remainder
    view["state"] = "settled" if row["settled_at"] else "open"
    if row["settled_at"]:
        view["loss_written_off_t"] = remainder
    view["settled_at"] = row["settled_at"]
    view["settlement"] = row["settlement"]
    return view


@router.post("/lots", status_code=201, response_model=m.LotView, summary="在仓房中建立货位")
def create_lot(body: LotBody, user: WriteUser, conn: DbConn):
    depot_or_404(conn, user, body.depot)
    _granary_or_422(conn, body.depot, body.granary)
    if store.get_lot(conn, body.lot) is not None:
        if lot_in_scope(conn, user, body.lot) is None:
            raise lot_not_found(body.lot)
        raise HTTPException(409, f"lot：货位 {body.lot} 已存在")
    if (body.production_date is None) != (body.shelf_life_days is None) or (
            body.category == "finished_grain" and body.production_date is None):
        raise HTTPException(422, "production_date、shelf_life_days：成品粮须同时填写生产日期和保质期")
    data = body.model_dump()
    data["card_established"] = date.fromisoformat(body.card_established + "-01")
    row = run(conn, store.create_lot, user.name, data)
    return json_answer(lot_view(conn, row), status_code=201)


@router.get("/lots", response_model=list[m.LotRow], summary="调用者管辖范围内的货位（可筛选）",
            description=f"由数据库排序和分页；符合条件的总数见 "
                        f"`{TOTAL_HEADER}` 响应头。`sort` 取 {', '.join(reserve_lists.LOT_SORTS)} 之一，"
                        f"前加 `-` 为降序（默认：depot, granary, lot）。")
def list_lots(user: CurrentUser, conn: DbConn,
              depot: str | None = Query(None, pattern=CODE), granary: str | None = Query(None, pattern=CODE),
              variety: str | None = Query(None, min_length=1, max_length=64),
              category: CATEGORIES | None = None,
              harvest_year: int | None = Query(None, ge=2000, le=2100),
              state: Literal["open", "settled"] | None = None,
              q: str | None = Query(None, max_length=64, description="货位号、粮库代码或名称包含此文字"),
              sort: str | None = Query(None, max_length=41),
              limit: int = Query(1000, ge=1, le=10000), offset: int = Query(0, ge=0, le=10_000_000)):
    order = order_or_422(sort, reserve_lists.LOT_SORTS, reserve_lists.LOT_DEFAULT, reserve_lists.LOT_TIE)
    where, params = scope_where(user)
    rows, total = reserve_lists.lot_page(
        conn, where, params, {"depot": depot, "granary": granary, "variety": variety, "category": category,
                              "harvest_year": harvest_year, "state": state}, q, order, limit, offset)
    return with_total(json_answer(rows), total)


@router.get("/lots/{lot}", response_model=m.LotView, summary="货位及其出入库记录、结存和损耗核算")
def get_lot(row: LotRef, conn: DbConn):
    return json_answer(lot_view(conn, row))


@router.post("/lots/{lot}/movements", status_code=201, response_model=m.Movement,
             summary="记录入库或出库（同时记入三本账）")
def add_movement(user: WriteUser, row: LotRef, body: MovementBody, conn: DbConn):
    return json_answer(plain(run(conn, store.add_movement, row, user.name, body.model_dump())),
                       status_code=201)


@router.post("/lots/{lot}/movements/{movement_id}/correct", status_code=202, response_model=m.Pending,
             summary="申请更正出入库记录（双人审批；以新记录取代原记录）")
def correct_movement(user: WriteUser, row: LotRef, movement_id: int, body: CorrectionBody, conn: DbConn):
    current = store.effective(store.movements(conn, row["lot"]))
    if not any(mv["id"] == movement_id for mv in current):
        raise HTTPException(409, f"movement {movement_id} 不是货位 {row['lot']} 的现行记录")
    payload = body.model_dump(exclude={"direction"}) | {"lot": row["lot"], "movement_id": movement_id}
    req = run(conn, approvals.request, "correction", user.name, f"lot:{row['lot']}", payload,
              body.reason, depot=row["depot"])
    return json_answer(approvals.pending_answer(req), status_code=202)


@router.post("/lots/{lot}/transfer", status_code=202, response_model=m.Pending,
             summary="申请将货位移到另一仓房（双人审批）")
def transfer(user: WriteUser, row: LotRef, body: TransferBody, conn: DbConn):
    _granary_or_422(conn, row["depot"], body.granary)
    if row["settled_at"] is not None:
        raise HTTPException(409, f"货位 {row['lot']} 已核销，不能移库")
    if body.granary == row["granary"]:
        raise HTTPException(422, f"granary：货位已在仓房 {body.granary}")
    req = run(conn, approvals.request, "transfer", user.name, f"lot:{row['lot']}",
              {"lot": row["lot"], "from": row["granary"], "granary": body.granary}, body.reason,
              depot=row["depot"])
    return json_answer(approvals.pending_answer(req), status_code=202)


@router.post("/lots/{lot}/settle", response_model=m.Settlement | m.Pending,
             summary="出清时核算保管损耗（domain.md §6）")
def settle(user: WriteUser, row: LotRef, body: SettleBody, conn: DbConn):
    if body.confirm_loss:
        if row["settled_at"] is not None:
            raise HTTPException(409, f"货位 {row['lot']} 已核销结算")
        req = run(conn, approvals.request, "write_off", user.name, f"lot:{row['lot']}",
                  {"lot": row["lot"], "cleared_on": body.cleared_on}, "核销账面余量为损耗",
                  depot=row["depot"])
        return json_answer(approvals.pending_answer(req), status_code=202)

    def settle_and_alarm(conn):
        result = store.settle_lot(conn, row, user.name, body.cleared_on)
        if result.storage_accident:
            alerts.storage_accident(conn, row, result)
        return result

    result = run(conn, settle_and_alarm)
    return json_answer(store.settlement_dict(row["lot"], result))


@router.get("/lots/{lot}/ledger", response_model=list[m.LedgerEntry], summary="货位的只增不改台账")
def lot_ledger(row: LotRef, conn: DbConn):
    return json_answer(store.ledger(conn, row["lot"]))


@router.get("/lots/{lot}/ledgers", response_model=m.LotLedgers,
            summary="货位三本账的结存（保管账、统计账、会计账）")
def lot_ledgers(row: LotRef, conn: DbConn):
    rec = ledgers.reconciliation(conn, [row["lot"]], only_differences=False)
    return json_answer(plain(rec[0]) if rec else {"lot": row["lot"], "agrees": True})


@router.post("/lots/{lot}/counts", status_code=201, response_model=m.CountResult,
             summary="记录实物检查结果并与调整后的账面数核对（账实核对，domain.md §9）")
def add_count(request: Request, user: WriteUser, row: LotRef, body: CountBody, conn: DbConn):
    tolerance = settings_of(request).stocktake_tolerance_pct
    saved = run(conn, counts.record, row, user.name, body.model_dump(), Decimal(str(tolerance)))
    return json_answer(counts.answer(saved), status_code=201)


@router.get("/lots/{lot}/counts", response_model=list[m.CountResult], summary="货位的历次实物检查")
def list_counts(row: LotRef, conn: DbConn):
    return json_answer([counts.answer(c) for c in counts.for_lot(conn, row["lot"])])


@router.get("/lots/{lot}/archive", response_model=m.LotView,
            summary="货位专卡档案：出入库、三本账、批次、实物检查、审批")
def lot_archive(row: LotRef, conn: DbConn):
    """货位的全部记录汇成一份文档；其中任何内容都不删除，储存周期结束后
    仍可按规定年限（至少五年）查阅。"""
    view = lot_view(conn, row)
    view["ledger"] = store.ledger(conn, row["lot"])
    view["ledgers"] = plain(ledgers.entries(conn, row["lot"]))
    view["batches"] = plain(batches.for_lot(conn, row["lot"]))
    view["counts"] = [counts.answer(c) for c in counts.for_lot(conn, row["lot"])]
    view["approvals"] = approvals.for_subject(conn, f"lot:{row['lot']}")
    return json_answer(view)
