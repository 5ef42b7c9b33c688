"""A granary's readings: the latest scan of every cable, and history in buckets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from central.api import history_queries, queries
from central.api.advice_hook import Advice
from central.api.deps import DbConn, GranaryRef
from central.api.encoding import json_answer
from central.api.history_range import history_range
from central.api.params import ServiceTime
from central.api.schemas import GranaryHistory, GranaryLatest, answer

router = APIRouter(tags=["readings"])


@router.get("/depots/{depot}/granaries/{granary}/latest", response_model=GranaryLatest,
            responses=answer(),
            summary="latest scan of every cable, layer and granary statistics, air, advice")
def latest(granary: GranaryRef, advise: Advice, conn: DbConn):
    body = queries.granary_latest(conn, granary.depot, granary.granary)
    body["advice"] = advise(body, conn)
    return json_answer(body)


@router.get("/depots/{depot}/granaries/{granary}/history", response_model=GranaryHistory,
            responses=answer(),
            summary="min/max/mean per bucket for the granary, each layer, and the air")
def history(
    granary: GranaryRef,
    request: Request,
    conn: DbConn,
    start: Annotated[ServiceTime | None, Query(alias="from", description="RFC 3339, inclusive")] = None,
    end: Annotated[ServiceTime | None, Query(alias="to", description="RFC 3339, exclusive")] = None,
    bucket: Annotated[Literal["raw", "1h", "1d"], Query(description="raw, 1h or 1d")] = "1h",
):
    rng = history_range(start, end, bucket, datetime.now(UTC), request.app.state.settings)
    return json_answer(history_queries.granary_history(conn, granary.depot, granary.granary, rng))
