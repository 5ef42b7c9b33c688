"""Reserve plans and the stock-vs-plan table (domain.md §7), with CSV and printable HTML.

Plans are keyed by (kind, scope, variety) (issue 16 item 4) and change only through an
approved `plan_change` request (§10): `PUT /plans` answers 202 with the approval; every value
a plan had stays in its history."""

from __future__ import annotations

import csv
import html
import io
from typing import Literal

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.api.deps import CurrentUser, DbConn, WriteUser, depot_or_404
from central.api.encoding import json_answer
from central.api.routes import reserve_models as m
from central.api.routes.reserve_common import CODE, Text, Tonnes, run, scope_where
from central.approvals import store as approvals
from central.lots import plans
from central.reports.render import spreadsheet_safe
from central.rules.names import field_value, variety_name

router = APIRouter(tags=["plans"])


class PlanBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope_kind: Literal["region", "depot"]
    scope: str = Field(pattern=CODE)
    variety: str = Field(min_length=1, max_length=64)
    quantity_t: Tonnes
    reason: Text | None = None

    @model_validator(mode="after")
    def _region_code(self):
        if self.scope_kind == "region" and not (len(self.scope) == 6 and self.scope.isdigit()):
            raise ValueError("scope：地区计划的范围须为 6 位行政区划代码")
        return self


def _scope_or_404(conn, user, kind: str, scope: str) -> None:
    """Both kinds checked against the caller's own scope: a depot of theirs, or a region
    their scope holds (a city user never reaches another city's plan)."""
    if kind == "depot":
        depot_or_404(conn, user, scope)
    elif not plans.covers_region(user, scope):
        raise HTTPException(404, f"地区 {scope} 不存在")


@router.put("/plans", status_code=202, response_model=m.Pending,
            summary="申请某地区或粮库某品种的储备计划（双人审批）")
def put_plan(body: PlanBody, user: WriteUser, conn: DbConn):
    _scope_or_404(conn, user, body.scope_kind, body.scope)
    payload = body.model_dump(exclude={"reason"})
    before = plans.current(conn, body.scope_kind, body.scope, body.variety)
    payload["previous_t"] = before
    req = run(conn, approvals.request, "plan_change", user.name,
              f"plan:{body.scope_kind}:{body.scope}:{body.variety}", payload, body.reason,
              depot=body.scope if body.scope_kind == "depot" else None,
              region=body.scope if body.scope_kind == "region" else None)
    return json_answer(approvals.pending_answer(req), status_code=202)


@router.get("/plans/history", response_model=list[m.Plan], summary="某范围储备计划的历次取值")
def plan_history(user: CurrentUser, conn: DbConn, scope_kind: Literal["region", "depot"],
                 scope: str = Query(pattern=CODE)):
    _scope_or_404(conn, user, scope_kind, scope)
    return json_answer(plans.history(conn, scope_kind, scope))


def stock_vs_plan(conn, user) -> list[dict]:
    where, params = scope_where(user)
    return plans.stock_vs_plan(conn, user, where, params)


COLUMNS = ("scope", "scope_kind", "variety", "plan_t", "stock_t", "shortfall_t", "below_plan")
HEADERS = ("范围", "类型", "品种", "计划 (t)", "实物库存 (t)", "缺口 (t)", "低于计划")
SCOPE_KINDS = {"region": "行政区", "depot": "库点"}


def _cells(r: dict) -> list:
    """A row as the downloaded file shows it: codes by their Chinese names."""
    names = {"scope_kind": SCOPE_KINDS.get(r["scope_kind"], r["scope_kind"]),
             "variety": variety_name(r["variety"]), "below_plan": field_value("below_plan", r["below_plan"])}
    return [names.get(c, r[c]) for c in COLUMNS]


@router.get("/plans/stock", response_model=list[dict], summary="库存与储备计划对比：json、csv 或可打印的 html 页面")
def get_stock(user: CurrentUser, conn: DbConn, format: Literal["json", "csv", "html"] = Query("json")):
    rows = stock_vs_plan(conn, user)
    if format == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(HEADERS)
        writer.writerows([spreadsheet_safe(v) for v in _cells(r)] for r in rows)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="stock-vs-plan.csv"'})
    if format == "html":
        head = "".join(f"<th>{c}</th>" for c in HEADERS)
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(v))}</td>" for v in _cells(r)) + "</tr>"
                       for r in rows)
        page = (f"<!doctype html><meta charset=utf-8><title>储备计划与库存</title>"
                f"<style>table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:4px}}</style>"
                f"<h1>储备计划与实物库存</h1><table><tr>{head}</tr>{body}</table>")
        return Response(page, media_type="text/html; charset=utf-8")
    return json_answer(rows)
