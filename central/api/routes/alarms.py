"""Alarms: the scoped list, acknowledging, and the handling workflow (contracts/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from pydantic import BaseModel, ConfigDict, Field

import central.alarms.advice  # noqa: F401  (registers the ventilation/EMC advisor)
from central.alarms import store
from central.alarms.queries import list_alarms
from central.api.auth import User, current_user, get_depot_or_404, require_write, scope_sql
from central.api.db import db_conn
from central.api.encoding import json_answer

router = APIRouter(tags=["alarms"])


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(None, max_length=2000)


class ActionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["plan", "approve", "execute", "result"]
    text: str = Field(min_length=1, max_length=4000)


def _alarm_in_scope(conn, user: User, alarm_id: int) -> dict:
    """The alarm when it exists and its depot is the caller's; 404 otherwise (same answer)."""
    alarm = store.get_alarm(conn, alarm_id)
    if alarm is not None:
        try:
            get_depot_or_404(conn, user, alarm["depot"])
            return alarm
        except HTTPException:
            pass
    raise HTTPException(404, f"alarm {alarm_id} not found")


def _with_actions(conn, alarm: dict) -> dict:
    return {**store.alarm_dict(alarm), "actions": store.actions(conn, alarm["id"])}


@router.get("/alarms", summary="alarms of the caller's depots, newest change first")
def alarms(
    state: str | None = Query(None, pattern="^(active|acknowledged|cleared|open)$"),
    depot: str | None = Query(None, max_length=64),
    rule: str | None = Query(None, max_length=64),
    since: datetime | None = Query(None, description="RFC 3339: changed at or after"),
    limit: int = Query(1000, ge=1, le=10000),
    user: User = Depends(current_user),
    conn=Depends(db_conn),
):
    if since is not None and since.tzinfo is None:
        raise HTTPException(422, "since: give a time zone (RFC 3339, e.g. 2026-11-22T08:00:00Z)")
    where, params = scope_sql(user)
    return json_answer(list_alarms(conn, where, params, state=state, depot=depot, rule=rule,
                                   since=since, limit=limit))


@router.get("/alarms/{alarm_id}", summary="one alarm with its actions and history")
def alarm(alarm_id: int, user: User = Depends(current_user), conn=Depends(db_conn)):
    found = _alarm_in_scope(conn, user, alarm_id)
    return json_answer({**_with_actions(conn, found), "history": store.history(conn, alarm_id)})


@router.post("/alarms/{alarm_id}/ack", summary="acknowledge (who, when, note)")
def ack(alarm_id: int, body: AckBody | None = None, user: User = Depends(require_write),
        conn=Depends(db_conn)):
    _alarm_in_scope(conn, user, alarm_id)
    try:
        with conn.transaction():
            answer = store.acknowledge(conn, alarm_id, user.name, body.note if body else None)
    except store.AlarmError as exc:
        raise HTTPException(409, str(exc)) from None
    conn.commit()
    return json_answer(answer)


@router.post("/alarms/{alarm_id}/actions", summary="record a plan, approval, execution or result")
def add_action(alarm_id: int, body: ActionBody, user: User = Depends(require_write),
               conn=Depends(db_conn)):
    _alarm_in_scope(conn, user, alarm_id)
    with conn.transaction():
        store.add_action(conn, alarm_id, body.kind, body.text, user.name)
    conn.commit()
    return json_answer(_with_actions(conn, store.get_alarm(conn, alarm_id)))
