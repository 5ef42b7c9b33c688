"""Lots, movements, ledger and settlement in the database.

Every change writes a ledger entry in the same transaction; movements are never edited: a
correction is a new movement that supersedes the one it names, and only the latest of such a
chain counts. The lot's card is locked (FOR UPDATE) while a movement is checked against the
balance, so two clerks cannot take out the same tonnes.

The card (`lot_cards`) is never edited either: a transfer (`lot_transfers`), the grade found
at the first intake (`lot_gradings`) and the settlement (`lot_settlements`, one per lot by
its key) are records, and the view `lots` shows the lot as it stands (migration 0080)."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row

from central.intake.rules import Refusal, capacity_refusal, place_refusal
from central.lots import ledgers
from central.lots.settlement import Settlement, settle, weighted_flow


class LotConflict(Exception):
    """The request contradicts the lot's state (answered 409)."""


class RuleRefusal(LotConflict):
    """A §8 rule refuses the movement (409 naming the rule); an approved exception may
    override it when `refusal.exception_allowed`."""

    def __init__(self, refusal: Refusal):
        super().__init__(f"{refusal.rule}: {refusal.message}")
        self.refusal = refusal


class LotInvalid(Exception):
    """The request is well formed but not acceptable (answered 422)."""


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _ledger(conn, lot: str, user: str, action: str, detail: dict) -> None:
    conn.execute("INSERT INTO lot_ledger (lot, by_user, action, detail) VALUES (%s, %s, %s, %s)",
                 (lot, user, action, json.dumps({k: _jsonable(v) for k, v in detail.items()},
                                                ensure_ascii=False)))


def get_lot(conn, lot: str, *, lock: bool = False) -> dict | None:
    """The lot as it stands; `lock` serialises changes of one lot by locking its card (the
    view's outer joins cannot be locked themselves)."""
    if lock and conn.execute("SELECT 1 FROM lot_cards WHERE lot = %s FOR UPDATE", (lot,)).fetchone() is None:
        return None
    return conn.cursor(row_factory=dict_row).execute("SELECT * FROM lots WHERE lot = %s", (lot,)).fetchone()


def create_lot(conn, user: str, data: dict) -> dict:
    if get_lot(conn, data["lot"]) is not None:
        raise LotConflict(f"货位 {data['lot']} 已存在")
    conn.execute(
        """INSERT INTO lot_cards (lot, depot, card_granary, category, variety, harvest_year, card_established,
                                  production_date, shelf_life_days, grade, cell, packaged, created_by)
           VALUES (%(lot)s, %(depot)s, %(granary)s, %(category)s, %(variety)s, %(harvest_year)s,
                   %(card_established)s, %(production_date)s, %(shelf_life_days)s, %(grade)s,
                   %(cell)s, %(packaged)s, %(user)s)""",
        {"grade": None, "cell": None, "packaged": False, "production_date": None,
         "shelf_life_days": None, **data, "user": user})
    row = get_lot(conn, data["lot"])
    _ledger(conn, row["lot"], user, "created", {k: row[k] for k in (
        "depot", "granary", "category", "variety", "grade", "harvest_year", "card_established")})
    return row


