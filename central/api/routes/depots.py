"""`/depots`: the depots in the caller's scope, one depot's registered layout, its batch gaps."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from central.api import queries
from central.api.auth import User, current_user, get_depot_or_404, scope_sql
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.api.schemas import BatchGap, DepotSummary, answer

router = APIRouter(tags=["depots"])


@router.get("/depots", responses=answer(list[DepotSummary]), summary="depots in the caller's scope, with state and alarm counts")
def list_depots(request: Request, user: User = Depends(current_user), conn=Depends(db_conn)):
    where, params = scope_sql(user)
    offline_after_s = request.app.state.settings.offline_after_s
    return json_answer(queries.depot_list(conn, where, params, offline_after_s))


@router.get("/depots/{depot}", responses=answer(dict), summary="a depot's registered layout plus its state")
def get_depot(depot: str, request: Request, user: User = Depends(current_user),
              conn=Depends(db_conn)):
    row = get_depot_or_404(conn, user, depot)
    return json_answer(queries.depot_detail(conn, row, request.app.state.settings.offline_after_s))


@router.get("/depots/{depot}/gaps", responses=answer(list[BatchGap]),
            summary="telemetry batch numbers missing between the first and last received")
def batch_gaps(depot: str, user: User = Depends(current_user), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    rows = conn.execute(
        "SELECT first_missing, last_missing, missing FROM batch_gaps WHERE depot = %s"
        " ORDER BY first_missing", (depot,)).fetchall()
    return json_answer([{"first_missing": a, "last_missing": b, "missing": n} for a, b, n in rows])
