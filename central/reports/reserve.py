"""Reserve reports (issue 14 item 7): monthly stock statistics (购销存: opening, in, out,
loss, closing per variety), loss settlements, stocktake results and key figures, each as a
`Table` (Chinese headers, plain values) that `render` turns into JSON, CSV, Excel or a
printable HTML page. Every text cell is escaped against spreadsheet formulas."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from central.figures.periods import Period
from central.figures.store import flows_sql
from central.reports.render import html_page, html_table, spreadsheet_safe, to_csv
from central.rules.names import variety_name


@dataclass
class Table:
    title: str
    keys: list[str]
    headers: list[str]
    rows: list[list] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"title": self.title, "columns": self.keys,
                "rows": [dict(zip(self.keys, r, strict=True)) for r in self.rows], "notes": self.notes}


def _t(v) -> float:
    return round(float(v or 0), 3)


def stock_statistics(conn, depots: list[str], period: Period, scope_label: str,
                     region: str | None = None) -> Table:
    """购销存 per variety for the period: the opening is everything booked before it."""
    rows = conn.execute(f"""
        SELECT variety,
               sum(in_t - out_t - loss_t) FILTER (WHERE month < %(start)s),
               sum(in_t) FILTER (WHERE month >= %(start)s),
               sum(out_t) FILTER (WHERE month >= %(start)s),
               sum(loss_t) FILTER (WHERE month >= %(start)s)
        FROM ({flows_sql(region)}) f WHERE month < %(end)s
        GROUP BY variety ORDER BY variety""",
        {"depots": depots, "start": period.start, "end": period.end, "region": region}).fetchall()
    table = Table(f"{scope_label} {period.label} 粮油购销存月报",
                  ["variety", "opening_t", "in_t", "out_t", "loss_t", "closing_t"],
                  ["品种", "期初库存 (t)", "本期入库 (t)", "本期出库 (t)", "损耗核销 (t)", "期末库存 (t)"])
    totals = [0.0] * 5
    for variety, opening, i, o, loss in rows:
        values = [_t(opening), _t(i), _t(o), _t(loss)]
        closing = round(values[0] + values[1] - values[2] - values[3], 3)
        table.rows.append([variety_name(variety), *values, closing])
        totals = [round(a + b, 3) for a, b in zip(totals, [*values, closing], strict=True)]
    if rows:
        table.rows.append(["合计", *totals])
    table.notes.append("期末 = 期初 + 入库 − 出库 − 损耗核销；数量以吨计，保留三位小数。")
    return table


def settlements(conn, depots: list[str], period: Period, scope_label: str) -> Table:
    rows = conn.execute("""
        SELECT lot, depot, granary, variety, settlement FROM lots
        WHERE depot IN (SELECT unnest(%(depots)s::text[])) AND settled_at IS NOT NULL
          AND settlement->>'cleared_on' >= %(s)s AND settlement->>'cleared_on' < %(e)s
        ORDER BY settlement->>'cleared_on', lot""",
        {"depots": depots, "s": period.start.isoformat(), "e": period.end.isoformat()}).fetchall()
    table = Table(f"{scope_label} {period.label} 保管损耗核销", [
        "lot", "depot", "granary", "variety", "cleared_on", "months_stored", "quantity_in_t",
        "quantity_out_t", "moisture_reduction_t", "impurity_reduction_t", "natural_loss_t",
        "natural_loss_rate_pct", "norm_rate_pct", "over_loss_t", "storage_accident"], [
        "货位", "粮库", "仓号", "品种", "出清日期", "储存月数", "入库数量 (t)", "出库数量 (t)",
        "水分减量 (t)", "杂质减量 (t)", "自然损耗 (t)", "损耗率 (%)", "定额 (%)", "超耗 (t)", "储存事故"])
    for lot, depot, granary, variety, s in rows:
        table.rows.append([lot, depot, granary, variety_name(variety), s.get("cleared_on"), s["months_stored"],
                           s["quantity_in_t"], s["quantity_out_t"], s["moisture_reduction_t"],
                           s["impurity_reduction_t"], s["natural_loss_t"], s["natural_loss_rate_pct"],
                           s["norm_rate_pct"], s["over_loss_t"], "是" if s["storage_accident"] else "否"])
    return table


def stocktakes(conn, depots: list[str], period: Period, scope_label: str) -> Table:
    rows = conn.execute("""
        SELECT c.lot, c.depot, l.granary, l.variety, c.count_date, c.method, c.counted_t,
               c.adjusted_book_t, c.difference_pct, c.agrees, c.counted_by
        FROM stock_counts c JOIN lots l ON l.lot = c.lot
        WHERE c.depot IN (SELECT unnest(%(depots)s::text[])) AND c.count_date >= %(start)s AND c.count_date < %(end)s
        ORDER BY c.count_date, c.lot, c.id""",
        {"depots": depots, "start": period.start, "end": period.end}).fetchall()
    table = Table(f"{scope_label} {period.label} 账实核对（实物检查）", [
        "lot", "depot", "granary", "variety", "date", "method", "counted_t", "adjusted_book_t",
        "difference_pct", "agrees", "counted_by"], [
        "货位", "粮库", "仓号", "品种", "检查日期", "方法", "实测数量 (t)", "调整后账面 (t)",
        "差率 (%)", "账实相符", "检查人"])
    for r in rows:
        table.rows.append([r[0], r[1], r[2], variety_name(r[3]), r[4].isoformat(), "测量计算" if r[5] == "measure" else "清点包数",
                           _t(r[6]), _t(r[7]), float(r[8]), "相符" if r[9] else "不符", r[10]])
    return table


def settlements_by_depot(conn, depots: list[str], period: Period, scope_label: str) -> Table:
    """A region's settlements, one row per depot (the lots are in each depot's report)."""
    rows = conn.execute("""
        SELECT l.depot, count(*), sum((settlement->>'quantity_in_t')::numeric),
               sum((settlement->>'natural_loss_t')::numeric), sum((settlement->>'over_loss_t')::numeric),
               count(*) FILTER (WHERE (settlement->>'storage_accident')::boolean),
               string_agg(l.lot, ', ' ORDER BY l.lot) FILTER (WHERE (settlement->>'storage_accident')::boolean)
        FROM lots l
        WHERE l.depot IN (SELECT unnest(%(depots)s::text[])) AND l.settled_at IS NOT NULL
          AND settlement->>'cleared_on' >= %(s)s AND settlement->>'cleared_on' < %(e)s
        GROUP BY l.depot ORDER BY l.depot""",
        {"depots": depots, "s": period.start.isoformat(), "e": period.end.isoformat()}).fetchall()
    table = Table(f"{scope_label} {period.label} 保管损耗核销汇总", [
        "depot", "lots_settled", "quantity_in_t", "natural_loss_t", "natural_loss_rate_pct",
        "over_loss_t", "storage_accidents", "accident_lots"], [
        "粮库", "核销货位数", "入库数量 (t)", "自然损耗 (t)", "损耗率 (%)", "超耗 (t)", "储存事故数", "事故货位"])
    for depot, n, q_in, loss, over, accidents, lots in rows:
        rate = round(float(loss) / float(q_in) * 100, 4) if q_in else None
        table.rows.append([depot, n, _t(q_in), _t(loss), rate, _t(over), accidents, lots or ""])
    table.notes.append("按粮库汇总；各货位明细见该粮库的报表（scope=粮库编码）。")
    return table


def stocktakes_by_depot(conn, depots: list[str], period: Period, scope_label: str) -> Table:
    """A region's counts, one row per depot: the latest count of each lot in the period."""
    rows = conn.execute("""
        SELECT depot, count(*), count(*) FILTER (WHERE agrees),
               string_agg(lot, ', ' ORDER BY lot) FILTER (WHERE NOT agrees)
        FROM (SELECT DISTINCT ON (lot) lot, depot, agrees FROM stock_counts
              WHERE depot IN (SELECT unnest(%(depots)s::text[]))
                AND count_date >= %(start)s AND count_date < %(end)s
              ORDER BY lot, id DESC) c
        GROUP BY depot ORDER BY depot""",
        {"depots": depots, "start": period.start, "end": period.end}).fetchall()
    table = Table(f"{scope_label} {period.label} 账实核对汇总", [
        "depot", "lots_counted", "lots_agreeing", "accuracy_pct", "disagreeing_lots"], [
        "粮库", "检查货位数", "账实相符数", "账实相符率 (%)", "账实不符货位"])
    for depot, n, agreeing, lots in rows:
        table.rows.append([depot, n, agreeing, round(agreeing / n * 100, 2) if n else None, lots or ""])
    table.notes.append("按粮库汇总；各次检查明细见该粮库的报表（scope=粮库编码）。")
    return table


