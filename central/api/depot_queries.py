"""SQL behind `GET /depots` (sorted, filtered and paged in the database) and `GET /overview`
(the overview's counts aggregated in the database), so a province of 3,000 depots never
travels to the browser to be counted or sliced there."""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.rows import dict_row

from central.api.listing import (
    Order,
    like_pattern,
    named_scope,
    page_sql,
    split_total,
)
from central.region_codes import code_prefix

REGION_CODE = "coalesce(d.county, d.city, d.province)"
DEPOT_STATES = ("online", "offline", "unknown")

# What the overview counts as an alarm (its `open_alarms` and `regions[].alarms` alike): an
# open one, active or acknowledged, as the alarms contract's `state=open` filter. Written as
# "not cleared" (the only other state) so it matches the partial index alarms_open_depot_idx.
OPEN_ALARM = "a.state <> 'cleared'"
# GET /depots' `active_alarms` (contract: the field's name) and its `alarmed` filter: the alarms
# nobody has acknowledged yet, state 'active' only.
ACTIVE_ALARM = "a.state = 'active'"

# Sort names a client may use → SQL over the row set `s` below (whitelist, see listing.py).
DEPOT_SORTS = {"depot": "s.depot", "name": "s.name", "region": "s.region", "state": "s.state",
               "last_seen": "s.last_seen", "granaries": "s.granaries",
               "active_alarms": "s.active_alarms"}
DEPOT_TIE = "s.depot ASC"


@dataclass(frozen=True)
class DepotFilter:
    q: str | None = None          # code or name contains
    state: str | None = None      # online | offline | unknown (as the API reports it)
    region: str | None = None     # a region code: the depots inside it
    alarmed: bool | None = None   # True: only depots with active (unacknowledged) alarms


def _state_sql() -> str:
    # The stored state made 'offline' when the depot has been silent too long: the same rule
    # as queries.depot_state, in SQL so that filtering and sorting by state agree with it.
    return ("CASE WHEN d.state = 'online' AND d.last_seen IS NOT NULL"
            " AND d.last_seen < now() - make_interval(secs => %(offline_s)s)"
            " THEN 'offline' ELSE d.state END")


def _depot_where(scope_where: str, flt: DepotFilter, params: dict) -> str:
    """The condition on depots `d` for the scope and the filters the table itself answers."""
    where = [scope_where]
    if flt.q and flt.q.strip():
        where.append("(d.code ILIKE %(q)s OR d.name ILIKE %(q)s)")
        params["q"] = like_pattern(flt.q)
    if flt.region:
        where.append(f"left({REGION_CODE}, %(rlen)s) = %(rprefix)s")
        prefix = code_prefix(flt.region)
        params.update(rlen=len(prefix), rprefix=prefix)
    return " AND ".join(where)


def _depot_rows_sql(scope_where: str, flt: DepotFilter, params: dict) -> str:
    """The scoped, filtered depot rows as `s` (a CTE body); fills `params`."""
    return f"""
        SELECT d.code AS depot, d.name, {REGION_CODE} AS region, {_state_sql()} AS state,
               d.last_seen,
               (SELECT count(*) FROM granaries g WHERE g.depot = d.code AND g.active)
                   AS granaries,
               (SELECT count(*) FROM alarms a WHERE a.depot = d.code AND {ACTIVE_ALARM})
                   AS active_alarms
        FROM depots d WHERE {_depot_where(scope_where, flt, params)}"""


def depot_page(conn, scope_where: str, scope_params: list, offline_after_s: float,
               flt: DepotFilter, order: Order, limit: int | None, offset: int
               ) -> tuple[list[dict], int]:
    """(one page of depot rows, the number of rows the filter matches)."""
    scope, params = named_scope(scope_where, scope_params)
    params["offline_s"] = offline_after_s
    rows_sql = _depot_rows_sql(scope, flt, params)
    post = []
    if flt.state:
        post.append("s.state = %(state)s")
        params["state"] = flt.state
    if flt.alarmed is not None:
        post.append("s.active_alarms > 0" if flt.alarmed else "s.active_alarms = 0")
    paging = page_sql(limit, offset, params)
    where = f"WHERE {' AND '.join(post)}" if post else ""
    sql = f"""WITH s AS ({rows_sql})
              SELECT s.*, count(*) OVER () AS total_count FROM s {where}
              ORDER BY {order.sql} {paging}"""
    cur = conn.cursor(row_factory=dict_row)
    rows, total = split_total(cur.execute(sql, params).fetchall())
    if total is None:  # an empty page (or past the end): count on its own
        total = conn.execute(f"WITH s AS ({rows_sql}) SELECT count(*) FROM s {where}",
                             params).fetchone()[0]
    return rows, total


def child_region_sql(base: str | None) -> str:
    """SQL for the code one level below `base` holding the depot's region (as regions.ts's
    childRegion): the province under everything, the city under a province, else itself."""
    if not base or base == "000000":
        return "left(s.region, 2) || '0000'"
    if base.endswith("0000"):
        return "left(s.region, 4) || '00'"
    return "s.region"


def overview(conn, scope_where: str, scope_params: list, offline_after_s: float,
             region: str | None, base: str | None) -> dict:
    """The overview's figures for the depots in scope (inside `region` when given): depots by
    state, open alarms (OPEN_ALARM) by severity, and per region one level below `base` with
    its open alarms."""
    scope, params = named_scope(scope_where, scope_params)
    params["offline_s"] = offline_after_s
    rows_sql = _depot_rows_sql(scope, DepotFilter(region=region), params)
    child = child_region_sql(base)
    cur = conn.cursor(row_factory=dict_row)
    # Open alarms counted once per depot and joined (a hash join), not one subquery per depot:
    # with 3,000 depots the answer the overview's first paint waits for takes a third less time.
    regions = cur.execute(
        f"""WITH s AS ({rows_sql}),
                 o AS (SELECT a.depot, count(*) AS n FROM alarms a WHERE {OPEN_ALARM}
                       GROUP BY a.depot)
            SELECT CASE WHEN s.region IS NULL THEN '未登记' ELSE {child} END AS region,
                   count(*) AS depots,
                   count(*) FILTER (WHERE s.state = 'online') AS online,
                   count(*) FILTER (WHERE s.state = 'offline') AS offline,
                   count(*) FILTER (WHERE s.state NOT IN ('online', 'offline')) AS unknown,
                   coalesce(sum(o.n), 0)::int AS alarms
            FROM s LEFT JOIN o ON o.depot = s.depot GROUP BY 1 ORDER BY 1""", params).fetchall()
    severity = dict(conn.execute(
        f"""SELECT a.severity, count(*) FROM alarms a JOIN depots d ON d.code = a.depot
            WHERE {OPEN_ALARM} AND {_depot_where(scope, DepotFilter(region=region), params)}
            GROUP BY 1""", params).fetchall())
    by_state = {k: sum(r[k] for r in regions) for k in ("online", "offline", "unknown")}
    return {"depots": sum(r["depots"] for r in regions), "by_state": by_state,
            "open_alarms": {"alarm": severity.get("alarm", 0), "warning": severity.get("warning", 0)},
            "regions": [{k: r[k] for k in ("region", "depots", "online", "offline", "alarms")}
                        for r in regions]}
