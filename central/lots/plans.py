"""Reserve plans keyed by (kind, scope, variety), with their history (domain.md §7, §10).

A plan takes effect only through an approved `plan_change` (central/approvals); each value
it ever had stays in `reserve_plan_history` with who set it and who approved it. Keying by
kind keeps a depot plan whose code happens to equal a region code from replacing that
region's plan (issue 16 item 4)."""

from __future__ import annotations

from decimal import Decimal

from psycopg.rows import dict_row

from central.region_codes import code_prefix
from central.users import ADMIN_SCOPE, User, region_prefix


def covers_region(user: User, code: str) -> bool:
    """Whether the user's scope holds the whole region `code` (a region plan's scope)."""
    if user.role == "admin":
        return user.scope == ADMIN_SCOPE
    prefix = region_prefix(user.role, user.scope)
    if not prefix:
        return False
    return code_prefix(code).startswith(prefix) if user.role != "county" else code == prefix


def current(conn, kind: str, scope: str, variety: str) -> Decimal | None:
    row = conn.execute(
        "SELECT quantity_t FROM reserve_plans WHERE scope_kind = %s AND scope = %s AND variety = %s",
        (kind, scope, variety)).fetchone()
    return row[0] if row else None


def apply(conn, kind: str, scope: str, variety: str, quantity_t: Decimal, set_by: str,
          approved_by: str | None, approval_id: int | None) -> dict:
    # the newest record is the plan in force (the view `reserve_plans`, migration 0080)
    conn.execute(
        """INSERT INTO reserve_plan_history (scope_kind, scope, variety, quantity_t, set_by,
                                             approved_by, approval_id)
           VALUES (%s, %s, %s, %s, %s, %s, %s)""",
        (kind, scope, variety, quantity_t, set_by, approved_by, approval_id))
    return {"scope_kind": kind, "scope": scope, "variety": variety, "quantity_t": float(quantity_t)}


def history(conn, kind: str, scope: str) -> list[dict]:
    return conn.cursor(row_factory=dict_row).execute(
        """SELECT scope_kind, scope, variety, quantity_t::float8 AS quantity_t, set_by, approved_by,
                  approval_id, set_at FROM reserve_plan_history
           WHERE scope_kind = %s AND scope = %s ORDER BY id""", (kind, scope)).fetchall()


def stock_vs_plan(conn, user: User, scope_where: str, params: list) -> list[dict]:
    """Each plan the user may see (a depot plan of a depot in scope, a region plan of a region
    the scope holds), with the book stock held against it."""
    held = conn.execute(f"""
        SELECT d.code, coalesce(d.county, d.city, d.province, '') AS region, l.variety,
               coalesce(sum(b.in_t - b.out_t - b.loss_t), 0)
        FROM depots d JOIN lots l ON l.depot = d.code JOIN lot_book b ON b.lot = l.lot
        WHERE l.settled_at IS NULL AND {scope_where}
        GROUP BY d.code, region, l.variety""", params).fetchall()
    visible_depots = {r[0] for r in conn.execute(f"SELECT d.code FROM depots d WHERE {scope_where}", params)}
    rows = []
    for scope, kind, variety, planned in conn.execute(
            "SELECT scope, scope_kind, variety, quantity_t FROM reserve_plans ORDER BY scope_kind, scope, variety"):
        if kind == "depot" and scope not in visible_depots:
            continue
        if kind == "region" and not covers_region(user, scope):
            continue
        prefix = code_prefix(scope)
        tonnes = sum(float(t) for code, region, v, t in held if v == variety and (
            code == scope if kind == "depot" else region.startswith(prefix)))
        rows.append({"scope": scope, "scope_kind": kind, "variety": variety,
                     "plan_t": float(planned), "stock_t": round(tonnes, 3),
                     "shortfall_t": round(max(float(planned) - tonnes, 0.0), 3),
                     "below_plan": tonnes < float(planned)})
    return rows
