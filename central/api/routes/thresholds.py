"""Alarm thresholds per depot and per granary: read the effective values, replace the
overrides (write users only; every change recorded with who, when, old and new)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, HTTPException

from central.alarms import thresholds_store as ts
from central.api.auth import User, current_user, get_depot_or_404, require_write
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.rules.thresholds import ThresholdError

router = APIRouter(tags=["thresholds"])


def _granary_or_404(conn, depot: str, granary: str) -> None:
    row = conn.execute("SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
                       (depot, granary)).fetchone()
    if row is None:
        raise HTTPException(404, f"granary {granary!r} not found in depot {depot!r}")


def _answer(conn, depot: str, granary: str | None) -> dict:
    key = granary or ts.DEPOT_WIDE
    return {
        "depot": depot,
        "granary": granary,
        "overrides": ts.overrides(conn, depot, key),
        "effective": ts.thresholds_for(conn, depot, granary).model_dump(),
        "changes": ts.changes(conn, depot, key),
    }


def _put(conn, user: User, depot: str, granary: str | None, body: dict) -> dict:
    if not isinstance(body, dict):
        raise HTTPException(422, "body must be a JSON object of threshold: value")
    try:
        with conn.transaction():
            ts.set_overrides(conn, depot, granary or ts.DEPOT_WIDE, body, user.name)
    except ThresholdError as exc:
        raise HTTPException(422, f"thresholds: {exc}") from None
    conn.commit()
    return _answer(conn, depot, granary)


@router.get("/depots/{depot}/thresholds", summary="the depot's alarm thresholds")
def depot_thresholds(depot: str, user: User = Depends(current_user), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    return json_answer(_answer(conn, depot, None))


@router.put("/depots/{depot}/thresholds", summary="replace the depot-wide overrides")
def put_depot_thresholds(depot: str, body: dict[str, Any] = Body(...),
                         user: User = Depends(require_write), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    return json_answer(_put(conn, user, depot, None, body))


@router.get("/depots/{depot}/granaries/{granary}/thresholds", summary="a granary's thresholds")
def granary_thresholds(depot: str, granary: str, user: User = Depends(current_user),
                       conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    _granary_or_404(conn, depot, granary)
    return json_answer(_answer(conn, depot, granary))


@router.put("/depots/{depot}/granaries/{granary}/thresholds",
            summary="replace the granary's overrides (over the depot's)")
def put_granary_thresholds(depot: str, granary: str, body: dict[str, Any] = Body(...),
                           user: User = Depends(require_write), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    _granary_or_404(conn, depot, granary)
    return json_answer(_put(conn, user, depot, granary, body))
