"""Alarm thresholds per depot and per granary, and a province's floor (domain.md §10).

A change that only tightens applies at once (write users; every change recorded with who,
when, old and new). One that loosens any alarm answers 202 with a `threshold_loosening`
approval and applies when a different supervisor or admin approves it. Nothing may be looser
than the province floor: that is refused 422 before any approval is asked."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Body, HTTPException, Path, Query
from pydantic import BaseModel, Field, ValidationError

from central.alarms.state import thresholds_store as ts
from central.api.deps import CurrentUser, DbConn, DepotRef, GranaryRef, WriteUser
from central.api.encoding import json_answer
from central.api.errors import printable, validation_detail
from central.api.routes.reserve_models import Pending
from central.api.schemas import ThresholdChange, ThresholdsAnswer, answer, write_answer
from central.approvals import store as approvals
from central.lots.plans import covers_region
from central.rules.thresholds import ThresholdError, Thresholds, floor_message

router = APIRouter(tags=["thresholds"])

Overrides = dict[str, Any]
_BODY = Body(description="阈值名 → 取值（grain_temp_max_c 这类表可只给其中部分键）；"
                         "替换此处以前设置的全部覆盖值")
_REASON = Query(None, max_length=500, description="修改原因（随双人审批申请保存）")
_PROVINCE = re.compile(r"^\d{2}0000$")
_FOUR_EYES = {**write_answer(), 202: {"model": Pending, "description": "放宽阈值：生成双人审批申请"}}


class FloorAnswer(BaseModel):
    province: str
    settings: dict[str, Any] = Field(description="全省粮库都不得放宽的设置")
    changes: list[ThresholdChange] = Field(description="最新的在前：修改人、时间、原值、新值")


def _answer(conn, depot: str, granary: str | None) -> dict:
    key = granary or ts.DEPOT_WIDE
    province = ts.province_of(conn, depot)
    return {
        "depot": depot,
        "granary": granary,
        "overrides": ts.overrides(conn, depot, key),
        "effective": ts.thresholds_for(conn, depot, granary).model_dump(),
        "changes": ts.changes(conn, depot, key),
        "floor": {"province": province, "settings": ts.region_floor(conn, province) if province else {}},
    }


def _check_names(body: Overrides) -> None:
    unknown = [k for k in body if k not in Thresholds.model_fields]
    if unknown:
        raise HTTPException(422, f"正文 {printable(unknown[0])}：不是可设置的阈值")


def _invalid(exc: ThresholdError) -> HTTPException:
    cause = exc.__cause__
    if isinstance(cause, ValidationError):
        return HTTPException(422, validation_detail(
            {**e, "loc": ("body", *e["loc"])} for e in cause.errors()))
    return HTTPException(422, "正文：阈值无效")


def _pending(conn, user, subject: str, payload: dict, reason: str | None, **where):
    row = approvals.request(conn, "threshold_loosening", user.name, subject, payload, reason, **where)
    return json_answer(approvals.pending_answer(row), status_code=202)


def _put(conn, user, depot: str, granary: str | None, body: Overrides, reason: str | None):
    _check_names(body)
    key = granary or ts.DEPOT_WIDE
    try:
        with conn.transaction():
            province, breaches = ts.below_floor(conn, depot, key, body)
            if breaches:
                raise HTTPException(422, floor_message(province, breaches))
            loose = ts.loosens(conn, depot, key, body)
            if loose:
                payload = {"depot": depot, "granary": key, "settings": body, "loosens": loose}
                return _pending(conn, user, f"thresholds:{depot}:{key}", payload, reason, depot=depot)
            ts.set_overrides(conn, depot, key, body, user.name)
    except ThresholdError as exc:
        raise _invalid(exc) from None
    return json_answer(_answer(conn, depot, granary))


@router.get("/depots/{depot}/thresholds", response_model=ThresholdsAnswer, responses=answer(),
            summary="粮库的报警阈值")
def depot_thresholds(depot: DepotRef, conn: DbConn):
    return json_answer(_answer(conn, depot["code"], None))


@router.put("/depots/{depot}/thresholds", response_model=ThresholdsAnswer,
            responses=_FOUR_EYES,
            summary="替换粮库级覆盖值（放宽须双人审批）")
def put_depot_thresholds(user: WriteUser, depot: DepotRef, conn: DbConn,
                         body: Overrides = _BODY, reason: str | None = _REASON):
    return _put(conn, user, depot["code"], None, body, reason)


@router.get("/depots/{depot}/granaries/{granary}/thresholds", response_model=ThresholdsAnswer,
            responses=answer(), summary="仓房的报警阈值")
def granary_thresholds(granary: GranaryRef, conn: DbConn):
    return json_answer(_answer(conn, granary.depot, granary.granary))


@router.put("/depots/{depot}/granaries/{granary}/thresholds", response_model=ThresholdsAnswer,
            responses=_FOUR_EYES,
            summary="替换仓房级覆盖值（优先于粮库级；放宽须双人审批）")
def put_granary_thresholds(user: WriteUser, granary: GranaryRef, conn: DbConn,
                           body: Overrides = _BODY, reason: str | None = _REASON):
    return _put(conn, user, granary.depot, granary.granary, body, reason)


def _province_or_404(user, province: str) -> str:
    if not _PROVINCE.match(province) or province == "000000":
        raise HTTPException(422, f"province：{printable(province)} 不是省级行政区划代码（如 430000）")
    if not covers_region(user, province):
        raise HTTPException(404, f"地区 {province} 不存在")
    return province


def _floor_answer(conn, province: str) -> dict:
    return {"province": province, "settings": ts.region_floor(conn, province),
            "changes": ts.region_changes(conn, province)}


@router.get("/regions/{province}/thresholds", response_model=FloorAnswer, responses=answer(),
            summary="全省阈值底线：省内粮库均不得比它宽松")
def province_thresholds(user: CurrentUser, conn: DbConn, province: str = Path(max_length=16)):
    return json_answer(_floor_answer(conn, _province_or_404(user, province)))


@router.put("/regions/{province}/thresholds", response_model=FloorAnswer, responses=_FOUR_EYES,
            summary="替换全省底线（限本省监管人员和管理员；放宽须双人审批）")
def put_province_thresholds(user: WriteUser, conn: DbConn, province: str = Path(max_length=16),
                            body: Overrides = _BODY, reason: str | None = _REASON):
    _province_or_404(user, province)
    if not user.holds("supervisor", "admin"):
        raise HTTPException(403, "设置省级预警底线需要以下岗位之一：supervisor、admin")
    _check_names(body)
    try:
        with conn.transaction():
            loose = ts.floor_loosens(conn, province, body)
            if loose:
                payload = {"region": province, "settings": body, "loosens": loose}
                return _pending(conn, user, f"thresholds:region:{province}", payload, reason,
                                region=province)
            ts.set_floor(conn, province, body, user.name)
    except ThresholdError as exc:
        raise _invalid(exc) from None
    return json_answer(_floor_answer(conn, province))
