"""The three ledgers of a lot (保管账 custody, 统计账 statistics, 会计账 accounting, domain.md §9).

Every movement posts the same entry to each ledger in the mover's transaction; a correction
posts the reversal of its original beside the new entry; a settlement posts the remainder it
writes off as loss. The statistics ledger keeps `lot_book` and `stock_month` (a trigger), so
stock lists and monthly statistics never sum years of movements. `reconciliation` lists every
lot whose ledgers, or whose custody ledger and movements, disagree.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from psycopg.rows import dict_row

LEDGERS = ("custody", "statistics", "accounting")


def post(conn, lot: dict, kind: str, quantity_t: Decimal, on: date, user: str,
         movement_id: int | None = None) -> None:
    """One entry in each of the three ledgers (a negative quantity is a reversal)."""
    with conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO reserve_ledger (ledger, lot, depot, variety, movement_id, kind,
                                           entry_date, quantity_t, posted_by)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)""",
            [(ledger, lot["lot"], lot["depot"], lot["variety"], movement_id, kind, on, quantity_t, user)
             for ledger in LEDGERS])


def book_t(conn, lot: str) -> Decimal:
    row = conn.execute("SELECT in_t - out_t - loss_t FROM lot_book WHERE lot = %s", (lot,)).fetchone()
    return row[0] if row else Decimal(0)


def balances(conn, lot: str) -> dict[str, Decimal]:
    """The book balance (in − out − loss) of each ledger of the lot."""
    rows = conn.execute(
        """SELECT ledger, sum(CASE WHEN kind = 'in' THEN quantity_t ELSE -quantity_t END)
           FROM reserve_ledger WHERE lot = %s GROUP BY ledger""", (lot,)).fetchall()
    out = {ledger: Decimal(0) for ledger in LEDGERS}
    out.update({ledger: total for ledger, total in rows})
    return out


_RECONCILE = """
WITH led AS (
    SELECT r.lot,
           sum(CASE WHEN r.ledger = 'custody' THEN s.q END) AS custody_t,
           sum(CASE WHEN r.ledger = 'statistics' THEN s.q END) AS statistics_t,
           sum(CASE WHEN r.ledger = 'accounting' THEN s.q END) AS accounting_t
    FROM reserve_ledger r
    CROSS JOIN LATERAL (SELECT CASE WHEN r.kind = 'in' THEN r.quantity_t ELSE -r.quantity_t END AS q) s
    WHERE r.lot = ANY(%(lots)s)
    GROUP BY r.lot),
mov AS (
    SELECT m.lot, sum(CASE WHEN m.direction = 'in' THEN m.quantity_t ELSE -m.quantity_t END) AS t
    FROM lot_movements m
    WHERE m.lot = ANY(%(lots)s)
      AND NOT EXISTS (SELECT 1 FROM lot_movements c WHERE c.correction_of = m.id)
    GROUP BY m.lot),
loss AS (
    SELECT lot, sum(quantity_t) AS t FROM reserve_ledger
    WHERE ledger = 'custody' AND kind = 'loss' AND lot = ANY(%(lots)s) GROUP BY lot)
SELECT l.lot, l.depot, l.granary, l.variety,
       coalesce(led.custody_t, 0) AS custody_t, coalesce(led.statistics_t, 0) AS statistics_t,
       coalesce(led.accounting_t, 0) AS accounting_t,
       coalesce(mov.t, 0) - coalesce(loss.t, 0) AS movements_t
FROM lots l LEFT JOIN led ON led.lot = l.lot LEFT JOIN mov ON mov.lot = l.lot
LEFT JOIN loss ON loss.lot = l.lot
WHERE l.lot = ANY(%(lots)s)
ORDER BY l.depot, l.lot
"""


def reconciliation(conn, lots: list[str], only_differences: bool = True) -> list[dict]:
    """Per lot: the three ledger balances and the balance of its movements; `agrees` when all
    four are equal."""
    rows = conn.cursor(row_factory=dict_row).execute(_RECONCILE, {"lots": lots}).fetchall()
    out = []
    for r in rows:
        values = {r["custody_t"], r["statistics_t"], r["accounting_t"], r["movements_t"]}
        r["agrees"] = len(values) == 1
        if r["agrees"] and only_differences:
            continue
        out.append(r)
    return out


def entries(conn, lot: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT id, ledger, kind, entry_date, quantity_t, movement_id, posted_at, posted_by
           FROM reserve_ledger WHERE lot = %s ORDER BY ledger, id""", (lot,)).fetchall()
