"""Reports, downloadable by users in scope as JSON, CSV or a printable HTML page: the
fortnightly grain-condition report of a granary and the ledger and settlement of a lot."""

from __future__ import annotations

from datetime import date
from typing import Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response

from central.api.auth import User, current_user, get_depot_or_404
from central.api.db import db_conn
from central.api.encoding import json_answer
from central.api.routes.lots import lot_or_404, lot_view
from central.lots import store
from central.reports import granary as granary_report
from central.reports.render import html_page, html_table, to_csv

router = APIRouter(tags=["reports"])
Format = Literal["json", "csv", "html"]


def _download(body: str, media: str, filename: str) -> Response:
    return Response(body, media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/depots/{depot}/granaries/{granary}/report",
            summary="grain-condition report (粮情报告): the morning record of each day of a period")
def granary_condition_report(depot: str, granary: str, start: date = Query(alias="from"),
                             days: int = Query(15, ge=1, le=93), format: Format = "json",
                             user: User = Depends(current_user), conn=Depends(db_conn)):
    row = get_depot_or_404(conn, user, depot)
    if conn.execute("SELECT 1 FROM granaries WHERE depot = %s AND granary = %s",
                    (depot, granary)).fetchone() is None:
        raise HTTPException(404, f"granary {granary!r} not found in depot {depot!r}")
    tz = row.get("timezone") or "Asia/Shanghai"
    report = granary_report.granary_report(conn, depot, granary, tz, start, days)
    name = f"{depot}-{granary}-{start.isoformat()}"
    if format == "csv":
        columns, rows = granary_report.csv_rows(report)
        return _download(to_csv(columns, rows), "text/csv", f"{name}.csv")
    if format == "html":
        days_table = html_table(granary_report.DAY_HEADERS, [
            [d[c] for c in granary_report.DAY_COLUMNS] for d in report["days_rows"]])
        layer_rows = [[d["day"], x["layer"], x["min"], x["max"], x["mean"]]
                      for d in report["days_rows"] for x in d["layers"]]
        alarm_rows = [[a["opened_at"].isoformat(timespec="minutes"), a["rule"], a["subject"], a["severity"],
                       a["state"], a["message"],
                       "；".join(f"{x['kind']} {x['by']}: {x['text']}" for x in a["actions"])]
                      for a in report["alarms"]]
        page = html_page(f"粮情报告 {depot} {granary}（{start.isoformat()} 起 {days} 天）", [
            ("三温两湿（每日 08:00–10:00 记录）", days_table),
            ("各层粮温", html_table(("日期", "层", "最低", "最高", "平均"), layer_rows)),
            ("预警及处置", html_table(("开始", "规则", "对象", "级别", "状态", "说明", "处置记录"), alarm_rows)),
        ])
        return Response(page, media_type="text/html; charset=utf-8")
    return json_answer(report)


@router.get("/lots/{lot}/report", summary="a lot's ledger and settlement")
def lot_report(lot: str, format: Format = "json", user: User = Depends(current_user), conn=Depends(db_conn)):
    row = lot_or_404(conn, user, lot)
    view = lot_view(conn, row)
    entries = store.ledger(conn, lot)
    if format == "json":
        return json_answer({"lot": view, "ledger": entries})
    ledger_rows = [[e["at"].isoformat(timespec="seconds"), e["by_user"], e["action"],
                    "; ".join(f"{k}={v}" for k, v in e["detail"].items())] for e in entries]
    settlement = view["settlement"] or {}
    if format == "csv":
        rows = [*ledger_rows, *[["", "", f"settlement.{k}", v] for k, v in settlement.items()]]
        return _download(to_csv(("at", "by", "action", "detail"), rows), "text/csv", f"lot-{lot}.csv")
    sections = [("台账", html_table(("时间", "经办人", "事项", "内容"), ledger_rows))]
    if settlement:
        sections.append(("损耗核算", html_table(("项目", "数值"), list(settlement.items()))))
    return Response(html_page(f"货位 {lot}（{view['depot']} {view['granary']}）", sections),
                    media_type="text/html; charset=utf-8")