FIGURE_ROWS = [
    ("natural_loss", "rate_pct", "自然损耗率 (%)"), ("natural_loss", "lots_settled", "核销货位数"),
    ("natural_loss", "storage_accidents", "储存事故（超耗）数"),
    ("stock_accuracy", "rate_pct", "账实相符率 (%)"), ("stock_accuracy", "lots_counted", "检查货位数"),
    ("throughput", "in_t", "入库量 (t)"), ("throughput", "out_t", "出库量 (t)"),
    ("batches", "cycle_time_h", "平均入库周期 (小时)"), ("batches", "refused", "拒收批次数"),
    ("batches", "pretreated", "整理后复检批次数"), ("batches", "refusal_rate_pct", "拒收率 (%)"),
    ("alarms", "opened", "预警数"), ("alarms", "mean_ack_min", "平均确认用时 (分钟)"),
    ("alarms", "mean_clear_min", "平均解除用时 (分钟)"),
    ("data_completeness", "rate_pct", "数据完整率 (%)"), ("online", "rate_pct", "在线率 (%)"),
    ("energy", "kwh_per_t", "吨粮能耗 (kWh/t)"),
]


def figures_table(fig: dict, scope_label: str) -> Table:
    table = Table(f"{scope_label} {fig['period_label']} 主要指标", ["figure", "value"], ["指标", "数值"])
    for group, key, name in FIGURE_ROWS:
        table.rows.append([name, fig[group][key]])
    return table


