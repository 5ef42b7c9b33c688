"""Stock queries: lots with their book balance, a depot's stock per granary and variety,
region roll-ups. Balances come from `lot_book` (kept by the statistics ledger), so none of
these sums a lot's movements."""

from __future__ import annotations

from psycopg.rows import dict_row

LOT_COLUMNS = """l.lot, l.depot, l.granary, l.cell, l.category, l.variety, l.grade, l.harvest_year,
       to_char(l.card_established, 'YYYY-MM') AS card_established, l.production_date,
       l.shelf_life_days, l.packaged,
       CASE WHEN l.settled_at IS NULL THEN coalesce(b.in_t - b.out_t - b.loss_t, 0) ELSE 0 END::float8
           AS balance_t,
       CASE WHEN l.settled_at IS NULL THEN 'open' ELSE 'settled' END AS state"""


LOTS_FROM = "lots l JOIN depots d ON d.code = l.depot LEFT JOIN lot_book b ON b.lot = l.lot"
LOT_FILTERS = ("depot", "granary", "variety", "category", "harvest_year")


def lot_conditions(scope_where: str, params: list, filters: dict) -> tuple[list[str], list]:
    """The WHERE conditions (and their arguments) of a lot list over LOTS_FROM: the scope, the
    LOT_FILTERS given, and `state` open|settled. GET /lots (central/api/reserve_lists.py) adds
    its text search and paging to these."""
    cond, args = [scope_where], list(params)
    for key in LOT_FILTERS:
        if filters.get(key) is not None:
            cond.append(f"l.{key} = %s")
            args.append(filters[key])
    if filters.get("state") == "open":
        cond.append("l.settled_at IS NULL")
    elif filters.get("state") == "settled":
        cond.append("l.settled_at IS NOT NULL")
    return cond, args


def lot_rows_out(rows: list[dict]) -> list[dict]:
    """Rows of LOT_COLUMNS as answered: the production date as ISO text."""
    for r in rows:
        if r["production_date"] is not None:
            r["production_date"] = r["production_date"].isoformat()
    return rows


def list_lots(conn, scope_where: str, params: list, *, depot: str | None = None,
              granary: str | None = None, variety: str | None = None, category: str | None = None,
              harvest_year: int | None = None, state: str | None = None, limit: int = 1000,
              offset: int = 0) -> list[dict]:
    cond, args = lot_conditions(scope_where, params, {
        "depot": depot, "granary": granary, "variety": variety, "category": category,
        "harvest_year": harvest_year, "state": state})
    return lot_rows_out(conn.cursor(row_factory=dict_row).execute(
        f"""SELECT {LOT_COLUMNS} FROM {LOTS_FROM}
            WHERE {' AND '.join(cond)} ORDER BY l.depot, l.granary, l.lot LIMIT %s OFFSET %s""",
        [*args, limit, offset]).fetchall())


_LAST_COUNTS = """
SELECT DISTINCT ON (c.lot) c.lot, l.granary, c.id, c.count_date, c.method, c.counted_t::float8,
       c.adjusted_book_t::float8, c.difference_pct::float8, c.agrees, c.counted_by
FROM stock_counts c JOIN lots l ON l.lot = c.lot
WHERE c.depot = %s AND l.settled_at IS NULL
ORDER BY c.lot, c.id DESC"""


def depot_stock(conn, depot: str) -> dict:
    """Per granary: capacity, open lots, book quantity, fill and the latest count; per variety
    the depot's book quantity."""
    granaries = conn.cursor(row_factory=dict_row).execute(
        """SELECT granary, name, capacity_t FROM granaries WHERE depot = %s AND active
           ORDER BY granary""", (depot,)).fetchall()
    lots = list_lots(conn, "l.depot = %s", [depot], state="open")
    counts: dict[str, list[dict]] = {}
    for c in conn.cursor(row_factory=dict_row).execute(_LAST_COUNTS, (depot,)):
        c["date"] = c.pop("count_date").isoformat()
        counts.setdefault(c.pop("granary"), []).append(c)
    out, varieties = [], {}
    known = {g["granary"] for g in granaries}
    for extra in sorted({lot["granary"] for lot in lots} - known):
        granaries.append({"granary": extra, "name": extra, "capacity_t": None})
    for g in granaries:
        held = [lot for lot in lots if lot["granary"] == g["granary"]]
        book = round(sum(lot["balance_t"] for lot in held), 3)
        latest = max(counts.get(g["granary"], []), key=lambda c: (c["date"], c["id"]), default=None)
        out.append({
            "granary": g["granary"], "name": g["name"], "capacity_t": g["capacity_t"],
            "lots": [{k: lot[k] for k in ("lot", "category", "variety", "grade", "harvest_year",
                                           "cell", "balance_t")} for lot in held],
            "book_t": book,
            "fill_pct": round(book / g["capacity_t"] * 100, 1) if g["capacity_t"] else None,
            "last_count": latest,
        })
        for lot in held:
            varieties[lot["variety"]] = varieties.get(lot["variety"], 0.0) + lot["balance_t"]
    return {"depot": depot, "granaries": out,
            "varieties": [{"variety": v, "book_t": round(t, 3)} for v, t in sorted(varieties.items())]}


def region_stock(conn, scope_where: str, params: list) -> list[dict]:
    """Book stock per region (county code) and variety, over the depots in scope."""
    return conn.cursor(row_factory=dict_row).execute(
        f"""SELECT coalesce(d.county, d.city, d.province) AS region, d.province, d.city,
                   l.variety, count(DISTINCT l.depot) AS depots, count(*) AS lots,
                   sum(b.in_t - b.out_t - b.loss_t)::float8 AS book_t
            FROM lots l JOIN depots d ON d.code = l.depot JOIN lot_book b ON b.lot = l.lot
            WHERE l.settled_at IS NULL AND {scope_where}
            GROUP BY 1, 2, 3, 4 ORDER BY 1, 4""", params).fetchall()


def lot_codes(conn, scope_where: str, params: list) -> list[str]:
    return [r[0] for r in conn.execute(
        f"SELECT l.lot FROM lots l JOIN depots d ON d.code = l.depot WHERE {scope_where}", params)]
