"""Reserve plans and the stock-vs-plan table (domain.md §7), with CSV and printable HTML."""

from __future__ import annotations

import csv
import html
import io
from decimal import Decimal
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from central.api.auth import User, current_user, get_depot_or_404, require_write, scope_sql
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.users import ADMIN_SCOPE, region_prefix

router = APIRouter(tags=["plans"])


class PlanBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    scope_kind: Literal["region", "depot"]
    scope: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    variety: str = Field(min_length=1, max_length=64)
    quantity_t: Decimal = Field(ge=0, le=Decimal("100000000"), max_digits=14, decimal_places=3)

    @model_validator(mode="after")
    def _region_code(self):
        if self.scope_kind == "region" and not (len(self.scope) == 6 and self.scope.isdigit()):
            raise ValueError("a region scope is a 6-digit administrative division code")
        return self


def code_prefix(code: str) -> str:
    """The prefix of the region codes a 6-digit code holds: 430000 → 43, 430100 → 4301."""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def _covers_region(user: User, code: str) -> bool:
    if user.role == "admin":
        return user.scope == ADMIN_SCOPE
    prefix = region_prefix(user.role, user.scope)
    if not prefix:
        return False
    # a region plan is set by someone whose region holds it: a province user plans its cities
    return code_prefix(code).startswith(prefix) if user.role != "county" else code == prefix


@router.put("/plans", summary="set a reserve plan for a region or a depot and a variety")
def put_plan(body: PlanBody, user: User = Depends(require_write), conn=Depends(db_conn)):
    if body.scope_kind == "depot":
        get_depot_or_404(conn, user, body.scope)
    elif not _covers_region(user, body.scope):
        raise HTTPException(404, f"region {body.scope!r} not found")
    with conn.transaction():
        conn.execute(
            """INSERT INTO reserve_plans (scope, scope_kind, variety, quantity_t, set_by)
               VALUES (%s, %s, %s, %s, %s)
               ON CONFLICT (scope, variety) DO UPDATE SET quantity_t = EXCLUDED.quantity_t,
                   scope_kind = EXCLUDED.scope_kind, set_by = EXCLUDED.set_by, set_at = now()""",
            (body.scope, body.scope_kind, body.variety, body.quantity_t, user.name))
    return json_answer(body.model_dump(mode="json") | {"quantity_t": float(body.quantity_t)})


def stock_vs_plan(conn, user: User) -> list[dict]:
    """Each plan the user may see, with the physical stock held against it."""
    where, params = scope_sql(user)
    held = conn.execute(f"""
        WITH eff AS (
          SELECT m.* FROM lot_movements m
          WHERE NOT EXISTS (SELECT 1 FROM lot_movements c WHERE c.correction_of = m.id))
        SELECT d.code, coalesce(d.county, d.city, d.province, '') AS region, l.variety,
               coalesce(sum(CASE WHEN e.direction = 'in' THEN e.quantity_t ELSE -e.quantity_t END), 0)
        FROM depots d JOIN lots l ON l.depot = d.code LEFT JOIN eff e ON e.lot = l.lot
        WHERE l.settled_at IS NULL AND {where}
        GROUP BY d.code, region, l.variety""", params).fetchall()
    visible_depots = {r[0] for r in conn.execute(f"SELECT d.code FROM depots d WHERE {where}", params)}
    rows = []
    for scope, kind, variety, planned in conn.execute(
            "SELECT scope, scope_kind, variety, quantity_t FROM reserve_plans ORDER BY scope, variety"):
        if kind == "depot" and scope not in visible_depots:
            continue
        if kind == "region" and not (_covers_region(user, scope) or user.role == "admin"):
            continue
        prefix = code_prefix(scope)
        tonnes = sum(float(t) for code, region, v, t in held if v == variety and (
            code == scope if kind == "depot" else region.startswith(prefix)))
        rows.append({"scope": scope, "scope_kind": kind, "variety": variety,
                     "plan_t": float(planned), "stock_t": round(tonnes, 3),
                     "shortfall_t": round(max(float(planned) - tonnes, 0.0), 3),
                     "below_plan": tonnes < float(planned)})
    return rows


COLUMNS = ("scope", "scope_kind", "variety", "plan_t", "stock_t", "shortfall_t", "below_plan")


@router.get("/plans/stock", summary="stock vs plan: json, csv or a printable html page")
def get_stock(format: Literal["json", "csv", "html"] = Query("json"),
              user: User = Depends(current_user), conn=Depends(db_conn)):
    rows = stock_vs_plan(conn, user)
    if format == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
        return Response(buf.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": 'attachment; filename="stock-vs-plan.csv"'})
    if format == "html":
        head = "".join(f"<th>{c}</th>" for c in ("范围", "类型", "品种", "计划 (t)", "实物库存 (t)", "缺口 (t)", "低于计划"))
        body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r[c]))}</td>" for c in COLUMNS) + "</tr>"
                       for r in rows)
        page = (f"<!doctype html><meta charset=utf-8><title>储备计划与库存</title>"
                f"<style>table{{border-collapse:collapse}}td,th{{border:1px solid #999;padding:4px}}</style>"
                f"<h1>储备计划与实物库存</h1><table><tr>{head}</tr>{body}</table>")
        return Response(page, media_type="text/html; charset=utf-8")
    return json_answer(rows)
