"""`/depots`: the depots in the caller's scope, one depot's registered layout, its batch gaps."""

from __future__ import annotations

from fastapi import APIRouter, Request

from central.api import queries
from central.api.auth import scope_sql
from central.api.deps import CurrentUser, DbConn, DepotRef
from central.api.encoding import json_answer
from central.api.schemas import BatchAnomaly, BatchGap, DepotDetail, DepotSummary, answer
from central.ingest import batches

router = APIRouter(tags=["depots"])


@router.get("/depots", response_model=list[DepotSummary], responses=answer(),
            summary="depots in the caller's scope, with state and alarm counts")
def list_depots(request: Request, user: CurrentUser, conn: DbConn):
    where, params = scope_sql(user)
    offline_after_s = request.app.state.settings.offline_after_s
    return json_answer(queries.depot_list(conn, where, params, offline_after_s))


@router.get("/depots/{depot}", response_model=DepotDetail, responses=answer(),
            summary="a depot's registered layout plus its state")
def get_depot(depot: DepotRef, request: Request):
    return json_answer(queries.depot_detail(depot, request.app.state.settings.offline_after_s))


@router.get("/depots/{depot}/gaps", response_model=list[BatchGap], responses=answer(),
            summary="telemetry batch numbers missing between the first and last received")
def batch_gaps(depot: DepotRef, conn: DbConn, request: Request):
    return json_answer(batches.as_dicts(
        batches.batch_gaps(conn, depot["code"], request.app.state.settings)))


@router.get("/depots/{depot}/batch-anomalies", response_model=list[BatchAnomaly],
            responses=answer(),
            summary="batch-number jumps wider than the depot could have produced (not gaps)")
def batch_anomalies(depot: DepotRef, conn: DbConn, request: Request):
    return json_answer(batches.as_dicts(
        batches.batch_anomalies(conn, depot["code"], request.app.state.settings)))
