"""SQL behind the reserve lists that grow with a province (`GET /lots`, `/batches`,
`/approvals`, `/checks`): sorted and paged by the database, counted within the caller's scope
(issue 15). The routes keep their old answer when no new parameter is given: the old ORDER BY
is each list's default sort and the old page size its default `limit`.

Each sort table is a whitelist (see listing.py): only these names reach ORDER BY.
"""

from __future__ import annotations

from psycopg.rows import dict_row

from central.api.listing import Order, like_pattern, split_total
from central.lots.stock import LOT_COLUMNS, LOTS_FROM, lot_conditions, lot_rows_out

# Sort name → SQL. The tie-breakers repeat the old ORDER BY, so the default sort is the old order.
LOT_SORTS = {"depot": "l.depot", "granary": "l.granary", "lot": "l.lot", "variety": "l.variety",
             "category": "l.category", "harvest_year": "l.harvest_year",
             "card_established": "l.card_established", "balance_t": "balance_t", "state": "state"}
LOT_DEFAULT, LOT_TIE = "depot", "l.depot ASC, l.granary ASC, l.lot ASC"

BATCH_SORTS = {"arrived_at": "b.arrived_at", "code": "b.code", "depot": "b.depot",
               "direction": "b.direction", "variety": "b.variety", "state": "b.state"}
BATCH_DEFAULT, BATCH_TIE = "-arrived_at", "b.code ASC"

APPROVAL_SORTS = {"id": "a.id", "requested_at": "a.requested_at", "kind": "a.kind",
                  "depot": "a.depot", "state": "a.state", "requested_by": "a.requested_by",
                  "decided_at": "a.decided_at"}
APPROVAL_DEFAULT, APPROVAL_TIE = "-id", "a.id DESC"

CHECK_SORTS = {"inspected_on": "i.inspected_on", "id": "i.id", "depot": "i.depot",
               "kind": "i.kind", "rectification_due": "i.rectification_due",
               "closed_on": "c.closed_on"}
CHECK_DEFAULT, CHECK_TIE = "-inspected_on", "i.id DESC"


def paged(conn, select: str, from_where: str, args: list, order: Order, limit: int,
          offset: int) -> tuple[list[dict], int]:
    """(one page of `SELECT select FROM from_where`, the number of rows it matches). The
    total rides along the page (`count(*) OVER ()`); an empty page counts on its own."""
    cur = conn.cursor(row_factory=dict_row)
    rows, total = split_total(cur.execute(
        f"SELECT {select}, count(*) OVER () AS total_count FROM {from_where}"
        f" ORDER BY {order.sql} LIMIT %s OFFSET %s", [*args, limit, offset]).fetchall())
    if total is None:
        total = conn.execute(f"SELECT count(*) FROM {from_where}", args).fetchone()[0]
    return rows, total


def equal_filters(pairs, cond: list[str], args: list) -> None:
    """`column = value` for every pair whose value is given."""
    for column, value in pairs:
        if value is not None:
            cond.append(f"{column} = %s")
            args.append(value)


def text_filter(q: str | None, columns: tuple[str, ...], cond: list[str], args: list) -> None:
    """Any of `columns` contains `q` (its % and _ literal)."""
    if q and q.strip():
        cond.append("(" + " OR ".join(f"{c} ILIKE %s" for c in columns) + ")")
        args.extend([like_pattern(q)] * len(columns))


def lot_page(conn, scope_where: str, scope_params: list, filters: dict, q: str | None,
             order: Order, limit: int, offset: int) -> tuple[list[dict], int]:
    # the filters and columns are GET /lots' of before: central/lots/stock.py's, one copy
    cond, args = lot_conditions(scope_where, scope_params, filters)
    text_filter(q, ("l.lot", "l.depot", "d.name"), cond, args)
    rows, total = paged(conn, LOT_COLUMNS, f"{LOTS_FROM} WHERE {' AND '.join(cond)}", args,
                        order, limit, offset)
    return lot_rows_out(rows), total


def batch_page(conn, scope_where: str, scope_params: list, state: str | None, depot: str | None,
               direction: str | None, q: str | None, order: Order, limit: int, offset: int
               ) -> tuple[list[dict], int]:
    cond, args = [scope_where], list(scope_params)
    equal_filters((("b.state", state), ("b.depot", depot), ("b.direction", direction)), cond, args)
    text_filter(q, ("b.code", "b.vehicle", "d.name"), cond, args)
    return paged(conn, "b.*", "intake_batches b JOIN depots d ON d.code = b.depot"
                 f" WHERE {' AND '.join(cond)}", args, order, limit, offset)


def approval_regions(conn, covers) -> list[str]:
    """The region codes of region-wide requests (no depot: plan changes) the caller's scope
    holds. There are few such codes; `covers` (plans.covers_region) stays the one rule."""
    return [r[0] for r in conn.execute(
        "SELECT DISTINCT region FROM approval_requests WHERE depot IS NULL AND region IS NOT NULL")
        if covers(r[0])]


def approval_page(conn, scope_where: str, scope_params: list, regions: list[str],
                  state: str | None, kind: str | None, order: Order, limit: int, offset: int
                  ) -> tuple[list[dict], int]:
    """Requests of depots in scope and of the regions in `regions`, counted the same way."""
    cond = ["(a.depot IN (SELECT d.code FROM depots d WHERE " + scope_where + ")"
            " OR (a.depot IS NULL AND a.region = ANY(%s)))"]
    args = [*scope_params, regions]
    equal_filters((("a.state", state), ("a.kind", kind)), cond, args)
    return paged(conn, "a.*", f"approvals a WHERE {' AND '.join(cond)}", args, order, limit, offset)


def check_page(conn, scope_where: str, scope_params: list, columns: str, depot: str | None,
               open_only: bool, order: Order, limit: int, offset: int) -> tuple[list[dict], int]:
    cond, args = [scope_where], list(scope_params)
    equal_filters((("i.depot", depot),), cond, args)
    if open_only:
        cond.append("i.rectification_due IS NOT NULL AND c.closed_on IS NULL")
    return paged(conn, columns, "reserve_inspections i JOIN depots d ON d.code = i.depot"
                 " LEFT JOIN inspection_closings c ON c.inspection_id = i.id"
                 f" WHERE {' AND '.join(cond)}", args, order, limit, offset)
