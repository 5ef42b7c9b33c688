"""Key figures and reserve reports (contract api.md "Figures", domain.md §11):
`GET /figures?scope=&period=` as JSON; `GET /reports/{stock|settlements|stocktakes|figures}`
as json, csv, xlsx or printable html, for a region or a depot in the caller's scope."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from central.api.deps import CurrentUser, DbConn, WriteUser, depot_or_404
from central.api.encoding import json_answer
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import CODE, plain, scope_where, settings_of
from central.figures import store
from central.figures.periods import PeriodError, parse_period
from central.lots.plans import code_prefix, covers_region
from central.reports import reserve
from central.users import ADMIN_SCOPE

router = APIRouter(tags=["figures"])

ScopeQuery = Query(None, pattern=CODE, description="行政区划代码（430000、430100、430102）或粮库代码；"
                   "默认：调用者自己的管辖范围")
PeriodQuery = Query(..., max_length=7, description="2026-10（月）、2026-Q3（季）或 2026（年）")


def resolve(conn, user, scope: str | None) -> tuple[str, str, list[str], str | None]:
    """(scope code, label, depot codes, region code prefix or None for a depot) of a region or
    depot the caller may see (else 404)."""
    where, params = scope_where(user)
    if scope is None:
        scope = user.scope
    if user.role != "depot" and (scope == ADMIN_SCOPE or (len(scope) == 6 and scope.isdigit())):
        if not (covers_region(user, scope) or user.scope == scope):
            raise HTTPException(404, f"地区 {scope} 不存在")
        if scope != ADMIN_SCOPE:
            prefix = code_prefix(scope)
            where = f"({where}) AND left(coalesce(d.county, d.city, d.province), %s) = %s"
            params = [*params, len(prefix), prefix]
        label = "全部库点" if scope == ADMIN_SCOPE else f"地区 {scope}"
        prefix = "" if scope == ADMIN_SCOPE else code_prefix(scope)
        return scope, label, store.depots_in(conn, where, params), prefix
    row = depot_or_404(conn, user, scope)
    return scope, row.get("name") or scope, [scope], None


def _figures(request: Request, conn, depots: list[str], period, region: str | None) -> dict:
    settings = settings_of(request)
    return store.figures(conn, depots, period, settings.expected_scan_interval_s, region=region)


def _period(text: str):
    try:
        return parse_period(text)
    except PeriodError as exc:
        raise HTTPException(422, str(exc)) from None


@router.get("/figures", response_model=m.Figures, summary="地区或粮库某期的关键指标")
def get_figures(request: Request, user: CurrentUser, conn: DbConn, scope: str | None = ScopeQuery,
                period: str = PeriodQuery):
    p = _period(period)
    code, label, depots, region = resolve(conn, user, scope)
    fig = _figures(request, conn, depots, p, region)
    return json_answer({"scope": code, "scope_label": label, **fig})


def depots_code(depots: list[str]) -> str | None:
    """The depot code when the scope is one depot."""
    return depots[0] if len(depots) == 1 else None


REPORTS = ("stock", "settlements", "stocktakes", "figures")
MEDIA = {"csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
         "html": "text/html; charset=utf-8"}


@router.get("/reports/{name}", response_model=m.Rows,
            summary="储备报表：购销存、损耗核算、账实核对、关键指标")
def get_report(name: Literal["stock", "settlements", "stocktakes", "figures"], request: Request,
               user: CurrentUser, conn: DbConn, scope: str | None = ScopeQuery, period: str = PeriodQuery,
               format: Literal["json", "csv", "xlsx", "html"] = "json"):
    p = _period(period)
    code, label, depots, region = resolve(conn, user, scope)
    if name == "stock":
        table = reserve.stock_statistics(conn, depots, p, label, region)
    elif name == "settlements":
        # a region's report sums up per depot; a depot's lists its lots
        table = (reserve.settlements if code == depots_code(depots) else reserve.settlements_by_depot)(
            conn, depots, p, label)
    elif name == "stocktakes":
        table = (reserve.stocktakes if code == depots_code(depots) else reserve.stocktakes_by_depot)(
            conn, depots, p, label)
    else:
        fig = _figures(request, conn, depots, p, region)
        table = reserve.figures_table(fig, label)
    if format == "json":
        return json_answer(plain(table.as_json()) | {"scope": code, "period": p.text})
    filename = f"{name}-{code}-{p.text}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{filename}"'} if format != "html" else {}
    body = {"csv": reserve.render_csv, "xlsx": reserve.render_xlsx, "html": reserve.render_html}[format](table)
    return Response(body, media_type=MEDIA[format], headers=headers)


class EnergyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depot: str = Field(pattern=CODE)
    month: str = Field(pattern=r"^20\d{2}-(0[1-9]|1[0-2])$", description="年月，格式 YYYY-MM")
    kwh: float = Field(ge=0, le=1e9, allow_inf_nan=False)


@router.post("/energy", status_code=201, response_model=m.Rows,
             summary="录入粮库某月能耗（后录入的取代先前的）")
def enter_energy(user: WriteUser, body: EnergyBody, conn: DbConn):
    depot_or_404(conn, user, body.depot)
    with conn.transaction():
        store.enter_energy(conn, body.depot, body.month + "-01", body.kwh, user.name)
    return json_answer({"rows": [body.model_dump()]}, status_code=201)
