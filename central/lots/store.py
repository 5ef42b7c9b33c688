"""Lots, movements, ledger and settlement in the database.

Every change writes a ledger entry in the same transaction; movements are never edited: a
correction is a new movement that supersedes the one it names, and only the latest of such a
chain counts. The lot row is locked (FOR UPDATE) while a movement is checked against the
balance, so two clerks cannot take out the same tonnes."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row

from central.lots.settlement import Settlement, settle, weighted_flow


class LotConflict(Exception):
    """The request contradicts the lot's state (answered 409)."""


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
    sql = "SELECT * FROM lots WHERE lot = %s" + (" FOR UPDATE" if lock else "")
    return conn.cursor(row_factory=dict_row).execute(sql, (lot,)).fetchone()


def create_lot(conn, user: str, data: dict) -> dict:
    if get_lot(conn, data["lot"]) is not None:
        raise LotConflict(f"lot {data['lot']!r} already exists")
    row = conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO lots (lot, depot, granary, category, variety, harvest_year, card_established,
                             production_date, shelf_life_days, created_by)
           VALUES (%(lot)s, %(depot)s, %(granary)s, %(category)s, %(variety)s, %(harvest_year)s,
                   %(card_established)s, %(production_date)s, %(shelf_life_days)s, %(user)s)
           RETURNING *""", {**data, "user": user}).fetchone()
    _ledger(conn, row["lot"], user, "created", {k: row[k] for k in (
        "depot", "granary", "category", "variety", "harvest_year", "card_established")})
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


def add_movement(conn, lot: dict, user: str, data: dict, correction_of: int | None = None) -> dict:
    """Record a movement (or the correction of one); the balance never goes below zero."""
    lot = get_lot(conn, lot["lot"], lock=True)
    if lot["settled_at"] is not None:
        raise LotConflict(f"lot {lot['lot']!r} is settled; it takes no more movements")
    current = movements(conn, lot["lot"])
    if correction_of is not None:
        original = next((m for m in effective(current) if m["id"] == correction_of), None)
        if original is None:
            raise LotConflict(f"movement {correction_of} is not a current movement of lot {lot['lot']!r}")
        data = {**data, "direction": original["direction"]}
    # a correction replaces its original, so the original leaves the balance check
    kept = [m for m in effective(current) if m["id"] != correction_of]
    if balance_t([*kept, {"direction": data["direction"], "quantity_t": data["quantity_t"]}]) < 0:
        raise LotConflict(
            f"lot {lot['lot']!r} holds {balance_t(effective(current)):.3f} t; "
            f"{data['quantity_t']:.3f} t cannot go out")
    row = conn.cursor(row_factory=dict_row).execute(
        """INSERT INTO lot_movements (lot, direction, date, quantity_t, moisture_pct, impurity_pct,
                                      voucher, batch_code, correction_of, created_by)
           VALUES (%(lot)s, %(direction)s, %(date)s, %(quantity_t)s, %(moisture_pct)s,
                   %(impurity_pct)s, %(voucher)s, %(batch_code)s, %(correction_of)s, %(user)s)
           RETURNING *""",
        {**data, "lot": lot["lot"], "correction_of": correction_of, "user": user}).fetchone()
    _ledger(conn, lot["lot"], user, "correction" if correction_of else "movement",
            {k: row[k] for k in ("id", "direction", "date", "quantity_t", "moisture_pct",
                                 "impurity_pct", "voucher", "batch_code", "correction_of")})
    return row


def transfer(conn, lot: dict, user: str, granary: str, approval_ref: str | None) -> dict:
    """"Four in place": a lot changes granary only with an approved change, recorded."""
    if not approval_ref:
        raise LotInvalid("a lot keeps its granary; moving it needs approval_ref (the approved change)")
    lot = get_lot(conn, lot["lot"], lock=True)
    row = conn.cursor(row_factory=dict_row).execute(
        "UPDATE lots SET granary = %s WHERE lot = %s RETURNING *", (granary, lot["lot"])).fetchone()
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
        raise LotConflict(f"lot {lot['lot']!r} was settled already")
    current = effective(movements(conn, lot["lot"]))
    if not any(m["direction"] == "out" for m in current):
        raise LotConflict(f"lot {lot['lot']!r} still holds all its stock; nothing went out")
    late = [m for m in current if m["date"] > cleared_on]
    if late:
        raise LotConflict(f"movement {late[0]['id']} is dated {late[0]['date']}, after cleared_on {cleared_on}")
    card = lot["card_established"]
    result = settle(lot["category"], (card.year, card.month), cleared_on,
                    _flow(current, "in"), _flow(current, "out"))
    if result.natural_loss_rate_pct > max_loss_pct and not confirm_loss:
        raise LotConflict(
            f"lot {lot['lot']!r} still holds stock: {balance_t(current):.3f} t remain on the books, "
            f"a natural loss of {result.natural_loss_rate_pct} % (more than {max_loss_pct} %); record "
            "the remaining outbound movements, or settle with confirm_loss if it really was lost")
    body = settlement_dict(lot["lot"], result) | {"cleared_on": cleared_on.isoformat()}
    conn.execute("UPDATE lots SET settled_at = now(), settlement = %s WHERE lot = %s",
                 (json.dumps(body), lot["lot"]))
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
