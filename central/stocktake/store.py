"""Counts in the database: the lot's book at the count date, the §9 comparison, the record
(never edited; a later count supersedes), and the `stock_discrepancy` alarm of a lot that
disagrees (cleared when a later count agrees)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from psycopg.rows import dict_row

from central.alarms.state.store import condition_false, raise_or_update
from central.lots import store as lots
from central.lots.store import LotConflict, LotInvalid
from central.rules.model import Finding
from central.stocktake.maths import Book, CountError, Measure, bagged_t, compare, measured_t

RESULT_FIELDS = ("counted_t", "book_t", "moisture_reduction_t", "impurity_reduction_t",
                 "natural_loss_t", "adjusted_book_t", "difference_pct", "agrees")


def book_at(conn, lot: dict, on) -> Book:
    """Balance and quantity-weighted `in` quality of the lot's movements up to the count date."""
    current = [m for m in lots.effective(lots.movements(conn, lot["lot"])) if m["date"] <= on]
    inflow = lots._flow(current, "in")
    card = lot["card_established"]
    return Book(lots.balance_t(current), inflow.moisture_pct, inflow.impurity_pct,
                lot["category"], (card.year, card.month))


def record(conn, lot: dict, user: str, data: dict, tolerance_pct: Decimal) -> dict:
    lot = lots.get_lot(conn, lot["lot"], lock=True)
    if lot["settled_at"] is not None:
        raise LotConflict(f"货位 {lot['lot']} 已核销，不能再清查")
    on = data["date"]
    if on < lot["card_established"]:
        raise LotInvalid(f"date：清查日期 {on} 早于货位专卡建立月份 {lot['card_established']:%Y-%m}")
    try:
        if data["method"] == "bags":
            counted = bagged_t(data.get("bags"), data.get("bag_kg"))
        else:
            counted = measured_t(Measure(
                shape=data.get("shape") or "flat", length_m=data.get("length_m"),
                width_m=data.get("width_m"), height_m=data.get("height_m"),
                diameter_m=data.get("diameter_m"), cone_height_m=data.get("cone_height_m"),
                deduction_m3=data.get("deduction_m3") or Decimal(0)),
                data.get("test_weight_g_l"), data.get("correction_factor"))
        result = compare(book_at(conn, lot, on), counted, on, data.get("moisture_pct"),
                         data.get("impurity_pct"), packaged=data["method"] == "bags" or lot["packaged"],
                         tolerance_pct=tolerance_pct)
    except CountError as exc:
        raise LotInvalid(str(exc)) from None
    previous = conn.execute("SELECT max(id) FROM stock_counts WHERE lot = %s", (lot["lot"],)).fetchone()[0]
    same_month = conn.execute(
        """SELECT agrees FROM stock_counts WHERE lot = %s
             AND date_trunc('month', count_date) = date_trunc('month', %s::date)
           ORDER BY id DESC LIMIT 1""", (lot["lot"], on)).fetchone()
    inputs = {k: (str(v) if isinstance(v, Decimal) else v.isoformat() if hasattr(v, "isoformat") else v)
              for k, v in data.items() if v is not None}
    row = conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO stock_counts (lot, depot, count_date, method, inputs, counted_t, book_t,
               moisture_reduction_t, impurity_reduction_t, natural_loss_t, adjusted_book_t,
               difference_pct, agrees, supersedes, counted_by)
           VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING *""",
        (lot["lot"], lot["depot"], on, data["method"], json.dumps(inputs, ensure_ascii=False),
         result.counted_t, result.book_t, result.moisture_reduction_t, result.impurity_reduction_t,
         result.natural_loss_t, result.adjusted_book_t, result.difference_pct, result.agrees,
         previous, user)).fetchone()
    # count_month holds the latest count of each lot per month: a recount replaces its vote
    conn.execute(
        """INSERT INTO count_month AS c (depot, month, counted, agreeing)
           VALUES (%s, date_trunc('month', %s::date)::date, %s, %s)
           ON CONFLICT (depot, month) DO UPDATE SET counted = c.counted + EXCLUDED.counted,
                                                    agreeing = c.agreeing + EXCLUDED.agreeing""",
        (lot["depot"], on, 0 if same_month else 1,
         int(result.agrees) - (int(same_month[0]) if same_month else 0)))
    _alarm(conn, lot, row, tolerance_pct)
    return row


def _alarm(conn, lot: dict, count: dict, tolerance_pct: Decimal) -> None:
    subject = f"lot:{lot['lot']}"
    now = datetime.now(UTC)
    if count["agrees"]:
        condition_false(conn, lot["depot"], "stock_discrepancy", subject, now, timedelta(0))
        return
    limit = "账实须一致（包装粮按件）" if lot["packaged"] or count["method"] == "bags" else f"±{tolerance_pct}%"
    raise_or_update(conn, lot["depot"], lot["granary"], Finding(
        "stock_discrepancy", subject, "alarm", float(count["difference_pct"]), float(tolerance_pct),
        f"货位{lot['lot']}账实不符：实测{count['counted_t']} t，调整后账面{count['adjusted_book_t']} t，"
        f"差率{count['difference_pct']}%，超出{limit}", lot["granary"]), now)


def answer(row: dict) -> dict:
    """The contract's fields plus the record's id, date and who counted."""
    out = {k: (float(row[k]) if isinstance(row[k], Decimal) else row[k]) for k in RESULT_FIELDS}
    out.update({"id": row["id"], "lot": row["lot"], "date": row["count_date"].isoformat(),
                "method": row["method"], "counted_by": row["counted_by"],
                "recorded_at": row["recorded_at"], "supersedes": row["supersedes"],
                "inputs": row["inputs"]})
    return out


def for_lot(conn, lot: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM stock_counts WHERE lot = %s ORDER BY id", (lot,)).fetchall()
