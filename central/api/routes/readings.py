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
            summary="每根测温电缆最近一次检测、各层和整仓统计、仓温仓湿与气温气湿、处置建议")
def latest(granary: GranaryRef, advise: Advice, conn: DbConn):
    body = queries.granary_latest(conn, granary.depot, granary.granary)
    body["advice"] = advise(body, conn)
    return json_answer(body)


@router.get("/depots/{depot}/granaries/{granary}/history", response_model=GranaryHistory,
            responses=answer(),
            summary="按时间段统计整仓、各层粮温及仓内外温湿度的最低/最高/平均值")
def history(
    granary: GranaryRef,
    request: Request,
    conn: DbConn,
    start: Annotated[ServiceTime | None, Query(alias="from", description="RFC 3339，含此时刻")] = None,
    end: Annotated[ServiceTime | None, Query(alias="to", description="RFC 3339，不含此时刻")] = None,
    bucket: Annotated[Literal["raw", "1h", "1d"], Query(description="raw（原始）、1h（每小时）或 1d（每天）")] = "1h",
):
    rng = history_range(start, end, bucket, datetime.now(UTC), request.app.state.settings)
    return json_answer(history_queries.granary_history(conn, granary.depot, granary.granary, rng))