def movements(conn, lot: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT * FROM lot_movements WHERE lot = %s ORDER BY id", (lot,)).fetchall()


def effective(all_movements: list[dict]) -> list[dict]:
    """The movements that count: those no later correction supersedes."""
    superseded = {m["correction_of"] for m in all_movements if m["correction_of"] is not None}
    return [m for m in all_movements if m["id"] not in superseded]


def balance_t(effective_movements: list[dict]) -> Decimal:
    total = Decimal(0)
    for m in effective_movements:
        total += m["quantity_t"] if m["direction"] == "in" else -m["quantity_t"]
    return total


def granary_book_t(conn, depot: str, granary: str, except_lot: str | None = None) -> Decimal:
    row = conn.execute(
        """SELECT coalesce(sum(b.in_t - b.out_t - b.loss_t), 0) FROM lots l
           JOIN lot_book b ON b.lot = l.lot
           WHERE l.depot = %s AND l.granary = %s AND l.settled_at IS NULL AND l.lot IS DISTINCT FROM %s""",
        (depot, granary, except_lot)).fetchone()
    return row[0]


def others_in_granary(conn, lot: dict) -> list[dict]:
    """The other open lots holding stock in this lot's granary (with their cells)."""
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT l.lot, l.cell FROM lots l JOIN lot_book b ON b.lot = l.lot
           WHERE l.depot = %s AND l.granary = %s AND l.lot <> %s AND l.settled_at IS NULL
             AND b.in_t - b.out_t - b.loss_t > 0""",
        (lot["depot"], lot["granary"], lot["lot"])).fetchall()


def check_place(conn, lot: dict) -> None:
    refusal = place_refusal(lot, others_in_granary(conn, lot))
    if refusal:
        raise RuleRefusal(refusal)


def check_capacity(conn, lot: dict, quantity_t: Decimal, replaced_t: Decimal = Decimal(0)) -> None:
    """No inbound movement fills the granary above its design capacity (domain.md §8)."""
    row = conn.execute("SELECT capacity_t FROM granaries WHERE depot = %s AND granary = %s",
                       (lot["depot"], lot["granary"])).fetchone()
    held = granary_book_t(conn, lot["depot"], lot["granary"]) - replaced_t
    refusal = capacity_refusal(lot["granary"], row[0] if row else None, held, quantity_t)
    if refusal:
        raise RuleRefusal(refusal)


def add_movement(conn, lot: dict, user: str, data: dict, correction_of: int | None = None,
                 *, exception_approved: bool = False) -> dict:
    """Record a movement (or the correction of one) and post it to the three ledgers; the
    balance never goes below zero and an inbound movement never overfills the granary
    (unless an approved exception says so)."""
    lot = get_lot(conn, lot["lot"], lock=True)
    if lot["settled_at"] is not None:
        raise LotConflict(f"货位 {lot['lot']} 已核销结算，不能再登记出入库")
    current = movements(conn, lot["lot"])
    if correction_of is not None:
        original = next((m for m in effective(current) if m["id"] == correction_of), None)
        if original is None:
            raise LotConflict(f"第 {correction_of} 笔出入库不是货位 {lot['lot']} 现行有效的记录，不能更正")
        data = {**data, "direction": original["direction"]}
    else:
        original = None
    late_before_card = data["date"] < lot["card_established"]
    if late_before_card:
        raise LotInvalid(f"date：{data['date']} 早于货位专卡建立月份 {lot['card_established']:%Y-%m}")
    # a correction replaces its original, so the original leaves the balance check
    kept = [m for m in effective(current) if m["id"] != correction_of]
    if balance_t([*kept, {"direction": data["direction"], "quantity_t": data["quantity_t"]}]) < 0:
        raise LotConflict(
            f"lot {lot['lot']!r} holds {balance_t(effective(current)):.3f} t; "
            f"{data['quantity_t']:.3f} t cannot go out")
    if data["direction"] == "in" and not exception_approved:
        replaced = original["quantity_t"] if original is not None else Decimal(0)
        check_place(conn, lot)
        check_capacity(conn, lot, data["quantity_t"], replaced)
    row = conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO lot_movements (lot, direction, date, quantity_t, moisture_pct, impurity_pct,
                                      voucher, batch_code, correction_of, reason, created_by)
           VALUES (%(lot)s, %(direction)s, %(date)s, %(quantity_t)s, %(moisture_pct)s,
                   %(impurity_pct)s, %(voucher)s, %(batch_code)s, %(correction_of)s, %(reason)s,
                   %(user)s)
           RETURNING *""",
        {"batch_code": None, "reason": None, **data, "lot": lot["lot"],
         "correction_of": correction_of, "user": user}).fetchone()
    if original is not None:
        ledgers.post(conn, lot, original["direction"], -original["quantity_t"], row["date"], user, row["id"])
    ledgers.post(conn, lot, row["direction"], row["quantity_t"], row["date"], user, row["id"])
    _ledger(conn, lot["lot"], user, "correction" if correction_of else "movement",
            {k: row[k] for k in ("id", "direction", "date", "quantity_t", "moisture_pct",
                                 "impurity_pct", "voucher", "batch_code", "correction_of", "reason")})
    return row


def transfer(conn, lot: dict, user: str, granary: str, approval_ref: str | None) -> dict:
    """"Four in place": a lot changes granary only with an approved change, recorded."""
    if not approval_ref:
        raise LotInvalid("approval_ref：货位不随意移仓，移库须填已批准的变更文号")
    lot = get_lot(conn, lot["lot"], lock=True)
    if lot["settled_at"] is not None:
        raise LotConflict(f"货位 {lot['lot']} 已核销，不能移库")
    row = conn.execute("SELECT capacity_t FROM granaries WHERE depot = %s AND granary = %s",
                       (lot["depot"], granary)).fetchone()
    refusal = capacity_refusal(granary, row[0] if row else None,
                               granary_book_t(conn, lot["depot"], granary), ledgers.book_t(conn, lot["lot"]))
    if refusal:
        raise RuleRefusal(refusal)
    conn.execute(
        """INSERT INTO lot_transfers (lot, depot, from_granary, to_granary, approval_ref, by_user)
           VALUES (%s, %s, %s, %s, %s, %s)""", (lot["lot"], lot["depot"], lot["granary"], granary, approval_ref, user))
    row = get_lot(conn, lot["lot"])
    _ledger(conn, lot["lot"], user, "transfer",
            {"from": lot["granary"], "to": granary, "approval_ref": approval_ref})
    return row


