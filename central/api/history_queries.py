"""SQL behind `history`: raw readings, or the hourly/daily aggregates (central/db/aggregates.py),
as per-bucket min/max/mean for each layer, the whole granary and the air.

A history answer holds thousands of points, so PostgreSQL does the per-point work: it
combines layers into the granary (GROUPING SETS; sum/n, never a mean of means), rounds, and
writes the times as `…Z` text, leaving Python only to arrange rows into series.
"""

from __future__ import annotations

from central.api.history_range import HistoryRange
from central.api.queries import probe_layers, registered_or_found_cables
from central.db.storage import recorded_path

# Same readings as the aggregates hold: valid, not faulty, time plausible (flags bit 1).
_RAW_GRAIN_FILTER = "g.temp_x100 IS NOT NULL AND NOT g.fault AND (g.flags & 1) = 0"

_AGG_TABLES = {"1h": ("grain_layer_hourly", "air_hourly"),
               "1d": ("grain_layer_daily", "air_daily")}


def _utc_text(col: str) -> str:
    """SQL writing a timestamptz as RFC 3339 UTC `…Z` (fraction only when non-zero)."""
    return (f"rtrim(rtrim(to_char({col} AT TIME ZONE 'UTC', "
            f"'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '0'), '.') || 'Z'")


def _r2(expr: str) -> str:
    # float8 arithmetic, not numeric: as exact for two decimals and several times faster.
    return f"(round(({expr})::float8 * 100) / 100)"


_POINT = f"""{_r2('min(t_min)')}, {_r2('max(t_max)')},
             {_r2('sum(t_sum) / nullif(sum(n), 0)')}, sum(n)::int"""
# Raw rows are hundredths (migration 0060): exact integer min/max/sum, rounded in hundredths.
_RAW_POINT = """min(t_min)::float8 / 100, max(t_max)::float8 / 100,
             round(sum(t_sum)::float8 / nullif(sum(n), 0)) / 100, sum(n)::int"""


def _value_runs(values) -> list[tuple[int, int]]:
    """Consecutive runs of these integers: [1, 2, 3, 5] -> [(1, 3), (5, 5)]."""
    runs: list[list[int]] = []
    for value in sorted(set(values)):
        if runs and value == runs[-1][1] + 1:
            runs[-1][1] = value
        else:
            runs.append([value, value])
    return [(low, high) for low, high in runs]


def _within_runs(column: str, values) -> tuple[str, list]:
    """SQL keeping `column` among these values, as ranges. TimescaleDB filters ranges on
    compressed batches column by column; an `= ANY` of more than 32 values it does not, and
    then cannot aggregate the batches column-wise either."""
    runs = _value_runs(values)
    if not runs:
        return "false", []
    sql = " OR ".join(f"{column} BETWEEN %s::int AND %s::int" for _ in runs)
    return f"({sql})", [bound for run in runs for bound in run]


def _raw_keyed_source(cables, layers, depot, granary, rng) -> tuple[str, list]:
    """Plain PostgreSQL: one primary-key range scan per (cable, layer), ts being the last
    key column; the readings come out one row each."""
    source = f"""(SELECT g.ts AS b, g.layer, g.temp_x100 AS t_min, g.temp_x100 AS t_max,
                         g.temp_x100 AS t_sum, 1 AS n
                  FROM unnest(%s::int[]) AS c(cable) CROSS JOIN unnest(%s::int[]) AS l(layer)
                  JOIN grain_readings g ON g.depot = %s AND g.granary = %s
                       AND g.cable = c.cable AND g.layer = l.layer
                       AND g.ts >= %s AND g.ts < %s
                  WHERE {_RAW_GRAIN_FILTER}) s"""
    return source, [[c[0] for c in cables], layers, depot, granary, rng.start, rng.end]


