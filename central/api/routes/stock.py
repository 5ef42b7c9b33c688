"""Stock (contract api.md "Stock…"): a depot's stock per granary and variety, region
roll-ups for supervisors, and the ledgers' reconciliation report (domain.md §9)."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Query

from central.api.deps import CurrentUser, DbConn, DepotRef
from central.api.encoding import json_answer
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import CODE, plain, scope_where
from central.lots import ledgers, plans, stock

router = APIRouter(tags=["stock"])


@router.get("/depots/{depot}/stock", response_model=m.DepotStock,
            summary="按仓房：仓容、货位、账面数量、装粮率、最近实物检查；按品种汇总")
def depot_stock(depot: DepotRef, conn: DbConn):
    return json_answer(stock.depot_stock(conn, depot["code"]))


@router.get("/stock/regions", response_model=m.Rows,
            summary="调用者管辖范围内各粮库按地区和品种汇总的账面库存")
def regions(user: CurrentUser, conn: DbConn, region: str | None = Query(None, pattern=r"^\d{6}$")):
    where, params = scope_where(user)
    if region is not None:
        if not plans.covers_region(user, region):
            raise HTTPException(404, f"地区 {region} 不存在")
        prefix = plans.code_prefix(region)
        where = f"({where}) AND left(coalesce(d.county, d.city, d.province), %s) = %s"
        params = [*params, len(prefix), prefix]
    rows = stock.region_stock(conn, where, params)
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["variety"]] = round(totals.get(r["variety"], 0.0) + r["book_t"], 3)
    return json_answer({"rows": rows, "varieties": [{"variety": v, "book_t": t}
                                                    for v, t in sorted(totals.items())]})


@router.get("/stock/reconciliation", response_model=m.Rows,
            summary="三本账之间（或账与出入库记录）不符的货位（账账相符核对）")
def reconciliation(user: CurrentUser, conn: DbConn, depot: str | None = Query(None, pattern=CODE),
                   all: bool = Query(False, description="相符的货位也列出")):
    where, params = scope_where(user)
    if depot is not None:
        where, params = f"({where}) AND d.code = %s", [*params, depot]
    lots = stock.lot_codes(conn, where, params)
    rows = ledgers.reconciliation(conn, lots, only_differences=not all)
    return json_answer({"lots_checked": len(lots), "differences": sum(not r["agrees"] for r in rows),
                        "rows": plain(rows)})
