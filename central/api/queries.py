"""SQL behind the depot and readings endpoints (tables of migration 0001 and the aggregates).

Reads of the big readings tables always go down the primary key
(depot, granary, cable, layer, ts) with every leading column fixed, so a year of history
costs the same as a day.
"""

from __future__ import annotations

from datetime import UTC, datetime

from psycopg.rows import dict_row

from central.api.stats import air_value, cable_scan, granary_stats, layer_stats, summary
from central.rules.names import DEFAULT_TIMEZONE

# How many layers to look for on a cable the layout has not registered yet.
UNREGISTERED_CABLE_LAYERS = 64

_REGION_CODE = "coalesce(d.county, d.city, d.province)"


def depot_state(stored: str, last_seen: datetime | None, now: datetime,
                offline_after_s: float) -> str:
    """The stored state (kept by ingest and the offline job), made 'offline' here as well
    when the depot has been silent too long, so the API is right between job runs."""
    if stored == "online" and last_seen is not None and (
        (now - last_seen).total_seconds() > offline_after_s
    ):
        return "offline"
    return stored


def depot_row(conn, depot: str) -> dict | None:
    cur = conn.cursor(row_factory=dict_row)
    return cur.execute(
        f"SELECT d.*, {_REGION_CODE} AS region_code FROM depots d WHERE d.code = %s", (depot,)
    ).fetchone()


def depot_detail(row: dict, offline_after_s: float) -> dict:
    """The registered layout (as grainlink.layout/1 sent it) plus state and last_seen."""
    layout = dict(row["layout"] or {})
    if not layout:
        # No layout message yet (readings can come first): what the tables know.
        layout = {"depot": row["code"], "name": row["name"], "granaries": [], "cameras": [],
                  "region": {k: row[k] for k in ("province", "city", "county")}}
    layout.update({
        "state": depot_state(row["state"], row["last_seen"], datetime.now(UTC), offline_after_s),
        "state_since": row["state_since"],
        "last_seen": row["last_seen"],
        "clock_skew_s": row["clock_skew_s"],
        "clock_flagged": row["clock_flagged"],
        # Times shown to staff are the depot's own; the layout message carries no zone.
        "timezone": row.get("timezone") or DEFAULT_TIMEZONE,
    })
    return layout


def granary_exists(conn, depot: str, granary: str) -> bool:
    """Registered by a layout, or seen in the readings (they may come before the layout):
    the one rule for every granary route."""
    return conn.execute(
        """SELECT EXISTS (SELECT 1 FROM granaries WHERE depot = %s AND granary = %s)
               OR EXISTS (SELECT 1 FROM grain_readings WHERE depot = %s AND granary = %s)""",
        (depot, granary, depot, granary),
    ).fetchone()[0]


def registered_or_found_cables(conn, depot: str, granary: str) -> list[tuple]:
    """(cable, row, col, layers) of the registered cables, else those found in the readings
    (row, col and layers None)."""
    rows = conn.execute(
        'SELECT cable, "row", col, layers FROM cables WHERE depot = %s AND granary = %s'
        " ORDER BY cable", (depot, granary),
    ).fetchall()
    if rows:
        return rows
    # Distinct cables by walking the primary key (a skip scan), not by reading every row.
    found = conn.execute(
        """WITH RECURSIVE c(cable) AS (
             (SELECT cable FROM grain_readings WHERE depot = %(d)s AND granary = %(g)s
              ORDER BY cable LIMIT 1)
             UNION ALL
             SELECT (SELECT r.cable FROM grain_readings r
                     WHERE r.depot = %(d)s AND r.granary = %(g)s AND r.cable > c.cable
                     ORDER BY r.cable LIMIT 1)
             FROM c WHERE c.cable IS NOT NULL)
           SELECT cable FROM c WHERE cable IS NOT NULL""",
        {"d": depot, "g": granary},
    ).fetchall()
    return [(cable, None, None, None) for (cable,) in found]


def probe_layers(cables: list[tuple]) -> list[int]:
    """Layer numbers to look up for these cables (layers None: not registered yet)."""
    deepest = max((c[3] or UNREGISTERED_CABLE_LAYERS for c in cables), default=0)
    return list(range(1, deepest + 1))


def _latest_air(conn, depot: str, granary: str, place: str) -> dict | None:
    row = conn.execute(
        """SELECT ts, temp_c, rh_pct FROM air_readings
           WHERE depot = %s AND granary = %s AND place = %s ORDER BY ts DESC LIMIT 1""",
        (depot, granary, place),
    ).fetchone()
    if row is None:
        return None
    return {**air_value(row[1], row[2]), "ts": row[0]}


def granary_latest(conn, depot: str, granary: str) -> dict:
    """The `latest` answer: each cable's last scan, layer and granary statistics, indoor and
    outdoor air. The scan's time is the newest of the cable's layers (one backward index
    probe per layer: ingest stores no row where a cable has no sensor, so no single layer
    is sure to be there), then its rows are one index probe per layer."""
    cables = registered_or_found_cables(conn, depot, granary)
    layers = probe_layers(cables)
    rows = conn.execute(
        """SELECT c.cable, last.ts, r.layer, r.temp_x100::float8 / 100, r.fault
           FROM unnest(%s::int[]) AS c(cable)
           JOIN LATERAL (SELECT max(lt.ts) AS ts FROM unnest(%s::int[]) AS l(layer)
                         CROSS JOIN LATERAL (
                             SELECT g.ts FROM grain_readings g
                             WHERE g.depot = %s AND g.granary = %s AND g.cable = c.cable
                               AND g.layer = l.layer
                             ORDER BY g.ts DESC LIMIT 1) lt) last ON TRUE
           JOIN grain_readings r ON r.depot = %s AND r.granary = %s AND r.cable = c.cable
                                AND r.layer = ANY(%s::int[]) AND r.ts = last.ts""",
        ([c[0] for c in cables], layers, depot, granary, depot, granary, layers),
    ).fetchall()
    scans: dict[int, tuple[datetime, list]] = {}
    for cable, ts, layer, temp, fault in rows:
        scans.setdefault(cable, (ts, []))[1].append((layer, temp, fault))
    out_cables = []
    for cable, row_, col, depth in cables:
        ts, layer_rows = scans.get(cable, (None, []))
        temps, faults = cable_scan(layer_rows, depth or 0)
        out_cables.append({"cable": cable, "row": row_, "col": col, "ts": ts,
                           "temps_c": temps, "faults": faults, "stats": summary(temps)})
    stamps = [c["ts"] for c in out_cables if c["ts"] is not None]
    return {
        "depot": depot,
        "granary": granary,
        "ts": max(stamps) if stamps else None,
        "cables": out_cables,
        "layers": layer_stats(out_cables),
        "granary_stats": granary_stats(out_cables),
        "indoor": _latest_air(conn, depot, granary, "indoor"),
        "outdoor": _latest_air(conn, depot, "", "outdoor"),
        "advice": [],
    }
