"""Key figures of domain.md §11 for a scope (a region or a depot) and a period, from the
monthly pre-aggregated tables (flows, settlements, counts, batches, scans; for a whole region
their `_region` rollups, so a province reads a few thousand rows) and from the records
themselves where they are few (alarms, energy entries, depots online).

Definitions (each figure names its parts so a supervisor can recompute it by hand):
- natural-loss rate: Σ natural loss / Σ intake of the lots settled (cleared out) in the period;
- stock accuracy: share of the lot checks of the period that agree (±3 %), a check being the
  latest count of a lot in a month (a recount the same month replaces the first);
- throughput: tonnes in, out and written off in the period; cycle time: mean hours from a
  batch's arrival to its intake, over the inbound batches accepted in the period;
- intake refusals: batches arriving in the period that were refused, or sent to pretreatment;
- alarm response: mean minutes from opening to acknowledgement, and to clearing, of the
  alarms opened in the period;
- data completeness: granary-hours with a scan / granary-hours expected (active granaries ×
  hours of the period up to the completeness job's `through`, by the expected scan interval),
  for any scope, from `scan_month` per depot or, for a whole region, `scan_month_region` and
  `granaries_region` (central/figures/completeness.py); online rate: depots online now /
  depots in scope;
- energy per tonne: kWh entered for the period's months / tonnes handled (in + out).
"""

from __future__ import annotations

from datetime import UTC, datetime

from central.figures.completeness import expected_hours
from central.figures.periods import Period, ratio_pct


def depots_in(conn, where: str, params: list) -> list[str]:
    return [r[0] for r in conn.execute(f"SELECT d.code FROM depots d WHERE {where}", params)]


def _one(conn, sql: str, params: dict) -> tuple:
    # never prepared: a generic plan cannot see how many depots or months a call covers
    return conn.execute(sql, params, prepare=False).fetchone()


def _f(value, places: int = 3) -> float:
    return round(float(value or 0), places)


def flows_sql(region: str | None) -> str:
    """Monthly flows of the scope: per region when the scope is a whole region (`region` the
    code prefix, '' for all), per depot otherwise."""
    if region is None:
        return "SELECT * FROM stock_month WHERE depot IN (SELECT unnest(%(depots)s::text[]))"
    return ("SELECT * FROM stock_month_region WHERE left(region, length(%(region)s)) = %(region)s")


def monthly(table: str, region: str | None) -> str:
    """FROM and WHERE of a monthly figures table for the period: its `_region` rollup when the
    scope is a whole region (migration 0080), the depots' rows otherwise."""
    if region is None:
        return f"FROM {table} WHERE depot IN (SELECT code FROM sd) AND month >= %(start)s AND month < %(end)s"
    return (f"FROM {table}_region WHERE left(region, length(%(region)s)) = %(region)s"
            " AND month >= %(start)s AND month < %(end)s")


def completeness_sql(region: str | None) -> str:
    """Active granaries (g) and granary-hours received (q) of the scope: from the region
    rollups when the scope is a whole region, per depot otherwise."""
    if region is None:
        return """g AS (SELECT count(*) FROM granaries WHERE depot IN (SELECT code FROM sd) AND active),
        q AS (SELECT coalesce(sum(granary_hours), 0) FROM scan_month
              WHERE depot IN (SELECT code FROM sd) AND month >= %(start)s AND month < %(end)s),"""
    return """g AS (SELECT coalesce(sum(granaries), 0) FROM granaries_region
              WHERE left(region, length(%(region)s)) = %(region)s),
        q AS (SELECT coalesce(sum(granary_hours), 0) FROM scan_month_region
              WHERE left(region, length(%(region)s)) = %(region)s AND month >= %(start)s AND month < %(end)s),"""