def render_csv(table: Table) -> bytes:
    # UTF-8 with a BOM: Excel opens Chinese CSV correctly only with it
    return ("\ufeff" + to_csv(table.headers, table.rows)).encode("utf-8")


def render_xlsx(table: Table) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    # write-only: rows stream out, so a province's year of counts stays a matter of seconds
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("报表")
    for i in range(len(table.headers)):
        ws.column_dimensions[get_column_letter(i + 1)].width = 16
    title = WriteOnlyCell(ws, value=_xlsx_text(spreadsheet_safe(table.title)))
    title.font = Font(bold=True, size=14)
    ws.append([title])
    header = []
    for h in table.headers:
        cell = WriteOnlyCell(ws, value=spreadsheet_safe(h))
        cell.font = Font(bold=True)
        header.append(cell)
    ws.append(header)
    for row in table.rows:
        ws.append(["" if v is None else _xlsx_text(spreadsheet_safe(v)) for v in row])
    for note in table.notes:
        ws.append([_xlsx_text(spreadsheet_safe(note))])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _xlsx_text(value):
    # control characters a client managed to store would make openpyxl refuse the whole file
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    return ILLEGAL_CHARACTERS_RE.sub("\ufffd", value) if isinstance(value, str) else value


def render_html(table: Table) -> str:
    notes = "".join(f"<p>{n}</p>" for n in table.notes)
    return html_page(table.title, [("", html_table(table.headers, table.rows) + notes)])
