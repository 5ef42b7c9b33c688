"""Keeper's rounds and supervisory inspections with rectification deadlines (issue 14
item 6); the insect inspections keep their own routes (`…/granaries/{g}/inspections`)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.api.deps import CurrentUser, DbConn, DepotRef, WriteUser
from central.api.encoding import json_answer
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import CODE, FactDate, PlanDate, Text, plain, scope_where
from central.inspections import store

router = APIRouter(tags=["checks"])


class RoundChecks(BaseModel):
    """The keeper's round: what he saw, smelt and measured by hand."""

    model_config = ConfigDict(extra="forbid")
    colour: Literal["正常", "异常"] | None = None
    smell: Literal["正常", "异常"] | None = None
    insects: Literal["未发现", "发现"] | None = None
    condensation: Literal["无", "有"] | None = None
    hand_temps_c: list[float] = Field(default_factory=list, max_length=100,
                                      description="hand measurements at blind spots, °C")
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
             summary="record a keeper's round or a supervisory inspection")
def add_check(user: WriteUser, depot: DepotRef, body: CheckBody, conn: DbConn):
    if body.granary and not store.granary_exists(conn, depot["code"], body.granary):
        raise HTTPException(422, f"granary：粮库 {depot['code']} 没有仓房 {body.granary}")
    with conn.transaction():
        row = store.record(conn, depot["code"], user.name, body.model_dump(mode="json") | {
            "inspected_on": body.inspected_on, "rectification_due": body.rectification_due})
    return json_answer(plain(row), status_code=201)


@router.get("/depots/{depot}/checks", response_model=list[m.Inspection], summary="the depot's checks")
def depot_checks(user: CurrentUser, depot: DepotRef, conn: DbConn, open: bool = False):
    where, params = scope_where(user)
    return json_answer(plain(store.list_for(conn, where, params, depot=depot["code"], open_only=open)))


@router.get("/checks", response_model=list[m.Inspection],
            summary="checks in the caller's scope (open=true: rectifications not yet closed)")
def scope_checks(user: CurrentUser, conn: DbConn, open: bool = False):
    where, params = scope_where(user)
    return json_answer(plain(store.list_for(conn, where, params, open_only=open)))


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
