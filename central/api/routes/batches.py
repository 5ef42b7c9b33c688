"""Intake and loading batches (contract api.md "Batches", domain.md §8): a unique code at
arrival, sampling and tests with who and when, then accept (the movement), refuse or send to
pretreatment. A refusal by a §8 rule answers 409 naming the rule; with `exception_reason` a
refusal that may be excepted becomes a request for a supervisor's approval (202)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from central.api.deps import CurrentUser, DbConn, WriteUser, depot_or_404, lot_in_scope
from central.api.encoding import json_answer
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
        None, description="ask a supervisor to approve the intake although a §8 rule refuses it")


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


@router.post("/batches", status_code=201, response_model=m.Batch, summary="register an arriving batch: its unique code")
def register(user: WriteUser, body: BatchBody, conn: DbConn):
    depot_or_404(conn, user, body.depot)
    row = run(conn, batches.register, user.name, body.model_dump())
    return json_answer(plain(batches.view(conn, row["code"])), status_code=201)


@router.get("/batches", response_model=list[m.Batch], summary="batches in the caller's scope, newest first")
def list_batches(user: CurrentUser, conn: DbConn,
                 state: Literal["arrived", "accepted", "refused", "pretreatment"] | None = None,
                 limit: int = Query(200, ge=1, le=5000)):
    where, params = scope_where(user)
    return json_answer(plain(batches.list_for(conn, where, params, state, limit)))


@router.get("/batches/{code}", response_model=m.Batch, summary="the batch with every step (who, when)")
def get_batch(code: str, user: CurrentUser, conn: DbConn):
    return json_answer(plain(batches.view(conn, batch_or_404(conn, user, code)["code"])))


@router.post("/batches/{code}/tests", status_code=201, response_model=m.Batch,
             summary="sampling, physical or chemical test, or the keeper's re-check")
def add_test(code: str, user: WriteUser, body: TestBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    if body.kind in ("physical", "recheck") and (body.moisture_pct is None or body.impurity_pct is None):
        raise HTTPException(422, "moisture_pct、impurity_pct：物检和复检须填写水分和杂质")
    if body.kind == "chemical" and body.passed is None:
        raise HTTPException(422, "passed：化检（食品安全）须填写是否合格")
    data = {k: v for k, v in body.model_dump().items() if v is not None}
    return json_answer(plain(run(conn, batches.record_test, row, user.name, data)), status_code=201)


@router.post("/batches/{code}/accept", response_model=m.Batch | m.Pending,
             summary="accept into a lot (creates the movement) or 409 naming the §8 rule")
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


@router.post("/batches/{code}/refuse", response_model=m.Batch, summary="return the batch (kept on record)")
def refuse(code: str, user: WriteUser, body: ReasonBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    return json_answer(plain(run(conn, batches.decide, row, user.name, "refused", body.reason)))


@router.post("/batches/{code}/pretreat", response_model=m.Batch,
             summary="send to pretreatment (drying, cleaning); then test again")
def pretreat(code: str, user: WriteUser, body: ReasonBody, conn: DbConn):
    row = batch_or_404(conn, user, code)
    return json_answer(plain(run(conn, batches.decide, row, user.name, "pretreatment", body.reason)))
