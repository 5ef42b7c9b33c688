"""Keeper's rounds and supervisory inspections with rectification deadlines (issue 14
item 6); the insect inspections keep their own routes (`…/granaries/{g}/inspections`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.api import reserve_lists
from central.api.deps import CurrentUser, DbConn, DepotRef, WriteUser
from central.api.encoding import json_answer
from central.api.listing import TOTAL_HEADER, order_or_422, with_total
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import CODE, FactDate, PlanDate, Text, plain, scope_where
from central.inspections import store

router = APIRouter(tags=["checks"])

# The page size the list always had (it was a silent cap): the default and the bound.
CHECK_LIMIT = 500


class RoundChecks(BaseModel):
    """保管员巡仓：看到、闻到和人工测得的情况。"""

    model_config = ConfigDict(extra="forbid")
    colour: Literal["正常", "异常"] | None = None
    smell: Literal["正常", "异常"] | None = None
    insects: Literal["未发现", "发现"] | None = None
    condensation: Literal["无", "有"] | None = None
    hand_temps_c: list[float] = Field(default_factory=list, max_length=100,
                                      description="测温盲区人工测得的粮温，°C")
    hand_moisture_pct: list[float] = Field(default_factory=list, max_length=100)

    @model_validator(mode="after")
    def _plausible(self):
        if any(not -40 <= t <= 80 for t in self.hand_temps_c):
            raise ValueError("hand_temps_c：粮温须在 −40 至 80 °C 之间")
        if any(not 0 <= w < 100 for w in self.hand_moisture_pct):
            raise ValueError("hand_moisture_pct：水分须在 0 至 100 % 之间")
        return self


class CheckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["round", "supervisory"]
    granary: str | None = Field(None, pattern=CODE)
    inspected_on: FactDate
    checks: RoundChecks | None = None
    findings: Text | None = None
    rectification_due: PlanDate | None = None

    @model_validator(mode="after")
    def _deadline(self):
        if self.rectification_due is not None:
            if not self.findings:
                raise ValueError("findings：有整改期限的检查须写明发现的问题")
            if self.rectification_due < self.inspected_on:
                raise ValueError("rectification_due：整改期限早于检查日期")
        return self


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    closed_on: FactDate
    note: Text | None = None


@router.post("/depots/{depot}/checks", status_code=201, response_model=m.Inspection,
             summary="记录保管员巡仓或监管检查")
def add_check(user: WriteUser, depot: DepotRef, body: CheckBody, conn: DbConn):
    if body.granary and not store.granary_exists(conn, depot["code"], body.granary):
        raise HTTPException(422, f"granary：粮库 {depot['code']} 没有仓房 {body.granary}")
    with conn.transaction():
        row = store.record(conn, depot["code"], user.name, body.model_dump(mode="json") | {
            "inspected_on": body.inspected_on, "rectification_due": body.rectification_due})
    return json_answer(plain(row), status_code=201)


@router.get("/depots/{depot}/checks", response_model=list[m.Inspection], summary="粮库的检查记录")
def depot_checks(user: CurrentUser, depot: DepotRef, conn: DbConn, open: bool = False):
    where, params = scope_where(user)
    return json_answer(plain(store.list_for(conn, where, params, depot=depot["code"], open_only=open)))


@router.get("/checks", response_model=list[m.Inspection],
            summary="调用者管辖范围内的检查记录（open=true：尚未销号的整改）",
            description=f"最新的在前，每页最多 {CHECK_LIMIT} 条；符合条件的总数见 "
                        f"`{TOTAL_HEADER}` 响应头。`sort` 取 {', '.join(reserve_lists.CHECK_SORTS)} 之一，"
                        f"前加 `-` 为降序（默认 -inspected_on）。")
def scope_checks(user: CurrentUser, conn: DbConn, open: bool = False,
                 depot: str | None = Query(None, pattern=CODE),
                 sort: str | None = Query(None, max_length=41),
                 limit: int = Query(CHECK_LIMIT, ge=1, le=CHECK_LIMIT),
                 offset: int = Query(0, ge=0, le=10_000_000)):
    order = order_or_422(sort, reserve_lists.CHECK_SORTS, reserve_lists.CHECK_DEFAULT, reserve_lists.CHECK_TIE)
    where, params = scope_where(user)
    # the store's own column list (one answer shape for one check and for the list)
    rows, total = reserve_lists.check_page(conn, where, params, store.COLUMNS, depot, open,
                                           order, limit, offset)
    return with_total(json_answer(plain(rows)), total)


@router.post("/depots/{depot}/checks/{check_id}/close", response_model=m.Inspection,
             summary="close a rectification (销号)")
def close_check(user: WriteUser, depot: DepotRef, check_id: int, body: CloseBody, conn: DbConn):
    if not 0 < check_id < 2**63 or store.get(conn, depot["code"], check_id) is None:
        raise HTTPException(404, f"检查记录 {check_id} 不存在")
    try:
        with conn.transaction():
            row = store.close(conn, depot["code"], check_id, body.closed_on, body.note, user.name)
    except store.InspectionConflict as exc:
        raise HTTPException(409, str(exc)) from None
    return json_answer(plain(row))
