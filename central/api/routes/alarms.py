"""Alarms: the scoped list, acknowledging, and the handling workflow (contracts/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from central.alarms.state import store
from central.alarms.state.queries import ALARM_SORTS, DEFAULT_SORT, TIE, AlarmFilter, list_alarms
from central.api.auth import depot_in_scope, scope_sql
from central.api.deps import CurrentUser, DbConn, WriteUser
from central.api.encoding import json_answer
from central.api.listing import (
    TOTAL_HEADER,
    like_pattern,
    named_scope,
    order_or_422,
    page_sql,
    with_total,
)
from central.api.params import ServiceTime
from central.api.queries import depot_row
from central.api.schemas import Alarm, AlarmDetail, AlarmWithActions, answer, write_answer

router = APIRouter(tags=["alarms"])

_BIGINT_MAX = 2**63 - 1


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["plan", "approve", "execute", "result"]
    text: str = Field(min_length=1, max_length=4000)


def alarm_ref(alarm_id: Annotated[int, Path(description="报警编号")], user: CurrentUser,
              conn: DbConn) -> dict:
    """The alarm when it exists and its depot is the caller's; 404 otherwise (same answer)."""
    alarm = store.get_alarm(conn, alarm_id) if 1 <= alarm_id <= _BIGINT_MAX else None
    if alarm is not None:
        depot = depot_row(conn, alarm["depot"])
        if depot is not None and depot_in_scope(user, depot.get("region_code"), alarm["depot"]):
            return alarm
    raise HTTPException(404, f"预警 {alarm_id} 不存在")


AlarmRef = Annotated[dict, Depends(alarm_ref)]


def _with_actions(conn, alarm: dict) -> dict:
    return {**store.alarm_dict(alarm), "actions": store.actions(conn, alarm["id"])}


@router.get("/alarms", response_model=list[Alarm], responses=answer(),
            summary="调用者所辖粮库的报警，最近变化的在前",
            description=f"符合筛选条件的总数见 `{TOTAL_HEADER}` 响应头。"
                        f"`sort` 取 {', '.join(ALARM_SORTS)} 之一，前加 `-` 为降序"
                        f"（默认 {DEFAULT_SORT}）。")
def alarms(
    user: CurrentUser,
    conn: DbConn,
    state: Literal["active", "acknowledged", "cleared", "open"] | None = None,
    depot: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    severity: Literal["alarm", "warning"] | None = None,
    since: Annotated[ServiceTime | None, Query(description="RFC 3339：在此时刻或之后有变化")] = None,
    q: Annotated[str | None, Query(max_length=64, description="粮库代码、名称或报警对象"
                                                              "包含此文字")] = None,
    sort: Annotated[str | None, Query(max_length=41)] = None,
    # The bound the contract's clients already used (the page asked for up to 5,000).
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
):
    order = order_or_422(sort, ALARM_SORTS, DEFAULT_SORT, TIE)
    where, params = named_scope(*scope_sql(user))
    page_params: dict = {}
    paging = page_sql(limit, offset, page_params)
    rows, total = list_alarms(
        conn, where, params,
        AlarmFilter(state=state, depot=depot, rule=rule, severity=severity, since=since,
                    q=like_pattern(q) if q and q.strip() else None),
        order_sql=order.sql, page_sql=paging, page_params=page_params)
    return with_total(json_answer(rows), total)


@router.get("/alarms/{alarm_id}", response_model=AlarmDetail, responses=answer(),
            summary="单条报警及其处置记录和变化历史")
def alarm(alarm: AlarmRef, conn: DbConn):
    return json_answer({**_with_actions(conn, alarm), "history": store.history(conn, alarm["id"])})


@router.post("/alarms/{alarm_id}/ack", response_model=Alarm, responses=write_answer(),
             summary="确认报警（记录确认人、时间、备注）")
def ack(user: WriteUser, alarm: AlarmRef, conn: DbConn, body: AckBody | None = None):
    try:
        with conn.transaction():
            answer_ = store.acknowledge(conn, alarm["id"], user.name, body.note if body else None)
    except store.AlarmError:
        raise HTTPException(409, f"预警 {alarm['id']} 已解除，不能再确认") from None
    return json_answer(answer_)


@router.post("/alarms/{alarm_id}/actions", response_model=AlarmWithActions,
             responses=write_answer(), summary="记录处置方案、审批、执行或结果")
def add_action(user: WriteUser, alarm: AlarmRef, body: ActionBody, conn: DbConn):
    try:
        with conn.transaction():
            store.add_action(conn, alarm["id"], body.kind, body.text, user.name)
    except store.SelfApproval as exc:
        raise HTTPException(403, str(exc)) from None
    return json_answer(_with_actions(conn, store.get_alarm(conn, alarm["id"])))