def _flow(ms: list[dict], direction: str):
    return weighted_flow((m["quantity_t"], m["moisture_pct"], m["impurity_pct"])
                         for m in ms if m["direction"] == direction)


# The book remainder at clear-out (in − out) is the lot's loss. A remainder that would mean a
# natural loss above this share of the intake is grain still in the lot, not loss: five times
# the highest norm (0.23 %) rounded up. A setting; `confirm_loss` settles anyway.
CLEAR_OUT_MAX_LOSS_PCT = Decimal("1.0")


def settle_lot(conn, lot: dict, user: str, cleared_on: date, *, confirm_loss: bool = False,
               max_loss_pct: Decimal = CLEAR_OUT_MAX_LOSS_PCT) -> Settlement:
    """Settle at clear-out: the lot must be cleared out and not yet settled."""
    lot = get_lot(conn, lot["lot"], lock=True)
    if lot["settled_at"] is not None:
        raise LotConflict(f"货位 {lot['lot']} 已核销结算")
    current = effective(movements(conn, lot["lot"]))
    if not any(m["direction"] == "out" for m in current):
        raise LotConflict(f"货位 {lot['lot']} 尚无出库记录，库存仍全部在仓，不能核销")
    late = [m for m in current if m["date"] > cleared_on]
    if late:
        raise LotConflict(f"第 {late[0]['id']} 笔出入库日期 {late[0]['date']} 晚于出清日期 cleared_on {cleared_on}")
    card = lot["card_established"]
    result = settle(lot["category"], (card.year, card.month), cleared_on,
                    _flow(current, "in"), _flow(current, "out"))
    if result.natural_loss_rate_pct > max_loss_pct and not confirm_loss:
        raise LotConflict(
            f"货位 {lot['lot']} 账面仍有库存 {balance_t(current):.3f} 吨，按此核销自然损耗率为 "
            f"{result.natural_loss_rate_pct} %（超过 {max_loss_pct} %）：请先登记其余出库，"
            "确属损耗的以 confirm_loss 申请核销")
    body = settlement_dict(lot["lot"], result) | {"cleared_on": cleared_on.isoformat()}
    # keyed by the lot: a second settlement fails on the key even past the check above
    conn.execute("""INSERT INTO lot_settlements (lot, depot, cleared_on, settlement, by_user)
                    VALUES (%s, %s, %s, %s, %s)""", (lot["lot"], lot["depot"], cleared_on, json.dumps(body), user))
    remainder = balance_t(current)
    if remainder:
        ledgers.post(conn, lot, "loss", remainder, cleared_on, user)
    conn.execute(
        """INSERT INTO settlement_month AS m (depot, month, lots, quantity_in_t, natural_loss_t,
                                              over_loss_t, accidents)
           VALUES (%s, date_trunc('month', %s::date)::date, 1, %s, %s, %s, %s)
           ON CONFLICT (depot, month) DO UPDATE SET lots = m.lots + 1,
               quantity_in_t = m.quantity_in_t + EXCLUDED.quantity_in_t,
               natural_loss_t = m.natural_loss_t + EXCLUDED.natural_loss_t,
               over_loss_t = m.over_loss_t + EXCLUDED.over_loss_t, accidents = m.accidents + EXCLUDED.accidents""",
        (lot["depot"], cleared_on, result.quantity_in_t, result.natural_loss_t, result.over_loss_t,
         int(result.storage_accident)))
    _ledger(conn, lot["lot"], user, "settled", body)
    return result


def settlement_dict(lot: str, s: Settlement) -> dict:
    """The answer of the settle endpoint: tonnes to 3 decimals, rates to 4, as JSON numbers."""
    out: dict = {"lot": lot}
    for key, value in vars(s).items():
        out[key] = float(value) if isinstance(value, Decimal) else value
    return out


def ledger(conn, lot: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        "SELECT id, at, by_user, action, detail FROM lot_ledger WHERE lot = %s ORDER BY id",
        (lot,)).fetchall()