def figures(conn, depots: list[str], period: Period, scan_interval_s: float,
            now: datetime | None = None, region: str | None = None) -> dict:
    now = now or datetime.now(UTC)
    p = {"depots": depots, "start": period.start, "end": period.end, "region": region}
    # a whole region's depots by their region code: the list of thousands of codes is then
    # neither hashed per table nor needed at all
    in_scope = ("SELECT code FROM sd" if region is None else
                "SELECT d.code FROM depots d WHERE left(coalesce(d.county, d.city, d.province, ''),"
                " length(%(region)s)) = %(region)s")
    depot_list = ("sd AS MATERIALIZED (SELECT DISTINCT unnest(%(depots)s::text[]) AS code),"
                  if region is None else "")
    # one statement: one round trip and one snapshot for every figure of the scope
    (in_t, out_t, loss_t, settled, q_in, natural, accidents, counted, agreeing, arrived, accepted,
     refused, pretreated, cycle_h, opened, acked, cleared, ack_min, clear_min, online, kwh,
     granaries, received, through) = _one(conn, f"""
        WITH {depot_list}
        f AS (SELECT sum(in_t), sum(out_t), sum(loss_t) FROM ({flows_sql(region)}) x
              WHERE month >= %(start)s AND month < %(end)s),
        s AS (SELECT coalesce(sum(lots), 0), sum(quantity_in_t), sum(natural_loss_t), coalesce(sum(accidents), 0)
              {monthly("settlement_month", region)}),
        c AS (SELECT coalesce(sum(counted), 0), coalesce(sum(agreeing), 0) {monthly("count_month", region)}),
        b AS (SELECT coalesce(sum(arrived), 0), coalesce(sum(accepted), 0), coalesce(sum(refused), 0),
                     coalesce(sum(pretreated), 0),
                     sum(cycle_h_sum) FILTER (WHERE direction = 'in')
                         / nullif(sum(cycle_n) FILTER (WHERE direction = 'in'), 0)
              {monthly("batch_month", region)}),
        a AS (SELECT count(*), count(acknowledged_at), count(cleared_at),
                     avg(extract(epoch FROM acknowledged_at - opened_at) / 60),
                     avg(extract(epoch FROM cleared_at - opened_at) / 60)
              FROM alarms WHERE depot IN ({in_scope}) AND opened_at >= %(start)s AND opened_at < %(end)s),
        o AS (SELECT count(*) FILTER (WHERE state = 'online') FROM depots WHERE code IN ({in_scope})),
        e AS (SELECT sum(kwh) FROM (SELECT DISTINCT ON (depot, month) kwh FROM energy_entries
                                    WHERE depot IN ({in_scope}) AND month >= %(start)s AND month < %(end)s
                                    ORDER BY depot, month, id DESC) x),
        {completeness_sql(region)}
        t AS (SELECT max(through) FROM scan_completeness_state)
        SELECT * FROM f, s, c, b, a, o, e, g, q, t""", p)
    received, expected = completeness(period, granaries, received, through, scan_interval_s, now)
    handled = float(in_t or 0) + float(out_t or 0)
    decided = (accepted or 0) + (refused or 0)
    return {
        "period": period.text, "period_label": period.label,
        "from": period.start.isoformat(), "to": period.end.isoformat(), "depots": len(depots),
        "natural_loss": {"lots_settled": settled, "quantity_in_t": _f(q_in), "natural_loss_t": _f(natural),
                         "rate_pct": ratio_pct(float(natural or 0), float(q_in or 0), 4),
                         "storage_accidents": accidents},
        "stock_accuracy": {"lots_counted": counted, "lots_agreeing": agreeing,
                           "rate_pct": ratio_pct(agreeing, counted)},
        "throughput": {"in_t": _f(in_t), "out_t": _f(out_t), "loss_t": _f(loss_t)},
        "batches": {"arrived": arrived, "accepted": accepted, "refused": refused, "pretreated": pretreated,
                    "refusal_rate_pct": ratio_pct(refused, decided),
                    "cycle_time_h": None if cycle_h is None else round(float(cycle_h), 1)},
        "alarms": {"opened": opened, "acknowledged": acked, "cleared": cleared,
                   "mean_ack_min": None if ack_min is None else round(float(ack_min), 1),
                   "mean_clear_min": None if clear_min is None else round(float(clear_min), 1)},
        "data_completeness": {"scans_received": received, "scans_expected": expected,
                              "rate_pct": None if received is None else
                              min(ratio_pct(received, expected) or 0.0, 100.0) if expected else None},
        "online": {"depots_online": online, "rate_pct": ratio_pct(online, len(depots))},
        "energy": {"kwh": None if kwh is None else _f(kwh, 1),
                   "kwh_per_t": None if kwh is None or not handled else round(float(kwh) / handled, 3)},
    }


def completeness(period: Period, granaries: int, received, through: datetime | None,
                 scan_interval_s: float, now: datetime) -> tuple[int | None, int | None]:
    """(granary-hours received, expected) of the period up to the completeness job's
    `through` (None, None before its first run: nothing has been counted yet)."""
    if through is None:
        return None, None
    start = datetime.combine(period.start, datetime.min.time(), UTC)
    end = min(datetime.combine(period.end, datetime.min.time(), UTC), now, through)
    if end <= start:
        return 0, 0
    return int(received or 0), expected_hours(granaries, start, end, scan_interval_s)


def enter_energy(conn, depot: str, month: str, kwh: float, user: str) -> None:
    conn.execute("INSERT INTO energy_entries (depot, month, kwh, by_user) VALUES (%s, %s, %s, %s)",
                 (depot, month, kwh, user))