def _raw_per_layer_source(cables, layers, depot, granary, rng) -> tuple[str, list]:
    """TimescaleDB: one scan of the granary's time range, summed per (ts, layer) as it is
    read. A compressed batch holds a roll-up's weeks of a few sensors (ordered by cable,
    layer, ts), so any range decompresses the granary's whole segment; scanned with range
    filters only, TimescaleDB filters and sums the batches column by column (VectorAgg),
    where the keyed shape's join makes it hand over every reading as a row to join, group
    and sum (bench/storage_per_reading.py: p95 about three times lower). On plain PostgreSQL
    this scan would walk the granary's whole history in the primary key instead."""
    cable_sql, cable_params = _within_runs("g.cable", (c[0] for c in cables))
    layer_sql, layer_params = _within_runs("g.layer", layers)
    source = f"""(SELECT g.ts AS b, g.layer, min(g.temp_x100) AS t_min,
                         max(g.temp_x100) AS t_max, sum(g.temp_x100) AS t_sum, count(*) AS n
                  FROM grain_readings g
                  WHERE g.depot = %s AND g.granary = %s AND g.ts >= %s AND g.ts < %s
                    AND {cable_sql} AND {layer_sql} AND {_RAW_GRAIN_FILTER}
                  GROUP BY g.ts, g.layer) s"""
    return source, [depot, granary, rng.start, rng.end, *cable_params, *layer_params]


def _grain_rows(conn, depot: str, granary: str, rng: HistoryRange,
                per_layer: bool | None = None) -> list[tuple]:
    """(ts text, layer or None for the whole granary, min, max, mean, n) by ts, layer.
    `per_layer`: which raw query to use (None: the one for the database's storage path)."""
    if rng.bucket == "raw":
        cables = registered_or_found_cables(conn, depot, granary)
        layers = probe_layers(cables)
        if per_layer is None:
            per_layer = recorded_path(conn) == "timescale"
        make = _raw_per_layer_source if per_layer else _raw_keyed_source
        source, params = make(cables, layers, depot, granary, rng)
        point = _RAW_POINT
    else:
        source = f"""(SELECT bucket AS b, layer, temp_min AS t_min, temp_max AS t_max,
                             temp_sum AS t_sum, n
                      FROM {_AGG_TABLES[rng.bucket][0]}
                      WHERE depot = %s AND granary = %s AND bucket >= %s AND bucket < %s) s"""
        params = [depot, granary, rng.start, rng.end]
        point = _POINT
    return conn.execute(
        f"""SELECT {_utc_text('b')}, layer, {point} FROM {source}
            GROUP BY GROUPING SETS ((b, layer), (b)) ORDER BY b, layer NULLS FIRST""",
        params,
    ).fetchall()


_AIR_KEYS = ("ts", "temp_min", "temp_max", "temp_mean", "rh_min", "rh_max", "rh_mean")


def _air_rows(conn, depot: str, granary: str, place: str, rng: HistoryRange) -> list[dict]:
    if rng.bucket == "raw":
        t, rh = _r2("temp_c"), _r2("rh_pct")
        sql = f"""SELECT {_utc_text('ts')}, {t}, {t}, {t}, {rh}, {rh}, {rh} FROM air_readings
                  WHERE depot = %s AND granary = %s AND place = %s AND ts >= %s AND ts < %s
                    AND (flags & 1) = 0 ORDER BY ts"""
    else:
        sql = f"""SELECT {_utc_text('bucket')}, {_r2('temp_min')}, {_r2('temp_max')},
                         {_r2('temp_mean')}, {_r2('rh_min')}, {_r2('rh_max')}, {_r2('rh_mean')}
                  FROM {_AGG_TABLES[rng.bucket][1]} WHERE depot = %s AND granary = %s
                    AND place = %s AND bucket >= %s AND bucket < %s ORDER BY bucket"""
    rows = conn.execute(sql, (depot, granary, place, rng.start, rng.end)).fetchall()
    return [dict(zip(_AIR_KEYS, row, strict=True)) for row in rows]


def granary_history(conn, depot: str, granary: str, rng: HistoryRange) -> dict:
    """Per bucket: each layer, the whole granary, the granary's indoor air and the depot's
    outdoor air."""
    whole: list[dict] = []
    layers: dict[int, list[dict]] = {}
    for ts, layer, tmin, tmax, tmean, n in _grain_rows(conn, depot, granary, rng):
        point = {"ts": ts, "min": tmin, "max": tmax, "mean": tmean, "n": n}
        (whole if layer is None else layers.setdefault(layer, [])).append(point)
    return {
        "depot": depot,
        "granary": granary,
        "bucket": rng.bucket,
        "from": rng.start,
        "to": rng.end,
        "granary_stats": whole,
        "layers": [{"layer": layer, "points": points} for layer, points in sorted(layers.items())],
        "indoor": _air_rows(conn, depot, granary, "indoor", rng),
        "outdoor": _air_rows(conn, depot, "", "outdoor", rng),
    }
