"""`/depots`: the depots in the caller's scope (sorted, filtered and paged by the database),
the overview's figures, one depot's registered layout, its batch gaps."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from central.api import depot_queries, queries
from central.api.auth import scope_sql
from central.api.deps import CurrentUser, DbConn, DepotRef
from central.api.encoding import json_answer
from central.api.listing import MAX_LIMIT, TOTAL_HEADER, order_or_422, with_total
from central.api.schemas import BatchAnomaly, BatchGap, DepotDetail, DepotSummary, answer
from central.ingest import batches

router = APIRouter(tags=["depots"])


RegionCode = Annotated[str | None, Query(pattern=r"^\d{6}$", description="行政区划代码（6 位）")]


@router.get("/depots", response_model=list[DepotSummary], responses=answer(),
            summary="调用者管辖范围内的粮库，含在线状态和报警数",
            description=f"不给 `limit` 时列出全部符合条件的粮库；符合条件的总数见 "
                        f"`{TOTAL_HEADER}` 响应头。`sort` 取 "
                        f"{', '.join(depot_queries.DEPOT_SORTS)} 之一，前加 `-` 为降序。")
def list_depots(
    request: Request,
    user: CurrentUser,
    conn: DbConn,
    limit: Annotated[int | None, Query(ge=1, le=MAX_LIMIT)] = None,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    sort: Annotated[str | None, Query(max_length=41)] = None,
    q: Annotated[str | None, Query(max_length=64, description="粮库代码或名称包含此文字")] = None,
    state: Literal["online", "offline", "unknown"] | None = None,
    region: RegionCode = None,
    alarmed: Annotated[bool | None, Query(description="只列有（true）或没有"
                                                       "（false）未消除报警的粮库")] = None,
):
    order = order_or_422(sort, depot_queries.DEPOT_SORTS, "depot", depot_queries.DEPOT_TIE)
    where, params = scope_sql(user)
    rows, total = depot_queries.depot_page(
        conn, where, params, request.app.state.settings.offline_after_s,
        depot_queries.DepotFilter(q=q, state=state, region=region, alarmed=alarmed),
        order, limit, offset)
    return with_total(json_answer(rows), total)


@router.get("/overview", responses=answer(),
            summary="总览数字：按状态统计粮库，按级别、按地区统计未消除报警")
def overview(request: Request, user: CurrentUser, conn: DbConn, region: RegionCode = None):
    where, params = scope_sql(user)
    # Without a chosen region, the regions are one level below the user's own region.
    own = user.scope if len(user.scope) == 6 and user.scope.isdigit() else None
    return json_answer(depot_queries.overview(
        conn, where, params, request.app.state.settings.offline_after_s, region,
        region or (own if own != "000000" else None)))


@router.get("/depots/{depot}", response_model=DepotDetail, responses=answer(),
            summary="粮库登记的仓房布局及其状态")
def get_depot(depot: DepotRef, request: Request):
    return json_answer(queries.depot_detail(depot, request.app.state.settings.offline_after_s))


@router.get("/depots/{depot}/gaps", response_model=list[BatchGap], responses=answer(),
            summary="首个与最后收到的遥测批号之间缺失的批号")
def batch_gaps(depot: DepotRef, conn: DbConn, request: Request):
    return json_answer(batches.as_dicts(
        batches.batch_gaps(conn, depot["code"], request.app.state.settings)))


@router.get("/depots/{depot}/batch-anomalies", response_model=list[BatchAnomaly],
            responses=answer(),
            summary="超出粮库可能产生范围的遥测批号跳变（不算缺口）")
def batch_anomalies(depot: DepotRef, conn: DbConn, request: Request):
    return json_answer(batches.as_dicts(
        batches.batch_anomalies(conn, depot["code"], request.app.state.settings)))
