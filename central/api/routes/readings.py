"""A granary's readings: the latest scan of every cable, and history in buckets."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Depends, HTTPException, Query, Request

from central.api import history_queries, queries
from central.api.advice_hook import advice_for
from central.api.auth import User, current_user, get_depot_or_404
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.api.history_range import history_range
from central.api.schemas import GranaryHistory, GranaryLatest, answer

router = APIRouter(tags=["readings"])


def _granary_or_404(conn, depot: str, granary: str) -> None:
    if not queries.granary_exists(conn, depot, granary):
        raise HTTPException(404, f"granary {granary!r} not found in depot {depot!r}")


@router.get("/depots/{depot}/granaries/{granary}/latest", responses=answer(GranaryLatest),
            summary="latest scan of every cable, layer and granary statistics, air, advice")
def latest(depot: str, granary: str, user: User = Depends(current_user), conn=Depends(db_conn)):
    get_depot_or_404(conn, user, depot)
    _granary_or_404(conn, depot, granary)
    body = queries.granary_latest(conn, depot, granary)
    body["advice"] = advice_for(body, conn)
    return json_answer(body)


@router.get("/depots/{depot}/granaries/{granary}/history", responses=answer(GranaryHistory),
            summary="min/max/mean per bucket for the granary, each layer, and the air")
def history(
    depot: str,
    granary: str,
    request: Request,
    start: datetime | None = Query(None, alias="from", description="RFC 3339, inclusive"),
    end: datetime | None = Query(None, alias="to", description="RFC 3339, exclusive"),
    bucket: str = Query("1h", pattern="^(raw|1h|1d)$", description="raw, 1h or 1d"),
    user: User = Depends(current_user),
    conn=Depends(db_conn),
):
    get_depot_or_404(conn, user, depot)
    _granary_or_404(conn, depot, granary)
    rng = history_range(start, end, bucket, datetime.now(UTC), request.app.state.settings)
    return json_answer(history_queries.granary_history(conn, depot, granary, rng))
