"""Reports, downloadable by users in scope as JSON, CSV or a printable HTML page: the
fortnightly grain-condition report of a granary and the ledger and settlement of a lot."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from central.api import queries
from central.api.deps import DbConn, GranaryRef, LotRef
from central.api.encoding import json_answer
from central.api.params import ServiceDate
from central.api.routes.lots import lot_view
from central.api.schemas import GranaryReport, LotReport, file_answer
from central.lots import store
from central.reports import granary as granary_report
from central.reports.render import html_page, html_table, to_csv
from central.rules.names import (
    LEDGER_ACTIONS,
    action_name,
    field_name,
    field_value,
    local_time,
    rule_name,
    severity_name,
    state_name,
)

router = APIRouter(tags=["reports"])
Format = Literal["json", "csv", "html"]


def _download(body: str, media: str, filename: str) -> Response:
    return Response(body, media_type=f"{media}; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@router.get("/depots/{depot}/granaries/{granary}/report", response_model=GranaryReport,
            responses=file_answer("text/csv", "text/html"),
            summary="粮情报告：一段时间内每天早上的粮情记录")
def granary_condition_report(ref: GranaryRef, conn: DbConn,
                             start: Annotated[ServiceDate, Query(alias="from")],
                             days: Annotated[int, Query(ge=1, le=93)] = 15,
                             format: Format = "json"):
    depot, granary = ref.depot, ref.granary
    tz = ref.depot_row.get("timezone") or "Asia/Shanghai"
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
        alarm_rows = [[local_time(a["opened_at"], tz), rule_name(a["rule"]), a["subject"],
                       severity_name(a["severity"]), state_name(a["state"]), a["message"],
                       "；".join(f"{local_time(x['at'], tz)} {action_name(x['kind'])} {x['by']}：{x['text']}"
                                for x in a["actions"])]
                      for a in report["alarms"]]
        page = html_page(f"粮情报告 {depot} {granary}（{start.isoformat()} 起 {days} 天）", [
            ("三温两湿（每日 08:00–10:00 记录）", days_table),
            ("各层粮温", html_table(("日期", "层", "最低", "最高", "平均"), layer_rows)),
            ("预警及处置", html_table(("开始", "规则", "对象", "级别", "状态", "说明", "处置记录"), alarm_rows)),
        ])
        return Response(page, media_type="text/html; charset=utf-8")
    return json_answer(report)


@router.get("/lots/{lot}/report", response_model=LotReport,
            responses=file_answer("text/csv", "text/html"), summary="货位台账和损耗核算")
def lot_report(row: LotRef, conn: DbConn, format: Format = "json"):
    lot = row["lot"]
    view = lot_view(conn, row)
    entries = store.ledger(conn, lot)
    if format == "json":
        return json_answer({"lot": view, "ledger": entries})
    tz = (queries.depot_row(conn, view["depot"]) or {}).get("timezone")
    ledger_rows = [[local_time(e["at"], tz), e["by_user"], LEDGER_ACTIONS.get(e["action"], e["action"]),
                    "；".join(f"{field_name(k)}={field_value(k, v)}" for k, v in e["detail"].items())]
                   for e in entries]
    settlement = [[field_name(k), field_value(k, v)] for k, v in (view["settlement"] or {}).items()
                  if k != "lot"]
    if format == "csv":
        rows = [*ledger_rows, *[["", "", f"损耗核算：{k}", v] for k, v in settlement]]
        return _download(to_csv(("时间", "经办人", "事项", "内容"), rows), "text/csv", f"lot-{lot}.csv")
    sections = [("台账", html_table(("时间", "经办人", "事项", "内容"), ledger_rows))]
    if settlement:
        sections.append(("损耗核算", html_table(("项目", "数值"), settlement)))
    return Response(html_page(f"货位 {lot}（{view['depot']} {view['granary']}）", sections),
                    media_type="text/html; charset=utf-8")
