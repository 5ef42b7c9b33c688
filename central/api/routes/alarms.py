"""Alarms: the scoped list, acknowledging, and the handling workflow (contracts/api.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from central.alarms.state import store
from central.alarms.state.queries import list_alarms
from central.api.auth import depot_in_scope, scope_sql
from central.api.deps import CurrentUser, DbConn, WriteUser
from central.api.encoding import json_answer
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


def alarm_ref(alarm_id: Annotated[int, Path(description="alarm id")], user: CurrentUser,
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
            summary="alarms of the caller's depots, newest change first")
def alarms(
    user: CurrentUser,
    conn: DbConn,
    state: Literal["active", "acknowledged", "cleared", "open"] | None = None,
    depot: Annotated[str | None, Query(max_length=64)] = None,
    rule: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[ServiceTime | None, Query(description="RFC 3339: changed at or after")] = None,
    limit: Annotated[int, Query(ge=1, le=10000)] = 1000,
):
    where, params = scope_sql(user)
    return json_answer(list_alarms(conn, where, params, state=state, depot=depot, rule=rule,
                                   since=since, limit=limit))


@router.get("/alarms/{alarm_id}", response_model=AlarmDetail, responses=answer(),
            summary="one alarm with its actions and history")
def alarm(alarm: AlarmRef, conn: DbConn):
    return json_answer({**_with_actions(conn, alarm), "history": store.history(conn, alarm["id"])})


@router.post("/alarms/{alarm_id}/ack", response_model=Alarm, responses=write_answer(),
             summary="acknowledge (who, when, note)")
def ack(user: WriteUser, alarm: AlarmRef, conn: DbConn, body: AckBody | None = None):
    try:
        with conn.transaction():
            answer_ = store.acknowledge(conn, alarm["id"], user.name, body.note if body else None)
    except store.AlarmError:
        raise HTTPException(409, f"预警 {alarm['id']} 已解除，不能再确认") from None
    return json_answer(answer_)


@router.post("/alarms/{alarm_id}/actions", response_model=AlarmWithActions,
             responses=write_answer(), summary="record a plan, approval, execution or result")
def add_action(user: WriteUser, alarm: AlarmRef, body: ActionBody, conn: DbConn):
    with conn.transaction():
        store.add_action(conn, alarm["id"], body.kind, body.text, user.name)
    return json_answer(_with_actions(conn, store.get_alarm(conn, alarm["id"])))
