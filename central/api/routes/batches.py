"""Intake and loading batches (contract api.md "Batches", domain.md §8): a unique code at
arrival, sampling and tests with who and when, then accept (the movement), refuse or send to
pretreatment. A refusal by a §8 rule answers 409 naming the rule; with `exception_reason` a
refusal that may be excepted becomes a request for a supervisor's approval (202)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from central.api import reserve_lists
from central.api.deps import CurrentUser, DbConn, WriteUser, depot_or_404, lot_in_scope
from central.api.encoding import json_answer
from central.api.listing import TOTAL_HEADER, order_or_422, with_total
from central.api.routes import reserve_models as m
from central.api.routes.lots import CATEGORIES
from central.api.routes.reserve_common import (
    CODE,
    LOT,
    FactDate,
    FactTime,
    Percent,
    Text,
    Tonnes,
    plain,
    run,
    scope_where,
    settings_of,
)
from central.approvals import store as approvals
from central.intake import store as batches
from central.intake.rules import IntakeLimits
from central.lots.store import RuleRefusal

router = APIRouter(tags=["batches"])


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depot: str = Field(pattern=CODE)
    direction: Literal["in", "out"]
    category: CATEGORIES
    variety: str = Field(min_length=1, max_length=64)
    arrived_at: FactTime
    harvest_year: int | None = Field(None, ge=2000, le=2100)
    vehicle: str | None = Field(None, min_length=1, max_length=32, description="车船号")


class TestBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["sampling", "physical", "chemical", "recheck"]
    moisture_pct: Percent | None = None
    impurity_pct: Percent | None = None
    test_weight_g_l: Tonnes | None = Field(None, description="容重 g/L")
    grade: str | None = Field(None, min_length=1, max_length=32)
    passed: bool | None = None
    note: Text | None = None


class AcceptBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    lot: str = Field(pattern=LOT)
    quantity_t: Tonnes
    date: FactDate
    exception_reason: Text | None = Field(
        None, description="按 §8 规则本应拒收时，申请监管人员审批例外入库")


class ReasonBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Text


def batch_or_404(conn, user, code: str) -> dict:
    row = batches.get(conn, code) if len(code) <= 100 and "\x00" not in code else None
    if row is None:
        raise HTTPException(404, "批次不存在")
    try:
        depot_or_404(conn, user, row["depot"])
    except HTTPException:
        raise HTTPException(404, "批次不存在") from None
    return row


@router.post("/batches", status_code=201, response_model=m.Batch, summary="登记到库批次，生成唯一批次号")
def register(user: WriteUser, body: BatchBody, conn: DbConn):
    depot_or_404(conn, user, body.depot)
    row = run(conn, batches.register, user.name, body.model_dump())
    return json_answer(plain(batches.view(conn, row["code"])), status_code=201)


@router.get("/batches", response_model=list[m.Batch], summary="调用者管辖范围内的批次，最新的在前",
            description=f"由数据库排序和分页；符合条件的总数见 "
                        f"`{TOTAL_HEADER}` 响应头。`sort` 取 {', '.join(reserve_lists.BATCH_SORTS)} 之一，"
                        f"前加 `-` 为降序（默认 -arrived_at）。")
def list_batches(user: CurrentUser, conn: DbConn,
                 state: Literal["arrived", "accepted", "refused", "pretreatment"] | None = None,
                 depot: str | None = Query(None, pattern=CODE),
                 direction: Literal["in", "out"] | None = None,
                 q: str | None = Query(None, max_length=64, description="批次号、车船号或粮库名称包含此文字"),
                 sort: str | None = Query(None, max_length=41),
                 limit: int = Query(200, ge=1, le=5000), offset: int = Query(0, ge=0, le=10_000_000)):
    order = order_or_422(sort, reserve_lists.BATCH_SORTS, reserve_lists.BATCH_DEFAULT, reserve_lists.BATCH_TIE)
    where, params = scope_where(user)
    rows, total = reserve_lists.batch_page(conn, where, params, state, depot, direction, q, order, limit, offset)
    return with_total(json_answer(plain(rows)), total)


@router.get("/batches/{code}", response_model=m.Batch, summary="批次及其每个环节（经办人、时间）")
def get_batch(code: str, user: CurrentUser, conn: DbConn):
    return json_answer(plain(batches.view(conn, batch_or_404(conn, user, code)["code"])))


@router.post("/batches/{code}/tests", status_code=201, response_model=m.Batch,
             summary="扦样、物检、化检或保管员复检")
def add_test(code: str, user: WriteUser, body: TestBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    if body.kind in ("physical", "recheck") and (body.moisture_pct is None or body.impurity_pct is None):
        raise HTTPException(422, "moisture_pct、impurity_pct：物检和复检须填写水分和杂质")
    if body.kind == "chemical" and body.passed is None:
        raise HTTPException(422, "passed：化检（食品安全）须填写是否合格")
    data = {k: v for k, v in body.model_dump().items() if v is not None}
    return json_answer(plain(run(conn, batches.record_test, row, user.name, data)), status_code=201)


@router.post("/batches/{code}/accept", response_model=m.Batch | m.Pending,
             summary="入库到货位（生成出入库记录），不符合 §8 规则时返回 409 并写明规则")
def accept(code: str, request: Request, user: WriteUser, body: AcceptBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    lot = lot_in_scope(conn, user, body.lot)
    if lot is None or lot["depot"] != row["depot"]:
        raise HTTPException(422, f"lot：粮库 {row['depot']} 没有货位 {body.lot}")
    limits = IntakeLimits.from_settings(settings_of(request))
    try:
        view = run(conn, batches.accept, row, user.name, body.lot, body.quantity_t, body.date, limits,
                   passthrough=(RuleRefusal,))
        return json_answer(plain(view))
    except RuleRefusal as exc:
        refusal = exc.refusal
        if not body.exception_reason or not refusal.exception_allowed:
            raise HTTPException(409, f"{refusal.rule}: {refusal.message}") from None
    req = run(conn, approvals.request, "intake_exception", user.name, f"batch:{code}",
              {"code": code, "lot": body.lot, "quantity_t": body.quantity_t, "date": body.date,
               "rule": refusal.rule}, body.exception_reason, depot=row["depot"])
    return json_answer(approvals.pending_answer(req) | {"rule": refusal.rule}, status_code=202)


@router.post("/batches/{code}/refuse", response_model=m.Batch, summary="退回批次（记录保留）")
def refuse(code: str, user: WriteUser, body: ReasonBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    return json_answer(plain(run(conn, batches.decide, row, user.name, "refused", body.reason)))


@router.post("/batches/{code}/pretreat", response_model=m.Batch,
             summary="送预处理（烘干、清理），之后重新检验")
def pretreat(code: str, user: WriteUser, body: ReasonBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    return json_answer(plain(run(conn, batches.decide, row, user.name, "pretreatment", body.reason)))
